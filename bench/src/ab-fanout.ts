/**
 * A/B tool for SDK work: fan-out rounds, interleaved, of the SDK as built, a candidate build of
 * the SDK, and the bare `ws` baseline — same clients, same window and fields as figure 3 (every
 * update delivered as its own frame, counted). Server CPU
 * per delivered message is printed beside each round: on a noisy machine it is steadier than the
 * throughput.
 *
 *   tsx src/ab-fanout.ts [N=1000] [rounds=4] [candidate dist/index.js]
 *
 * With `BENCH_PROFILE=<dir>` every process writes a CPU profile there, and the top five self-time
 * functions of each server are printed at the end.
 *
 * e.g. copy `packages/server/dist` to `bench/out/sdk-candidate/dist` (with a `node_modules` link
 * to `packages/server/node_modules`), edit it, and pass `out/sdk-candidate/dist/index.js`.
 * @module
 */
import { resolve } from 'node:path';
import { Child } from './proc.js';
import { formatSummary, summarizeProcessProfile } from './profile-summary.js';
import { median, round } from '@live-device-form/testkit';
import { withTimeout } from './util.js';
import { FAN_OUT_LAG_LIMIT_MS, fanOutWindow } from './figures/fanout.js';

const n = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 4);
const candidate = process.argv[4] ? resolve(process.argv[4]) : undefined;
/** BENCH_BARE_BATCHED=1 adds bare `ws` sending each turn's updates socket by socket, as the SDK's rounds do. */
const variants = [
  'sdk',
  ...(candidate ? ['candidate'] : []),
  'bare',
  ...(process.env.BENCH_BARE_BATCHED ? ['bare-batched'] : []),
];
const count = Math.max(10, Math.round(200_000 / n));
/** BENCH_PACING=spaced: one update per turn of the server's event loop instead of bursts (see server-proc.ts). */
const pacing = process.env.BENCH_PACING === 'spaced' ? 'spaced' : 'burst';

const sides = new Map<string, { server: Child; clients: Child }>();
try {
  for (const v of variants) {
    if (v === 'candidate' && candidate) process.env.BENCH_SDK = candidate;
    else delete process.env.BENCH_SDK;
    const server = await Child.start(
      v,
      './server-proc.ts',
      [v.startsWith('bare') ? v : 'ldf', String(fanOutWindow(n)), String(FAN_OUT_LAG_LIMIT_MS)],
      ['--expose-gc'],
    );
    const clients = await Child.start(`${v}-clients`, './clients-proc.ts');
    sides.set(v, { server, clients });
    const { port, controlPort } = await server.call<{ port: number; controlPort: number }>('listen');
    await clients.call('control', { port: controlPort });
    const hello = JSON.stringify({ type: 'hello', device: 'bench', mounts: 0 });
    await clients.call(
      'connect',
      { target: { host: '127.0.0.1', port, path: '/live', protocol: 'ldf.v1' }, n, hello, concurrency: 128 },
      300_000,
    );
  }
  const rates = new Map<string, number[]>();
  const cpus = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      const { server, clients } = sides.get(v) as { server: Child; clients: Child };
      await clients.call('expect', { count });
      const done = new Promise<void>((resolveDone) => {
        const off = server.on('emit-done', () => {
          off();
          resolveDone();
        });
      });
      const frames0 = await clients.call<number>('received');
      const c0 = await server.call<NodeJS.CpuUsage>('cpu');
      const t0 = performance.now();
      await server.call('emit', { count, window: fanOutWindow(n), pacing });
      await withTimeout(done, 120_000, `${v} round`);
      const ms = performance.now() - t0;
      const c1 = await server.call<NodeJS.CpuUsage>('cpu');
      const frames = (await clients.call<number>('received')) - frames0;
      if (frames !== count * n)
        throw new Error(`${v}: ${frames} update frames reached the clients, not ${count} × ${n}`);
      const rate = (count * n) / (ms / 1000);
      const cpu = (c1.user - c0.user + c1.system - c0.system) / (count * n);
      rates.set(v, [...(rates.get(v) ?? []), rate]);
      cpus.set(v, [...(cpus.get(v) ?? []), cpu]);
      console.log(
        `${v.padEnd(12)} ${Math.round(rate).toString().padStart(8)} msg/s   ${cpu.toFixed(1)} µs server CPU per message`,
      );
    }
  }
  console.log(`\nmedians over ${rounds} rounds, N = ${n}:`);
  for (const v of variants) {
    console.log(
      `${v.padEnd(12)} ${round(median(rates.get(v) ?? []))} msg/s   ${round(median(cpus.get(v) ?? []))} µs/msg`,
    );
  }
} finally {
  for (const { server, clients } of sides.values()) await Promise.all([clients.stop(), server.stop()]);
}
// With BENCH_PROFILE=<dir>: the top self-time functions of each server process.
if (process.env.BENCH_PROFILE) {
  for (const [v, { server }] of sides) {
    const summary =
      server.pid === undefined ? undefined : await summarizeProcessProfile(process.env.BENCH_PROFILE, server.pid);
    if (summary) console.log(`\n${formatSummary(summary, `${v} server, ${summary.file}`)}`);
  }
}
