/**
 * One entry of Zigbee2MQTT's `bridge/devices` as a device description (docs/discovery.md,
 * "Zigbee2MQTT"): its state topic read with the JSON codec (one pointer per field), writes on its
 * `/set` topic (`send: "changed"`), the features of a composite written together on
 * `/set/<property>` (`send: "all"`), and its availability combined with the bridge's.
 * @module
 */
import type {
  AvailabilityDescription,
  DeviceDescription,
  FieldDescription,
  JsonTopicDescription,
} from '../../device/types.js';
import { clip, isObject, own } from '../naming.js';
import { translateExposes } from './exposes.js';

/** A `bridge/devices` entry, read: what the source needs before it picks an id. */
export interface Z2mDeviceEntry {
  ieeeAddress: string;
  friendlyName: string;
  /** `definition.exposes`. */
  exposes: readonly unknown[];
}

/** Why an entry is not a device: `quiet` ones (the coordinator) are not logged. */
export interface Z2mSkip {
  ieeeAddress: string | undefined;
  friendlyName: string | undefined;
  reason: string;
  quiet?: boolean;
}

/** Longest `friendly_name` accepted (Zigbee2MQTT sets no limit; a topic this long is surely wrong). */
export const MAX_FRIENDLY_NAME_LENGTH = 256;

/**
 * Why a `friendly_name` cannot name topics, or `undefined` when it can: Zigbee2MQTT's own rules
 * (not empty, no `+`/`#`, no `/` at either end, no control character, not ending in `/<digits>`),
 * and ours: no `{`/`}`, no level starting with `$` (`$SYS`-like), not `bridge` or under `bridge/`
 * (the bridge's own topics), no level `set` or `get` after the first and not ending in
 * `/availability` (a device named `lamp/set/color` would read `lamp`'s topics).
 */
export function friendlyNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.length > MAX_FRIENDLY_NAME_LENGTH) return `is longer than ${MAX_FRIENDLY_NAME_LENGTH} characters`;
  if (/[+#]/.test(name)) return 'contains the MQTT wildcard "+" or "#"';
  if (/[\p{Cc}\u2028\u2029]/u.test(name)) return 'contains a control character';
  if (/[{}]/.test(name)) return 'contains "{" or "}"';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with "/"';
  const levels = name.split('/');
  if (levels.some((l) => l.startsWith('$'))) return 'has a topic level starting with "$"';
  if (levels[0] === 'bridge') return 'is in the bridge\'s own topics ("bridge/…")';
  if (levels.length > 1 && /^\d*$/.test(levels[levels.length - 1] as string)) return 'ends with "/<digits>"';
  if (levels.slice(1).some((l) => l === 'set' || l === 'get')) return 'has a "/set" or "/get" level';
  if (levels.length > 1 && levels[levels.length - 1] === 'availability') return 'ends with "/availability"';
  return undefined;
}

/** Reads one `bridge/devices` entry; a skip says why it is not a device. Never throws. */
export function readDeviceEntry(entry: unknown): Z2mDeviceEntry | Z2mSkip {
  const ieee = own(entry, 'ieee_address');
  const name = own(entry, 'friendly_name');
  const ieeeAddress = typeof ieee === 'string' && /^0x[0-9a-fA-F]{1,16}$/.test(ieee) ? ieee : undefined;
  const friendlyName = typeof name === 'string' ? clip(name, MAX_FRIENDLY_NAME_LENGTH + 1) : undefined;
  const skip = (reason: string, quiet?: boolean): Z2mSkip => ({
    ieeeAddress,
    friendlyName,
    reason,
    ...(quiet ? { quiet } : {}),
  });
  if (!isObject(entry)) return skip('not an object');
  if (own(entry, 'type') === 'Coordinator') return skip('the coordinator', true);
  if (ieeeAddress === undefined) return skip('no valid ieee_address');
  if (friendlyName === undefined) return skip('no friendly_name');
  const problem = friendlyNameProblem(friendlyName);
  if (problem !== undefined) return skip(`its friendly_name ${problem}`);
  if (own(entry, 'disabled') === true) return skip('disabled in Zigbee2MQTT', true);
  if (own(entry, 'interview_completed') === false) return skip('its interview is not completed yet', true);
  const exposes = own(own(entry, 'definition'), 'exposes');
  if (!Array.isArray(exposes)) return skip('not supported by Zigbee2MQTT (no definition.exposes)');
  return { ieeeAddress, friendlyName, exposes };
}

/** Whether a composite's property may be a topic level of its `/set/<property>` topic. */
function topicLevelOk(level: string): boolean {
  return /^[^+#/{}\p{Cc}$][^+#/{}\p{Cc}]*$/u.test(level);
}

/** A JSON pointer (RFC 6901) from path segments. */
function pointer(path: readonly string[]): string {
  return path.map((s) => `/${s.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** How {@link describeDevice} builds topics. */
export interface DescribeOptions {
  /** The base topic, e.g. `zigbee2mqtt`. */
  base: string;
  /** Whether Zigbee2MQTT publishes `<base>/<name>/availability` for this device (bridge/info). */
  deviceAvailability: boolean;
}

/** A device description for one entry, with notes; a string when it has no field at all. */
export function describeDevice(
  entry: Z2mDeviceEntry,
  id: string,
  options: DescribeOptions,
): { description: DeviceDescription; notes: string[] } | string {
  const { fields, notes } = translateExposes(entry.exposes);
  if (fields.length === 0) return `no field can be shown${notes.length > 0 ? ` (${notes.join('; ')})` : ''}`;
  const topic = `${options.base}/${entry.friendlyName}`;

  const fieldMap: Record<string, FieldDescription> = {};
  const status: Record<string, string> = {};
  const set: Record<string, string> = {};
  const composites = new Map<number, { property: string; json: Record<string, string> }>();
  for (const f of fields) {
    fieldMap[f.name] = f.description;
    status[f.name] = pointer(f.path);
    if (f.description.type === 'action' || f.description.writable !== true) continue;
    if (f.composite === undefined) {
      set[f.name] = pointer(f.path);
      continue;
    }
    if (!topicLevelOk(f.composite.property)) {
      // Its /set/<property> topic could not be built: shown read-only.
      delete (f.description as { writable?: boolean }).writable;
      notes.push(`${f.description.label ?? f.name}: read-only, its composite property cannot be a topic level`);
      continue;
    }
    const c = composites.get(f.composite.key) ?? { property: f.composite.property, json: {} };
    c.json[f.name] = pointer(f.composite.inner);
    composites.set(f.composite.key, c);
  }

  const topics: JsonTopicDescription[] = [{ status: topic, json: status }];
  if (Object.keys(set).length > 0) topics.push({ set: `${topic}/set`, json: set, send: 'changed' });
  for (const c of composites.values()) topics.push({ set: `${topic}/set/${c.property}`, json: c.json, send: 'all' });

  const availability: AvailabilityDescription[] = [];
  if (options.deviceAvailability) availability.push({ topic: `${topic}/availability`, json: '/state' });
  availability.push({ topic: `${options.base}/bridge/state`, json: '/state' });

  return {
    description: { id, availability: { topics: availability, mode: 'all' }, topics, fields: fieldMap },
    notes,
  };
}
