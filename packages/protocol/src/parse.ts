/**
 * Validating parsers for untrusted frames. They never throw on a peer's bytes and never return an
 * object that shares a prototype chain with anything the peer sent: every returned frame is built
 * fresh, key by key, from checked values.
 * @module
 */
import {
  type AckFrame,
  type ClientFrame,
  type EnumOption,
  type ErrorCode,
  type FieldSchema,
  type FieldState,
  type FieldValue,
  type ServerFrame,
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

function isPlainObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Rejects any object carrying a key that could reach a prototype. */
function checkKeys(o: Obj, where: string): void {
  for (const key of Object.keys(o)) {
    if (FORBIDDEN_KEYS.has(key)) fail(`${where}: key "${key}" is not allowed`);
  }
}

function str(o: Obj, key: string, max: number, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`${where}.${key}: expected a string`);
  if (v.length > max) fail(`${where}.${key}: longer than ${max} characters`);
  return v;
}

function optStr(o: Obj, key: string, max: number, where: string): string | undefined {
  return o[key] === undefined ? undefined : str(o, key, max, where);
}

function counter(o: Obj, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_COUNTER) {
    fail(`${where}.${key}: expected an integer from 0 to ${MAX_COUNTER}`);
  }
  return v;
}

function num(o: Obj, key: string, where: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > MAX_ABS_NUMBER) {
    fail(`${where}.${key}: expected a finite number within ±${MAX_ABS_NUMBER}`);
  }
  return v;
}

function optNum(o: Obj, key: string, where: string): number | undefined {
  return o[key] === undefined ? undefined : num(o, key, where);
}

function fieldName(v: unknown, where: string): string {
  if (typeof v !== 'string' || !FIELD_NAME_PATTERN.test(v) || FORBIDDEN_KEYS.has(v)) {
    fail(`${where}: not a valid field name`);
  }
  return v;
}

/** Checks a wire value: finite bounded number, boolean, or bounded string without NUL. */
function wireValue(v: unknown, where: string, allowNull: false): WritableValue;
function wireValue(v: unknown, where: string, allowNull: true): FieldValue;
function wireValue(v: unknown, where: string, allowNull: boolean): FieldValue {
  if (v === null && allowNull) return null;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || Math.abs(v) > MAX_ABS_NUMBER) fail(`${where}: expected a finite number within ±${MAX_ABS_NUMBER}`);
    return v;
  }
  if (typeof v === 'string') {
    if (v.length > MAX_TEXT_LENGTH) fail(`${where}: longer than ${MAX_TEXT_LENGTH} characters`);
    if (v.includes('\u0000')) fail(`${where}: contains a NUL character`);
    return v;
  }
  fail(`${where}: expected a number, boolean or string${allowNull ? ' or null' : ''}`);
}

function parseJsonObject(text: unknown): Obj {
  if (typeof text !== 'string') fail('frame is not text');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    fail('frame is not valid JSON');
  }
  if (!isPlainObject(data)) fail('frame is not a JSON object');
  checkKeys(data, 'frame');
  return data;
}

function sizeError(text: unknown, limit: number): ParseError | undefined {
  if (typeof text === 'string' && utf8Length(text, limit) > limit) {
    return { ok: false, code: 'too-large', message: `frame is larger than ${limit} bytes` };
  }
  return undefined;
}

// ---------------------------------------------------------------- client frames

function readClientFrame(o: Obj): ClientFrame {
  switch (o.type) {
    case 'hello': {
      const device = str(o, 'device', 64, 'hello');
      if (!DEVICE_ID_PATTERN.test(device)) fail('hello.device: not a valid device id');
      const mounts = counter(o, 'mounts', 'hello');
      const token = optStr(o, 'token', MAX_TOKEN_LENGTH, 'hello');
      return token === undefined ? { type: 'hello', device, mounts } : { type: 'hello', device, mounts, token };
    }
    case 'set': {
      const id = counter(o, 'id', 'set');
      const field = fieldName(o.field, 'set.field');
      const value = wireValue(o.value, 'set.value', false);
      const rev = counter(o, 'rev', 'set');
      return { type: 'set', id, field, value, rev };
    }
    case 'ping':
      return { type: 'ping', id: counter(o, 'id', 'ping') };
    default:
      return fail(typeof o.type === 'string' ? `unknown frame type "${o.type.slice(0, 32)}"` : 'frame has no "type"');
  }
}

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
    return { ok: true, frame: readClientFrame(o) };
  } catch (err) {
    const message = err instanceof FrameError ? err.message : 'frame could not be read';
    const error: ParseError = { ok: false, code: 'bad-frame', message };
    if (o && o.type === 'set') {
      const id = o.id;
      if (typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= MAX_COUNTER) {
        error.id = id;
        const f = o.field;
        if (typeof f === 'string' && FIELD_NAME_PATTERN.test(f) && !FORBIDDEN_KEYS.has(f)) error.field = f;
      }
    }
    return error;
  }
}

// ---------------------------------------------------------------- server frames

function readOption(v: unknown, where: string): EnumOption {
  if (!isPlainObject(v)) fail(`${where}: expected an object`);
  checkKeys(v, where);
  const value = str(v, 'value', MAX_TEXT_LENGTH, where);
  const label = optStr(v, 'label', MAX_LABEL_LENGTH, where);
  return label === undefined ? { value } : { value, label };
}

const FIELD_TYPES: ReadonlySet<unknown> = new Set(Object.values(FieldType));

function readSchema(v: unknown, where: string): FieldSchema {
  if (!isPlainObject(v)) fail(`${where}: expected an object`);
  checkKeys(v, where);
  const name = fieldName(v.name, `${where}.name`);
  const label = str(v, 'label', MAX_LABEL_LENGTH, where);
  if (!FIELD_TYPES.has(v.type)) fail(`${where}.type: unknown field type`);
  const type = v.type as FieldSchema['type'];
  if (typeof v.writable !== 'boolean') fail(`${where}.writable: expected a boolean`);
  const schema: FieldSchema = { name, label, type, writable: v.writable };
  const min = optNum(v, 'min', where);
  const max = optNum(v, 'max', where);
  const step = optNum(v, 'step', where);
  const unit = optStr(v, 'unit', MAX_LABEL_LENGTH, where);
  const maxLength = v.maxLength === undefined ? undefined : counter(v, 'maxLength', where);
  if (min !== undefined) schema.min = min;
  if (max !== undefined) schema.max = max;
  if (step !== undefined) {
    if (step <= 0) fail(`${where}.step: must be greater than 0`);
    schema.step = step;
  }
  if (unit !== undefined) schema.unit = unit;
  if (maxLength !== undefined) schema.maxLength = maxLength;
  if (v.options !== undefined) {
    if (!Array.isArray(v.options) || v.options.length > MAX_OPTIONS) fail(`${where}.options: expected an array of at most ${MAX_OPTIONS}`);
    schema.options = v.options.map((opt, i) => readOption(opt, `${where}.options[${i}]`));
  }
  return schema;
}

function readFieldState(v: unknown, where: string): FieldState {
  if (!isPlainObject(v)) fail(`${where}: expected an object`);
  checkKeys(v, where);
  return { value: wireValue(v.value, `${where}.value`, true), rev: counter(v, 'rev', where) };
}

const ERROR_CODES: ReadonlySet<unknown> = new Set(Object.keys(ERROR_CLOSE_CODES));
const REJECT_REASONS: ReadonlySet<unknown> = new Set(REJECT_ORDER);

function readAck(o: Obj): AckFrame {
  const id = counter(o, 'id', 'ack');
  switch (o.status) {
    case 'accepted':
      return { type: 'ack', id, status: 'accepted' };
    case 'unknown':
      return { type: 'ack', id, status: 'unknown' };
    case 'rejected': {
      if (!REJECT_REASONS.has(o.reason)) fail('ack.reason: unknown reason');
      const ack: AckFrame = { type: 'ack', id, status: 'rejected', reason: o.reason as (typeof REJECT_ORDER)[number] };
      const message = optStr(o, 'message', MAX_LABEL_LENGTH * 4, 'ack');
      if (message !== undefined) ack.message = message;
      if (o.field !== undefined) {
        ack.field = fieldName(o.field, 'ack.field');
        if (o.value !== undefined) ack.value = wireValue(o.value, 'ack.value', true);
        if (o.rev !== undefined) ack.rev = counter(o, 'rev', 'ack');
      }
      return ack;
    }
    default:
      return fail('ack.status: unknown status');
  }
}

function readServerFrame(o: Obj): ServerFrame {
  switch (o.type) {
    case 'resync': {
      const epoch = str(o, 'epoch', 128, 'resync');
      if (o.device !== 'online' && o.device !== 'offline') fail('resync.device: expected "online" or "offline"');
      if (!Array.isArray(o.schema) || o.schema.length > MAX_FIELDS) fail(`resync.schema: expected an array of at most ${MAX_FIELDS}`);
      const schema = o.schema.map((s, i) => readSchema(s, `resync.schema[${i}]`));
      if (!isPlainObject(o.fields)) fail('resync.fields: expected an object');
      checkKeys(o.fields, 'resync.fields');
      const entries = Object.entries(o.fields);
      if (entries.length > MAX_FIELDS) fail(`resync.fields: more than ${MAX_FIELDS} fields`);
      // A null-prototype map: field names are keys, and no key can reach Object.prototype.
      const fields: Record<string, FieldState> = Object.create(null) as Record<string, FieldState>;
      for (const [name, state] of entries) {
        fields[fieldName(name, 'resync.fields key')] = readFieldState(state, `resync.fields.${name}`);
      }
      return { type: 'resync', epoch, device: o.device, schema, fields };
    }
    case 'update':
      return {
        type: 'update',
        field: fieldName(o.field, 'update.field'),
        value: wireValue(o.value, 'update.value', true),
        rev: counter(o, 'rev', 'update'),
      };
    case 'ack':
      return readAck(o);
    case 'device':
      if (o.status !== 'offline') fail('device.status: expected "offline"');
      return { type: 'device', status: 'offline' };
    case 'pong':
      return { type: 'pong', id: counter(o, 'id', 'pong') };
    case 'error': {
      if (!ERROR_CODES.has(o.code)) fail('error.code: unknown code');
      return { type: 'error', code: o.code as ErrorCode, message: str(o, 'message', MAX_LABEL_LENGTH * 4, 'error') };
    }
    default:
      return fail(typeof o.type === 'string' ? `unknown frame type "${o.type.slice(0, 32)}"` : 'frame has no "type"');
  }
}

/**
 * Parses a frame a server sent. Never throws. Clients should treat a bad server frame as a
 * broken link (close and reconnect), not trust any part of it.
 */
export function parseServerFrame(text: unknown): ParseResult<ServerFrame> {
  const tooLarge = sizeError(text, MAX_SERVER_FRAME_BYTES);
  if (tooLarge) return tooLarge;
  try {
    return { ok: true, frame: readServerFrame(parseJsonObject(text)) };
  } catch (err) {
    return { ok: false, code: 'bad-frame', message: err instanceof FrameError ? err.message : 'frame could not be read' };
  }
}

/** Serialises a frame. The one place frames become text, on both sides. */
export function encodeFrame(frame: ClientFrame | ServerFrame): string {
  return JSON.stringify(frame);
}
