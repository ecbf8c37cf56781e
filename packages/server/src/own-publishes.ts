/**
 * Telling the bridge's own writes from everybody else's, when the broker delivers them back on the
 * action topics the bridge subscribes to (docs/protocol.md, *Several server processes*). A message
 * on an action topic that is not ours is a write from elsewhere: another server process, or any
 * other MQTT client (Node-RED, Home Assistant, a script).
 *
 * Two ways, tried in this order:
 * 1. **The origin property (MQTT 5).** Every write is published with the user property
 *    `ldf-origin` = this bridge's id (random, new for every bridge). A message carrying our id is
 *    ours; one carrying another id is another server process's. Brokers must forward user
 *    properties unchanged (MQTT 5, 3.3.2.3.7); Mosquitto 2 does.
 * 2. **First in, first out (MQTT 3.1.1, and any message without the property).** Every write is
 *    also remembered (topic and payload) until it comes back. A message without the property is
 *    ours when it equals the oldest remembered write with its topic and payload: the broker
 *    delivers one client's messages on a topic in order. The embedded aedes 1.2 speaks only MQTT
 *    3.1.1, so this is the default path there.
 *
 * The limits of the second way: a write from elsewhere with exactly our payload on the same topic,
 * arriving while one of ours is still on its way back, is taken for ours (it writes what we wrote,
 * so nothing is lost that a page did not see go out from this process; but a page's set based on
 * the revision before it is not refused). One of ours that comes back after `timeoutMs`, or after
 * more than {@link MAX_OWN_IN_FLIGHT} later writes, is taken for a write from elsewhere: the safe
 * side (the next set from the older revision is refused `stale`). A remembered write that never
 * comes back (an ACL that lets the bridge subscribe but delivers nothing, as Mosquitto's does) is
 * forgotten after `timeoutMs` and counted in {@link OwnPublishes.unreturned}.
 * @module
 */
import type { IPublishPacket } from 'mqtt';

/** A message's MQTT 5 user properties: a name → one value, or several. */
export type UserProperties = NonNullable<NonNullable<IPublishPacket['properties']>['userProperties']>;

/** The MQTT 5 user property that carries a publishing bridge's id. */
export const ORIGIN_PROPERTY = 'ldf-origin';

/** Writes remembered while they are on their way back; the oldest is forgotten first. */
export const MAX_OWN_IN_FLIGHT = 4096;

/** Who published a message seen on an action topic. */
export const PublishOrigin = {
  /** This bridge: the broker delivered one of its own writes back. */
  Own: 'own',
  /** Anybody else: another server process, another MQTT client. */
  Elsewhere: 'elsewhere',
} as const;
export type PublishOrigin = (typeof PublishOrigin)[keyof typeof PublishOrigin];

/** Options of {@link OwnPublishes}. */
export interface OwnPublishesOptions {
  /** This bridge's id, sent in the {@link ORIGIN_PROPERTY} user property. */
  readonly originId: string;
  /** Whether writes carry the origin property: the link speaks MQTT 5. */
  readonly tagged: boolean;
  /** Milliseconds a write is remembered while on its way back. */
  readonly timeoutMs: number;
  /** Clock in milliseconds (monotonic). */
  readonly now: () => number;
}

/** One write of ours on its way back from the broker. */
interface InFlight {
  readonly topic: string;
  readonly payload: Buffer;
  readonly at: number;
}

/**
 * The writes of one bridge still on their way back, and the test that tells a message on an action
 * topic ours or not. No I/O, no timers: expiry happens when a write is made or a message classified.
 *
 * @example
 * const own = new OwnPublishes({ originId: 'a1b2', tagged: false, timeoutMs: 5000, now: () => performance.now() });
 * own.sent('dev/set/gain', 'gain 5');
 * own.classify('dev/set/gain', Buffer.from('gain 5'), undefined); // 'own'
 * own.classify('dev/set/gain', Buffer.from('gain 5'), undefined); // 'elsewhere' (ours came back once)
 */
export class OwnPublishes {
  /** What each write is published with: the origin property with MQTT 5, nothing otherwise. */
  readonly publishOptions: { properties?: { userProperties: UserProperties } };
  /** Milliseconds a write is remembered while on its way back. */
  readonly timeoutMs: number;
  private readonly originId: string;
  private readonly now: () => number;
  /** Oldest first: pushed in time order, so expiry only removes from the front. */
  private inFlight: InFlight[] = [];
  private forgotten = 0;
  private returned = 0;

  constructor(options: OwnPublishesOptions) {
    this.originId = options.originId;
    this.timeoutMs = options.timeoutMs;
    this.now = options.now;
    this.publishOptions = options.tagged
      ? { properties: { userProperties: { [ORIGIN_PROPERTY]: options.originId } } }
      : {};
  }

  /** Writes of ours forgotten without having come back (timed out, or pushed out by later ones). */
  get unreturned(): number {
    return this.forgotten;
  }

  /** Writes of ours that came back. */
  get seen(): number {
    return this.returned;
  }

  /** How many writes of ours are on their way back (for tests and diagnostics). */
  get pending(): number {
    this.expire();
    return this.inFlight.length;
  }

  /** Remembers a write this bridge is about to publish. */
  sent(topic: string, payload: string | Buffer): void {
    this.expire();
    this.inFlight.push({
      topic,
      payload: typeof payload === 'string' ? Buffer.from(payload) : payload,
      at: this.now(),
    });
    if (this.inFlight.length > MAX_OWN_IN_FLIGHT) {
      this.inFlight.shift();
      this.forgotten++;
    }
  }

  /**
   * Whether a message delivered on an action topic is one of this bridge's writes coming back; if
   * it is, it is no longer awaited. `userProperties` are the message's (MQTT 5), if any.
   */
  classify(topic: string, payload: Buffer, userProperties: UserProperties | undefined): PublishOrigin {
    this.expire();
    const origin = userProperties?.[ORIGIN_PROPERTY];
    if (origin !== undefined) {
      const ours = Array.isArray(origin) ? origin.includes(this.originId) : origin === this.originId;
      if (!ours) return PublishOrigin.Elsewhere;
      // Ours, recognised by its property: it no longer awaits its return.
      this.takeOldest(topic, payload);
      this.returned++;
      return PublishOrigin.Own;
    }
    if (!this.takeOldest(topic, payload)) return PublishOrigin.Elsewhere;
    this.returned++;
    return PublishOrigin.Own;
  }

  /**
   * Forgets every write on its way back: the connection they were published on is gone, and the
   * broker delivers them (if at all) to that connection's subscriptions only.
   */
  clear(): void {
    this.inFlight = [];
  }

  /** Removes the oldest remembered write with this topic and payload. Returns whether there was one. */
  private takeOldest(topic: string, payload: Buffer): boolean {
    const i = this.inFlight.findIndex((p) => p.topic === topic && p.payload.equals(payload));
    if (i < 0) return false;
    this.inFlight.splice(i, 1);
    return true;
  }

  private expire(): void {
    const now = this.now();
    let n = 0;
    while (n < this.inFlight.length && now - (this.inFlight[n] as InFlight).at > this.timeoutMs) n++;
    if (n === 0) return;
    this.inFlight.splice(0, n);
    this.forgotten += n;
  }
}
