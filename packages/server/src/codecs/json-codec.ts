/**
 * The JSON codec: JSON payloads with a JSON pointer (RFC 6901) per field (docs/devices.md). A write
 * sends the written field, or with `send: "all"` every writable field of the mapping (never another
 * action: a press is sent only when it is the write). An action's press is its token, a JSON string.
 * @module
 */
import { MAX_ABS_NUMBER, type FieldValue, type WritableValue } from '@live-device-form/protocol';
import type { FieldDescription, JsonTopicDescription } from '../device/types.js';
import { codedTypeError, ServerErrorCode } from '../errors.js';
import { describe, oversized, type TopicCodec } from './codec.js';
import { getPointer, parseJsonPointer, setPointer } from './json-pointer.js';
import { readToken, writeToken } from './tokens.js';

function hasTokens(f: FieldDescription): boolean {
  return f.type === 'boolean' && (f.true !== undefined || f.false !== undefined);
}

/**
 * Reads a JSON value into a field value; `undefined` if it does not fit. An action only on its own
 * action topic (`action-topics.ts`), never from a status: its token. @internal
 */
export function readJson(f: FieldDescription, v: unknown): WritableValue | undefined {
  switch (f.type) {
    case 'integer':
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_ABS_NUMBER) return undefined;
      return f.type === 'integer' && !Number.isInteger(v) ? undefined : v;
    case 'boolean':
      if (typeof v === 'boolean') return v;
      return typeof v === 'string' ? readToken(f, v) : undefined;
    case 'enum':
    case 'text':
      return typeof v === 'string' && !v.includes('\u0000') ? readToken(f, v) : undefined;
    case 'action':
      return typeof v === 'string' ? readToken(f, v) : undefined;
    default: {
      const never: never = f;
      return never;
    }
  }
}

function writeJson(name: string, f: FieldDescription, v: FieldValue): unknown {
  if (f.type === 'action') return writeToken(name, f, v, []);
  if (v === null) return { error: `field "${name}" is not known yet, so the payload cannot be built` };
  if (f.type === 'boolean' && !hasTokens(f))
    return typeof v === 'boolean' ? v : { error: `field "${name}": expected true or false` };
  if (f.type === 'text') return typeof v === 'string' ? v : { error: `field "${name}": expected text` };
  if ((f.type === 'number' || f.type === 'integer') && typeof v === 'number') return v;
  return writeToken(name, f, v, []);
}

/** Creates the codec of a JSON mapping. The description must be valid (see `defineDevice`). */
export function createJsonCodec(
  entry: JsonTopicDescription,
  fields: Readonly<Record<string, FieldDescription>>,
): TopicCodec {
  const field = (name: string): FieldDescription => fields[name] as FieldDescription;
  const pointers = Object.entries(entry.json as Record<string, string>).map(([name, p]) => {
    const r = parseJsonPointer(p);
    if (!r.ok) throw codedTypeError(ServerErrorCode.InvalidDeviceDescription, `json.${name}: ${r.message}`);
    return { name, segments: r.segments };
  });
  const names = pointers.map((p) => p.name);
  const reads = entry.status !== undefined ? names : [];
  const writes = entry.set !== undefined ? names : [];
  const sendAll = (entry.send ?? 'changed') === 'all';

  return {
    kind: 'json',
    status: entry.status,
    set: entry.set,
    reads,
    writes,
    decode(payload) {
      const big = oversized(payload);
      if (big) return big;
      let doc: unknown;
      try {
        doc = JSON.parse(payload.toString('utf8'));
      } catch {
        return { ok: false, message: 'payload is not valid JSON' };
      }
      const values: Record<string, FieldValue> = {};
      let found = 0;
      for (const { name, segments } of pointers) {
        const raw = getPointer(doc, segments);
        // Missing or null: this message does not carry the field (Zigbee2MQTT publishes nulls for
        // values it does not know; docs/devices.md, "JSON").
        if (raw === undefined || raw === null) continue;
        const v = readJson(field(name), raw);
        if (v === undefined)
          return {
            ok: false,
            message: `field "${name}": ${describe(typeof raw === 'object' ? JSON.stringify(raw) : raw)} is not a valid ${field(name).type}`,
          };
        values[name] = v;
        found++;
      }
      if (found === 0) return { ok: false, message: 'payload carries none of its fields' };
      return { ok: true, values };
    },
    encode(name, value, freshest) {
      if (entry.set === undefined || !writes.includes(name))
        return { ok: false, message: `field "${name}" is not written by this topic` };
      // An action is a writable field without a `writable` key: `send: "all"` never presses it.
      const included = pointers.filter((p) => {
        const f = field(p.name);
        return p.name === name || (sendAll && f.type !== 'action' && f.writable === true);
      });
      let root: unknown = {};
      for (const { name: n, segments } of included) {
        const v = writeJson(n, field(n), n === name ? value : freshest(n));
        if (v !== null && typeof v === 'object') return { ok: false, message: (v as { error: string }).error };
        root = setPointer(root, segments, v);
      }
      return { ok: true, topic: entry.set, payload: JSON.stringify(root) };
    },
    check() {
      return null;
    },
  };
}
