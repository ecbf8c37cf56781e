/**
 * Device ids and field names for discovered devices (docs/discovery.md): what a source's own names
 * (a Zigbee2MQTT `friendly_name`, a Homie node and property id) become so that they fit the
 * protocol's patterns (`DEVICE_ID_PATTERN`, `FIELD_NAME_PATTERN`), deterministically, so the same
 * announcement gives the same names after every restart.
 * @module
 */
import { createHash } from 'node:crypto';
import {
  DEVICE_ID_PATTERN,
  FIELD_NAME_PATTERN,
  FORBIDDEN_KEYS,
  MAX_DEVICE_ID_LENGTH,
  MAX_FIELD_NAME_LENGTH,
} from '@live-device-form/protocol';
import { invalidOption } from '../option-checks.js';

/** Eight hex digits of a SHA-256 of `text`: a stable suffix that tells apart names that come out alike. */
export function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** `text` without accents (`Küche` → `Kuche`), so a German or French name stays readable. */
function stripAccents(text: string): string {
  return text.normalize('NFKD').replace(/\p{M}/gu, '');
}

/** Cuts `name` to `max` characters, ending in `_<hash of the whole name>` when it was longer. */
function fit(name: string, max: number, sep: string): string {
  return name.length <= max ? name : `${name.slice(0, max - 9)}${sep}${shortHash(name)}`;
}

/**
 * A field name from a source's own name (`state_l1`, `color/x`, `living-room_temperature`): every
 * run of characters other than ASCII letters and digits becomes one `_`, a leading digit gets a `_`
 * before it, names over 64 characters are cut and end in a hash of the whole. Returns `undefined`
 * when nothing usable is left or the result is `__proto__`, `constructor` or `prototype`.
 */
export function toFieldName(raw: string): string | undefined {
  let name = stripAccents(raw)
    .replace(/[^A-Za-z0-9]+/g, '_')
    .replace(/^_+(?=.)|(?<=.)_+$/g, '');
  if (name === '' || name === '_') return undefined;
  if (/^[0-9]/.test(name)) name = `_${name}`;
  name = fit(name, MAX_FIELD_NAME_LENGTH, '_');
  if (FORBIDDEN_KEYS.has(name) || !FIELD_NAME_PATTERN.test(name)) return undefined;
  return name;
}

/**
 * A device id from a source's own name (`Living Room/Lamp` → `Living_Room_Lamp`): every run of
 * characters other than ASCII letters, digits, `_`, `-` and `.` becomes one `_`; a name starting
 * with `-` or `.` gets a `_` before it; names over 64 characters are cut and end in a hash of the
 * whole. Returns `undefined` when no letter or digit is left.
 */
export function toDeviceId(raw: string): string | undefined {
  let id = stripAccents(raw).replace(/[^A-Za-z0-9_.-]+/g, '_');
  if (!/[A-Za-z0-9]/.test(id)) return undefined;
  if (/^[.-]/.test(id)) id = `_${id}`;
  id = fit(id, MAX_DEVICE_ID_LENGTH, '-');
  return DEVICE_ID_PATTERN.test(id) ? id : undefined;
}

/**
 * Hands out unique names: the first request for a name gets it, later ones get `_2`, `_3`, … (cut
 * to `maxLength` first), in the order asked, so a description lists the same names every time.
 */
export class UniqueNames {
  readonly #taken = new Set<string>();

  constructor(
    private readonly maxLength: number,
    private readonly sep: string,
  ) {}

  /** Takes `name`, or the first free `name<sep>2`, `name<sep>3`, …. */
  take(name: string): string {
    let candidate = name;
    for (let n = 2; this.#taken.has(candidate); n++) {
      const suffix = `${this.sep}${n}`;
      candidate = `${name.slice(0, this.maxLength - suffix.length)}${suffix}`;
    }
    this.#taken.add(candidate);
    return candidate;
  }

  /** Whether `name` is taken. */
  has(name: string): boolean {
    return this.#taken.has(name);
  }
}

/** Unique field names of one device. */
export function uniqueFieldNames(): UniqueNames {
  return new UniqueNames(MAX_FIELD_NAME_LENGTH, '_');
}

/** Unique device ids of one source. */
export function uniqueDeviceIds(): UniqueNames {
  return new UniqueNames(MAX_DEVICE_ID_LENGTH, '-');
}

/** A string cut to `max` characters (labels, units, help), with `…` when it was longer. */
export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** `obj[key]` when `obj` is a plain object that has `key` as its own property, else `undefined`. */
export function own(obj: unknown, key: string): unknown {
  return obj !== null && typeof obj === 'object' && !Array.isArray(obj) && Object.hasOwn(obj, key)
    ? (obj as Record<string, unknown>)[key]
    : undefined;
}

/** Whether `value` is a plain (non-array) object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * Checks a base topic given to a discovery source (`zigbee2mqtt`, `homie`): one or more topic
 * levels, no wildcard, no NUL or brace, not in `$SYS`, no `/` at either end. Throws a `TypeError`
 * (`ERR_INVALID_OPTION`) naming `option`.
 * @internal
 */
export function checkBaseTopic(option: string, value: unknown): string {
  if (
    typeof value !== 'string' ||
    value === '' ||
    /[+#{}\u0000]/.test(value) ||
    value.startsWith('/') ||
    value.endsWith('/') ||
    value.split('/').some((l) => l === '') ||
    value.startsWith('$')
  )
    throw invalidOption(
      `${option}: expected a topic such as "zigbee2mqtt" (no wildcard, brace or empty level, not starting with "$"), got ${JSON.stringify(value)}`,
    );
  return value;
}
