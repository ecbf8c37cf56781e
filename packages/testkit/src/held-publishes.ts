/**
 * Held publishes: the embedded broker (aedes) made to sit on chosen client publishes, neither
 * delivering nor acknowledging them (no PUBACK) until the test releases them, so that writes are
 * in flight for as long as a test needs (a drain, a restart under load). Every client publish that
 * reached the broker is recorded, in order, held or not: what was really published, and when.
 * @module
 */
import type { EmbeddedBroker } from '@live-device-form/server';

/** A client publish the broker received. */
export interface ReceivedPublish {
  topic: string;
  payload: string;
  /** Whether it was held (until {@link HeldPublishes.release}). */
  held: boolean;
}

/** The broker's hold on publishes; see {@link holdPublishes}. */
export interface HeldPublishes {
  /** Every client publish that reached the broker, in arrival order. */
  readonly received: readonly ReceivedPublish[];
  /** Publishes held now (received, neither delivered nor acknowledged), delayed ones included. */
  readonly heldCount: number;
  /** Resolves once `n` publishes are held at the same time; rejects after `timeoutMs` (default 10 s). */
  whenHeld(n: number, timeoutMs?: number): Promise<void>;
  /** Lets every held publish through (delivered, then PUBACKed), oldest first; later ones are held too. */
  release(): void;
  /** Holds nothing from now on (and releases what is held); `hold()` holds again. */
  stop(): void;
  /** Holds matching publishes (again). */
  hold(): void;
  /** From now on, each held publish is also released on its own `delayMs` after it arrived (a slow broker); `0`: only by {@link release}. */
  delay(delayMs: number): void;
}

/**
 * Makes `broker` hold every client publish whose topic `match`es (through aedes's
 * `authorizePublish`, which runs before the PUBACK and before delivery; note that aedes sends a
 * QoS 1 PUBACK first and delivers to subscribers after it). `onReceived` is called for every
 * client publish as it reaches the broker, held or not.
 *
 * @example
 * const held = holdPublishes(broker, (t) => t.includes('/action/'));
 * client.set(1, 'genlock_phase_h', 5, rev);
 * await held.whenHeld(1); // the write is in flight: published, no PUBACK yet
 * held.release();
 */
export function holdPublishes(
  broker: EmbeddedBroker,
  match: (topic: string) => boolean,
  onReceived: (publish: ReceivedPublish) => void = () => {},
): HeldPublishes {
  const received: ReceivedPublish[] = [];
  const queue: (() => void)[] = [];
  let holding = true;
  let delayMs = 0;
  let waiters: { n: number; resolve: () => void }[] = [];
  const check = (): void => {
    waiters = waiters.filter((w) => {
      if (queue.length < w.n) return true;
      w.resolve();
      return false;
    });
  };
  broker.broker.authorizePublish = (client, packet, callback) => {
    // Only clients' publishes: the broker's own (will messages, $SYS) pass.
    if (!client) return callback(null);
    const hold = holding && match(packet.topic);
    const publish: ReceivedPublish = { topic: packet.topic, payload: packet.payload.toString(), held: hold };
    received.push(publish);
    onReceived(publish);
    if (!hold) return callback(null);
    const go = (): void => {
      const i = queue.indexOf(go);
      if (i < 0) return;
      queue.splice(i, 1);
      callback(null);
    };
    queue.push(go);
    if (delayMs > 0) setTimeout(go, delayMs);
    check();
  };
  const release = (): void => {
    for (const go of [...queue]) go();
  };
  return {
    received,
    get heldCount() {
      return queue.length;
    },
    whenHeld(n, timeoutMs = 10_000) {
      if (queue.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          reject(new Error(`held publishes: ${queue.length} held, not ${n}, within ${timeoutMs} ms`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        waiters.push({ n, resolve: done });
      });
    },
    release,
    stop() {
      holding = false;
      release();
    },
    hold() {
      holding = true;
    },
    delay(ms) {
      delayMs = ms;
    },
  };
}
