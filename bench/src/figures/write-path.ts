/**
 * Figure 5: the write path. A `set` from a WebSocket client → SDK checks → store → MQTT bridge →
 * QoS 1 PUBLISH → broker PUBACK → `ack` back to the client. Baseline: a bare relay
 * (`write-proc.ts`) that makes the same three loopback hops without any check — the same `set`
 * frame, JSON-parsed, published at QoS 1 with mqtt.js, PUBACK, `ack`. Second reference: a bare
 * mqtt.js client publishing the same bytes (`brightness X` on an action topic of the same length) at QoS 1 to
 * the same broker and waiting for the PUBACK (one hop). SDK, relay and broker share a child
 * process; the clients run in the driver.
 *
 * Latency: one write at a time, samples of the three rotating. Throughput: 32 writes in flight,
 * rounds rotating, median round reported.
 * @module
 */
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import WebSocket from 'ws';
import type { BenchContext, FigureOutput } from '../context.js';
import { Child } from '../proc.js';
import { type Figure, latencyFields, ratio } from '../results.js';
import { median, round, summarize } from '@live-device-form/testkit';
import { withTimeout } from '../util.js';
import { type ProfileWindow, childProfile, formatSummary } from '../profile-summary.js';

/**
 * The bare publish's topic: the SDK's action topic with a device id of the same length, so the
 * SDK does not take it for a write from elsewhere (docs/protocol.md, *Several server processes*).
 */
const ACTION_TOPIC = 'cy-vp4/publsproc/action/set/brightness';

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

/** Figure 5's targets (issue 14), against the bare relay. */
export const WRITE_TARGETS = {
  /** Throughput with 32 writes in flight: at least this share of the relay's. */
  throughput: 0.85,
  /** p50 latency one write at a time: at most this multiple of the relay's. */
  latencyP50: 1.2,
} as const;

/** The three ways a write is made: the SDK, the bare relay, a bare mqtt.js publish. */
type Way = 'ldf' | 'relay' | 'publish';
const WAYS: readonly Way[] = ['ldf', 'relay', 'publish'];

export async function writePath(ctx: BenchContext): Promise<FigureOutput> {
  const server = await Child.start('write-server', './write-proc.ts');
  const writers: Writer[] = [];
  let client: MqttClient | undefined;
  let figures: Figure[];
  // The throughput rounds' parts of the server's CPU profile (with --profile), per way.
  const windows: Record<Way, ProfileWindow[]> = { ldf: [], relay: [], publish: [] };
  try {
    const { port, relayPort, mqttUrl } = await server.call<{ port: number; relayPort: number; mqttUrl: string }>(
      'info',
    );
    const sdkWriter = await Writer.open(port);
    writers.push(sdkWriter);
    const relayWriter = await Writer.open(relayPort);
    writers.push(relayWriter);
    client = mqttConnect(mqttUrl, { clientId: 'bench-bare-writer', reconnectPeriod: 0 });
    await new Promise<void>((resolve, reject) => {
      client?.once('connect', () => resolve());
      client?.once('error', reject);
    });
    const c = client;
    const write: Record<Way, (v: number) => Promise<string>> = {
      ldf: (v) => sdkWriter.write(v),
      relay: (v) => relayWriter.write(v),
      publish: (v) => publish(c, v),
    };
    const samples = ctx.smoke ? 20 : 3000;
    const latencies: Record<Way, number[]> = { ldf: [], relay: [], publish: [] };
    for (let i = -50; i < samples; i++) {
      // Rotate which goes first, so drift in machine load hits all three alike.
      const order = WAYS.map((_, k) => WAYS[(k + i + 50) % WAYS.length] as Way);
      for (const way of order) {
        const t0 = performance.now();
        const status = await write[way](value(i + 200));
        const ms = performance.now() - t0;
        if (status !== 'accepted') throw new Error(`${way} write ${i} answered ${status}`);
        if (i >= 0) latencies[way].push(ms);
      }
    }
    const total = ctx.smoke ? 200 : 20_000;
    const rounds = ctx.smoke ? 1 : 3;
    const rates: Record<Way, number[]> = { ldf: [], relay: [], publish: [] };
    for (let r = 0; r < rounds; r++) {
      const order = WAYS.map((_, k) => WAYS[(k + r) % WAYS.length] as Way);
      for (const way of order) {
        const fromUs = await server.call<number>('clock');
        rates[way].push(await throughput((i) => write[way](value(i)), total, 32));
        windows[way].push({ fromUs, toUs: await server.call<number>('clock') });
      }
    }
    const stats = await server.call<{ sets: number; acks: number }>('stats');
    const lat = (way: Way) => summarize(latencies[way]);
    const rate = (way: Way): number => median(rates[way]);
    /** The SDK's writes per second beside a baseline's. */
    const rateFields = (baseline: Way) =>
      ({
        value: round(rate('ldf')),
        unit: 'writes/s',
        baseline: round(rate(baseline)),
        ratio: ratio(rate('ldf'), rate(baseline)),
        better: 'higher',
      }) as const;
    const rateNotes = `${total} writes per round, median of ${rounds} rounds (the order rotating); rate limit raised for the bench (default 50/s per socket); every write accepted (server counted ${stats.sets} sets, ${stats.acks} acks).`;
    const where = 'SDK, relay and broker in one child process, the clients in the driver; samples of the three rotate.';
    const latencyMet = lat('ldf').p50 <= WRITE_TARGETS.latencyP50 * lat('relay').p50;
    const throughputMet = rate('ldf') >= WRITE_TARGETS.throughput * rate('relay');
    figures = [
      {
        id: 'write-path/latency',
        figure: 5,
        name: 'Write round trip: set → broker PUBACK → ack (one at a time), vs a bare relay',
        ...latencyFields(lat('ldf'), lat('relay')),
        target: `p50 ≤ ${WRITE_TARGETS.latencyP50} × the bare relay`,
        met: ctx.smoke ? null : latencyMet,
        notes: `baseline: a bare relay (plain ws server: JSON.parse the set, mqtt.js QoS 1 publish of the same payload to a topic of the same length, PUBACK, ack; no checks), the same three loopback hops; ${where}`,
      },
      {
        id: 'write-path/throughput',
        figure: 5,
        name: 'Write round trips per second (32 in flight), vs a bare relay',
        ...rateFields('relay'),
        target: `≥ ${WRITE_TARGETS.throughput} × the bare relay`,
        met: ctx.smoke ? null : throughputMet,
        notes: `baseline: the bare relay; ${rateNotes}`,
        extra: { roundsLdf: rates.ldf.map((x) => round(x)), roundsRelay: rates.relay.map((x) => round(x)) },
      },
      {
        id: 'write-path/latency-vs-publish',
        figure: 5,
        name: 'Write round trip (one at a time), vs a bare mqtt.js publish',
        ...latencyFields(lat('ldf'), lat('publish')),
        notes: `second reference: a bare mqtt.js QoS 1 publish of the same payload to the same broker, until its PUBACK — one loopback hop where the SDK makes three; ${where}`,
      },
      {
        id: 'write-path/throughput-vs-publish',
        figure: 5,
        name: 'Write round trips per second (32 in flight), vs a bare mqtt.js publish',
        ...rateFields('publish'),
        notes: `second reference: the bare mqtt.js publisher; ${rateNotes}`,
        extra: { roundsLdf: rates.ldf.map((x) => round(x)), roundsPublish: rates.publish.map((x) => round(x)) },
      },
    ];
  } finally {
    for (const w of writers) w.close();
    await client?.endAsync(true);
    await server.stop();
  }
  // With --profile: the server process's top functions (SDK or relay, and the broker: they share it)
  // during the SDK's throughput rounds and during the relay's.
  const [profile, profileRelay] = await Promise.all([
    childProfile(server, windows.ldf),
    childProfile(server, windows.relay),
  ]);
  if (profile && profileRelay) {
    for (const f of figures) f.extra = { ...f.extra, profile, profileRelay };
    ctx.log(formatSummary(profile, 'write server during the SDK rounds (SDK and broker)'));
    ctx.log(formatSummary(profileRelay, 'write server during the relay rounds (relay and broker)'));
  }
  return { figures };
}
