/**
 * A/B tool for SDK work on the write path: the SDK as built and another build of it (a candidate
 * fix, or a build from before a change), each in its own write server (`write-proc.ts`: embedded
 * broker, MQTT bridge, SDK), driven by the same protocol client as figure 5. Throughput rounds
 * (32 writes in flight) and one-at-a-time latency samples alternate between the two, so both see
 * the same machine load; the report is their ratio.
 *
 *   tsx src/ab-write.ts <other dist/index.js> [rounds=6]
 * @module
 */
import { resolve } from 'node:path';
import { Writer, throughput, value } from './figures/write-path.js';
import { Child } from './proc.js';
import { median, round, summarize } from '@live-device-form/testkit';

const other = process.argv[2] ? resolve(process.argv[2]) : undefined;
if (!other) {
  console.error('usage: tsx src/ab-write.ts <other build dist/index.js> [rounds=6]');
  process.exit(2);
}
const rounds = Number(process.argv[3] ?? 6);
const variants = ['sdk', 'other'] as const;
const sides = new Map<string, { server: Child; writer: Writer }>();
try {
  for (const v of variants) {
    if (v === 'other') process.env.BENCH_SDK = other;
    else delete process.env.BENCH_SDK;
    const server = await Child.start(`write-${v}`, './write-proc.ts');
    const { port } = await server.call<{ port: number }>('info');
    sides.set(v, { server, writer: await Writer.open(port) });
  }
  const rates = new Map<string, number[]>();
  const latencies = new Map<string, number[]>();
  // Server CPU per write (broker included: it shares the process) is steadier than throughput on a noisy machine.
  const cpus = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 ? [...variants].reverse() : variants) {
      const { server, writer } = sides.get(v) as { server: Child; writer: Writer };
      const c0 = await server.call<NodeJS.CpuUsage>('cpu');
      const rate = await throughput((i) => writer.write(value(i)), 10_000, 32);
      const c1 = await server.call<NodeJS.CpuUsage>('cpu');
      const cpu = (c1.user - c0.user + c1.system - c0.system) / 10_000;
      rates.set(v, [...(rates.get(v) ?? []), rate]);
      cpus.set(v, [...(cpus.get(v) ?? []), cpu]);
      console.log(
        `${v.padEnd(6)} round ${r + 1}: ${Math.round(rate)} writes/s, ${cpu.toFixed(1)} µs server CPU per write`,
      );
    }
    // One-at-a-time latency, samples alternating.
    for (let i = 0; i < 300; i++) {
      for (const v of i % 2 ? [...variants].reverse() : variants) {
        const { writer } = sides.get(v) as { writer: Writer };
        const t0 = performance.now();
        const status = await writer.write(value(i + 7));
        if (status !== 'accepted') throw new Error(`${v}: write answered ${status}`);
        latencies.set(v, [...(latencies.get(v) ?? []), performance.now() - t0]);
      }
    }
  }
  const rate = (v: string): number => median(rates.get(v) ?? []);
  const lat = (v: string) => summarize(latencies.get(v) ?? []);
  console.log(`\nmedians over ${rounds} rounds:`);
  const cpu = (v: string): number => median(cpus.get(v) ?? []);
  for (const v of variants) {
    console.log(
      `${v.padEnd(6)} ${round(rate(v))} writes/s   ${round(cpu(v))} µs CPU/write   latency p50 ${round(lat(v).p50)} ms, p99 ${round(lat(v).p99)} ms`,
    );
  }
  console.log(
    `sdk ÷ other: throughput ${round(rate('sdk') / rate('other'))}, CPU per write ${round(cpu('sdk') / cpu('other'))}, latency p50 ${round(lat('sdk').p50 / lat('other').p50)}`,
  );
} finally {
  for (const { server, writer } of sides.values()) {
    writer.close();
    await server.stop();
  }
}
