/**
 * Property-based fuzzing (fast-check) of what reads untrusted bytes:
 *
 * 1. `parseClientFrame` against an independent oracle written from protocol.md (accepts exactly
 *    what the oracle accepts, returns exactly its frame, keeps a `set`'s id exactly when readable);
 * 2. `parseServerFrame`: never throws, and what it returns is clean (re-encodes to itself, a
 *    null-prototype `fields` map, names and values within the protocol's rules);
 * 3. the pattern codec: `parsePattern` on arbitrary text; decoding arbitrary payloads with
 *    randomly generated device descriptions (type-correct values only, in bounded time); and
 *    `decode(encode(values))` giving the values back;
 * 4. a real server (the SDK on a real socket, a `MemoryBridge` as the device): every generated frame
 *    is sent and then a ping; no frame the oracle calls invalid (or forbidden) reaches the bridge,
 *    every `set` with a readable id gets exactly one ack, every other bad frame closes the socket
 *    with the right code, and nothing else does.
 *
 * After every property, and in the server property after every frame, `Object.prototype`,
 * `Array.prototype` and `Function.prototype` must be exactly as before.
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import WebSocket from 'ws';
import {
  FIELD_NAME_PATTERN,
  MAX_FRAME_BYTES,
  SUBPROTOCOL,
  checkValue,
  parseClientFrame,
  parseServerFrame,
  encodeFrame,
  type FieldSchema,
} from '@live-device-form/protocol';
import {
  type DeviceDescription,
  createDeviceCodec,
  createLiveDeviceServer,
  parseDeviceDescription,
  parsePattern,
  silentLogger,
} from '@live-device-form/server';
import { SCHEMA, makeBridge } from '@live-device-form/testkit';

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Generated inputs per property. */
  runs: number;
  seed: number;
  log?: (line: string) => void;
}

export interface FuzzPropertyResult {
  name: string;
  runs: number;
  ms: number;
  failure?: string;
}

export interface FuzzReport {
  properties: FuzzPropertyResult[];
  failures: string[];
  totalInputs: number;
  durationMs: number;
}

// ------------------------------------------------------------------ prototype pollution

const PROTOS: readonly [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
];

/** The own property names of the built-in prototypes, to compare before and after. */
export function protoSnapshot(): string {
  return PROTOS.map(([name, p]) => `${name}:${Object.getOwnPropertyNames(p).sort().join(',')}`).join('|');
}

const PROBES = ['polluted', 'isAdmin', 'x', 'value', 'rev', 'field'];

/** Throws if a prototype gained or lost a property, or a probe key became visible on `{}`. */
export function assertPrototypesClean(before: string): void {
  const after = protoSnapshot();
  if (after !== before) throw new Error(`prototype changed: ${after}`);
  const probe = {} as Record<string, unknown>;
  for (const k of PROBES)
    if (probe[k] !== undefined) throw new Error(`({}).${k} is ${String(probe[k])}: prototype polluted`);
}

// ------------------------------------------------------------------ generators (raw JSON text)

const FIELD_POOL = SCHEMA.map((f) => f.name).concat(['unknown_field']);
const HOSTILE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'a/b',
  '#',
  '+',
  '$SYS/broker/uptime',
  'a\u0000b',
  'toString',
  'hasOwnProperty',
  '',
  ' ',
  'a'.repeat(65),
  'ñame',
  '1abc',
  'gain/../#',
  'gain\n',
];
const fieldName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...FIELD_POOL) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 70 }) },
);
const jsonString = (s: fc.Arbitrary<string>): fc.Arbitrary<string> => s.map((x) => JSON.stringify(x));
const numberText = fc.oneof(
  fc.integer({ min: -600, max: 600 }).map(String),
  fc.integer().map(String),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : '1e999')),
  fc.constantFrom(
    '1e999',
    '-1e999',
    '1e15',
    '-1e15',
    '1000000000000001',
    '-0',
    '0.5',
    '2.5',
    '9007199254740993',
    '1e-400',
    '0.30000000000000004',
  ),
);
const stringText = fc.oneof(
  jsonString(
    fc.constantFrom(
      'ntsc',
      'pal',
      'secam',
      'cam 1',
      'a\u0000b',
      'line\nbreak',
      'tab\tbed',
      'x'.repeat(1025),
      '$SYS/#',
      'a/b/#',
      '+',
      '',
    ),
  ),
  jsonString(fc.string({ maxLength: 40 })),
  jsonString(fc.string({ unit: 'binary', maxLength: 40 })),
);
const valueText = fc.oneof(
  { weight: 4, arbitrary: numberText },
  { weight: 3, arbitrary: stringText },
  {
    weight: 1,
    arbitrary: fc.constantFrom('true', 'false', 'null', '{}', '[]', '[1]', '{"a":1}', '{"__proto__":{"polluted":1}}'),
  },
);
const counterText = fc.oneof(
  { weight: 6, arbitrary: fc.nat({ max: 1000 }).map(String) },
  {
    weight: 1,
    arbitrary: fc.constantFrom('-1', '1.5', '9007199254740992', '9007199254740991', '"7"', 'null', '1e3', 'true', '[]'),
  },
);
/** A set's rev: usually the field's current revision (so valid writes reach the bridge), else anything. */
const revText = fc.oneof({ weight: 3, arbitrary: fc.constant('"__CURRENT__"') }, { weight: 2, arbitrary: counterText });
/** A set's epoch: usually the server's current one (so valid writes reach the bridge), else another or none. */
const epochText = fc.oneof(
  { weight: 4, arbitrary: fc.constant('"__EPOCH__"') },
  { weight: 1, arbitrary: fc.constantFrom('""', '"earlier-run"', '7', 'null', '[]', JSON.stringify('e'.repeat(129))) },
  { weight: 1, arbitrary: stringText },
);
const typeText = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('"set"', '"set"', '"set"', '"ping"', '"hello"') },
  { weight: 1, arbitrary: fc.constantFrom('"ack"', '"resync"', '"SET"', '"set "', 'null', '1', '["set"]') },
  { weight: 1, arbitrary: stringText },
);
const extraKey = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'extra', 'type', 'id', 'toString'),
  fc.string({ maxLength: 10 }),
);

/** A client frame as raw JSON text: keys and values chosen freely, hostile ones often. */
const structuredClientFrame: fc.Arbitrary<string> = fc
  .record({
    type: typeText,
    id: counterText,
    field: jsonString(fieldName),
    value: valueText,
    rev: revText,
    epoch: epochText,
    device: jsonString(
      fc.oneof(
        fc.constantFrom('videoproc', 'other', 'a/b', '#', '.x', '-x', 'x'.repeat(65)),
        fc.string({ maxLength: 10 }),
      ),
    ),
    mounts: counterText,
    token: fc.option(stringText, { nil: undefined }),
    drop: fc.oneof(
      { weight: 6, arbitrary: fc.constant([] as ('id' | 'field' | 'value' | 'rev' | 'epoch' | 'device' | 'mounts')[]) },
      { weight: 1, arbitrary: fc.subarray(['id', 'field', 'value', 'rev', 'epoch', 'device', 'mounts'] as const) },
    ),
    extra: fc.oneof(
      { weight: 4, arbitrary: fc.constant([] as [string, string][]) },
      { weight: 1, arbitrary: fc.array(fc.tuple(extraKey, valueText), { minLength: 1, maxLength: 3 }) },
    ),
  })
  .map((r) => {
    const entries: [string, string][] = [['type', r.type]];
    const kind = r.type === '"hello"' ? 'hello' : r.type === '"ping"' ? 'ping' : 'set';
    const keys =
      kind === 'hello'
        ? (['device', 'mounts'] as const)
        : kind === 'ping'
          ? (['id'] as const)
          : (['id', 'field', 'value', 'rev', 'epoch'] as const);
    for (const k of keys) if (!r.drop.includes(k)) entries.push([k, r[k]]);
    if (kind === 'hello' && r.token !== undefined) entries.push(['token', r.token]);
    for (const [k, v] of r.extra) entries.push([k, v]);
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  });

/** A value near what a field of `SCHEMA` accepts: often valid, often just outside. */
function valueNear(f: FieldSchema): fc.Arbitrary<string> {
  switch (f.type) {
    case 'integer':
    case 'number': {
      const min = f.min ?? -1000;
      const max = f.max ?? 1000;
      const step = f.step ?? (f.type === 'integer' ? 1 : 0.25);
      return fc.oneof(
        fc.integer({ min: Math.ceil(min / step), max: Math.floor(max / step) }).map((k) => String(k * step)),
        fc.constantFrom(
          String(min),
          String(max),
          String(min - step),
          String(max + step),
          String(min + step / 3),
          '1e999',
          '-0',
        ),
      );
    }
    case 'boolean':
      return fc.constantFrom('true', 'false', '0', '"true"');
    case 'enum':
      return jsonString(fc.constantFrom(...(f.options ?? []).map((o) => o.value), 'SECAM', ''));
    case 'text':
      return jsonString(
        fc.oneof(
          fc.string({ maxLength: 30 }),
          fc.constantFrom('cam 2', 'a\nb', 'x'.repeat(1024), 'x'.repeat(1025), '$SYS/#', 'a/+/#'),
        ),
      );
    default:
      return valueText;
  }
}

/** A `set` for a field of `SCHEMA` with a value near its limits, from its current revision mostly. */
const schemaSet: fc.Arbitrary<string> = fc
  .constantFrom(...SCHEMA)
  .chain((f) => fc.tuple(fc.constant(f.name), valueNear(f), revText, fc.nat({ max: 1000 })))
  .map(
    ([field, value, rev, id]) =>
      `{"type":"set","id":${id},"field":${JSON.stringify(field)},"value":${value},"rev":${rev}}`,
  );

/** Any input a peer could send as a text frame. */
export const clientFrameInput: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: schemaSet },
  { weight: 10, arbitrary: structuredClientFrame },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  {
    weight: 2,
    arbitrary: fc.tuple(structuredClientFrame, fc.nat(), fc.string({ maxLength: 4 })).map(([text, at, junk]) => {
      const i = at % (text.length + 1);
      return text.slice(0, i) + junk + text.slice(i + (at % 3));
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .nat({ max: 40_000 })
      .map((k) => `{"type":"set","id":1,"field":"name","value":"${'x'.repeat(k)}","rev":0}`),
  },
);

// ------------------------------------------------------------------ the oracle (from protocol.md, not from parse.ts)

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);
const DEVICE_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

type OracleFrame =
  | { type: 'hello'; device: string; mounts: number; token?: string }
  | { type: 'set'; id: number; field: string; value: number | boolean | string; rev: number; epoch: string }
  | { type: 'ping'; id: number };

/** What protocol v1 says a client frame is. */
export interface OracleVerdict {
  frame?: OracleFrame;
  tooLarge: boolean;
  /** A `set` whose id can be read (the server must ack it rather than close). */
  readableSetId?: number;
}

const isCounter = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;

/** Judges a client frame the way docs/protocol.md describes it. */
export function oracleClient(text: string): OracleVerdict {
  if (Buffer.byteLength(text, 'utf8') > MAX_FRAME_BYTES) return { tooLarge: true };
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return { tooLarge: false };
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return { tooLarge: false };
  const obj = o as Record<string, unknown>;
  // A frame carrying a prototype key is not trusted in any part, its id included.
  if (Object.keys(obj).some((k) => FORBIDDEN.has(k))) return { tooLarge: false };
  const readableSetId = obj.type === 'set' && isCounter(obj.id) ? obj.id : undefined;
  const verdict: OracleVerdict = { tooLarge: false };
  if (readableSetId !== undefined) verdict.readableSetId = readableSetId;
  switch (obj.type) {
    case 'hello': {
      const { device, mounts, token } = obj;
      if (typeof device !== 'string' || device.length > 64 || !DEVICE_ID.test(device) || !isCounter(mounts))
        return verdict;
      if (token !== undefined && (typeof token !== 'string' || token.length > 4096)) return verdict;
      verdict.frame =
        token === undefined ? { type: 'hello', device, mounts } : { type: 'hello', device, mounts, token };
      return verdict;
    }
    case 'ping':
      if (isCounter(obj.id)) verdict.frame = { type: 'ping', id: obj.id };
      return verdict;
    case 'set': {
      const { id, field, value, rev, epoch } = obj;
      if (
        !isCounter(id) ||
        !isCounter(rev) ||
        typeof epoch !== 'string' ||
        epoch.length < 1 ||
        epoch.length > 128 ||
        typeof field !== 'string' ||
        !FIELD_NAME_PATTERN.test(field) ||
        FORBIDDEN.has(field)
      )
        return verdict;
      const okValue =
        typeof value === 'boolean' ||
        (typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= 1e15) ||
        (typeof value === 'string' && value.length <= 1024 && !value.includes('\u0000'));
      if (okValue) verdict.frame = { type: 'set', id, field, value: value as number | boolean | string, rev, epoch };
      return verdict;
    }
    default:
      return verdict;
  }
}

/** Whether a value may be written to a field of `SCHEMA` (docs/protocol.md rule 7, from the schema alone). */
function oracleWritable(field: string, value: unknown): boolean {
  const f = SCHEMA.find((s) => s.name === field);
  if (!f || !f.writable) return false;
  switch (f.type) {
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return false;
      if (f.type === 'integer' && !Number.isInteger(value)) return false;
      if ((f.min !== undefined && value < f.min) || (f.max !== undefined && value > f.max)) return false;
      if (f.step !== undefined) {
        const k = (value - (f.min ?? 0)) / f.step;
        if (Math.abs(k - Math.round(k)) > 1e-9 * Math.max(1, Math.abs(k))) return false;
      }
      return true;
    }
    case 'boolean':
      return typeof value === 'boolean';
    case 'enum':
      return typeof value === 'string' && (f.options ?? []).some((o) => o.value === value);
    case 'text':
      // Controls (Cc), line/paragraph separators, lone surrogates (docs/protocol.md, the limits table).
      return (
        typeof value === 'string' && value.length <= (f.maxLength ?? 1024) && !/[\p{Cc}\u2028\u2029\p{Cs}]/u.test(value)
      );
    default:
      return false;
  }
}

// ------------------------------------------------------------------ properties

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Property 1: parseClientFrame (or `parse`, to show the property can fail) agrees with the oracle. */
export function clientParserProperty(
  parse: typeof parseClientFrame = parseClientFrame,
): fc.IPropertyWithHooks<[string]> {
  return fc.property(clientFrameInput, (raw) => {
    const text = raw.replace('"__CURRENT__"', '0').replace('"__EPOCH__"', '"e1"');
    const result = parse(text);
    const verdict = oracleClient(text);
    if (verdict.tooLarge) {
      if (result.ok || result.code !== 'too-large')
        throw new Error(`over ${MAX_FRAME_BYTES} bytes but ${JSON.stringify(result).slice(0, 200)}`);
      return;
    }
    if (verdict.frame) {
      if (!result.ok) throw new Error(`oracle accepts, parser refuses (${result.message}): ${text.slice(0, 300)}`);
      if (
        !sameJson(result.frame, verdict.frame) ||
        (result.frame.type === 'set' && !Object.is(result.frame.value, (verdict.frame as { value: unknown }).value))
      ) {
        throw new Error(`parser returned ${JSON.stringify(result.frame)}, oracle ${JSON.stringify(verdict.frame)}`);
      }
      if (Object.getPrototypeOf(result.frame) !== Object.prototype)
        throw new Error('frame with an unexpected prototype');
      return;
    }
    if (result.ok)
      throw new Error(`oracle refuses, parser accepts ${JSON.stringify(result.frame)}: ${text.slice(0, 300)}`);
    if (result.code !== 'bad-frame') throw new Error(`code ${result.code} for a frame within the size limit`);
    if (result.id !== verdict.readableSetId)
      throw new Error(
        `parser kept id ${String(result.id)}, oracle ${String(verdict.readableSetId)}: ${text.slice(0, 300)}`,
      );
  });
}

const serverFieldState = fc
  .record({ value: valueText, rev: counterText })
  .map((s) => `{"value":${s.value},"rev":${s.rev}}`);
const serverFrameInput: fc.Arbitrary<string> = fc.oneof(
  fc
    .tuple(
      fc.array(fc.tuple(fieldName, serverFieldState), { maxLength: 5 }),
      fc.constantFrom('"online"', '"offline"', '"maybe"', 'null'),
      stringText,
    )
    .map(
      ([fields, device, epoch]) =>
        `{"type":"resync","epoch":${epoch},"device":${device},"schema":[],"fields":{${fields.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}}`,
    ),
  fc
    .tuple(jsonString(fieldName), valueText, counterText)
    .map(([field, value, rev]) => `{"type":"update","field":${field},"value":${value},"rev":${rev}}`),
  fc
    .tuple(
      counterText,
      fc.constantFrom('"accepted"', '"unknown"', '"rejected"', '"maybe"'),
      fc.constantFrom('"stale"', '"guard"', '"nope"', 'null'),
      jsonString(fieldName),
      valueText,
      counterText,
    )
    .map(
      ([id, status, reason, field, value, rev]) =>
        `{"type":"ack","id":${id},"status":${status},"reason":${reason},"field":${field},"value":${value},"rev":${rev}}`,
    ),
  fc
    .tuple(
      fc.array(
        fc.record({
          name: jsonString(fieldName),
          type: fc.constantFrom('"integer"', '"number"', '"enum"', '"text"', '"boolean"', '"x"'),
          extra: fc.constantFrom(
            '',
            ',"__proto__":{"polluted":1}',
            ',"min":1e999',
            ',"step":0',
            ',"options":[{"value":"a"},{"value":"b","label":"B"}]',
          ),
        }),
        { maxLength: 3 },
      ),
    )
    .map(
      ([schema]) =>
        `{"type":"resync","epoch":"e","device":"online","schema":[${schema.map((s) => `{"name":${s.name},"label":"L","type":${s.type},"writable":true${s.extra}}`).join(',')}],"fields":{}}`,
    ),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 60 }),
  fc.constantFrom(
    '{"type":"device","status":"offline"}',
    '{"type":"pong","id":1}',
    '{"type":"error","code":"bad-frame","message":"m"}',
    '{"type":"error","code":"x","message":"m"}',
    '{"__proto__":{"polluted":1},"type":"pong","id":1}',
  ),
);

/** Property 2: parseServerFrame returns only clean frames. */
export function serverParserProperty(): fc.IPropertyWithHooks<[string]> {
  return fc.property(serverFrameInput, (text) => {
    const result = parseServerFrame(text);
    if (!result.ok) {
      if (result.code !== 'bad-frame' && result.code !== 'too-large') throw new Error(`code ${String(result.code)}`);
      return;
    }
    const again = parseServerFrame(encodeFrame(result.frame));
    if (!again.ok || JSON.stringify(again.frame) !== JSON.stringify(result.frame))
      throw new Error(`not stable under re-encoding: ${text.slice(0, 200)}`);
    const frame = result.frame;
    if (frame.type === 'resync') {
      if (Object.getPrototypeOf(frame.fields) !== null) throw new Error('resync.fields must have a null prototype');
      for (const [name, state] of Object.entries(frame.fields)) {
        if (!FIELD_NAME_PATTERN.test(name) || FORBIDDEN.has(name))
          throw new Error(`field name ${JSON.stringify(name)} accepted`);
        if (!isCounter(state.rev)) throw new Error('bad rev accepted');
        const v = state.value;
        if (typeof v === 'number' && (!Number.isFinite(v) || Math.abs(v) > 1e15))
          throw new Error('bad number accepted');
        if (typeof v === 'string' && v.includes('\u0000')) throw new Error('NUL accepted');
      }
      for (const s of frame.schema) if (FORBIDDEN.has(s.name)) throw new Error('schema name accepted');
    }
    const named =
      frame.type === 'update'
        ? frame.field
        : frame.type === 'ack' && frame.status === 'rejected'
          ? frame.field
          : undefined;
    if (named !== undefined && FORBIDDEN.has(named)) throw new Error('forbidden field accepted');
  });
}

// ------------------------------------------------------------------ the pattern codec

type FieldKind = 'integer' | 'number' | 'boolean' | 'enum' | 'text';
const SEPARATORS = [' ', ',', ', ', ';', '/', ' | ', ':', '=', '-', 'x', '{{', '}}', '\t', ' @ '];

interface GeneratedDevice {
  device: DeviceDescription;
  names: string[];
  kinds: Record<string, FieldKind>;
}

const FALLBACK: GeneratedDevice = (() => {
  const r = parseDeviceDescription({
    id: 'fz',
    topics: [{ status: 'fz/s', pattern: '{f0} {f1}', set: 'fz/set', template: 'set {f0} {f1}' }],
    fields: { f0: { type: 'integer', writable: true }, f1: { type: 'text', writable: true } },
  });
  if (!r.ok) throw new Error(r.issues.join('\n'));
  return { device: r.device, names: ['f0', 'f1'], kinds: { f0: 'integer', f1: 'text' } };
})();

const generatedDevice: fc.Arbitrary<GeneratedDevice> = fc
  .record({
    kinds: fc.array(fc.constantFrom<FieldKind>('integer', 'number', 'boolean', 'enum', 'text'), {
      minLength: 1,
      maxLength: 4,
    }),
    seps: fc.array(fc.constantFrom(...SEPARATORS), { minLength: 5, maxLength: 5 }),
    lead: fc.constantFrom('', 'v=', '{{', 'x '),
    tail: fc.constantFrom('', ';', '}}', ' end'),
    step: fc.constantFrom(undefined, 0.5, 0.05, 5),
    tokens: fc.constantFrom(['0', '1'], ['on', 'off'], ['T', 'F']),
  })
  .map((r) => {
    const names = r.kinds.map((_, i) => `f${i}`);
    const kinds: Record<string, FieldKind> = {};
    const fields: Record<string, unknown> = {};
    r.kinds.forEach((k, i) => {
      const name = names[i] as string;
      kinds[name] = k;
      if (k === 'integer') fields[name] = { type: 'integer', min: -1000, max: 1000, writable: true };
      else if (k === 'number')
        fields[name] =
          r.step === undefined
            ? { type: 'number', writable: true }
            : { type: 'number', min: 0, max: 100, step: r.step, writable: true };
      else if (k === 'boolean')
        fields[name] = { type: 'boolean', true: r.tokens[0], false: r.tokens[1], writable: true };
      else if (k === 'enum')
        fields[name] = {
          type: 'enum',
          options: [{ value: 'alpha', token: 'A' }, { value: 'beta', token: 'B2' }, { value: 'gamma' }],
          writable: true,
        };
      else fields[name] = { type: 'text', maxLength: 40, writable: true };
    });
    const pattern = r.lead + names.map((n, i) => `{${n}}${i < names.length - 1 ? r.seps[i] : ''}`).join('') + r.tail;
    const parsed = parseDeviceDescription({
      id: 'fz',
      topics: [{ status: 'fz/s', pattern, set: 'fz/set', template: `set ${pattern}` }],
      fields,
    });
    return parsed.ok ? { device: parsed.device, names, kinds } : FALLBACK;
  });

function valueFor(
  kind: FieldKind,
  seed: number,
  text: string,
  device: DeviceDescription,
  name: string,
): number | boolean | string {
  switch (kind) {
    case 'integer':
      return (seed % 2001) - 1000;
    case 'number': {
      const step = (device.fields as Record<string, { step?: number }>)[name]?.step;
      if (step === undefined) return (seed % 100_000) / 7 - 5000;
      const k = seed % (Math.floor(100 / step) + 1);
      const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
      return Number((k * step).toFixed(decimals));
    }
    case 'boolean':
      return seed % 2 === 0;
    case 'enum':
      return (['alpha', 'beta', 'gamma'] as const)[seed % 3] as string;
    case 'text':
      return text.slice(0, 40);
    default:
      return 0;
  }
}

function typeCorrect(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case 'integer':
      return typeof v === 'number' && Number.isSafeInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= 1e15;
    case 'boolean':
      return typeof v === 'boolean';
    case 'enum':
      return v === 'alpha' || v === 'beta' || v === 'gamma';
    case 'text':
      return typeof v === 'string' && v.length <= 1024 && !v.includes('\u0000');
    default:
      return false;
  }
}

/** Property 3a: parsePattern never throws and yields well-formed parts. */
export function patternParserProperty(): fc.IPropertyWithHooks<[string]> {
  return fc.property(
    fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom('{a} {b}', '{{a}}', '{a}{b}', '{__proto__}', '{a', 'a}', '{a} {a}', '{}', '{{{a}}}'),
    ),
    (text) => {
      const r = parsePattern(text);
      if (!r.ok) return;
      for (const p of r.parts)
        if (p.kind === 'field' && (!FIELD_NAME_PATTERN.test(p.name) || FORBIDDEN.has(p.name)))
          throw new Error(`placeholder ${p.name}`);
    },
  );
}

/** Property 3b: decoding arbitrary payloads with generated devices is safe; round trips hold. */
export function patternDecoderProperty(): fc.IPropertyWithHooks<[GeneratedDevice, string, number[], string]> {
  return fc.property(
    generatedDevice,
    fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.constant('1'.repeat(5000) + ' x'),
    ),
    fc.array(fc.nat(), { minLength: 4, maxLength: 4 }),
    fc.string({ maxLength: 20 }),
    (gen, payload, seeds, text) => {
      const codec = createDeviceCodec(gen.device);
      // CPU time, not wall time: a backtracking pattern burns CPU, a loaded machine only waits.
      const started = process.cpuUsage();
      const r = codec.decode('fz/s', Buffer.from(payload, 'utf8'));
      const { user, system } = process.cpuUsage(started);
      if (user + system > 200_000) throw new Error(`decode took ${Math.round((user + system) / 1000)} ms of CPU`);
      if (r === undefined) throw new Error('status topic not recognised');
      if (r.ok) {
        for (const [k, v] of Object.entries(r.values)) {
          const kind = gen.kinds[k];
          if (!kind || !typeCorrect(kind, v))
            throw new Error(`decoded ${k}=${JSON.stringify(v)} from ${JSON.stringify(payload)}`);
        }
      }
      // Round trip: values the codec agrees to write come back as they were.
      const values: Record<string, number | boolean | string> = {};
      gen.names.forEach(
        (n, i) => (values[n] = valueFor(gen.kinds[n] as FieldKind, seeds[i] ?? 0, text, gen.device, n)),
      );
      const schema = codec.schema as readonly FieldSchema[];
      for (const n of gen.names) {
        const s = schema.find((x) => x.name === n) as FieldSchema;
        if (!checkValue(s, values[n]).ok || codec.checkWrite(n, values[n] as string) !== undefined) return;
      }
      const first = gen.names[0] as string;
      const enc = codec.encode(first, values[first] as number, (f) => values[f] ?? null);
      if (!enc.ok) throw new Error(`encode refused checked values ${JSON.stringify(values)}: ${enc.message}`);
      const payloadText = String(enc.payload).replace(/^set /, '');
      const back = codec.decode('fz/s', Buffer.from(payloadText));
      if (!back?.ok)
        throw new Error(
          `${JSON.stringify(payloadText)} (from ${JSON.stringify(values)}) does not decode: ${back?.ok === false ? back.message : 'undefined'}`,
        );
      for (const n of gen.names) {
        if (
          back.values[n] !== values[n] &&
          !(typeof values[n] === 'number' && back.values[n] === (values[n] as number) + 0)
        ) {
          throw new Error(
            `${n}: wrote ${JSON.stringify(values[n])}, read back ${JSON.stringify(back.values[n])} via ${JSON.stringify(payloadText)}`,
          );
        }
      }
    },
  );
}

// ------------------------------------------------------------------ through a real server

/** A fuzzing target: the SDK on a real socket with a `MemoryBridge` that records every write. */
export class FuzzServer {
  readonly writes: { field: string; value: unknown }[] = [];
  private ws: WebSocket | undefined;
  private readonly revs = new Map<string, number>();
  /** The epoch of the latest resync: `"__EPOCH__"` in a generated frame becomes it. */
  private epoch = '';
  private inbox: Record<string, unknown>[] = [];
  private waiter: (() => void) | undefined;
  private closeCode: number | undefined;
  private pingId = 1_000_000_000;
  /** Sockets opened (each bad frame that closes one costs a reconnect). */
  reconnects = 0;

  private constructor(
    private readonly url: string,
    private readonly stopServer: () => Promise<void>,
  ) {}

  /**
   * Starts the target. `schema` replaces the device's schema (the oracle keeps judging by `SCHEMA`):
   * a looser one lets invalid values through, which is how a test shows the property can fail.
   */
  static async start(options: { schema?: FieldSchema[] } = {}): Promise<FuzzServer> {
    const bridge = makeBridge(options.schema ? { schema: options.schema } : {});
    const live = createLiveDeviceServer({
      devices: [bridge],
      logger: silentLogger,
      rateLimit: { burst: 1e9, perSecond: 1e9 },
      deviceRateLimit: { burst: 1e9, perSecond: 1e9 },
      heartbeatMs: 0,
    });
    const httpServer = http.createServer((_q, s) => s.writeHead(404).end());
    live.attach(httpServer);
    await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
    const url = `ws://127.0.0.1:${(httpServer.address() as AddressInfo).port}/live`;
    const fuzz = new FuzzServer(url, async () => {
      await live.close();
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await bridge.close();
    });
    const write = bridge.write.bind(bridge);
    bridge.write = (field, value, freshest) => {
      fuzz.writes.push({ field, value });
      return write(field, value, freshest);
    };
    return fuzz;
  }

  private async connect(): Promise<void> {
    this.reconnects++;
    this.closeCode = undefined;
    this.inbox = [];
    const ws = new WebSocket(this.url, [SUBPROTOCOL], { perMessageDeflate: false });
    this.ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as Record<string, unknown>;
      if (msg.type === 'resync') {
        this.epoch = String(msg.epoch);
        for (const [k, s] of Object.entries(msg.fields as Record<string, { rev: number }>)) this.revs.set(k, s.rev);
      }
      if (msg.type === 'update') this.revs.set(String(msg.field), Number(msg.rev));
      this.inbox.push(msg);
      this.waiter?.();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.waiter?.();
    });
    ws.on('error', () => {});
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ type: 'hello', device: 'videoproc', mounts: 0 }));
    await this.until(() => this.inbox.some((m) => m.type === 'resync'), 'resync');
    this.inbox = [];
  }

  private until(done: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`no ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiter = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.waiter = undefined;
        resolve();
      };
    });
  }

  /** Sends one frame and checks what the server did with it. Throws on any broken promise. */
  async check(raw: string, before: string): Promise<void> {
    if (!this.ws || this.closeCode !== undefined) await this.connect();
    const ws = this.ws as WebSocket;
    let text = raw;
    const field = /"field":("(?:[^"\\]|\\.)*")/.exec(raw)?.[1];
    let name = '';
    try {
      name = field ? String(JSON.parse(field)) : '';
    } catch {
      // not a JSON string: the frame is garbage anyway
    }
    text = text
      .replace('"__CURRENT__"', String(this.revs.get(name) ?? 0))
      .replace('"__EPOCH__"', JSON.stringify(this.epoch));
    const verdict = oracleClient(text);
    const writesBefore = this.writes.length;
    this.inbox = [];
    ws.send(text);
    const expectAck = !verdict.tooLarge && verdict.readableSetId !== undefined;
    const expectOpen = expectAck || verdict.frame?.type === 'ping';
    if (expectOpen) {
      const ping = ++this.pingId;
      ws.send(JSON.stringify({ type: 'ping', id: ping }));
      await this.until(
        () => this.closeCode !== undefined || this.inbox.some((m) => m.type === 'pong' && m.id === ping),
        'pong',
      );
      if (this.closeCode !== undefined) throw new Error(`closed with ${this.closeCode} after ${text.slice(0, 200)}`);
      const id = verdict.readableSetId;
      if (expectAck) {
        await this.until(() => this.inbox.some((m) => m.type === 'ack' && m.id === id), `ack ${String(id)}`);
        // One more round trip: a second ack would be here by now.
        const ping2 = ++this.pingId;
        ws.send(JSON.stringify({ type: 'ping', id: ping2 }));
        await this.until(
          () => this.closeCode !== undefined || this.inbox.some((m) => m.type === 'pong' && m.id === ping2),
          'pong',
        );
        const acks = this.inbox.filter((m) => m.type === 'ack' && m.id === id).length;
        if (acks !== 1) throw new Error(`${acks} acks for ${text.slice(0, 200)}`);
      }
    } else {
      await this.until(() => this.closeCode !== undefined, 'close');
      const want = verdict.tooLarge ? 1009 : 4400;
      if (this.closeCode !== want)
        throw new Error(`closed with ${String(this.closeCode)}, expected ${want}, after ${text.slice(0, 200)}`);
    }
    const made = this.writes.slice(writesBefore);
    // Only a set of the server's epoch may reach the device (docs/protocol.md rule 3).
    const allowed =
      verdict.frame?.type === 'set' &&
      verdict.frame.epoch === this.epoch &&
      oracleWritable(verdict.frame.field, verdict.frame.value);
    if (made.length > 0 && !allowed)
      throw new Error(`reached the bridge: ${JSON.stringify(made)} from ${text.slice(0, 200)}`);
    if (made.length > 1) throw new Error(`one frame, ${made.length} writes`);
    if (
      made[0] &&
      (made[0].field !== (verdict.frame as { field: string }).field ||
        !Object.is(made[0].value, (verdict.frame as { value: unknown }).value))
    ) {
      throw new Error(`wrote ${JSON.stringify(made[0])} for ${text.slice(0, 200)}`);
    }
    assertPrototypesClean(before);
  }

  async stop(): Promise<void> {
    this.ws?.terminate();
    await this.stopServer();
  }
}

// ------------------------------------------------------------------ running them all

/** Runs every property with `runs` inputs each. */
export async function runFuzz(options: FuzzOptions): Promise<FuzzReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const before = protoSnapshot();
  const properties: FuzzPropertyResult[] = [];
  const params = { numRuns: options.runs, seed: options.seed, endOnFailure: true } as const;
  const sync = (
    name: string,
    property: () =>
      | fc.IPropertyWithHooks<never[]>
      | fc.IPropertyWithHooks<[string]>
      | fc.IPropertyWithHooks<[GeneratedDevice, string, number[], string]>,
  ): void => {
    const t0 = performance.now();
    const result: FuzzPropertyResult = { name, runs: options.runs, ms: 0 };
    try {
      fc.assert(property() as fc.IPropertyWithHooks<unknown[]>, params);
      assertPrototypesClean(before);
    } catch (err) {
      result.failure = describeFailure(err);
    }
    result.ms = Math.round(performance.now() - t0);
    properties.push(result);
    log(`  fuzz: ${name}: ${options.runs} inputs in ${result.ms} ms${result.failure ? ' — FAILED' : ''}`);
  };
  sync('parseClientFrame vs. the protocol oracle', clientParserProperty);
  sync('parseServerFrame returns only clean frames', serverParserProperty);
  sync('parsePattern on arbitrary text', patternParserProperty);
  sync('pattern decoder: arbitrary payloads, generated devices, round trips', patternDecoderProperty);

  const t0 = performance.now();
  const server = await FuzzServer.start();
  const result: FuzzPropertyResult = {
    name: 'live server + MemoryBridge: nothing invalid reaches the bridge, one ack per set',
    runs: options.runs,
    ms: 0,
  };
  try {
    await fc.assert(
      fc.asyncProperty(clientFrameInput, (text) => server.check(text, before)),
      params,
    );
  } catch (err) {
    result.failure = describeFailure(err);
  } finally {
    await server.stop();
  }
  result.ms = Math.round(performance.now() - t0);
  properties.push(result);
  log(
    `  fuzz: ${result.name}: ${options.runs} inputs in ${result.ms} ms (${server.writes.length} writes reached the bridge, ${server.reconnects} sockets)${result.failure ? ' — FAILED' : ''}`,
  );

  const failures = properties.filter((p) => p.failure).map((p) => `${p.name}: ${p.failure}`);
  return {
    properties,
    failures,
    totalInputs: properties.reduce((n, p) => n + p.runs, 0),
    durationMs: performance.now() - started,
  };
}

/** fast-check's message (seed, path, counterexample) and the error the property threw. */
function describeFailure(err: unknown): string {
  const message = (err as Error).message.split('\n').slice(0, 6).join('\n');
  const cause = (err as { cause?: unknown }).cause;
  return cause instanceof Error ? `${message}\n${cause.message.slice(0, 600)}` : message;
}

/** Formats a fuzz report; its last line is `fuzz failures: N`. */
export function formatFuzzReport(r: FuzzReport): string {
  const lines = [
    `fuzz: ${r.totalInputs.toLocaleString('en-US')} generated inputs in ${(r.durationMs / 1000).toFixed(1)} s`,
  ];
  for (const p of r.properties)
    lines.push(
      `  ${p.failure ? 'FAIL' : 'ok  '} ${p.name}: ${p.runs.toLocaleString('en-US')} inputs, ${p.ms} ms${p.failure ? `\n       ${p.failure.replace(/\n/g, '\n       ')}` : ''}`,
    );
  lines.push(`fuzz failures: ${r.failures.length}`);
  return lines.join('\n');
}
