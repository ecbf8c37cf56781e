/**
 * The checker's own eyes on the broker: a plain mqtt.js client subscribed to `#` that records
 * every message it is delivered, with the time it arrived. It shares nothing with the SDK.
 * @module
 */
import { type MqttClient, connectAsync } from 'mqtt';
import type { BrokerMessage } from './records.js';

/** A connected observer. */
export class BrokerObserver {
  /** Every message received, in the order the broker delivered them. */
  readonly messages: BrokerMessage[] = [];
  private client: MqttClient | undefined;
  private readonly waiters = new Set<(m: BrokerMessage) => void>();
  private generation = 0;
  /** Called when the connection dies (the run decides when to reconnect). */
  onLost: (() => void) | undefined;

  constructor(private readonly url: string) {}

  /** Connects and subscribes to `#` at QoS 1; resolves once the broker granted the subscription. */
  async connect(): Promise<void> {
    const gen = ++this.generation;
    const client = await connectAsync(this.url, {
      clientId: `chaos-checker-${gen}-${process.pid}`,
      clean: true,
      reconnectPeriod: 0,
      keepalive: 30,
    });
    this.client = client;
    client.on('message', (topic, payload, packet) => {
      if (gen !== this.generation) return;
      const m: BrokerMessage = {
        t: performance.now(),
        topic,
        payload: payload.toString('utf8'),
        retained: packet.retain,
      };
      this.messages.push(m);
      for (const w of [...this.waiters]) w(m);
    });
    client.on('error', () => {});
    client.on('close', () => {
      if (gen === this.generation) this.onLost?.();
    });
    const granted = await client.subscribeAsync('#', { qos: 1 });
    if (granted.some((g) => g.qos >= 0x80)) throw new Error('the broker refused the checker its subscription to #');
  }

  /** Resolves with the first message after index `from` that matches, `undefined` after `timeoutMs`. */
  waitFor(match: (m: BrokerMessage) => boolean, from = 0, timeoutMs = 5000): Promise<BrokerMessage | undefined> {
    const found = this.messages.slice(from).find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve) => {
      const waiter = (m: BrokerMessage): void => {
        if (!match(m)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(undefined);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  /** Drops the current connection (if any) and connects again. */
  async reconnect(): Promise<void> {
    const old = this.client;
    this.generation++;
    if (old) await old.endAsync(true).catch(() => undefined);
    await this.connect();
  }

  async close(): Promise<void> {
    this.generation++;
    const client = this.client;
    this.client = undefined;
    if (client) await client.endAsync(true).catch(() => undefined);
  }
}

/** Connects an observer to `url`. */
export async function startObserver(url: string): Promise<BrokerObserver> {
  const observer = new BrokerObserver(url);
  await observer.connect();
  return observer;
}
