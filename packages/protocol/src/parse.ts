/**
 * Validating parsers for untrusted frames. They never throw on a peer's bytes and never return an
 * object that shares a prototype chain with anything the peer sent: every returned frame is built
 * fresh, key by key, from checked values.
 * @module
 */
import {
  type AckStatus,
  type ClientFrame,
  type Unrecognized,
  DeviceStatus,
  type EnumOption,
  type ErrorCode,
  type FieldSchema,
  type FieldState,
  type FieldValue,
  type ServerFrame,
  type UpdateFrame,
  type WritableValue,
  FieldType,
  REJECT_ORDER,
  ERROR_CLOSE_CODES,
} from './frames.js';
import {
  DEVICE_ID_PATTERN,
  FIELD_NAME_PATTERN,
  FORBIDDEN_KEYS,
  MAX_ABS_NUMBER,
  MAX_COUNTER,
  MAX_DEVICE_ID_LENGTH,
  MAX_EPOCH_LENGTH,
  MAX_FIELDS,
  MAX_FRAME_BYTES,
  MAX_SERVER_FRAME_BYTES,
  MAX_LABEL_LENGTH,
  MAX_OPTIONS,
  MAX_TEXT_LENGTH,
  MAX_TOKEN_LENGTH,
} from './limits.js';

/** Why a frame could not be parsed. `too-large` maps to close 1009, `bad-frame` to 4400. */
export type ParseErrorCode = Extract<ErrorCode, 'bad-frame' | 'too-large'>;

/** A frame that could not be parsed. */
export interface ParseError {
  ok: false;
  code: ParseErrorCode;
  /** What was wrong, for logs and the `error` frame. Never contains the peer's raw bytes beyond a short excerpt. */
  message: string;
  /**
   * Set when the frame was a `set` whose `id` could be read: the server must then answer
   * `ack rejected/invalid` for that id instead of closing the socket.
   */
  id?: number;
  /** Set with `id` when the `set`'s field name could be read too. */
  field?: string;
}

export type ParseResult<T> = { ok: true; frame: T } | ParseError;

/**
 * UTF-8 length of a string, counted only when the cheap bound (3 bytes per UTF-16 unit) is not
 * enough. Counted by hand so the protocol needs neither DOM nor Node typings.
 */
function utf8Length(text: string, limit: number): number {
  if (text.length * 3 <= limit) return text.length;
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      bytes += 4; // a surrogate pair is one 4-byte code point
      i++;
    } else bytes += 3;
  }
  return bytes;
}

class FrameError {
  constructor(readonly message: string) {}
}

function fail(message: string): never {
  throw new FrameError(message);
}

type Obj = Record<string, unknown>;

/**
 * Checks one value and returns it; `where` names it in the error message (`resync.schema[0].min`).
 * Only an optional check of an absent value returns `undefined`.
 */
type Check<T = unknown> = (v: unknown, where: string) => T;

/** The checks of an object's keys, in the order they are checked and copied. */
type Spec = Readonly<Record<string, Check>>;

function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * `v` as a plain object none of whose keys could reach a prototype. `notObject` is the message
 * when it is not an object at all.
 */
/** `FORBIDDEN_KEYS` as an array, for an index loop. */
const FORBIDDEN = [...FORBIDDEN_KEYS];

function obj(v: unknown, where: string, notObject = `${where}: expected an object`): Obj {
  if (!isPlainObject(v)) fail(notObject);
  // Three lookups, not a walk of every key: the same answer, without an array of the keys.
  for (let i = 0; i < FORBIDDEN.length; i++) {
    const key = FORBIDDEN[i] as string;
    if (Object.hasOwn(v, key)) fail(`${where}: key "${key}" is not allowed`);
  }
  return v;
}

/**
 * Copies the keys of `spec` from `o` into `into`, each checked, in the order of `spec`: the result
 * is built fresh, and nothing else of `o` is kept. A key whose check returns `undefined` (an
 * absent optional value) is left out.
 */
function read<T>(o: Obj, where: string, spec: Spec, into: Obj = {}): T {
  for (const [key, check] of Object.entries(spec)) {
    const v = check(o[key], `${where}.${key}`);
    if (v !== undefined) into[key] = v;
  }
  return into as T;
}

/** The same check, passing an absent (`undefined`) value. */
const opt =
  <T>(check: Check<T>): Check<T | undefined> =>
  (v, where) =>
    v === undefined ? undefined : check(v, where);

/** A string of at most `max` characters (by default `MAX_LABEL_LENGTH`, the limit of anything shown to a user). */
const str =
  (max = MAX_LABEL_LENGTH): Check<string> =>
  (v, where) => {
    if (typeof v !== 'string') fail(`${where}: expected a string`);
    if (v.length > max) fail(`${where}: longer than ${max} characters`);
    return v;
  };

function isCounter(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_COUNTER;
}

/** An `id`, `rev`, `mounts` or `maxLength`: an integer from 0 to `MAX_COUNTER`. */
const counter: Check<number> = (v, where) => {
  if (!isCounter(v)) fail(`${where}: expected an integer from 0 to ${MAX_COUNTER}`);
  return v;
};

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_ABS_NUMBER;
}

const num: Check<number> = (v, where) => {
  if (!isNum(v)) fail(`${where}: expected a finite number within ±${MAX_ABS_NUMBER}`);
  return v;
};

/** One of `values` (compared with `===`); `expected` says what was expected. */
const oneOf =
  <T>(values: readonly T[], expected: string): Check<T> =>
  (v, where) => {
    if (!values.includes(v as T)) fail(`${where}: ${expected}`);
    return v as T;
  };

/** An array of at most `max` items, each checked by `check` (as `where[i]`). */
const list =
  <T>(max: number, check: Check<T>): Check<T[]> =>
  (v, where) => {
    if (!Array.isArray(v) || v.length > max) fail(`${where}: expected an array of at most ${max}`);
    return v.map((item, i) => check(item, `${where}[${i}]`));
  };

/** How a value this version does not know may look (see `Unrecognized`). */
const UNRECOGNIZED_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;

/**
 * One of `values`, or a word this version does not know, passed on as it is (forward compatibility:
 * a newer server may send it); anything else, and any of `refused` (known, but never valid here),
 * fails with `expected`.
 */
const oneOfOrNewer =
  <T extends string>(
    values: readonly T[],
    expected: string,
    refused: readonly string[] = [],
  ): Check<T | Unrecognized> =>
  (v, where) => {
    if (values.includes(v as T)) return v as T;
    if (typeof v !== 'string' || !UNRECOGNIZED_PATTERN.test(v) || refused.includes(v)) fail(`${where}: ${expected}`);
    return v;
  };

function isFieldName(v: unknown): v is string {
  return typeof v === 'string' && FIELD_NAME_PATTERN.test(v) && !FORBIDDEN_KEYS.has(v);
}

const fieldName: Check<string> = (v, where) => {
  if (!isFieldName(v)) fail(`${where}: not a valid field name`);
  return v;
};

/** A text value, an enum option's value. */
const TEXT = str(MAX_TEXT_LENGTH);

/** A value a client may write: a boolean, a finite bounded number, or a bounded string without NUL. */
function isWritableValue(v: unknown): v is WritableValue {
  return (
    typeof v === 'boolean' ||
    isNum(v) ||
    (typeof v === 'string' && v.length <= MAX_TEXT_LENGTH && !v.includes('\u0000'))
  );
}

/** A wire value ({@link isWritableValue}) or `null`. */
const VALUE_OR_NULL: Check<FieldValue> = (v, where) => {
  if (v === null || isWritableValue(v)) return v;
  // Not a wire value: the first check that fails names what is wrong.
  if (typeof v === 'number') num(v, where);
  if (typeof v === 'string') {
    TEXT(v, where);
    fail(`${where}: contains a NUL character`);
  }
  fail(`${where}: expected a number, boolean or string or null`);
};

/** An epoch: 1 to `MAX_EPOCH_LENGTH` characters. */
const epoch: Check<string> = (v, where) => {
  if (str(MAX_EPOCH_LENGTH)(v, where) === '') fail(`${where}: expected a non-empty string`);
  return v as string;
};

function parseJsonObject(text: unknown): Obj {
  if (typeof text !== 'string') fail('frame is not text');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    fail('frame is not valid JSON');
  }
  return obj(data, 'frame', 'frame is not a JSON object');
}

function sizeError(text: unknown, limit: number): ParseError | undefined {
  if (typeof text === 'string' && utf8Length(text, limit) > limit) {
    return { ok: false, code: 'too-large', message: `frame is larger than ${limit} bytes` };
  }
  return undefined;
}

/** Reads a frame whose `type` is a key of `frames`, by that type's spec. */
function readFrame<T>(o: Obj, frames: ReadonlyMap<unknown, Spec>): T {
  const spec = frames.get(o.type);
  if (!spec) fail(typeof o.type === 'string' ? `unknown frame type "${o.type.slice(0, 32)}"` : 'frame has no "type"');
  return read(o, o.type as string, spec, { type: o.type });
}

/** The `bad-frame` error for what a reader threw. */
function badFrame(err: unknown): ParseError {
  return { ok: false, code: 'bad-frame', message: err instanceof FrameError ? err.message : 'frame could not be read' };
}

// ---------------------------------------------------------------- client frames

const DEVICE_ID = /* @__PURE__ */ str(MAX_DEVICE_ID_LENGTH);

const CLIENT_FRAMES: ReadonlyMap<unknown, Spec> = /* @__PURE__ */ new Map<unknown, Spec>([
  [
    'hello',
    {
      device: (v, where) => {
        if (!DEVICE_ID_PATTERN.test(DEVICE_ID(v, where))) fail(`${where}: not a valid device id`);
        return v;
      },
      mounts: counter,
      token: /* @__PURE__ */ opt(/* @__PURE__ */ str(MAX_TOKEN_LENGTH)),
    },
  ],
  // `value: null` is an action's press (docs/protocol.md rule 12); the server refuses it for any other field.
  ['set', { id: counter, field: fieldName, value: VALUE_OR_NULL, rev: counter, epoch }],
  ['ping', { id: counter }],
]);

/**
 * Parses a frame a client sent. Never throws.
 *
 * A `set` whose `id` is readable but which is otherwise bad yields a `ParseError` carrying that `id`
 * (and `field` when readable), so the server can answer it with `ack rejected/invalid` rather
 * than close the socket: every `set` with a readable id gets exactly one ack.
 *
 * @example
 * const r = parseClientFrame(text);
 * if (!r.ok) return r.id === undefined ? closeWith(r.code) : rejectInvalid(r.id, r.message);
 */
export function parseClientFrame(text: unknown): ParseResult<ClientFrame> {
  const tooLarge = sizeError(text, MAX_FRAME_BYTES);
  if (tooLarge) return tooLarge;
  let o: Obj | undefined;
  try {
    o = parseJsonObject(text);
    return { ok: true, frame: readFrame(o, CLIENT_FRAMES) };
  } catch (err) {
    const error = badFrame(err);
    if (o && o.type === 'set') {
      const id = o.id;
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= MAX_COUNTER) {
        error.id = id;
        if (isFieldName(o.field)) error.field = o.field;
      }
    }
    return error;
  }
}

// ---------------------------------------------------------------- server frames

const SCHEMA: Spec = {
  name: fieldName,
  label: str(),
  type: oneOfOrNewer(Object.values(FieldType), 'expected a field type'),
  writable: oneOf([true, false], 'expected a boolean'),
  min: opt(num),
  max: opt(num),
  step: opt(num),
  unit: opt(str()),
  maxLength: opt(counter),
  help: opt(str()),
};

const OPTIONS = list(MAX_OPTIONS, (v, where): EnumOption =>
  read(obj(v, where), where, { value: TEXT, label: opt(str()) }),
);

const readSchema: Check<FieldSchema> = (v, where) => {
  const o = obj(v, where);
  const schema = read<FieldSchema>(o, where, SCHEMA);
  // A type from a newer server: shown as read-only text, never written (forward compatibility).
  if (!(Object.values(FieldType) as string[]).includes(schema.type)) {
    schema.type = FieldType.Text;
    schema.writable = false;
  }
  if (schema.step! <= 0) fail(`${where}.step: must be greater than 0`);
  if (o.options !== undefined) schema.options = OPTIONS(o.options, `${where}.options`);
  return schema;
};

const FIELD_STATE: Spec = { value: VALUE_OR_NULL, rev: counter };

/** `resync.fields`: a null-prototype map, so no field name can reach `Object.prototype`. */
const fieldStates: Check<Record<string, FieldState>> = (v, where) => {
  const entries = Object.entries(obj(v, where));
  if (entries.length > MAX_FIELDS) fail(`${where}: more than ${MAX_FIELDS} fields`);
  const fields = Object.create(null) as Record<string, FieldState>;
  for (const [name, state] of entries) {
    fields[fieldName(name, `${where} key`)] = read(obj(state, `${where}.${name}`), `${where}.${name}`, FIELD_STATE);
  }
  return fields;
};

/** A human-readable message from the server (`error.message`, `ack.message`). */
const MESSAGE = str(MAX_LABEL_LENGTH * 4);

const SERVER_FRAMES: ReadonlyMap<unknown, Spec> = new Map<unknown, Spec>([
  [
    'resync',
    {
      epoch,
      // Never `gone`: a gone device has no state to sync (a `device` frame says it).
      device: oneOfOrNewer<Exclude<DeviceStatus, 'gone'>>(
        [DeviceStatus.Online, DeviceStatus.Offline, DeviceStatus.Lagging],
        'expected "online", "offline" or "lagging"',
        [DeviceStatus.Gone],
      ),
      schema: list(MAX_FIELDS, readSchema),
      fields: fieldStates,
    },
  ],
  ['update', { field: fieldName, value: VALUE_OR_NULL, rev: counter }],
  ['ack', { id: counter, status: oneOf<AckStatus>(['accepted', 'unknown', 'rejected'], 'unknown status') }],
  // Never `online`: a device that is back is announced by a fresh resync.
  [
    'device',
    { status: oneOfOrNewer(['offline', 'lagging', 'gone'], 'expected "offline", "lagging" or "gone"', ['online']) },
  ],
  ['pong', { id: counter }],
  ['error', { code: oneOfOrNewer(Object.keys(ERROR_CLOSE_CODES), 'expected an error code'), message: MESSAGE }],
]);

/** What a `rejected` ack adds; `CURRENT` only when it names a field. */
const REJECTED: Spec = { reason: oneOfOrNewer(REJECT_ORDER, 'expected a reason'), message: opt(MESSAGE) };
const CURRENT: Spec = { field: fieldName, value: opt(VALUE_OR_NULL), rev: opt(counter) };

/**
 * A client's hot path: an `update` read with the same checks as its spec in `SERVER_FRAMES`, made
 * directly (no spec walk, no error paths built). `undefined` for any `update` it does not accept as
 * it is: `readServerFrame` then reads it again and says what is wrong, so a bad `update` is refused
 * exactly as any other bad frame.
 */
function readUpdate(o: Obj): UpdateFrame | undefined {
  const { field, value, rev } = o;
  if (isFieldName(field) && (value === null || isWritableValue(value)) && isCounter(rev)) {
    return { type: 'update', field, value, rev };
  }
  return undefined;
}

function readServerFrame(o: Obj): ServerFrame {
  const frame = readFrame<Obj>(o, SERVER_FRAMES);
  if (frame.type === 'ack' && frame.status === 'rejected') {
    read(o, 'ack', REJECTED, frame);
    if (o.field !== undefined) read(o, 'ack', CURRENT, frame);
  }
  return frame as unknown as ServerFrame;
}

/**
 * Parses a frame a server sent. Never throws. Clients should treat a bad server frame as a
 * broken link (close and reconnect), not trust any part of it.
 */
export function parseServerFrame(text: unknown): ParseResult<ServerFrame> {
  const tooLarge = sizeError(text, MAX_SERVER_FRAME_BYTES);
  if (tooLarge) return tooLarge;
  try {
    const o = parseJsonObject(text);
    return { ok: true, frame: (o.type === 'update' && readUpdate(o)) || readServerFrame(o) };
  } catch (err) {
    return badFrame(err);
  }
}

/** Serialises a frame. The one place frames become text, on both sides (and `encodeUpdate`). */
export function encodeFrame(frame: ClientFrame | ServerFrame): string {
  return JSON.stringify(frame);
}

/**
 * `encodeFrame` of an `update` (the frame a server sends most), the same text without serialising
 * an object: `JSON.stringify` of the frame object was the SDK's largest own cost on a status's way
 * out (BENCHMARKS.md, figure 1). `rev` is a counter (`isCounter`), so it is written as it is.
 */
export function encodeUpdate(field: string, value: FieldValue, rev: number): string {
  return `{"type":"update","field":${JSON.stringify(field)},"value":${JSON.stringify(value)},"rev":${rev}}`;
}
