/**
 * Figure 5: the write path. A `set` from a WebSocket client → SDK checks → store → MQTT bridge →
 * QoS 1 PUBLISH → broker PUBACK → `ack` back to the client; beside a bare mqtt.js client
 * publishing the same bytes (`brightness X` on the same action topic) at QoS 1 to the same broker
 * and waiting for the PUBACK. Server and broker share a child process (`write-proc.ts`); both
 * clients run in the driver.
 *
 * Latency: one write at a time, samples alternating project/baseline. Throughput: 32 writes in
 * flight, rounds alternating, median round reported.
 * @module
 */
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import type { BenchContext, FigureOutput } from '../context.js';
import { Child } from '../proc.js';
import { type Figure, latencyFields, ratio } from '../results.js';
import { median, round, summarize } from '@live-device-form/testkit';
import { withTimeout } from '../util.js';

const ACTION_TOPIC = 'cy-vp4/videoproc/action/set/brightness';

/** A protocol client that writes `brightness` and resolves each write at its ack. */
export class Writer {
  private nextId = 0;
  private rev = 0;
  private epoch = '';
  private readonly waiting = new Map<number, (status: string) => void>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as {
        type: string;
        id?: number;
        status?: string;
        fields?: Record<string, { rev: number }>;
      };
      if (frame.type === 'ack' && frame.id !== undefined) {
        this.waiting.get(frame.id)?.(frame.status ?? '');
        this.waiting.delete(frame.id);
      }
    });
  }

  static async open(port: number): Promise<Writer> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/live`, 'ldf.v1', { perMessageDeflate: false });
    const writer = new Writer(ws);
    type Resync = { epoch: string; fields: Record<string, { rev: number }> };
    const resync = new Promise<Resync>((resolve, reject) => {
      ws.once('message', (data) => resolve(JSON.parse(String(data)) as Resync));
      ws.once('error', reject);
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'hello', device: 'videoproc', mounts: 0 }));
    const first = await withTimeout(resync, 10_000, 'resync');
    writer.rev = first.fields.brightness?.rev ?? 0;
    writer.epoch = first.epoch;
    return writer;
  }

  write(value: number): Promise<string> {
    const id = ++this.nextId;
    const acked = new Promise<string>((resolve) => this.waiting.set(id, resolve));
    this.ws.send(JSON.stringify({ type: 'set', id, field: 'brightness', value, rev: this.rev, epoch: this.epoch }));
    return acked;
  }

  close(): void {
    this.ws.close();
  }
}

function publish(client: MqttClient, value: number): Promise<string> {
  return new Promise((resolve, reject) =>
    client.publish(ACTION_TOPIC, `brightness ${value}`, { qos: 1 }, (err) => (err ? reject(err) : resolve('accepted'))),
  );
}

/** The i-th written value (a brightness on the field's step). */
export const value = (i: number): number => (i % 200) * 0.5;

/** Runs `total` writes with `inFlight` outstanding at a time; returns writes per second. */
export async function throughput(
  write: (i: number) => Promise<string>,
  total: number,
  inFlight: number,
): Promise<number> {
  let next = 0;
  let refused = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        if ((await write(next++)) !== 'accepted') refused++;
      }
    }),
  );
  if (refused > 0) throw new Error(`${refused} writes were not accepted`);
  return total / ((performance.now() - t0) / 1000);
}

export async function writePath(ctx: BenchContext): Promise<FigureOutput> {
  const server = await Child.start('write-server', './write-proc.ts');
  let writer: Writer | undefined;
  let client: MqttClient | undefined;
  try {
    const { port, mqttUrl } = await server.call<{ port: number; mqttUrl: string }>('info');
    writer = await Writer.open(port);
    client = mqttConnect(mqttUrl, { clientId: 'bench-bare-writer', reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      client?.once('connect', () => resolve());
      client?.once('error', reject);
    });
    const w = writer;
    const c = client;
    const samples = ctx.smoke ? 20 : 3000;
    const mine: number[] = [];
    const base: number[] = [];
    for (let i = -50; i < samples; i++) {
      const runs: [number[], () => Promise<string>][] = [
        [mine, () => w.write(value(i + 200))],
        [base, () => publish(c, value(i + 200))],
      ];
      if (i % 2) runs.reverse();
      for (const [into, run] of runs) {
        const t0 = performance.now();
        const status = await run();
        const ms = performance.now() - t0;
        if (status !== 'accepted') throw new Error(`write ${i} answered ${status}`);
        if (i >= 0) into.push(ms);
      }
    }
    const total = ctx.smoke ? 200 : 20_000;
    const rounds = ctx.smoke ? 1 : 3;
    const rates = { ldf: [] as number[], bare: [] as number[] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (['ldf', 'bare'] as const) : (['bare', 'ldf'] as const);
      for (const impl of order) {
        rates[impl].push(
          await throughput(impl === 'ldf' ? (i) => w.write(value(i)) : (i) => publish(c, value(i)), total, 32),
        );
      }
    }
    const stats = await server.call<{ sets: number; acks: number }>('stats');
    const m = summarize(mine);
    const b = summarize(base);
    const rateLdf = median(rates.ldf);
    const rateBare = median(rates.bare);
    const figures: Figure[] = [
      {
        id: 'write-path/latency',
        figure: 5,
        name: 'Write round trip: set → broker PUBACK → ack (one at a time)',
        ...latencyFields(m, b),
        notes:
          'baseline: bare mqtt.js QoS 1 publish of the same payload to the same broker, until its PUBACK; SDK and broker in one child process, both clients in the driver.',
      },
      {
        id: 'write-path/throughput',
        figure: 5,
        name: 'Write round trips per second (32 in flight)',
        value: round(rateLdf),
        unit: 'writes/s',
        baseline: round(rateBare),
        ratio: ratio(rateLdf, rateBare),
        better: 'higher',
        notes: `${total} writes per round, median of ${rounds} alternating rounds; rate limit raised for the bench (default 50/s per socket); every write accepted (server counted ${stats.sets} sets, ${stats.acks} acks).`,
        extra: { roundsLdf: rates.ldf.map((x) => round(x)), roundsBare: rates.bare.map((x) => round(x)) },
      },
    ];
    return { figures };
  } finally {
    writer?.close();
    await client?.endAsync(true);
    await server.stop();
  }
}
