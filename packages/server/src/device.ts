/**
 * Device descriptions (DESIGN §4): a device's fields, their limits, and how each is read from and
 * written to MQTT. Written in TypeScript with {@link defineDevice}, or as a JSON file of the same
 * shape loaded with {@link loadDeviceFile} / {@link parseDeviceDescription}. Every entry point
 * checks the whole description and names the path of each bad entry, e.g.
 * `fields.genlock_phase_h.min: expected a number`.
 *
 * @example
 * const videoproc = defineDevice({
 *   id: 'videoproc',
 *   availability: { topic: 'cy-vp4/status/online', online: '1', offline: '0' },
 *   topics: [{
 *     status: 'cy-vp4/videoproc/status/volatile/genlock_phase', pattern: '{genlock_phase_h} {genlock_phase_v}',
 *     set: 'cy-vp4/videoproc/action/set/genlock', template: 'genlock {genlock_phase_h} {genlock_phase_v}',
 *   }],
 *   fields: {
 *     genlock_phase_h: { label: 'Phase Horizontal', type: 'integer', min: -512, max: 511, writable: true },
 *     genlock_phase_v: { label: 'Phase Vertical', type: 'integer', min: -512, max: 511, writable: true },
 *   },
 * });
 * @module
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import {
  DEVICE_ID_PATTERN,
  FIELD_NAME_PATTERN,
  FORBIDDEN_KEYS,
  MAX_ABS_NUMBER,
  MAX_FIELDS,
  MAX_LABEL_LENGTH,
  MAX_OPTIONS,
  MAX_TEXT_LENGTH,
  type FieldSchema,
  type FieldValue,
  type WritableValue,
} from '@live-device-form/protocol';
import { parseJsonPointer, parsePattern, separatorsOf, type PatternPart } from './codecs.js';

// ---------------------------------------------------------------- types

/** Properties every field has. */
interface FieldDescriptionBase {
  /** What the user sees. Defaults to the field's name. */
  label?: string;
  /** Whether pages may write it. A writable field needs a `set` topic. Defaults to `false`. */
  writable?: boolean;
}

/** A `number` or `integer` field. */
export interface NumberFieldDescription extends FieldDescriptionBase {
  type: 'number' | 'integer';
  /** Smallest value a page may write. */
  min?: number;
  /** Largest value a page may write. */
  max?: number;
  /**
   * Written values must be `min + k * step` (or `k * step` without `min`). A `number` field with a
   * step is written with as many decimals as the step has (`0.05` → `"0.30"`).
   */
  step?: number;
  /** Unit shown beside the value, e.g. `"%"` or `"ms"`. */
  unit?: string;
}

/** A `boolean` field, with the payload tokens that stand for true and false. */
export interface BooleanFieldDescription extends FieldDescriptionBase {
  type: 'boolean';
  /** The payload token for `true`. Defaults to `"true"`. */
  true?: string;
  /** The payload token for `false`. Defaults to `"false"`. */
  false?: string;
}

/** One option of an `enum` field. */
export interface EnumOptionDescription {
  /** The value pages see and send. */
  value: string;
  /** The payload token on MQTT. Defaults to `value`. Never sent to pages. */
  token?: string;
  /** What the user sees. Defaults to `value`. */
  label?: string;
}

/** An `enum` field. */
export interface EnumFieldDescription extends FieldDescriptionBase {
  type: 'enum';
  /** The options, in display order; at least one. */
  options: readonly EnumOptionDescription[];
}

/** A `text` field. */
export interface TextFieldDescription extends FieldDescriptionBase {
  type: 'text';
  /** Longest text a page may write. Defaults to `MAX_TEXT_LENGTH` (1024). */
  maxLength?: number;
}

/** A field of a device. */
export type FieldDescription =
  NumberFieldDescription | BooleanFieldDescription | EnumFieldDescription | TextFieldDescription;

/** The device's availability topic, typically its Last Will: a retained "online"/"offline" payload. */
export interface AvailabilityDescription {
  /** The topic. */
  topic: string;
  /** The payload that means online. Defaults to `"online"`. */
  online?: string;
  /** The payload that means offline. Defaults to `"offline"`. Any other payload counts as offline too. */
  offline?: string;
}

/**
 * A topic whose payloads are text patterns: `{field}` placeholders between literal text, e.g.
 * `genlock {genlock_phase_h} {genlock_phase_v}`. `{{` and `}}` stand for literal braces.
 */
export interface PatternTopicDescription {
  /** The status topic the fields are read from. Requires `pattern`. */
  status?: string;
  /** The payload pattern of `status`. */
  pattern?: string;
  /** The action topic the fields are written to. Requires `template`. */
  set?: string;
  /** The payload template of `set`. A write fills every other placeholder with that field's freshest value. */
  template?: string;
}

/** A topic whose payloads are JSON objects, with a JSON pointer (RFC 6901) per field. */
export interface JsonTopicDescription<F extends string = string> {
  /** The status topic the fields are read from. */
  status?: string;
  /** The action topic the fields are written to. */
  set?: string;
  /** Field name → JSON pointer, e.g. `{ "brightness": "/video/brightness" }`. */
  json: Readonly<Partial<Record<F, string>>>;
  /**
   * What a write sends: `"changed"`, only the written field; `"all"`, every writable field of this
   * mapping (the others with their freshest values). Defaults to `"changed"`.
   */
  send?: 'changed' | 'all';
}

/** A write handed to a custom `encode`. */
export interface CustomWrite<F extends string = string> {
  /** The field being written. */
  field: F;
  /** Its new value. */
  value: WritableValue;
  /**
   * Every field of the mapping: the written one with its new value, the others with their freshest
   * value (`null` when not known).
   */
  values: Readonly<Record<F, FieldValue>>;
}

/** A topic read and written by your own functions (TypeScript API only). */
export interface CustomTopicDescription<F extends string = string> {
  /** The status topic. Requires `decode`. */
  status?: string;
  /** The action topic. Requires `encode`. */
  set?: string;
  /** The fields this mapping carries. */
  fields: readonly F[];
  /**
   * Turns a status payload into field values (pages' values: enum values, not tokens). Return
   * `undefined` or `null`, or throw, for a payload that does not match: it is logged and ignored.
   */
  decode?: (payload: Buffer, topic: string) => Partial<Record<F, FieldValue>> | undefined | null;
  /** Turns a write into the action payload. Return `undefined` or `null`, or throw, to refuse it (not published). */
  encode?: (write: CustomWrite<F>) => string | Uint8Array | undefined | null;
}

/** How some fields map to topics: one of the three codecs. */
export type TopicDescription<F extends string = string> =
  PatternTopicDescription | JsonTopicDescription<F> | CustomTopicDescription<F>;

/** A device: its id, availability, topic mappings and fields (DESIGN §4). */
export interface DeviceDescription<F extends string = string> {
  /** The id pages send in `hello.device`; matches `DEVICE_ID_PATTERN`. */
  id: string;
  /** The availability topic. Without one, the device counts as online whenever the broker is. */
  availability?: AvailabilityDescription;
  /** How fields are read and written. Each field is read from exactly one status topic. */
  topics: readonly TopicDescription<F>[];
  /** The fields, in display order. */
  fields: Readonly<Record<F, FieldDescription>>;
}

/** Which codec a topic mapping uses. */
export type TopicKind = 'pattern' | 'json' | 'custom';

/** Tells the codec of a topic mapping from its keys. */
export function topicKind(topic: TopicDescription): TopicKind {
  if ('json' in topic) return 'json';
  if ('fields' in topic || 'decode' in topic || 'encode' in topic) return 'custom';
  return 'pattern';
}

/**
 * A description that is not valid (a configuration mistake, hence a `TypeError`). `issues` holds one
 * `path: problem` line per bad entry.
 */
export class DeviceDescriptionError extends TypeError {
  /** One `path: problem` line per bad entry, e.g. `fields.genlock_phase_h.min: expected a number`. */
  readonly issues: readonly string[];

  constructor(source: string, issues: readonly string[]) {
    super(`invalid device description${source ? ` in ${source}` : ''}:\n  ${issues.join('\n  ')}`);
    this.name = 'DeviceDescriptionError';
    this.issues = issues;
  }
}

/** The result of {@link parseDeviceDescription}. */
export type ParseDeviceResult = { ok: true; device: DeviceDescription } | { ok: false; issues: string[] };

// ---------------------------------------------------------------- zod schemas (shape only)

const finite = z.number().refine((n) => Number.isFinite(n) && Math.abs(n) <= MAX_ABS_NUMBER, {
  message: `expected a finite number within ±${MAX_ABS_NUMBER}`,
});
const label = z.string().min(1).max(MAX_LABEL_LENGTH);
const token = z.string().max(MAX_TEXT_LENGTH);

const fieldShape = z.strictObject({
  label: label.optional(),
  type: z.enum(['number', 'integer', 'boolean', 'enum', 'text']),
  writable: z.boolean().optional(),
  min: finite.optional(),
  max: finite.optional(),
  step: finite.optional(),
  unit: z.string().max(MAX_LABEL_LENGTH).optional(),
  true: token.optional(),
  false: token.optional(),
  options: z
    .array(
      z.strictObject({
        value: z.string().min(1).max(MAX_TEXT_LENGTH),
        token: token.optional(),
        label: label.optional(),
      }),
    )
    .max(MAX_OPTIONS)
    .optional(),
  maxLength: z.number().int().min(1).max(MAX_TEXT_LENGTH).optional(),
});

const topicString = z.string().min(1);

const availabilityShape = z.strictObject({
  topic: topicString,
  online: token.optional(),
  offline: token.optional(),
});

const patternTopicShape = z.strictObject({
  status: topicString.optional(),
  pattern: z.string().min(1).max(MAX_TEXT_LENGTH).optional(),
  set: topicString.optional(),
  template: z.string().min(1).max(MAX_TEXT_LENGTH).optional(),
});

const jsonTopicShape = z.strictObject({
  status: topicString.optional(),
  set: topicString.optional(),
  json: z.record(z.string(), z.string().max(MAX_TEXT_LENGTH)),
  send: z.enum(['changed', 'all']).optional(),
});

const customTopicShape = z.strictObject({
  status: topicString.optional(),
  set: topicString.optional(),
  fields: z.array(z.string()).min(1),
  decode: z.function().optional(),
  encode: z.function().optional(),
});

const deviceShape = z.strictObject({
  id: z.string(),
  availability: availabilityShape.optional(),
  topics: z.array(z.unknown()).min(1),
  fields: z.record(z.string(), fieldShape),
});

const ARTICLE: Record<string, string> = {
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  object: 'an object',
  record: 'an object',
  array: 'an array',
  function: 'a function',
  int: 'an integer',
};

/** Plain-English messages for zod's issue codes, so a path reads `…min: expected a number`. */
const errorMap: z.core.$ZodErrorMap = (iss) => {
  if ((iss.code === 'invalid_type' || iss.code === 'invalid_value') && iss.input === undefined) return 'required';
  switch (iss.code) {
    case 'invalid_type':
      return `expected ${ARTICLE[iss.expected] ?? iss.expected}`;
    case 'invalid_value':
      return `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'too_small':
      if (iss.origin === 'string')
        return Number(iss.minimum) <= 1 ? 'must not be empty' : `shorter than ${iss.minimum} characters`;
      if (iss.origin === 'array')
        return `expected at least ${iss.minimum} entr${Number(iss.minimum) === 1 ? 'y' : 'ies'}`;
      return `must be at least ${iss.minimum}`;
    case 'too_big':
      if (iss.origin === 'string') return `longer than ${iss.maximum} characters`;
      if (iss.origin === 'array') return `more than ${iss.maximum} entries`;
      return `must be at most ${iss.maximum}`;
    default:
      return undefined;
  }
};

/** `['topics', 0, 'pattern']` → `topics[0].pattern`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

class Issues {
  readonly list: string[] = [];
  add(path: readonly PropertyKey[], message: string): void {
    this.list.push(`${formatPath(path)}: ${message}`);
  }
  fromZod(prefix: readonly PropertyKey[], error: z.ZodError): void {
    for (const iss of error.issues) {
      if (iss.code === 'unrecognized_keys') {
        for (const key of iss.keys) this.add([...prefix, ...iss.path, key], 'unknown key');
      } else {
        this.add([...prefix, ...iss.path], iss.message);
      }
    }
  }
}

/** Reports every `__proto__`/`constructor`/`prototype` key, so no description can reach a prototype. */
function checkForbiddenKeys(value: unknown, path: PropertyKey[], issues: Issues, depth = 0): void {
  if (depth > 16 || value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v, i) => checkForbiddenKeys(v, [...path, i], issues, depth + 1));
    return;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) issues.add([...path, key], 'forbidden key');
    else checkForbiddenKeys((value as Record<string, unknown>)[key], [...path, key], issues, depth + 1);
  }
}

// ---------------------------------------------------------------- semantic checks

/** Longest topic MQTT allows, in UTF-8 bytes. */
const MAX_TOPIC_BYTES = 65535;

function checkTopic(topic: string, path: PropertyKey[], issues: Issues): void {
  if (/[+#]/.test(topic)) issues.add(path, 'must not contain the wildcards "+" or "#"');
  else if (topic.includes('\u0000')) issues.add(path, 'must not contain a NUL character');
  else if (/[{}]/.test(topic))
    issues.add(path, 'must not contain "{" or "}": topics are literal, a field name never becomes part of a topic');
  else if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) issues.add(path, `longer than ${MAX_TOPIC_BYTES} bytes`);
}

function checkField(name: string, f: z.infer<typeof fieldShape>, issues: Issues): void {
  const at = (key: string): PropertyKey[] => ['fields', name, key];
  const numeric = f.type === 'number' || f.type === 'integer';
  if (!FIELD_NAME_PATTERN.test(name))
    issues.add(['fields', name], 'not a valid field name (a letter or "_", then letters, digits or "_", at most 64)');
  for (const key of ['min', 'max', 'step', 'unit'] as const) {
    if (f[key] !== undefined && !numeric) issues.add(at(key), `only number and integer fields have ${key}`);
  }
  if (f.min !== undefined && f.max !== undefined && f.min > f.max) issues.add(at('min'), `greater than max (${f.max})`);
  if (f.step !== undefined && numeric && f.step <= 0) issues.add(at('step'), 'must be greater than 0');
  if (f.type === 'integer' && f.step !== undefined && !Number.isInteger(f.step))
    issues.add(at('step'), 'an integer field needs an integer step');
  for (const key of ['true', 'false'] as const) {
    if (f[key] !== undefined && f.type !== 'boolean') issues.add(at(key), 'only boolean fields have true/false tokens');
  }
  if (f.type === 'boolean' && (f.true ?? 'true') === (f.false ?? 'false'))
    issues.add(at('false'), 'the true and false tokens must differ');
  if (f.maxLength !== undefined && f.type !== 'text') issues.add(at('maxLength'), 'only text fields have maxLength');
  if (f.type === 'enum') {
    if (!f.options || f.options.length === 0) issues.add(at('options'), 'an enum field needs at least one option');
    else {
      const values = new Set<string>();
      const tokens = new Set<string>();
      f.options.forEach((o, i) => {
        if (values.has(o.value)) issues.add(['fields', name, 'options', i, 'value'], `duplicate value "${o.value}"`);
        const t = o.token ?? o.value;
        if (tokens.has(t)) issues.add(['fields', name, 'options', i, 'token'], `duplicate token "${t}"`);
        values.add(o.value);
        tokens.add(t);
      });
    }
  } else if (f.options !== undefined) issues.add(at('options'), 'only enum fields have options');
}

/** Where each field is read from and written to, collected while checking topics. */
interface Routes {
  readers: Map<string, string>; // field → path of its status mapping
  writers: Map<string, string>; // field → path of its set mapping
}

function claim(
  map: Map<string, string>,
  field: string,
  where: string,
  role: string,
  path: PropertyKey[],
  issues: Issues,
): void {
  const before = map.get(field);
  if (before !== undefined) issues.add(path, `field "${field}" is already ${role} by ${before}`);
  else map.set(field, where);
}

function checkPattern(
  text: string,
  path: PropertyKey[],
  fields: Readonly<Record<string, unknown>>,
  issues: Issues,
): readonly PatternPart[] | undefined {
  const parsed = parsePattern(text);
  if (!parsed.ok) {
    issues.add(path, parsed.message);
    return undefined;
  }
  for (const part of parsed.parts) {
    if (part.kind === 'field' && !Object.hasOwn(fields, part.name)) issues.add(path, `unknown field "{${part.name}}"`);
  }
  return parsed.parts;
}

function checkTopicEntry(
  entry: unknown,
  i: number,
  fields: Readonly<Record<string, unknown>>,
  allowCustom: boolean,
  routes: Routes,
  issues: Issues,
): void {
  const base: PropertyKey[] = ['topics', i];
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    issues.add(base, 'expected an object');
    return;
  }
  const kind = topicKind(entry as TopicDescription);
  const where = formatPath(base);
  const e = entry as Record<string, unknown>;
  if (e.status === undefined && e.set === undefined) issues.add(base, 'needs a "status" topic, a "set" topic, or both');

  if (kind === 'pattern') {
    const r = patternTopicShape.safeParse(entry, { error: errorMap });
    if (!r.success) return issues.fromZod(base, r.error);
    const t = r.data;
    if ((t.status === undefined) !== (t.pattern === undefined)) {
      issues.add([...base, t.status === undefined ? 'status' : 'pattern'], '"status" and "pattern" go together');
    }
    if ((t.set === undefined) !== (t.template === undefined)) {
      issues.add([...base, t.set === undefined ? 'set' : 'template'], '"set" and "template" go together');
    }
    if (t.pattern !== undefined && t.status !== undefined) {
      for (const p of checkPattern(t.pattern, [...base, 'pattern'], fields, issues) ?? []) {
        if (p.kind === 'field' && Object.hasOwn(fields, p.name))
          claim(routes.readers, p.name, where, 'read', [...base, 'pattern'], issues);
      }
    }
    const setParts =
      t.template !== undefined && t.set !== undefined
        ? checkPattern(t.template, [...base, 'template'], fields, issues)
        : undefined;
    for (const p of setParts ?? []) {
      if (p.kind === 'field' && Object.hasOwn(fields, p.name))
        claim(routes.writers, p.name, where, 'written', [...base, 'template'], issues);
    }
    // A token containing a separator could not be told apart from the next field.
    const seps = new Set<string>();
    const names = new Set<string>();
    for (const text of [t.pattern, t.template]) {
      const r = text === undefined ? undefined : parsePattern(text);
      if (!r?.ok) continue;
      for (const sep of separatorsOf(r.parts)) seps.add(sep);
      for (const p of r.parts) if (p.kind === 'field') names.add(p.name);
    }
    for (const name of names) {
      const f = Object.hasOwn(fields, name) ? (fields[name] as z.infer<typeof fieldShape>) : undefined;
      const tokens: [PropertyKey[], string][] =
        f?.type === 'boolean'
          ? [
              [['fields', name, 'true'], f.true ?? 'true'],
              [['fields', name, 'false'], f.false ?? 'false'],
            ]
          : f?.type === 'enum'
            ? (f.options ?? []).map((o, j): [PropertyKey[], string] => [
                ['fields', name, 'options', j, 'token'],
                o.token ?? o.value,
              ])
            : [];
      for (const [path, tok] of tokens) {
        const sep = [...seps].find((s) => tok.includes(s));
        if (sep !== undefined)
          issues.add(path, `token ${JSON.stringify(tok)} contains ${JSON.stringify(sep)}, a separator of ${where}`);
      }
    }
  } else if (kind === 'json') {
    const r = jsonTopicShape.safeParse(entry, { error: errorMap });
    if (!r.success) return issues.fromZod(base, r.error);
    const names = Object.keys(r.data.json);
    if (names.length === 0) issues.add([...base, 'json'], 'expected at least one field');
    const pointers: { name: string; segments: string[] }[] = [];
    for (const name of names) {
      const path = [...base, 'json', name];
      if (!Object.hasOwn(fields, name)) {
        issues.add(path, `unknown field "${name}"`);
        continue;
      }
      const parsed = parseJsonPointer(r.data.json[name] as string);
      if (!parsed.ok) issues.add(path, parsed.message);
      else {
        const clash = pointers.find(
          (p) => isPrefix(p.segments, parsed.segments) || isPrefix(parsed.segments, p.segments),
        );
        if (clash) issues.add(path, `overlaps the pointer of "${clash.name}"`);
        pointers.push({ name, segments: parsed.segments });
      }
      if (r.data.status !== undefined) claim(routes.readers, name, where, 'read', path, issues);
      if (r.data.set !== undefined) claim(routes.writers, name, where, 'written', path, issues);
    }
  } else {
    if (!allowCustom) {
      issues.add(
        base,
        'custom codecs (fields/decode/encode) are only available in the TypeScript API, use "pattern"/"template" or "json"',
      );
      return;
    }
    const r = customTopicShape.safeParse(entry, { error: errorMap });
    if (!r.success) return issues.fromZod(base, r.error);
    if (r.data.status !== undefined && r.data.decode === undefined)
      issues.add([...base, 'decode'], 'a custom "status" mapping needs decode');
    if (r.data.set !== undefined && r.data.encode === undefined)
      issues.add([...base, 'encode'], 'a custom "set" mapping needs encode');
    const seen = new Set<string>();
    r.data.fields.forEach((name, j) => {
      const path = [...base, 'fields', j];
      if (!Object.hasOwn(fields, name)) return issues.add(path, `unknown field "${name}"`);
      if (seen.has(name)) return issues.add(path, `duplicate field "${name}"`);
      seen.add(name);
      if (r.data.status !== undefined) claim(routes.readers, name, where, 'read', path, issues);
      if (r.data.set !== undefined) claim(routes.writers, name, where, 'written', path, issues);
    });
  }
  for (const key of ['status', 'set'] as const) {
    if (typeof e[key] === 'string') checkTopic(e[key], [...base, key], issues);
  }
}

function isPrefix(a: readonly string[], b: readonly string[]): boolean {
  return a.length <= b.length && a.every((s, i) => s === b[i]);
}

/** Checks a whole description; returns one line per problem (empty when valid). */
function validate(input: unknown, allowCustom: boolean): string[] {
  const issues = new Issues();
  checkForbiddenKeys(input, [], issues);
  if (issues.list.length > 0) return issues.list;
  const r = deviceShape.safeParse(input, { error: errorMap });
  if (!r.success) {
    issues.fromZod([], r.error);
    return issues.list;
  }
  const d = r.data;
  if (!DEVICE_ID_PATTERN.test(d.id))
    issues.add(
      ['id'],
      'not a valid device id (letters, digits, "_", "-" or ".", at most 64, not starting with "-" or ".")',
    );
  const names = Object.keys(d.fields);
  if (names.length === 0) issues.add(['fields'], 'expected at least one field');
  if (names.length > MAX_FIELDS) issues.add(['fields'], `more than ${MAX_FIELDS} fields`);
  for (const name of names) checkField(name, d.fields[name] as z.infer<typeof fieldShape>, issues);

  const routes: Routes = { readers: new Map(), writers: new Map() };
  d.topics.forEach((entry, i) => checkTopicEntry(entry, i, d.fields, allowCustom, routes, issues));

  for (const name of names) {
    if (!routes.readers.has(name)) issues.add(['fields', name], 'not read from any status topic');
    if (d.fields[name]?.writable === true && !routes.writers.has(name))
      issues.add(['fields', name, 'writable'], 'a writable field needs a "set" topic');
  }

  // A status topic is read by one mapping; a set topic is never also read (our own write would look like a device change).
  const statusTopics = new Map<string, number>();
  d.topics.forEach((entry, i) => {
    const status = (entry as { status?: unknown }).status;
    if (typeof status !== 'string') return;
    if (statusTopics.has(status))
      issues.add(['topics', i, 'status'], `already read by topics[${statusTopics.get(status)}]`);
    else statusTopics.set(status, i);
  });
  const setTopics = new Map<string, number>();
  d.topics.forEach((entry, i) => {
    const set = (entry as { set?: unknown }).set;
    if (typeof set !== 'string') return;
    if (statusTopics.has(set))
      issues.add(['topics', i, 'set'], 'is also a status topic: a write would read back as a device change');
    if (set === d.availability?.topic) issues.add(['topics', i, 'set'], 'is also the availability topic');
    if (setTopics.has(set)) issues.add(['topics', i, 'set'], `already written by topics[${setTopics.get(set)}]`);
    else setTopics.set(set, i);
  });
  if (d.availability) {
    checkTopic(d.availability.topic, ['availability', 'topic'], issues);
    if (statusTopics.has(d.availability.topic)) issues.add(['availability', 'topic'], 'is also a status topic');
    if ((d.availability.online ?? 'online') === (d.availability.offline ?? 'offline')) {
      issues.add(['availability', 'offline'], 'the online and offline payloads must differ');
    }
  }
  return issues.list;
}

// ---------------------------------------------------------------- entry points

/** Descriptions that passed validation (frozen copies), so a bridge does not check them twice. */
const validated = new WeakSet<object>();

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A deep copy of plain data; functions (custom codecs) are kept as they are. */
function copy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copy) as T;
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = copy(v);
    return out as T;
  }
  return value;
}

/**
 * Checks a device description written in TypeScript and returns a frozen copy of it. Throws a
 * {@link DeviceDescriptionError} (a `TypeError`) listing every bad entry by path. The field names in
 * custom mappings are checked by the compiler too.
 *
 * @example
 * const lamp = defineDevice({
 *   id: 'lamp',
 *   topics: [{ status: 'lamp/state', set: 'lamp/set', json: { on: '/state' } }],
 *   fields: { on: { label: 'On', type: 'boolean', true: 'ON', false: 'OFF', writable: true } },
 * });
 */
export function defineDevice<const F extends string>(description: {
  id: string;
  availability?: AvailabilityDescription;
  topics: readonly TopicDescription<NoInfer<F>>[];
  fields: Readonly<Record<F, FieldDescription>>;
}): DeviceDescription<F> {
  const issues = validate(description, true);
  if (issues.length > 0) throw new DeviceDescriptionError('', issues);
  const frozen = deepFreeze(copy(description)) as DeviceDescription<F>;
  validated.add(frozen);
  return frozen;
}

/**
 * Checks parsed JSON against the description format. Never throws: returns the frozen description,
 * or every problem as a `path: problem` line. Custom codecs are not available in JSON.
 *
 * @example
 * const r = parseDeviceDescription(JSON.parse(text));
 * if (!r.ok) console.error(r.issues.join('\n'));
 */
export function parseDeviceDescription(json: unknown): ParseDeviceResult {
  const issues = validate(json, false);
  if (issues.length > 0) return { ok: false, issues };
  const device = deepFreeze(copy(json)) as DeviceDescription;
  validated.add(device);
  return { ok: true, device };
}

/**
 * Reads and checks a device description file (JSON). Rejects with a {@link DeviceDescriptionError}
 * naming the file and each bad entry, or the read/JSON error.
 */
export async function loadDeviceFile(path: string): Promise<DeviceDescription> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DeviceDescriptionError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DeviceDescriptionError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  const r = parseDeviceDescription(json);
  if (!r.ok) throw new DeviceDescriptionError(path, r.issues);
  return r.device;
}

/**
 * Returns the description checked and frozen: as it is when it came from {@link defineDevice} or
 * {@link parseDeviceDescription}, else checked now. Throws a {@link DeviceDescriptionError}.
 * @internal
 */
export function checkedDevice<F extends string>(description: DeviceDescription<F>): DeviceDescription<F> {
  if (validated.has(description)) return description;
  return defineDevice(description as Parameters<typeof defineDevice<F>>[0]);
}

/**
 * The schema sent to pages in `resync.schema`, in the description's field order. Payload tokens,
 * topics and codecs never leave the server.
 */
export function toFieldSchemas(description: DeviceDescription): FieldSchema[] {
  return Object.entries(description.fields as Record<string, FieldDescription>).map(([name, f]) => {
    const schema: FieldSchema = { name, label: f.label ?? name, type: f.type, writable: f.writable ?? false };
    switch (f.type) {
      case 'number':
      case 'integer':
        if (f.min !== undefined) schema.min = f.min;
        if (f.max !== undefined) schema.max = f.max;
        if (f.step !== undefined) schema.step = f.step;
        if (f.unit !== undefined) schema.unit = f.unit;
        break;
      case 'enum':
        schema.options = f.options.map((o) =>
          o.label === undefined ? { value: o.value } : { value: o.value, label: o.label },
        );
        break;
      case 'text':
        if (f.maxLength !== undefined) schema.maxLength = f.maxLength;
        break;
      case 'boolean':
        break;
      default: {
        const never: never = f;
        throw new TypeError(`unknown field type ${String((never as FieldDescription).type)}`);
      }
    }
    return schema;
  });
}
