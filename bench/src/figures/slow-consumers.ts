/**
 * Figure 8: slow consumers (docs/protocol.md rule 10). 100 sockets that said hello and then never read,
 * plus one healthy reader, while the device changes 16 text fields (1 KB values) at a fixed
 * offered rate. The server's memory is read every second after a full GC — what it holds, not
 * garbage — together with the bytes waiting in its sockets' userland send buffers.
 *
 * Each socket's kernel buffers (several MB on loopback) fill first; after that the bare `ws`
 * server queues every frame for every socket and grows without bound, while the SDK coalesces:
 * past its 256 KiB send-buffer limit a socket keeps only the latest update of each field.
 * @module
 */
import type { BenchContext, FigureOutput } from '../context.js';
import { Child } from '../proc.js';
import { type Figure, ratio } from '../results.js';
import type { FloodArgs, MemorySample } from '../server-proc.js';
import { round } from '@live-device-form/testkit';

const MiB = 1024 * 1024;
type Impl = 'ldf' | 'bare';

interface Run {
  series: MemorySample[];
  healthyReceived: number;
}

async function floodRun(impl: Impl, slow: number, args: FloodArgs): Promise<Run> {
  const [server, clients] = await Promise.all([
    Child.start(`server-${impl}`, './server-proc.ts', [impl], ['--expose-gc']),
    Child.start(`clients-${impl}`, './clients-proc.ts'),
  ]);
  try {
    const { port } = await server.call<{ port: number }>('listen');
    const target = { host: '127.0.0.1', port, path: '/live', protocol: 'ldf.v1' };
    const hello = JSON.stringify({ type: 'hello', device: 'bench', mounts: 0 });
    await clients.call('connect', { target, n: slow, hello, concurrency: 32, pause: true });
    await clients.call('connect', { target, n: 1, hello, concurrency: 1 });
    await server.call('waitSessions', { n: slow + 1 });
    const series = await server.call<MemorySample[]>('flood', args, args.durationMs + 60_000);
    const healthyReceived = await clients.call<number>('received');
    return { series, healthyReceived };
  } finally {
    await Promise.all([clients.stop(), server.stop()]);
  }
}

export async function slowConsumers(ctx: BenchContext): Promise<FigureOutput> {
  const slow = ctx.smoke ? 10 : 100;
  const args: FloodArgs = ctx.smoke
    ? { rate: 200, durationMs: 1500, sampleEveryMs: 250, valueLength: 1000 }
    : { rate: 1000, durationMs: 15_000, sampleEveryMs: 1000, valueLength: 1000 };
  const runs = {} as Record<Impl, Run>;
  for (const impl of ['ldf', 'bare'] as const) {
    ctx.log(`slow consumers: ${impl}`);
    runs[impl] = await floodRun(impl, slow, args);
  }
  const growth = (impl: Impl, key: 'rss' | 'heapUsed'): number => {
    const s = runs[impl].series;
    return ((s[s.length - 1]?.[key] ?? 0) - (s[0]?.[key] ?? 0)) / MiB;
  };
  // When the SDK's sockets reached their send-buffer limit (kernel buffers full, coalescing on);
  // from one second after that, its memory must stay flat while the bare server's keeps growing.
  const limitBytes = slow * 256 * 1024;
  const plateauAt = runs.ldf.series.find((x) => x.buffered >= 0.95 * limitBytes)?.t;
  /** RSS growth rate (MiB/s) from `from` ms to the end of the run; NaN without two samples. */
  const slope = (impl: Impl, from: number | undefined): number => {
    const s = runs[impl].series.filter((x) => from !== undefined && x.t >= from);
    const first = s[0];
    const last = s[s.length - 1];
    if (!first || !last || last.t - first.t < 1000) return NaN;
    return (last.rss - first.rss) / MiB / ((last.t - first.t) / 1000);
  };
  const from = plateauAt === undefined ? undefined : plateauAt + 1000;
  const maxBuffered = (impl: Impl): number => Math.max(...runs[impl].series.map((x) => x.buffered)) / MiB;
  const emitted = (impl: Impl): number => runs[impl].series[runs[impl].series.length - 1]?.emitted ?? 0;
  const figure: Figure = {
    id: 'slow-consumers/rss-growth',
    figure: 8,
    name: `Server RSS growth with ${slow} sockets that never read (${args.durationMs / 1000} s of updates)`,
    value: round(growth('ldf', 'rss')),
    unit: 'MiB',
    baseline: round(growth('bare', 'rss')),
    ratio: ratio(growth('ldf', 'rss'), growth('bare', 'rss')),
    better: 'lower',
    target: 'flat once at the send-buffer limit (< 0.5 MiB/s)',
    met: ctx.smoke ? null : slope('ldf', from) < 0.5 && maxBuffered('ldf') <= (limitBytes * 1.05) / MiB,
    notes:
      `offered ${args.rate} updates/s of ${args.valueLength}-byte text values over 16 fields, to ${slow} non-reading sockets + 1 reader; ` +
      `emitted ${emitted('ldf')} (SDK) and ${emitted('bare')} (bare); ` +
      (from === undefined
        ? 'the SDK never reached its send-buffer limit in this run (kernel buffers absorbed everything); '
        : `SDK buffers at their limit from ${round(plateauAt ?? 0)} ms; RSS slope from ${round(from)} ms to the end: ${round(slope('ldf', from))} MiB/s (SDK) vs ${round(slope('bare', from))} MiB/s (bare); `) +
      `userland send buffers peaked at ${round(maxBuffered('ldf'))} MiB (SDK, ${slow} × 256 KiB limit) vs ${round(maxBuffered('bare'))} MiB (bare, counted per socket); ` +
      `the healthy reader got ${runs.ldf.healthyReceived} / ${runs.bare.healthyReceived} updates.`,
    extra: {
      heapGrowthMiBLdf: round(growth('ldf', 'heapUsed')),
      heapGrowthMiBBare: round(growth('bare', 'heapUsed')),
      plateauAtMs: plateauAt ?? null,
      slopeAfterPlateauMiBperSLdf: round(slope('ldf', from)),
      slopeAfterPlateauMiBperSBare: round(slope('bare', from)),
    },
  };
  const compact = (s: MemorySample[]): Record<string, number>[] =>
    s.map((x) => ({
      t: x.t,
      rssMiB: round(x.rss / MiB),
      heapMiB: round(x.heapUsed / MiB),
      bufferedMiB: round(x.buffered / MiB),
      queued: x.queued,
      emitted: x.emitted,
    }));
  return {
    figures: [figure],
    series: { slowConsumers: { sockets: slow, ldf: compact(runs.ldf.series), bare: compact(runs.bare.series) } },
  };
}
