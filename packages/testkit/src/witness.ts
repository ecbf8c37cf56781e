/**
 * The broker witness: an independent MQTT client for tests — a plain mqtt.js client, not the SDK,
 * not the demo's log — that records what really reached the broker, in order, and can play the
 * device (publish statuses, availability).
 * @module
 */
import { connectAsync, type MqttClient } from 'mqtt';

/** A message the witness received. */
export interface SeenMessage {
  /** Position in arrival order (0-based). */
  index: number;
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** Options of {@link Witness.waitFor}. */
export interface WaitForOptions {
  /** Only messages at or after this index (a {@link Witness.mark}) count. Defaults to `0`. */
  from?: number;
  /** Defaults to `10000`. */
  timeoutMs?: number;
}

/** A connected witness. */
export interface Witness {
  readonly client: MqttClient;
  /** Every message received so far, in order. */
  readonly messages: readonly SeenMessage[];
  /** How many messages arrived so far: a mark to look at "what came after". */
  mark(): number;
  /** The messages that arrived at or after `mark`. */
  since(mark: number): SeenMessage[];
  /** Resolves with the first message (seen already or to come) that matches; rejects after the timeout. */
  waitFor(match: (m: SeenMessage) => boolean, what?: string, options?: WaitForOptions): Promise<SeenMessage>;
  /** Publishes (QoS 1) and waits for the broker's PUBACK. */
  publish(topic: string, payload: string, options?: { retain?: boolean }): Promise<void>;
  close(): Promise<void>;
}

let witnesses = 0;

/** Connects to `url` and subscribes to `topics` (SUBACK awaited). */
export async function startWitness(url: string, topics: string | string[] = []): Promise<Witness> {
  const client = await connectAsync(url, {
    reconnectPeriod: 0,
    clean: true,
    clientId: `ldf-witness-${process.pid}-${++witnesses}`,
  });
  const messages: SeenMessage[] = [];
  let waiters: { from: number; match: (m: SeenMessage) => boolean; resolve: (m: SeenMessage) => void }[] = [];
  client.on('message', (topic, payload, packet) => {
    const m: SeenMessage = {
      index: messages.length,
      topic,
      payload: payload.toString('utf8'),
      qos: packet.qos,
      retain: packet.retain,
    };
    messages.push(m);
    waiters = waiters.filter((w) => {
      if (m.index < w.from || !w.match(m)) return true;
      w.resolve(m);
      return false;
    });
  });
  if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
  return {
    client,
    messages,
    mark: () => messages.length,
    since: (mark) => messages.slice(mark),
    waitFor(match, what = 'a matching message', { from = 0, timeoutMs = 10_000 } = {}) {
      const seen = messages.slice(from).find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          const got = messages.slice(from).map((x) => `${x.topic} ${x.payload}`);
          reject(new Error(`witness: no ${what} within ${timeoutMs} ms; saw ${JSON.stringify(got)}`));
        }, timeoutMs);
        const done = (m: SeenMessage): void => {
          clearTimeout(timer);
          resolve(m);
        };
        waiters.push({ from, match, resolve: done });
      });
    },
    async publish(topic, payload, options = {}) {
      await client.publishAsync(topic, payload, { qos: 1, retain: options.retain ?? false });
    },
    async close() {
      await client.endAsync(true);
    },
  };
}
