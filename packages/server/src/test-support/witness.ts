/**
 * An independent MQTT client for tests: a plain mqtt.js client, not the SDK, that records what
 * really reaches the broker and can play the device (publish statuses, availability).
 * @module
 */
import { connectAsync, type MqttClient } from 'mqtt';

/** A message the witness received. */
export interface SeenMessage {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
}

/** A connected witness. */
export interface Witness {
  readonly client: MqttClient;
  /** Every message received so far, in order. */
  readonly messages: SeenMessage[];
  /** Resolves with the first message (seen already or to come) that matches; rejects after `timeoutMs`. */
  waitFor(match: (m: SeenMessage) => boolean, what?: string, timeoutMs?: number): Promise<SeenMessage>;
  /** Publishes (QoS 1) and waits for the broker's PUBACK. */
  publish(topic: string, payload: string, options?: { retain?: boolean }): Promise<void>;
  close(): Promise<void>;
}

/** Connects to `url` and subscribes to `topics` (SUBACK awaited). */
export async function startWitness(url: string, topics: string[] = []): Promise<Witness> {
  const client = await connectAsync(url, { reconnectPeriod: 0, clean: true });
  const messages: SeenMessage[] = [];
  let waiters: { match: (m: SeenMessage) => boolean; resolve: (m: SeenMessage) => void }[] = [];
  client.on('message', (topic, payload, packet) => {
    const m = { topic, payload: payload.toString('utf8'), qos: packet.qos, retain: packet.retain };
    messages.push(m);
    waiters = waiters.filter((w) => {
      if (!w.match(m)) return true;
      w.resolve(m);
      return false;
    });
  });
  if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
  return {
    client,
    messages,
    waitFor(match, what = 'a matching message', timeoutMs = 10_000) {
      const seen = messages.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          reject(new Error(`witness: no ${what} within ${timeoutMs} ms; saw ${JSON.stringify(messages)}`));
        }, timeoutMs);
        const done = (m: SeenMessage): void => {
          clearTimeout(timer);
          resolve(m);
        };
        waiters.push({ match, resolve: done });
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
