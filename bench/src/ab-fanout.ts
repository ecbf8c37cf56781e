/**
 * A/B tool for SDK work: fan-out rounds, interleaved, of the SDK as built, a candidate build of
 * the SDK, and the bare `ws` baseline — same clients, same window protocol as figure 3. Server CPU
 * per delivered message is printed beside each round: on a noisy machine it is steadier than the
 * throughput.
 *
 *   tsx src/ab-fanout.ts [N=1000] [rounds=4] [candidate dist/index.js]
 *
 * e.g. copy `packages/server/dist` to `bench/out/sdk-candidate/dist` (with a `node_modules` link
 * to `packages/server/node_modules`), edit it, and pass `out/sdk-candidate/dist/index.js`.
 * @module
 */
import { resolve } from 'node:path';
import { Child } from './proc.js';
import { median, round } from '@live-device-form/testkit';
import { withTimeout } from './util.js';

const n = Number(process.argv[2] ?? 1000);
const rounds = Number(process.argv[3] ?? 4);
const candidate = process.argv[4] ? resolve(process.argv[4]) : undefined;
const variants = candidate ? ['sdk', 'candidate', 'bare'] : ['sdk', 'bare'];
const count = Math.max(10, Math.round(200_000 / n));

const sides = new Map<string, { server: Child; clients: Child }>();
try {
  for (const v of variants) {
    if (v === 'candidate' && candidate) process.env.BENCH_SDK = candidate;
    else delete process.env.BENCH_SDK;
    const server = await Child.start(v, './server-proc.ts', [v === 'bare' ? 'bare' : 'ldf'], ['--expose-gc']);
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
      const c0 = await server.call<NodeJS.CpuUsage>('cpu');
      const t0 = performance.now();
      await server.call('emit', {
        count,
        window: Number(process.env.BENCH_WINDOW ?? Math.max(8, Math.ceil(32_768 / n))),
      });
      await withTimeout(done, 120_000, `${v} round`);
      const ms = performance.now() - t0;
      const c1 = await server.call<NodeJS.CpuUsage>('cpu');
      const rate = (count * n) / (ms / 1000);
      const cpu = (c1.user - c0.user + c1.system - c0.system) / (count * n);
      rates.set(v, [...(rates.get(v) ?? []), rate]);
      cpus.set(v, [...(cpus.get(v) ?? []), cpu]);
      console.log(
        `${v.padEnd(10)} ${Math.round(rate).toString().padStart(8)} msg/s   ${cpu.toFixed(1)} µs server CPU per message`,
      );
    }
  }
  console.log(`\nmedians over ${rounds} rounds, N = ${n}:`);
  for (const v of variants) {
    console.log(
      `${v.padEnd(10)} ${round(median(rates.get(v) ?? []))} msg/s   ${round(median(cpus.get(v) ?? []))} µs/msg`,
    );
  }
} finally {
  for (const { server, clients } of sides.values()) await Promise.all([clients.stop(), server.stop()]);
}
