/**
 * Figures 3, 4 and 7: fan-out throughput and memory per session at N = 100, 1,000 and 10,000,
 * the SDK beside a bare `ws` server.
 *
 * For each N four processes run (twice: once for memory, once for fan-out): the SDK server and the bare server (each alone in its process,
 * with `--expose-gc`), and one client process for each (raw WebSocket clients, see the testkit's `raw-ws.ts`).
 * The clients never share a server's event loop.
 *
 * Memory: after a warm-up (clients connected and gone, so code is compiled and pools exist), a
 * settled reading with no session; then N clients say hello and receive their resync; a settled
 * reading again. Per session = difference ÷ N. The device has one counter field here; the fan-out
 * then runs in fresh processes whose device has W (below), whose larger resyncs would swell RSS.
 *
 * Fan-out: the server emits `M` updates (each to all N sockets) with at most `W` updates not yet
 * received by every client (the clients' process reports the highest update all of them have);
 * W keeps every socket's backlog far below the SDK's slow-reader limit. Update `k` changes counter
 * field `k mod W` (the device has W of them): no two updates waiting at once change the same field,
 * so the SDK's ingress coalescing (docs/protocol.md rule 11, the latest value per field) has
 * nothing to merge, and every update reaches every socket as a frame of its own, as with bare `ws`
 * — the clients count the frames, and a round that got fewer than M × N fails. Throughput =
 * M × N ÷ time, in messages delivered per second. Rounds alternate SDK / bare, and the median
 * round is reported.
 * @module
 */
import type { BenchContext, FigureOutput } from '../context.js';
import type { MemoryReading } from '../memory.js';
import { Child } from '../proc.js';
import { type Figure, ratio } from '../results.js';
import { median, round } from '@live-device-form/testkit';
import { withTimeout } from '../util.js';
import { type ProfileWindow, childProfile, formatSummary } from '../profile-summary.js';
import type { ConnectArgs } from '../clients-proc.js';

const KiB = 1024;
type Impl = 'ldf' | 'bare';
const IMPLS: readonly Impl[] = ['ldf', 'bare'];

interface Side {
  server: Child;
  clients: Child;
  port: number;
}

interface RoundResult {
  ms: number;
  perSecond: number;
  serverCpuMs: number;
  clientsCpuMs: number;
}

/** Updates in flight at most (not yet received by every socket) with N sessions: about 32 k messages. */
export function fanOutWindow(n: number): number {
  return Math.max(8, Math.ceil(32_768 / n));
}

/**
 * The SDK's `lagLimitMs` in these runs (default 1 s): a round that falls behind on a loaded machine
 * would resync the pages rather than send each update, and this figure measures the fan-out.
 */
export const FAN_OUT_LAG_LIMIT_MS = 60_000;

/** The target of figures 3 and 7 (issue 14): the SDK's fan-out within 10 % of bare `ws`. */
export const FAN_OUT_TARGET = 0.9;

/**
 * A server and its clients' process. For `memory`, the device has one counter field (and the SDK
 * its defaults): the readings are not swollen by the fan-out's larger resyncs. For `fanout`, as
 * many counter fields as updates in flight, so every update goes out as its own frame.
 */
async function startSide(impl: Impl, n: number, phase: 'memory' | 'fanout'): Promise<Side> {
  const args = phase === 'memory' ? [impl] : [impl, String(fanOutWindow(n)), String(FAN_OUT_LAG_LIMIT_MS)];
  const [server, clients] = await Promise.all([
    Child.start(`server-${impl}`, './server-proc.ts', args, ['--expose-gc']),
    Child.start(`clients-${impl}`, './clients-proc.ts'),
  ]);
  const { port, controlPort } = await server.call<{ port: number; controlPort: number }>('listen');
  // The clients' progress paces the server's window, over a direct socket between the two.
  await clients.call('control', { port: controlPort });
  return { server, clients, port };
}

function connectArgs(side: Side, n: number): ConnectArgs {
  return {
    target: { host: '127.0.0.1', port: side.port, path: '/live', protocol: 'ldf.v1' },
    n,
    hello: JSON.stringify({ type: 'hello', device: 'bench', mounts: 0 }),
    concurrency: 128,
  };
}

async function fanOutRound(side: Side, n: number, count: number): Promise<RoundResult> {
  const window = fanOutWindow(n);
  await side.clients.call('expect', { count });
  const frames0 = await side.clients.call<number>('received');
  const done = new Promise<void>((resolve) => {
    const off = side.server.on('emit-done', (data) => {
      if ((data as { n: number }).n >= count) {
        off();
        resolve();
      }
    });
  });
  const [cpu0, ccpu0] = await Promise.all([
    side.server.call<NodeJS.CpuUsage>('cpu'),
    side.clients.call<NodeJS.CpuUsage>('cpu'),
  ]);
  const t0 = performance.now();
  await side.server.call('emit', { count, window });
  await withTimeout(done, 120_000, `fan-out of ${count} updates to ${n} sockets`);
  const ms = performance.now() - t0;
  const [cpu1, ccpu1] = await Promise.all([
    side.server.call<NodeJS.CpuUsage>('cpu'),
    side.clients.call<NodeJS.CpuUsage>('cpu'),
  ]);
  const frames = (await side.clients.call<number>('received')) - frames0;
  if (frames !== count * n)
    throw new Error(`fan-out round: ${frames} update frames reached the clients, not ${count} × ${n}`);
  const used = (a: NodeJS.CpuUsage, b: NodeJS.CpuUsage): number => (b.user - a.user + b.system - a.system) / 1000;
  return { ms, perSecond: (count * n) / (ms / 1000), serverCpuMs: used(cpu0, cpu1), clientsCpuMs: used(ccpu0, ccpu1) };
}

/** Updates per round: about 160 k deliveries (full) or 20 k (smoke). */
function updatesFor(n: number, smoke: boolean): number {
  return Math.max(10, Math.round((smoke ? 20_000 : 160_000) / n));
}

export async function fanOutAndMemory(ctx: BenchContext): Promise<FigureOutput> {
  const sizes = process.env.BENCH_SIZES
    ? process.env.BENCH_SIZES.split(',').map(Number)
    : ctx.smoke
      ? [20, 50]
      : [100, 1000, 10_000];
  const rounds = ctx.smoke ? 1 : 4;
  const figures: Figure[] = [];
  const curve: Record<string, unknown>[] = [];
  for (const n of sizes) {
    ctx.log(`fan-out/memory: N = ${n}`);
    const running: Side[] = [];
    const start = async (phase: 'memory' | 'fanout'): Promise<Record<Impl, Side>> => {
      const started = await Promise.all(IMPLS.map((impl) => startSide(impl, n, phase)));
      running.push(...started);
      return { ldf: started[0] as Side, bare: started[1] as Side };
    };
    const stop = (list: Side[]): Promise<unknown> =>
      Promise.all(list.flatMap((s) => [s.clients.stop(), s.server.stop()]));
    let sides = {} as Record<Impl, Side>;
    let fanFigure: Figure | undefined;
    let roundWindows: Record<Impl, ProfileWindow[]> | undefined;
    try {
      const memorySides = await start('memory');
      const mem: Record<Impl, { none: MemoryReading; idle: MemoryReading; connectMs: number }> = {} as never;
      for (const impl of IMPLS) {
        const side = memorySides[impl];
        // Warm-up: compile the paths and fill the pools a first session creates.
        await side.clients.call('connect', { ...connectArgs(side, 50) });
        await side.clients.call('close');
        await side.server.call('waitSessions', { n: 0 }, 30_000);
        const none = await side.server.call<MemoryReading>('mem');
        const { ms } = await side.clients.call<{ ms: number }>('connect', connectArgs(side, n), 300_000);
        await side.server.call('waitSessions', { n }, 30_000);
        const idle = await side.server.call<MemoryReading>('mem');
        mem[impl] = { none, idle, connectMs: ms };
      }
      await stop(Object.values(memorySides));
      // The fan-out in fresh processes, with as many counter fields as updates in flight.
      sides = await start('fanout');
      for (const impl of IMPLS) {
        await sides[impl].clients.call('connect', connectArgs(sides[impl], n), 300_000);
        await sides[impl].server.call('waitSessions', { n }, 30_000);
      }
      const perRound: Record<Impl, RoundResult[]> = { ldf: [], bare: [] };
      // The rounds' part of each server's CPU profile (with --profile).
      const windows: Record<Impl, ProfileWindow[]> = { ldf: [], bare: [] };
      const count = updatesFor(n, ctx.smoke);
      for (let r = 0; r < rounds; r++) {
        // Alternate which goes first, so drift in machine load hits both alike.
        const order: Impl[] = r % 2 === 0 ? ['ldf', 'bare'] : ['bare', 'ldf'];
        for (const impl of order) {
          const fromUs = await sides[impl].server.call<number>('clock');
          perRound[impl].push(await fanOutRound(sides[impl], n, count));
          windows[impl].push({ fromUs, toUs: await sides[impl].server.call<number>('clock') });
        }
      }
      const rate = (impl: Impl): number => median(perRound[impl].map((x) => x.perSecond));
      const cpuPerMsg = (impl: Impl): number => median(perRound[impl].map((x) => (x.serverCpuMs * 1000) / (count * n)));
      /** Share of one core the process used during the rounds. */
      const busy = (impl: Impl, key: 'serverCpuMs' | 'clientsCpuMs'): number =>
        median(perRound[impl].map((x) => x[key] / x.ms));
      const per = (impl: Impl, key: keyof MemoryReading): number =>
        (mem[impl].idle[key] - mem[impl].none[key]) / n / KiB;
      const fan: Figure = {
        id: `fan-out/${n}`,
        figure: n === sizes[sizes.length - 1] ? 3 : 7,
        name: `Fan-out to ${n.toLocaleString('en')} sessions`,
        value: round(rate('ldf')),
        unit: 'msg/s',
        baseline: round(rate('bare')),
        ratio: ratio(rate('ldf'), rate('bare')),
        better: 'higher',
        target: `≥ ${FAN_OUT_TARGET} × bare ws`,
        met: ctx.smoke ? null : rate('ldf') >= FAN_OUT_TARGET * rate('bare'),
        notes:
          `${count} updates × ${n} sockets per round, every one delivered as its own frame, median of ${rounds} alternating rounds; window ${fanOutWindow(n)} updates (on as many fields); ` +
          'server alone in its process, clients (raw WebSocket, header-only parsing) in a second process; ' +
          `server CPU per delivered message ${round(cpuPerMsg('ldf'))} µs vs ${round(cpuPerMsg('bare'))} µs (bare); ` +
          `server busy ${Math.round(busy('ldf', 'serverCpuMs') * 100)} % / ${Math.round(busy('bare', 'serverCpuMs') * 100)} % of a core, clients ${Math.round(busy('ldf', 'clientsCpuMs') * 100)} % / ${Math.round(busy('bare', 'clientsCpuMs') * 100)} %.`,
        extra: {
          roundsLdf: perRound.ldf.map((x) => round(x.perSecond)),
          roundsBare: perRound.bare.map((x) => round(x.perSecond)),
          serverCpuUsPerMsgLdf: round(cpuPerMsg('ldf')),
          serverCpuUsPerMsgBare: round(cpuPerMsg('bare')),
          cpuRatio: ratio(cpuPerMsg('bare'), cpuPerMsg('ldf')),
          serverBusyLdf: round(busy('ldf', 'serverCpuMs')),
          serverBusyBare: round(busy('bare', 'serverCpuMs')),
          clientsBusyLdf: round(busy('ldf', 'clientsCpuMs')),
          clientsBusyBare: round(busy('bare', 'clientsCpuMs')),
        },
      };
      const memRss: Figure = {
        id: `memory-rss/${n}`,
        figure: n === sizes[sizes.length - 1] ? 4 : 7,
        name: `Server RSS per idle session, ${n.toLocaleString('en')} sessions`,
        value: round(per('ldf', 'rss')),
        unit: 'KiB',
        baseline: round(per('bare', 'rss')),
        ratio: ratio(per('ldf', 'rss'), per('bare', 'rss')),
        better: 'lower',
        target: '≤ 20 KiB',
        met: ctx.smoke ? null : per('ldf', 'rss') <= 20,
        notes:
          '(RSS with N idle sessions − RSS with none) ÷ N, both after forced full GCs; server alone in its process.',
        extra: {
          connectMsLdf: round(mem.ldf.connectMs),
          connectMsBare: round(mem.bare.connectMs),
          rssNoneMiBLdf: round(mem.ldf.none.rss / KiB / KiB),
          rssIdleMiBLdf: round(mem.ldf.idle.rss / KiB / KiB),
          rssNoneMiBBare: round(mem.bare.none.rss / KiB / KiB),
          rssIdleMiBBare: round(mem.bare.idle.rss / KiB / KiB),
        },
      };
      const memHeap: Figure = {
        id: `memory-heap/${n}`,
        figure: n === sizes[sizes.length - 1] ? 4 : 7,
        name: `Server JS heap per idle session, ${n.toLocaleString('en')} sessions`,
        value: round(per('ldf', 'heapUsed')),
        unit: 'KiB',
        baseline: round(per('bare', 'heapUsed')),
        ratio: ratio(per('ldf', 'heapUsed'), per('bare', 'heapUsed')),
        better: 'lower',
        notes: 'heapUsed difference ÷ N after forced full GCs (external/ArrayBuffer memory is in RSS, not here).',
        extra: {
          externalKiBPerSessionLdf: round(per('ldf', 'external')),
          externalKiBPerSessionBare: round(per('bare', 'external')),
        },
      };
      figures.push(fan, memRss, memHeap);
      fanFigure = fan;
      roundWindows = windows;
      curve.push({
        n,
        fanOutLdf: rate('ldf'),
        fanOutBare: rate('bare'),
        rssKiBLdf: per('ldf', 'rss'),
        rssKiBBare: per('bare', 'rss'),
        heapKiBLdf: per('ldf', 'heapUsed'),
        heapKiBBare: per('bare', 'heapUsed'),
      });
    } finally {
      await stop(running);
    }
    // With --profile: each server's top functions during the fan-out rounds.
    if (fanFigure && roundWindows) {
      const w = roundWindows;
      const [profile, profileBare] = await Promise.all(IMPLS.map((impl) => childProfile(sides[impl].server, w[impl])));
      if (profile) fanFigure.extra = { ...fanFigure.extra, profile, profileBare };
      if (profile) ctx.log(formatSummary(profile, `SDK server, N = ${n}`));
      if (profileBare) ctx.log(formatSummary(profileBare, `bare ws server, N = ${n}`));
    }
  }
  return { figures, series: { scaling: curve } };
}
