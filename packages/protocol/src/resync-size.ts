/**
 * The largest `resync` a schema can produce: a client refuses any server frame over
 * `MAX_SERVER_FRAME_BYTES` (and reconnects, to be refused again), so a device whose resync could
 * exceed it must be refused when it is described, not when its values grow.
 * @module
 */
import { DeviceStatus, type FieldSchema } from './frames.js';
import { MAX_COUNTER, MAX_EPOCH_LENGTH, MAX_TEXT_LENGTH } from './limits.js';

/** Longest JSON of one UTF-16 unit of a string: a control character escaped as `\u0001`. */
const MAX_JSON_BYTES_PER_UNIT = 6;

/** Longest JSON of a finite number (`-2.2250738585072014e-308`). */
const MAX_NUMBER_JSON_BYTES = 24;

/** UTF-8 length, counted by hand so the protocol needs neither DOM nor Node typings. */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4; // a surrogate pair is one 4-byte code point
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

const jsonBytes = (value: unknown): number => utf8Bytes(JSON.stringify(value));

/**
 * Longest JSON of a field's value as a server sends it: a status read from the device is bounded
 * by the protocol (a number within `MAX_ABS_NUMBER`, one of an enum's options, a text of at most
 * `MAX_TEXT_LENGTH` units whatever the field's `maxLength`, which bounds only writes), or `null`.
 */
function maxValueBytes(field: FieldSchema): number {
  switch (field.type) {
    case 'number':
    case 'integer':
      return MAX_NUMBER_JSON_BYTES;
    case 'boolean':
      return jsonBytes(false);
    case 'enum':
      return Math.max(jsonBytes(null), ...(field.options ?? []).map((o) => jsonBytes(o.value)));
    case 'text':
      return 2 + MAX_TEXT_LENGTH * MAX_JSON_BYTES_PER_UNIT;
    case 'action':
      return jsonBytes(null); // never counted: not in `resync.fields` (docs/protocol.md rule 12)
    default: {
      const never: never = field.type;
      return never;
    }
  }
}

/**
 * The size in UTF-8 bytes of the largest `resync` a server can send for `schema`: the schema as it
 * is, plus the longest epoch, device status, revisions and values (every field known, each at its
 * longest: see `maxValueBytes`; an `action` has none, and no entry in `fields`), as `encodeFrame`
 * writes them. A device whose figure is over
 * `MAX_SERVER_FRAME_BYTES` is refused (docs/protocol.md, the limits table).
 *
 * @example
 * if (maxResyncBytes(schema) > MAX_SERVER_FRAME_BYTES) throw new Error('resync too large');
 */
export function maxResyncBytes(schema: readonly FieldSchema[]): number {
  const fields: Record<string, { value: null; rev: number }> = {};
  // An action has no value: it is in the schema only (docs/protocol.md rule 12).
  const valued = schema.filter((f) => f.type !== 'action');
  for (const f of valued) fields[f.name] = { value: null, rev: MAX_COUNTER };
  // Everything but the variable strings and values, exactly; then each at its longest.
  let bytes = jsonBytes({ type: 'resync', epoch: '', device: '', schema, fields });
  bytes += MAX_EPOCH_LENGTH * MAX_JSON_BYTES_PER_UNIT;
  bytes += Math.max(...Object.values(DeviceStatus).map((s) => s.length));
  for (const f of valued) bytes += maxValueBytes(f) - jsonBytes(null);
  return bytes;
}
