/**
 * The device the chaos run drives, described once for the server (a {@link DeviceDescription}) and
 * read independently by the simulated device and the checker (their own small decoders here, not
 * the SDK's codecs).
 *
 * Four integer fields: `a` and `b` share one composite pattern payload (`pair {a} {b}`, docs/devices.md
 * and §3 rule 4), `c` has a pattern payload of its own, `d` a JSON payload. Values are chosen so
 * every value says who made it: clients write positive values unique to the client and the write
 * (`client * 1e6 + seq`), the device's own changes are negative and never repeat. That makes the
 * checker's attribution of echoes and its matching of publishes to writes exact.
 * @module
 */
import type { DeviceDescription } from '@live-device-form/server';

export const FIELDS = ['a', 'b', 'c', 'd'] as const;
export type ChaosField = (typeof FIELDS)[number];

/** The payload groups: which fields one status/action message carries. */
export const GROUPS = { pair: ['a', 'b'], c: ['c'], d: ['d'] } as const satisfies Record<string, readonly ChaosField[]>;
export type ChaosGroup = keyof typeof GROUPS;
export const GROUP_OF: Readonly<Record<ChaosField, ChaosGroup>> = { a: 'pair', b: 'pair', c: 'c', d: 'd' };

/** Magnitude limit of every field (well inside the protocol's ±1e15). */
export const VALUE_LIMIT = 1_000_000_000;

/** Writes per client before its values would collide with the next client's. */
export const VALUES_PER_CLIENT = 1_000_000;

/** The value a client writes: positive and unique per client and write. */
export function clientValue(clientIndex: number, seq: number): number {
  return (clientIndex + 1) * VALUES_PER_CLIENT + (seq % VALUES_PER_CLIENT);
}

/**
 * Client indexes of the restart-replay pages (`replay-pages.ts`) start here, so their values
 * never collide with the protocol clients' (below) or the browsers' (900 and up).
 */
export const REPLAY_PAGE_INDEX_BASE = 800;

/** The label of restart-replay page `i`, as the proxy records its connections. */
export function replayPageLabel(i: number): string {
  return `r${i}`;
}

/** Whether a client label is a restart-replay page's. */
export function isReplayPage(client: string): boolean {
  return /^r\d+$/.test(client);
}

/** Device ids `dev1`, `dev2`, … */
export function deviceIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `dev${i + 1}`);
}

/** The topics of one device. */
export interface DeviceTopics {
  online: string;
  status: Record<ChaosGroup, string>;
  set: Record<ChaosGroup, string>;
}

const ROOT = 'ldf-chaos';

export function topicsOf(device: string): DeviceTopics {
  const base = `${ROOT}/${device}`;
  return {
    online: `${base}/online`,
    status: { pair: `${base}/status/pair`, c: `${base}/status/c`, d: `${base}/status/d` },
    set: { pair: `${base}/set/pair`, c: `${base}/set/c`, d: `${base}/set/d` },
  };
}

/** The availability payloads. */
export const ONLINE = '1';
export const OFFLINE = '0';

/** The description the server's MQTT bridge is built from. */
export function chaosDevice(device: string): DeviceDescription {
  const t = topicsOf(device);
  const int = (label: string) => ({
    label,
    type: 'integer' as const,
    min: -VALUE_LIMIT,
    max: VALUE_LIMIT,
    writable: true,
  });
  return {
    id: device,
    availability: { topic: t.online, online: ONLINE, offline: OFFLINE },
    topics: [
      { status: t.status.pair, pattern: '{a} {b}', set: t.set.pair, template: 'pair {a} {b}' },
      { status: t.status.c, pattern: '{c}', set: t.set.c, template: 'c {c}' },
      { status: t.status.d, set: t.set.d, json: { d: '/d' } },
    ],
    fields: { a: int('A (pair)'), b: int('B (pair)'), c: int('C'), d: int('D (JSON)') },
  };
}

/** What a topic is, for the simulated device and the checker. */
export type TopicRole =
  | { role: 'online'; device: string }
  | { role: 'status'; device: string; group: ChaosGroup }
  | { role: 'set'; device: string; group: ChaosGroup };

/** Reads a topic of the run's namespace; `undefined` for anything else. */
export function topicRole(topic: string): TopicRole | undefined {
  const m = /^ldf-chaos\/([A-Za-z0-9_-]+)\/(online|status\/(pair|c|d)|set\/(pair|c|d))$/.exec(topic);
  if (!m) return undefined;
  const device = m[1] as string;
  if (m[2] === 'online') return { role: 'online', device };
  if (m[3]) return { role: 'status', device, group: m[3] as ChaosGroup };
  return { role: 'set', device, group: m[4] as ChaosGroup };
}

const INT = '(-?\\d+)';
const STATUS_RE: Record<ChaosGroup, RegExp> = {
  pair: new RegExp(`^${INT} ${INT}$`),
  c: new RegExp(`^${INT}$`),
  d: /^/,
};
const SET_RE: Record<ChaosGroup, RegExp> = {
  pair: new RegExp(`^pair ${INT} ${INT}$`),
  c: new RegExp(`^c ${INT}$`),
  d: /^/,
};

function readJsonD(payload: string): Partial<Record<ChaosField, number>> | undefined {
  try {
    const v: unknown = JSON.parse(payload);
    if (typeof v === 'object' && v !== null && typeof (v as { d?: unknown }).d === 'number')
      return { d: (v as { d: number }).d };
  } catch {
    // not JSON: not a payload of ours
  }
  return undefined;
}

function read(group: ChaosGroup, re: RegExp, payload: string): Partial<Record<ChaosField, number>> | undefined {
  if (group === 'd') return readJsonD(payload);
  const m = re.exec(payload);
  if (!m) return undefined;
  const fields = GROUPS[group];
  const out: Partial<Record<ChaosField, number>> = {};
  fields.forEach((f, i) => (out[f] = Number(m[i + 1])));
  return out;
}

/** Decodes a status payload of `group`; `undefined` if it is not one. */
export function decodeStatus(group: ChaosGroup, payload: string): Partial<Record<ChaosField, number>> | undefined {
  return read(group, STATUS_RE[group], payload);
}

/** Decodes an action payload of `group`; `undefined` if it is not one. */
export function decodeAction(group: ChaosGroup, payload: string): Partial<Record<ChaosField, number>> | undefined {
  return read(group, SET_RE[group], payload);
}

/** Encodes a status payload (the simulated device's). */
export function encodeStatus(group: ChaosGroup, values: Readonly<Record<ChaosField, number>>): string {
  switch (group) {
    case 'pair':
      return `${values.a} ${values.b}`;
    case 'c':
      return `${values.c}`;
    case 'd':
      return JSON.stringify({ d: values.d });
    default: {
      const never: never = group;
      return String(never);
    }
  }
}
