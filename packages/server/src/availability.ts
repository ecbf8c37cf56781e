/**
 * A device's availability from its availability topics (docs/devices.md, *Availability*): one topic
 * (`{ topic, online, offline }`, typically a retained Last Will) or a list of them with a mode (Home
 * Assistant's `availability` list and `availability_mode`; Zigbee2MQTT's device and bridge state).
 *
 * Each topic has an explicit state: `unknown` until its first message (and again after
 * {@link Availability.reset}), then `online` or `offline` as its last message said. A payload that
 * is neither the topic's `online` nor its `offline` token counts as `offline` for that topic. How
 * the topics combine:
 * - `all` (the default): online only while every topic says online (an `unknown` one is not online);
 * - `any`: online while at least one topic says online;
 * - `latest`: what the last message received on any of them said (offline before the first).
 *
 * A device without availability topics is always available (the bridge then follows the broker
 * link alone). The MQTT bridge owns one of these per device; this module reads payloads and
 * combines states, and never logs: {@link Availability.receive} returns what was wrong with a
 * payload so the caller can log it, rate-limited.
 * @module
 */
import { getPointer, parseJsonPointer } from './codecs/json-pointer.js';
import type { AvailabilityDescription, AvailabilityListDescription } from './device/types.js';

/** What one availability topic last said. */
export const TopicAvailability = {
  /** No message yet on this connection. */
  Unknown: 'unknown',
  /** Its last message was its `online` token. */
  Online: 'online',
  /** Its last message was its `offline` token, anything unexpected, or a payload too large to read. */
  Offline: 'offline',
} as const;
export type TopicAvailability = (typeof TopicAvailability)[keyof typeof TopicAvailability];

/** How several availability topics combine into one (see the module comment). */
export const AvailabilityMode = {
  All: 'all',
  Any: 'any',
  Latest: 'latest',
} as const;
export type AvailabilityMode = (typeof AvailabilityMode)[keyof typeof AvailabilityMode];

/** How a payload was read: the topic's new state, and what was wrong with it if it was unexpected. */
export interface AvailabilityReading {
  readonly state: typeof TopicAvailability.Online | typeof TopicAvailability.Offline;
  /** Set when the payload was neither token (or its token could not be extracted); the state is then offline. */
  readonly problem?: string;
}

/** One topic, its tokens and how its token is taken from a payload. */
interface TopicReader {
  readonly topic: string;
  readonly online: string;
  readonly offline: string;
  /** The parsed `json` pointer, if any. */
  readonly pointer: readonly string[] | undefined;
  readonly json: string | undefined;
  readonly decode: AvailabilityDescription['decode'];
  state: TopicAvailability;
}

/** `{ token }`, or why there is none. */
type Extracted = { token: string } | { problem: string };

/**
 * The availability of one device, from its availability topics.
 *
 * @example
 * const a = new Availability({ topics: [{ topic: 'z2m/lamp/availability', json: '/state' }, { topic: 'z2m/bridge/state', json: '/state' }] });
 * a.receive('z2m/lamp/availability', Buffer.from('{"state":"online"}'));
 * a.receive('z2m/bridge/state', Buffer.from('offline'));
 * a.online; // false: mode "all", and the bridge is offline
 */
export class Availability {
  /** The availability topics, in the description's order. Empty: always available. */
  readonly topics: readonly string[];
  readonly mode: AvailabilityMode;
  private readonly readers = new Map<string, TopicReader>();
  /** What the last message on any topic said (`latest` mode). */
  private latest: TopicAvailability = TopicAvailability.Unknown;

  /** Takes a checked description (`checks.ts` refused bad pointers, duplicate topics, equal tokens). */
  constructor(description: AvailabilityDescription | AvailabilityListDescription | undefined) {
    const list = description === undefined ? [] : 'topics' in description ? description.topics : [description];
    this.mode = (description && 'topics' in description ? description.mode : undefined) ?? AvailabilityMode.All;
    for (const d of list) {
      const parsed = d.json === undefined ? undefined : parseJsonPointer(d.json);
      if (parsed && !parsed.ok) throw new TypeError(`availability ${d.topic}: json: ${parsed.message}`);
      this.readers.set(d.topic, {
        topic: d.topic,
        online: d.online ?? 'online',
        offline: d.offline ?? 'offline',
        pointer: parsed?.segments,
        json: d.json,
        decode: d.decode,
        state: TopicAvailability.Unknown,
      });
    }
    this.topics = [...this.readers.keys()];
  }

  /** Whether `topic` is one of the availability topics. */
  has(topic: string): boolean {
    return this.readers.has(topic);
  }

  /** What `topic` last said; `undefined` when it is not an availability topic. */
  stateOf(topic: string): TopicAvailability | undefined {
    return this.readers.get(topic)?.state;
  }

  /** Whether the device is available, from every topic's state and the mode. */
  get online(): boolean {
    if (this.readers.size === 0) return true;
    switch (this.mode) {
      case AvailabilityMode.All:
        for (const r of this.readers.values()) if (r.state !== TopicAvailability.Online) return false;
        return true;
      case AvailabilityMode.Any:
        for (const r of this.readers.values()) if (r.state === TopicAvailability.Online) return true;
        return false;
      case AvailabilityMode.Latest:
        return this.latest === TopicAvailability.Online;
    }
  }

  /**
   * Reads a message on `topic`: its token is the payload itself, the string (or number or boolean)
   * at the `json` pointer, or what `decode` returns. Anything but the `online` or `offline` token
   * counts as offline, with the reason in `problem`. `undefined` when `topic` is not an availability
   * topic (nothing changes).
   */
  receive(topic: string, payload: Buffer): AvailabilityReading | undefined {
    const r = this.readers.get(topic);
    if (!r) return undefined;
    const got = extract(r, payload);
    let reading: AvailabilityReading;
    if ('problem' in got) reading = { state: TopicAvailability.Offline, problem: got.problem };
    else if (got.token === r.online) reading = { state: TopicAvailability.Online };
    else if (got.token === r.offline) reading = { state: TopicAvailability.Offline };
    else
      reading = {
        state: TopicAvailability.Offline,
        problem: `${excerpt(got.token)} is neither ${JSON.stringify(r.online)} nor ${JSON.stringify(r.offline)}`,
      };
    r.state = reading.state;
    this.latest = reading.state;
    return reading;
  }

  /** Counts `topic` as offline without reading its message (one too large to read). */
  markOffline(topic: string): void {
    const r = this.readers.get(topic);
    if (!r) return;
    r.state = TopicAvailability.Offline;
    this.latest = TopicAvailability.Offline;
  }

  /** Forgets every topic's state (the broker link was lost: the retained messages come again). */
  reset(): void {
    for (const r of this.readers.values()) r.state = TopicAvailability.Unknown;
    this.latest = TopicAvailability.Unknown;
  }
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/** The token of a payload, per the topic's `decode` or `json` (see {@link Availability.receive}). */
function extract(r: TopicReader, payload: Buffer): Extracted {
  if (r.decode) {
    let token: unknown;
    try {
      token = r.decode(payload);
    } catch (err) {
      return { problem: `decode threw: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (token === undefined || token === null) return { problem: 'decode returned nothing' };
    if (typeof token !== 'string') return { problem: `decode returned a ${typeof token}, not a string` };
    return { token };
  }
  const text = payload.toString('utf8');
  if (r.pointer === undefined) return { token: text };
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    // Not JSON: compared as it is (Zigbee2MQTT's plain `online`, next to its JSON form).
    return { token: text };
  }
  const value = getPointer(doc, r.pointer);
  if (typeof value === 'string') return { token: value };
  if (typeof value === 'number' || typeof value === 'boolean') return { token: String(value) };
  // A JSON scalar (`1`, `true`) has nothing at a pointer: it is a plain payload too.
  if (doc === null || typeof doc !== 'object') return { token: text };
  return { problem: `no string at ${r.json === '' ? 'the JSON pointer ""' : r.json}` };
}
