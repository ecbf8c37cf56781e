/**
 * Codecs: how field values become MQTT payloads and back. Three kinds (DESIGN §4):
 *
 * - **pattern**: text payloads with `{field}` placeholders, e.g. `genlock {genlock_phase_h} {genlock_phase_v}`;
 * - **json**: JSON payloads with a JSON pointer (RFC 6901) per field;
 * - **custom**: your own `decode`/`encode` functions (TypeScript API only).
 *
 * Decoding never throws: a payload that does not match yields `{ ok: false, message }`, which the
 * bridge logs and ignores, so a bad message can never corrupt the cache. Encoding fills the other
 * fields of a composite payload from `freshest(field)` (DESIGN §3 rule 4) and refuses to build a
 * payload when one of them is unknown.
 * @module
 */
import {
  checkValue as checkSchemaValue,
  FIELD_NAME_PATTERN,
  FORBIDDEN_KEYS,
  MAX_ABS_NUMBER,
  MAX_TEXT_LENGTH,
  type FieldSchema,
  type FieldValue,
  type ValueCheck,
  type WritableValue,
} from '@live-device-form/protocol';
import type { FreshestValue } from './bridge.js';
import {
  toFieldSchemas,
  topicKind,
  type CustomTopicDescription,
  type DeviceDescription,
  type FieldDescription,
  type JsonTopicDescription,
  type PatternTopicDescription,
  type TopicDescription,
  type TopicKind,
} from './device.js';

/** Largest status payload decoded, in bytes. Larger ones are ignored as not matching. */
export const MAX_STATUS_PAYLOAD_BYTES = 64 * 1024;

/** What a status payload decoded to. */
export type DecodeResult = { ok: true; values: Record<string, FieldValue> } | { ok: false; message: string };

/** The message a write becomes, or why none could be built. */
export type EncodeResult = { ok: true; topic: string; payload: string | Buffer } | { ok: false; message: string };

/** One topic mapping's codec. */
export interface TopicCodec {
  readonly kind: TopicKind;
  /** The status topic it reads, if any. */
  readonly status: string | undefined;
  /** The action topic it writes, if any. */
  readonly set: string | undefined;
  /** Fields read from `status`. */
  readonly reads: readonly string[];
  /** Fields written to `set`. */
  readonly writes: readonly string[];
  /** Decodes a status payload. Never throws. */
  decode(payload: Buffer): DecodeResult;
  /** Encodes a write of `field`; other fields of a composite payload come from `freshest`. Never throws. */
  encode(field: string, value: WritableValue, freshest: FreshestValue): EncodeResult;
  /** What this codec cannot carry beyond the field's schema (e.g. a separator in a text value); `null` if fine. */
  check(field: string, value: WritableValue): string | null;
}

// ---------------------------------------------------------------- patterns

/** A piece of a payload pattern: literal text or a `{field}` placeholder. */
export type PatternPart = { kind: 'literal'; text: string } | { kind: 'field'; name: string };

/**
 * Parses a payload pattern or template: `{field}` placeholders between literal text, `{{` and `}}`
 * for literal braces. Two placeholders need literal text between them (else the payload could not
 * be split), and each field appears at most once.
 */
export function parsePattern(text: string): { ok: true; parts: PatternPart[] } | { ok: false; message: string } {
  const parts: PatternPart[] = [];
  let literal = '';
  const seen = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\u0000') return { ok: false, message: 'must not contain a NUL character' };
    if (c === '{' && text[i + 1] === '{') {
      literal += '{';
      i++;
    } else if (c === '}' && text[i + 1] === '}') {
      literal += '}';
      i++;
    } else if (c === '}') {
      return { ok: false, message: `unmatched "}" at ${i} (write "}}" for a literal brace)` };
    } else if (c === '{') {
      const end = text.indexOf('}', i + 1);
      if (end < 0) return { ok: false, message: `unclosed "{" at ${i}` };
      const name = text.slice(i + 1, end);
      if (!FIELD_NAME_PATTERN.test(name) || FORBIDDEN_KEYS.has(name))
        return { ok: false, message: `"{${name}}" is not a valid placeholder` };
      if (seen.has(name)) return { ok: false, message: `"{${name}}" appears twice` };
      const prev = parts[parts.length - 1];
      if (literal === '' && prev?.kind === 'field') {
        return { ok: false, message: `"{${prev.name}}" and "{${name}}" need literal text between them` };
      }
      if (literal !== '') parts.push({ kind: 'literal', text: literal });
      literal = '';
      parts.push({ kind: 'field', name });
      seen.add(name);
      i = end;
    } else {
      literal += c;
    }
  }
  if (literal !== '') parts.push({ kind: 'literal', text: literal });
  if (seen.size === 0) return { ok: false, message: 'has no {field} placeholder' };
  return { ok: true, parts };
}

/**
 * The separators of a pattern: every literal that follows a placeholder. A text value containing
 * one could forge a different payload (or decode into different fields), so it is refused.
 */
export function separatorsOf(parts: readonly PatternPart[]): string[] {
  const out: string[] = [];
  parts.forEach((p, i) => {
    if (p.kind === 'literal' && parts[i - 1]?.kind === 'field') out.push(p.text);
  });
  return out;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const INTEGER_RE = '[+-]?\\d+';
const NUMBER_RE = '[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?';

function tokensOf(f: FieldDescription): string[] {
  if (f.type === 'boolean') return [f.true ?? 'true', f.false ?? 'false'];
  if (f.type === 'enum') return f.options.map((o) => o.token ?? o.value);
  return [];
}

/** The capture group for one placeholder, given the literal that follows it (`''` at the end). */
function captureFor(f: FieldDescription, next: string): string {
  switch (f.type) {
    case 'integer':
      return `(${INTEGER_RE})`;
    case 'number':
      return `(${NUMBER_RE})`;
    case 'boolean':
    case 'enum':
      return `(${tokensOf(f)
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|')})`;
    case 'text':
      // A text value never contains the separator after it, so it ends at the separator's first
      // occurrence: one way to match, no backtracking blow-up on hostile payloads.
      return next === '' ? '([^\\u0000]*)' : `((?:(?!${escapeRegExp(next)})[^\\u0000])*)`;
    default: {
      const never: never = f;
      return String(never);
    }
  }
}

/** Reads one field's value from its payload text (pattern codec). `undefined` if it does not fit. */
function readToken(f: FieldDescription, raw: string): WritableValue | undefined {
  switch (f.type) {
    case 'integer':
    case 'number': {
      const n = Number(raw);
      if (!Number.isFinite(n) || Math.abs(n) > MAX_ABS_NUMBER) return undefined;
      if (f.type === 'integer' && !Number.isSafeInteger(n)) return undefined;
      return n;
    }
    case 'boolean':
      return raw === (f.true ?? 'true') ? true : raw === (f.false ?? 'false') ? false : undefined;
    case 'enum':
      return f.options.find((o) => (o.token ?? o.value) === raw)?.value;
    case 'text':
      return raw.length <= MAX_TEXT_LENGTH ? raw : undefined;
    default: {
      const never: never = f;
      return never;
    }
  }
}

/** Decimals of a step: `0.05` → 2, `1e-7` → 7, `5` → 0. */
function decimalsOf(step: number): number {
  const [mantissa = '', exp] = String(step).split('e');
  const frac = mantissa.split('.')[1]?.length ?? 0;
  return Math.min(20, Math.max(0, frac - Number(exp ?? 0)));
}

function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v.length > 32 ? `${v.slice(0, 32)}…` : v) : String(v);
}

/** Writes one field's value as payload text (pattern codec), or says why it cannot. */
function writeToken(
  name: string,
  f: FieldDescription,
  v: FieldValue,
  separators: readonly string[],
): string | { error: string } {
  if (v === null) return { error: `field "${name}" is not known yet, so the payload cannot be built` };
  switch (f.type) {
    case 'integer':
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v))
        return { error: `field "${name}": expected a number, got ${describe(v)}` };
      if (f.type === 'integer')
        return Number.isInteger(v) ? String(v) : { error: `field "${name}": expected an integer` };
      return f.step !== undefined ? v.toFixed(decimalsOf(f.step)) : String(v);
    case 'boolean':
      if (typeof v !== 'boolean') return { error: `field "${name}": expected true or false` };
      return v ? (f.true ?? 'true') : (f.false ?? 'false');
    case 'enum': {
      const option = f.options.find((o) => o.value === v);
      return option
        ? (option.token ?? option.value)
        : { error: `field "${name}": not one of its options: ${describe(v)}` };
    }
    case 'text': {
      if (typeof v !== 'string') return { error: `field "${name}": expected text` };
      const problem = textProblem(v, separators);
      return problem ? { error: `field "${name}": ${problem}` } : v;
    }
    default: {
      const never: never = f;
      return never;
    }
  }
}

function textProblem(v: string, separators: readonly string[]): string | null {
  if (/[\u0000-\u001f\u007f]/.test(v)) return 'contains a newline or control character';
  const sep = separators.find((s) => v.includes(s));
  if (sep !== undefined) return `contains ${JSON.stringify(sep)}, which separates the fields of its payload`;
  // Devices often split on any one of these characters, not on the exact separator: refuse each.
  for (const s of separators) {
    for (const c of s) {
      if (!/[\p{L}\p{N}]/u.test(c) && v.includes(c))
        return `contains ${JSON.stringify(c)}, a character of the separator ${JSON.stringify(s)} of its payload`;
    }
  }
  return null;
}

function textSeparators(entry: PatternTopicDescription): string[] {
  const seps = new Set<string>();
  for (const text of [entry.pattern, entry.template]) {
    if (text === undefined) continue;
    const r = parsePattern(text);
    if (r.ok) for (const s of separatorsOf(r.parts)) seps.add(s);
  }
  return [...seps];
}

function must<T>(r: { ok: true; parts: T } | { ok: false; message: string }, what: string): T {
  if (!r.ok) throw new TypeError(`${what}: ${r.message}`);
  return r.parts;
}

function payloadText(payload: Buffer): string | { error: string } {
  if (payload.length > MAX_STATUS_PAYLOAD_BYTES)
    return { error: `payload larger than ${MAX_STATUS_PAYLOAD_BYTES} bytes` };
  return payload.toString('utf8');
}

function createPatternCodec(
  entry: PatternTopicDescription,
  fields: Readonly<Record<string, FieldDescription>>,
): TopicCodec {
  const field = (name: string): FieldDescription => fields[name] as FieldDescription;
  const statusParts =
    entry.pattern !== undefined && entry.status !== undefined ? must(parsePattern(entry.pattern), 'pattern') : [];
  const setParts =
    entry.template !== undefined && entry.set !== undefined ? must(parsePattern(entry.template), 'template') : [];
  const separators = textSeparators(entry);
  const reads = statusParts.flatMap((p) => (p.kind === 'field' ? [p.name] : []));
  const writes = setParts.flatMap((p) => (p.kind === 'field' ? [p.name] : []));
  const regex = new RegExp(
    `^${statusParts
      .map((p, i) => {
        if (p.kind === 'literal') return escapeRegExp(p.text);
        const next = statusParts[i + 1];
        return captureFor(field(p.name), next?.kind === 'literal' ? next.text : '');
      })
      .join('')}$`,
  );

  return {
    kind: 'pattern',
    status: entry.status,
    set: entry.set,
    reads,
    writes,
    decode(payload) {
      const text = payloadText(payload);
      if (typeof text !== 'string') return { ok: false, message: text.error };
      const m = regex.exec(text);
      if (!m) return { ok: false, message: `payload does not match the pattern ${JSON.stringify(entry.pattern)}` };
      const values: Record<string, FieldValue> = {};
      for (let i = 0; i < reads.length; i++) {
        const name = reads[i] as string;
        const v = readToken(field(name), m[i + 1] ?? '');
        if (v === undefined)
          return { ok: false, message: `field "${name}": ${describe(m[i + 1])} is not a valid ${field(name).type}` };
        values[name] = v;
      }
      return { ok: true, values };
    },
    encode(name, value, freshest) {
      if (entry.set === undefined || !writes.includes(name))
        return { ok: false, message: `field "${name}" is not written by this topic` };
      let payload = '';
      for (const p of setParts) {
        if (p.kind === 'literal') {
          payload += p.text;
          continue;
        }
        const token = writeToken(p.name, field(p.name), p.name === name ? value : freshest(p.name), separators);
        if (typeof token !== 'string') return { ok: false, message: token.error };
        payload += token;
      }
      return { ok: true, topic: entry.set, payload };
    },
    check(name, value) {
      return field(name).type === 'text' && typeof value === 'string' ? textProblem(value, separators) : null;
    },
  };
}

// ---------------------------------------------------------------- JSON pointers

/**
 * Parses a JSON pointer (RFC 6901): `""` (the whole document) or `/a/b` with `~1` for `/` and `~0`
 * for `~`. `__proto__`, `constructor` and `prototype` segments are refused.
 */
export function parseJsonPointer(pointer: string): { ok: true; segments: string[] } | { ok: false; message: string } {
  if (pointer === '') return { ok: true, segments: [] };
  if (!pointer.startsWith('/')) return { ok: false, message: 'a JSON pointer is "" or starts with "/"' };
  const segments: string[] = [];
  for (const raw of pointer.slice(1).split('/')) {
    if (/~(?![01])/.test(raw))
      return { ok: false, message: `bad escape in ${JSON.stringify(raw)} (use ~0 for "~", ~1 for "/")` };
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (FORBIDDEN_KEYS.has(seg)) return { ok: false, message: `segment ${JSON.stringify(seg)} is not allowed` };
    segments.push(seg);
  }
  return { ok: true, segments };
}

function getPointer(doc: unknown, segments: readonly string[]): unknown {
  let cur = doc;
  for (const seg of segments) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (cur !== null && typeof cur === 'object') {
      cur = Object.hasOwn(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
    } else return undefined;
  }
  return cur;
}

function hasTokens(f: FieldDescription): boolean {
  return f.type === 'boolean' && (f.true !== undefined || f.false !== undefined);
}

/** Reads a JSON value into a field value; `undefined` if it does not fit. */
function readJson(f: FieldDescription, v: unknown): WritableValue | undefined {
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
    default: {
      const never: never = f;
      return never;
    }
  }
}

function writeJson(name: string, f: FieldDescription, v: FieldValue): unknown {
  if (v === null) return { error: `field "${name}" is not known yet, so the payload cannot be built` };
  if (f.type === 'boolean' && !hasTokens(f))
    return typeof v === 'boolean' ? v : { error: `field "${name}": expected true or false` };
  if (f.type === 'text') return typeof v === 'string' ? v : { error: `field "${name}": expected text` };
  if ((f.type === 'number' || f.type === 'integer') && typeof v === 'number') return v;
  return writeToken(name, f, v, []);
}

function createJsonCodec(entry: JsonTopicDescription, fields: Readonly<Record<string, FieldDescription>>): TopicCodec {
  const field = (name: string): FieldDescription => fields[name] as FieldDescription;
  const pointers = Object.entries(entry.json as Record<string, string>).map(([name, p]) => {
    const r = parseJsonPointer(p);
    if (!r.ok) throw new TypeError(`json.${name}: ${r.message}`);
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
      const text = payloadText(payload);
      if (typeof text !== 'string') return { ok: false, message: text.error };
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        return { ok: false, message: 'payload is not valid JSON' };
      }
      const values: Record<string, FieldValue> = {};
      let found = 0;
      for (const { name, segments } of pointers) {
        const raw = getPointer(doc, segments);
        if (raw === undefined) continue;
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
      const included = pointers.filter((p) => p.name === name || (sendAll && field(p.name).writable === true));
      let root: unknown = {};
      for (const { name: n, segments } of included) {
        const v = writeJson(n, field(n), n === name ? value : freshest(n));
        if (v !== null && typeof v === 'object') return { ok: false, message: (v as { error: string }).error };
        if (segments.length === 0) {
          root = v;
          continue;
        }
        let cur = root as Record<string, unknown>;
        for (const seg of segments.slice(0, -1)) {
          const next = cur[seg];
          cur = (next !== null && typeof next === 'object' ? next : (cur[seg] = {})) as Record<string, unknown>;
        }
        cur[segments[segments.length - 1] as string] = v;
      }
      return { ok: true, topic: entry.set, payload: JSON.stringify(root) };
    },
    check() {
      return null;
    },
  };
}

// ---------------------------------------------------------------- custom

/** Checks a value a custom `decode` returned; `undefined` if it does not fit the field. */
function readDecoded(f: FieldDescription, v: unknown): FieldValue | undefined {
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

function createCustomCodec(
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
      if (payload.length > MAX_STATUS_PAYLOAD_BYTES)
        return { ok: false, message: `payload larger than ${MAX_STATUS_PAYLOAD_BYTES} bytes` };
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

/** Creates the codec of one topic mapping. The description must be valid (see `defineDevice`). */
export function createTopicCodec(
  entry: TopicDescription,
  fields: Readonly<Record<string, FieldDescription>>,
): TopicCodec {
  switch (topicKind(entry)) {
    case 'pattern':
      return createPatternCodec(entry as PatternTopicDescription, fields);
    case 'json':
      return createJsonCodec(entry as JsonTopicDescription, fields);
    case 'custom':
      return createCustomCodec(entry as CustomTopicDescription, fields);
  }
}

// ---------------------------------------------------------------- a whole device

/** All of a device's codecs, routed by status topic and by field. */
export interface DeviceCodec {
  /** The fields as sent to pages. */
  readonly schema: readonly FieldSchema[];
  /** Every status topic, each read by one codec. */
  readonly statusTopics: readonly string[];
  /** Decodes a message on a status topic; `undefined` when `topic` is not one. Never throws. */
  decode(topic: string, payload: Buffer): DecodeResult | undefined;
  /** Encodes a write of `field`. Never throws. */
  encode(field: string, value: WritableValue, freshest: FreshestValue): EncodeResult;
  /**
   * What the codec cannot carry in a value that already fits the field's schema: a text value
   * containing its payload's separators. Returns why, or `undefined` when it can be written.
   * This is `DeviceBridge.checkWrite`.
   */
  checkWrite(field: string, value: WritableValue): string | undefined;
}

/** Builds the codecs of a valid device description. */
export function createDeviceCodec(device: DeviceDescription): DeviceCodec {
  const fields = device.fields as Readonly<Record<string, FieldDescription>>;
  const schema = Object.freeze(toFieldSchemas(device));
  const byName = new Map(schema.map((s) => [s.name, s]));
  const byStatus = new Map<string, TopicCodec>();
  const bySetField = new Map<string, TopicCodec>();
  for (const entry of device.topics) {
    const codec = createTopicCodec(entry, fields);
    if (codec.status !== undefined) byStatus.set(codec.status, codec);
    for (const name of codec.writes) bySetField.set(name, codec);
  }
  return {
    schema,
    statusTopics: [...byStatus.keys()],
    decode(topic, payload) {
      return byStatus.get(topic)?.decode(payload);
    },
    encode(field, value, freshest) {
      const check = checkValueFor(field, value);
      if (!check.ok) return { ok: false, message: `field "${field}": ${check.message}` };
      const codec = bySetField.get(field);
      if (!codec) return { ok: false, message: `field "${field}" has no set topic` };
      return codec.encode(field, value, freshest);
    },
    checkWrite(field, value) {
      return bySetField.get(field)?.check(field, value) ?? undefined;
    },
  };

  /** The whole check before a payload is built: schema, writable, codec. Defensive: sessions check first. */
  function checkValueFor(field: string, value: WritableValue): ValueCheck {
    const s = byName.get(field);
    if (!s) return { ok: false, message: 'unknown field' };
    if (!s.writable) return { ok: false, message: 'read-only' };
    const r = checkSchemaValue(s, value);
    if (!r.ok) return r;
    const problem = bySetField.get(field)?.check(field, r.value) ?? null;
    return problem === null ? r : { ok: false, message: problem };
  }
}
