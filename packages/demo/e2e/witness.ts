/**
 * The independent witness of the end-to-end tests: a plain mqtt.js client on `cy-vp4/#` — not the
 * SDK, not the demo's log — that records what really reached the broker, in order.
 * @module
 */
import { connectAsync, type MqttClient } from 'mqtt';

/** A message the witness received. */
export interface Seen {
  /** Position in arrival order (0-based). */
  index: number;
  topic: string;
  payload: string;
  retain: boolean;
}

export interface Witness {
  readonly messages: readonly Seen[];
  /** How many messages arrived so far: a mark to look at "what came after". */
  mark(): number;
  /** Action messages (`…/action/…`) that arrived at or after `mark`. */
  actionsSince(mark: number): Seen[];
  /** Resolves with the first message at or after `from` that matches; rejects after `timeoutMs`. */
  waitFor(match: (m: Seen) => boolean, what: string, options?: { from?: number; timeoutMs?: number }): Promise<Seen>;
  /** Publishes (QoS 1, not retained) and waits for the broker's PUBACK. */
  publish(topic: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

export const isAction = (m: Seen): boolean => m.topic.includes('/action/');

/** Connects to `url` and subscribes to `filter` (SUBACK awaited). */
export async function startWitness(url: string, filter = 'cy-vp4/#'): Promise<Witness> {
  const client: MqttClient = await connectAsync(url, {
    reconnectPeriod: 0,
    clean: true,
    clientId: `e2e-witness-${Math.random().toString(16).slice(2, 8)}`,
  });
  const messages: Seen[] = [];
  let waiters: { from: number; match: (m: Seen) => boolean; resolve: (m: Seen) => void }[] = [];
  client.on('message', (topic, payload, packet) => {
    const m: Seen = { index: messages.length, topic, payload: payload.toString('utf8'), retain: packet.retain };
    messages.push(m);
    waiters = waiters.filter((w) => {
      if (m.index < w.from || !w.match(m)) return true;
      w.resolve(m);
      return false;
    });
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return {
    messages,
    mark: () => messages.length,
    actionsSince: (mark) => messages.slice(mark).filter(isAction),
    waitFor(match, what, { from = 0, timeoutMs = 15_000 } = {}) {
      const seen = messages.slice(from).find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          const got = messages.slice(from).map((x) => `${x.topic} ${x.payload}`);
          reject(new Error(`witness: no ${what} within ${timeoutMs} ms; saw ${JSON.stringify(got)}`));
        }, timeoutMs);
        const done = (m: Seen): void => {
          clearTimeout(timer);
          resolve(m);
        };
        waiters.push({ from, match, resolve: done });
      });
    },
    async publish(topic, payload) {
      await client.publishAsync(topic, payload, { qos: 1, retain: false });
    },
    async close() {
      await client.endAsync(true);
    },
  };
}
