/**
 * A/B tool for SDK work on the write path: the SDK as built, another build of it (a candidate
 * fix, or a build from before a change; optional) and figure 5's bare relay, each in its own write
 * server (`write-proc.ts`: embedded broker, MQTT bridge, SDK, relay), driven by the same protocol
 * client as figure 5. Throughput rounds (32 writes in flight) and one-at-a-time latency samples
 * rotate between them, so all see the same machine load; the report is their ratios. With
 * `BENCH_PROFILE=<dir>`, the top five self-time functions of each server process are printed (a
 * process serves one variant, so its profile is that variant's and its broker's).
 *
 *   tsx src/ab-write.ts [other dist/index.js | -] [rounds=6]
 * @module
 */
import { resolve } from 'node:path';
import { Writer, throughput, value } from './figures/write-path.js';
import { Child } from './proc.js';
import { childProfile, formatSummary } from './profile-summary.js';
import { median, round, summarize } from '@live-device-form/testkit';

const other = process.argv[2] && process.argv[2] !== '-' ? resolve(process.argv[2]) : undefined;
const rounds = Number(process.argv[3] ?? 6);
type Variant = 'sdk' | 'other' | 'relay';
const variants: Variant[] = other ? ['sdk', 'other', 'relay'] : ['sdk', 'relay'];
const sides = new Map<string, { server: Child; writer: Writer }>();
try {
  for (const v of variants) {
    if (v === 'other' && other) process.env.BENCH_SDK = other;
    else delete process.env.BENCH_SDK;
    const server = await Child.start(`write-${v}`, './write-proc.ts');
    const { port, relayPort } = await server.call<{ port: number; relayPort: number }>('info');
    sides.set(v, { server, writer: await Writer.open(v === 'relay' ? relayPort : port) });
  }
  const rates = new Map<string, number[]>();
  const latencies = new Map<string, number[]>();
  // Server CPU per write (broker included: it shares the process) is steadier than throughput on a noisy machine.
  const cpus = new Map<string, number[]>();
  for (let r = 0; r < rounds; r++) {
    for (const v of rotate(variants, r)) {
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
      for (const v of rotate(variants, i)) {
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
  for (const v of variants.filter((x) => x !== 'sdk')) {
    console.log(
      `sdk ÷ ${v}: throughput ${round(rate('sdk') / rate(v))}, CPU per write ${round(cpu('sdk') / cpu(v))}, latency p50 ${round(lat('sdk').p50 / lat(v).p50)}`,
    );
  }
} finally {
  for (const { server, writer } of sides.values()) {
    writer.close();
    await server.stop();
  }
}
if (process.env.BENCH_PROFILE) {
  for (const [v, { server }] of sides) {
    const summary = await childProfile(server);
    if (summary) console.log(`\n${formatSummary(summary, `${v} write server, ${summary.file}`)}`);
  }
}

/** `list` rotated by `k`: who goes first changes every time. */
function rotate<T>(list: readonly T[], k: number): T[] {
  return list.map((_, j) => list[(j + k) % list.length] as T);
}
