/**
 * The custom codec: your own `decode`/`encode` functions (TypeScript API only, docs/devices.md).
 * What they return is checked, and what they throw is contained: a throwing `decode` is a payload
 * that does not match, a throwing `encode` a refused write.
 * @module
 */
import { MAX_TEXT_LENGTH, type FieldValue } from '@live-device-form/protocol';
import type { CustomTopicDescription, FieldDescription } from '../device/types.js';
import { describe, oversized, type TopicCodec } from './codec.js';
import { readJson } from './json-codec.js';

/** Checks a value a custom `decode` returned; `undefined` if it does not fit the field. */
function readDecoded(f: FieldDescription, v: unknown): FieldValue | undefined {
  // An action is never read from a status (the description checks refuse it in a status mapping).
  if (f.type === 'action') return undefined;
  if (v === null) return null;
  switch (f.type) {
    case 'integer':
    case 'number':
      return readJson(f, v);
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined;
    case 'enum':
      return typeof v === 'string' && f.options.some((o) => o.value === v) ? v : undefined;
    case 'text':
      return typeof v === 'string' && v.length <= MAX_TEXT_LENGTH && !v.includes('\u0000') ? v : undefined;
    default: {
      const never: never = f;
      return never;
    }
  }
}

/** Creates the codec of a custom mapping. The description must be valid (see `defineDevice`). */
export function createCustomCodec(
  entry: CustomTopicDescription,
  fields: Readonly<Record<string, FieldDescription>>,
): TopicCodec {
  const names = [...entry.fields];
  return {
    kind: 'custom',
    status: entry.status,
    set: entry.set,
    reads: entry.status !== undefined ? names : [],
    writes: entry.set !== undefined ? names : [],
    decode(payload) {
      const big = oversized(payload);
      if (big) return big;
      let out: unknown;
      try {
        out = entry.decode?.(payload, entry.status ?? '');
      } catch (err) {
        return { ok: false, message: `decode threw: ${(err as Error)?.message ?? String(err)}` };
      }
      if (out === undefined || out === null) return { ok: false, message: 'decode did not recognise the payload' };
      if (typeof out !== 'object' || Array.isArray(out))
        return { ok: false, message: 'decode returned something other than an object' };
      const values: Record<string, FieldValue> = {};
      for (const [name, raw] of Object.entries(out)) {
        if (!names.includes(name))
          return { ok: false, message: `decode returned a field this topic does not carry: ${describe(name)}` };
        const v = readDecoded(fields[name] as FieldDescription, raw);
        if (v === undefined)
          return { ok: false, message: `decode returned an invalid value for "${name}": ${describe(raw)}` };
        values[name] = v;
      }
      if (Object.keys(values).length === 0) return { ok: false, message: 'decode returned no field' };
      return { ok: true, values };
    },
    encode(name, value, freshest) {
      if (entry.set === undefined || entry.encode === undefined || !names.includes(name)) {
        return { ok: false, message: `field "${name}" is not written by this topic` };
      }
      const values: Record<string, FieldValue> = {};
      for (const n of names) values[n] = n === name ? value : freshest(n);
      let out: unknown;
      try {
        out = entry.encode({ field: name, value, values });
      } catch (err) {
        return { ok: false, message: `encode threw: ${(err as Error)?.message ?? String(err)}` };
      }
      if (typeof out === 'string') return { ok: true, topic: entry.set, payload: out };
      if (out instanceof Uint8Array) return { ok: true, topic: entry.set, payload: Buffer.from(out) };
      return {
        ok: false,
        message:
          out === undefined || out === null ? 'encode refused the write' : 'encode returned neither a string nor bytes',
      };
    },
    check() {
      return null;
    },
  };
}
