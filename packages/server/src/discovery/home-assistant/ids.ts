/**
 * How a Home Assistant device's id (what pages put in `hello.device`) and its fields' names are
 * derived (docs/discovery.md, "Home Assistant MQTT discovery"). Both are stable: they depend only on
 * the configs, never on the order they arrived in.
 * @module
 */
import { DEVICE_ID_PATTERN, FIELD_NAME_PATTERN, FORBIDDEN_KEYS } from '@live-device-form/protocol';
import { shortHash } from '../naming.js';

const MAX_ID = 64;

/**
 * The device id for a raw key (a `device.identifiers` entry, a connection, or an entity's own key).
 * A key that already is a valid device id is used as it is; any other is sanitised (every character
 * other than a letter, digit, `_`, `-` or `.` becomes `_`, a leading `-`/`.` becomes `_`), cut to
 * fit, and given `-` and a hash of the raw key, so two keys that sanitise alike never collide.
 */
export function deviceIdFor(raw: string): string {
  if (DEVICE_ID_PATTERN.test(raw)) return raw;
  const suffix = `-${shortHash(raw)}`;
  let s = raw.replace(/[^A-Za-z0-9_.-]/g, '_').replace(/^[-.]/, '_');
  s = s.slice(0, MAX_ID - suffix.length);
  return `${s === '' ? 'device' : s}${suffix}`;
}

/**
 * A field name from an object id: every character other than a letter, digit or `_` becomes `_`, a
 * leading digit gets a `_` before it, at most 64 characters; `__proto__`, `constructor` and
 * `prototype` get a `_` after them.
 */
export function fieldNameFor(raw: string): string {
  let s = raw.replace(/[^A-Za-z0-9_]/g, '_');
  if (s === '') s = 'field';
  if (!/^[A-Za-z_]/.test(s)) s = `_${s}`;
  s = s.slice(0, MAX_ID);
  if (FORBIDDEN_KEYS.has(s)) s = `${s}_`;
  return FIELD_NAME_PATTERN.test(s) ? s : 'field';
}

/**
 * Makes names unique: `wanted` maps a stable key (the entity's discovery key) to the name it would
 * like. Keys are visited in sorted order; the first keeps its name, a later one wanting a taken name
 * gets `_` and a hash of its key (cut to fit 64 characters).
 */
export function uniqueNames(wanted: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  for (const key of [...wanted.keys()].sort()) {
    let name = wanted.get(key)!;
    if (taken.has(name)) {
      const suffix = `_${shortHash(key)}`;
      name = name.slice(0, MAX_ID - suffix.length) + suffix;
      for (let i = 2; taken.has(name); i++) name = name.slice(0, MAX_ID - suffix.length - 3) + suffix + `_${i}`;
    }
    taken.add(name);
    out.set(key, name);
  }
  return out;
}
