/**
 * The checks of a device description beyond its shape: field names and limits, topics that are
 * literal and valid, each field read from exactly one status topic and written through at most one
 * set topic (an action: never read, always written, alone in its template), patterns and JSON
 * pointers that parse, payload tokens free of their mapping's separators, availability topics
 * distinct from each other and from the status and set topics, no key that could reach a
 * prototype. Every problem is reported with its path.
 * @module
 */
import {
  DEVICE_ID_PATTERN,
  FIELD_NAME_PATTERN,
  FORBIDDEN_KEYS,
  MAX_FIELDS,
  MAX_SERVER_FRAME_BYTES,
  maxResyncBytes,
} from '@live-device-form/protocol';
import { parseJsonPointer, pointersOverlap } from '../codecs/json-pointer.js';
import { mappingSeparators, parsePattern, placeholdersOf, type PatternPart } from '../codecs/pattern-syntax.js';
import { booleanToken, optionToken, payloadTokens } from '../codecs/tokens.js';
import { toFieldSchemas } from './field-schemas.js';
import { formatPath, Issues } from './issues.js';
import {
  availabilityListShape,
  availabilityShape,
  customTopicShape,
  deviceShape,
  errorMap,
  jsonTopicShape,
  patternTopicShape,
  type FieldShape,
} from './shapes.js';
import { topicKind, type DeviceDescription, type TopicDescription } from './types.js';

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

/** Longest topic MQTT allows, in UTF-8 bytes. */
const MAX_TOPIC_BYTES = 65535;

function checkTopic(topic: string, path: PropertyKey[], issues: Issues): void {
  if (/[+#]/.test(topic)) issues.add(path, 'must not contain the wildcards "+" or "#"');
  else if (topic.includes('\u0000')) issues.add(path, 'must not contain a NUL character');
  else if (topic === '$SYS' || topic.startsWith('$SYS/'))
    issues.add(path, "must not be in $SYS/, the broker's own topics: they are not the device's");
  else if (/[{}]/.test(topic))
    issues.add(path, 'must not contain "{" or "}": topics are literal, a field name never becomes part of a topic');
  else if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) issues.add(path, `longer than ${MAX_TOPIC_BYTES} bytes`);
}

function checkField(name: string, f: FieldShape, issues: Issues): void {
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
  if (f.type === 'boolean' && booleanToken(f, true) === booleanToken(f, false))
    issues.add(at('false'), 'the true and false tokens must differ');
  if (f.maxLength !== undefined && f.type !== 'text') issues.add(at('maxLength'), 'only text fields have maxLength');
  if (f.token !== undefined && f.type !== 'action')
    issues.add(at('token'), 'only action fields have a token (enum options have their own)');
  if (f.type === 'action' && f.writable !== undefined)
    issues.add(at('writable'), 'an action is always writable: leave "writable" out');
  if (f.type === 'enum') {
    if (!f.options || f.options.length === 0) issues.add(at('options'), 'an enum field needs at least one option');
    else {
      const values = new Set<string>();
      const tokens = new Set<string>();
      f.options.forEach((o, i) => {
        if (values.has(o.value)) issues.add(['fields', name, 'options', i, 'value'], `duplicate value "${o.value}"`);
        const t = optionToken(o);
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
    // A write of another field would have no value to put in an action's place, and a press none for theirs.
    const placeholders = placeholdersOf(setParts ?? []);
    const action = placeholders.find((name) => (fields[name] as FieldShape | undefined)?.type === 'action');
    if (action !== undefined && placeholders.length > 1)
      issues.add([...base, 'template'], `the action "{${action}}" must be the only field of its template`);
    // A token containing a separator could not be told apart from the next field.
    const texts = [t.pattern, t.template];
    const seps = mappingSeparators(texts);
    const names = new Set<string>();
    for (const text of texts) {
      const r = text === undefined ? undefined : parsePattern(text);
      if (r?.ok) for (const name of placeholdersOf(r.parts)) names.add(name);
    }
    for (const name of names) {
      if (!Object.hasOwn(fields, name)) continue;
      for (const { token, at } of payloadTokens(fields[name] as FieldShape)) {
        const sep = seps.find((s) => token.includes(s));
        if (sep !== undefined)
          issues.add(
            ['fields', name, ...at],
            `token ${JSON.stringify(token)} contains ${JSON.stringify(sep)}, a separator of ${where}`,
          );
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
        const clash = pointers.find((p) => pointersOverlap(p.segments, parsed.segments));
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

/** The availability topics of a description, whatever its shape: topic → how a set-topic clash names it. */
function availabilityTopicsOf(value: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (value === null || typeof value !== 'object') return out;
  const list = (value as { topics?: unknown }).topics;
  if (!Array.isArray(list)) {
    const topic = (value as { topic?: unknown }).topic;
    if (typeof topic === 'string') out.set(topic, 'the availability topic');
    return out;
  }
  list.forEach((entry: unknown, j) => {
    const topic = (entry as { topic?: unknown } | null)?.topic;
    if (typeof topic === 'string' && !out.has(topic))
      out.set(topic, `the availability topic availability.topics[${j}]`);
  });
  return out;
}

/**
 * One availability topic (alone, or an entry of a list at `path`): literal, not a status topic,
 * distinct tokens, a valid `json` pointer, `decode` only from TypeScript. Returns its topic when
 * its shape is right.
 */
function checkAvailabilityTopic(
  entry: unknown,
  path: PropertyKey[],
  allowCustom: boolean,
  statusTopics: ReadonlyMap<string, number>,
  issues: Issues,
): string | undefined {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    issues.add(path, 'expected an object');
    return undefined;
  }
  if (!allowCustom && 'decode' in entry) {
    issues.add(
      [...path, 'decode'],
      'decode is only available in the TypeScript API; use "json" for a token inside a JSON payload',
    );
    return undefined;
  }
  const r = availabilityShape.safeParse(entry, { error: errorMap });
  if (!r.success) {
    issues.fromZod(path, r.error);
    return undefined;
  }
  const a = r.data;
  checkTopic(a.topic, [...path, 'topic'], issues);
  if (statusTopics.has(a.topic)) issues.add([...path, 'topic'], 'is also a status topic');
  if ((a.online ?? 'online') === (a.offline ?? 'offline')) {
    issues.add([...path, 'offline'], 'the online and offline payloads must differ');
  }
  if (a.json !== undefined) {
    const pointer = parseJsonPointer(a.json);
    if (!pointer.ok) issues.add([...path, 'json'], pointer.message);
    if (a.decode !== undefined)
      issues.add([...path, 'json'], '"json" and "decode" do not go together: decode is given the whole payload');
  }
  return a.topic;
}

/** `availability`: one topic, or a list of distinct topics with a mode (docs/devices.md, *Availability*). */
function checkAvailability(
  value: unknown,
  allowCustom: boolean,
  statusTopics: ReadonlyMap<string, number>,
  issues: Issues,
): void {
  const base: PropertyKey[] = ['availability'];
  if (value === null || typeof value !== 'object' || Array.isArray(value) || !('topics' in value)) {
    checkAvailabilityTopic(value, base, allowCustom, statusTopics, issues);
    return;
  }
  const r = availabilityListShape.safeParse(value, { error: errorMap });
  if (!r.success) return issues.fromZod(base, r.error);
  const seen = new Map<string, number>();
  r.data.topics.forEach((entry, j) => {
    const path = [...base, 'topics', j];
    const topic = checkAvailabilityTopic(entry, path, allowCustom, statusTopics, issues);
    if (topic === undefined) return;
    const before = seen.get(topic);
    if (before !== undefined) issues.add([...path, 'topic'], `already the topic of availability.topics[${before}]`);
    else seen.set(topic, j);
  });
}

/**
 * A device whose resync could exceed the frame limit of every client would never reach a page (the
 * client refuses the frame, reconnects and is refused again): refused here, with the figures.
 */
function checkResyncSize(d: DeviceDescription, issues: Issues): void {
  const bytes = maxResyncBytes(toFieldSchemas(d));
  if (bytes <= MAX_SERVER_FRAME_BYTES) return;
  issues.add(
    ['fields'],
    `a resync of this device could reach ${bytes} bytes (its labels and options, every value at its longest), ` +
      `over the ${MAX_SERVER_FRAME_BYTES}-byte frame limit of every client (MAX_SERVER_FRAME_BYTES): ` +
      'use fewer fields or options, or shorter labels or option values',
  );
}

/**
 * Checks a whole description; returns one line per problem (empty when valid). Custom codecs are
 * allowed only when `allowCustom` (the TypeScript API).
 */
export function validate(input: unknown, allowCustom: boolean): string[] {
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
  for (const name of names) checkField(name, d.fields[name] as FieldShape, issues);

  const routes: Routes = { readers: new Map(), writers: new Map() };
  d.topics.forEach((entry, i) => checkTopicEntry(entry, i, d.fields, allowCustom, routes, issues));

  for (const name of names) {
    if (d.fields[name]?.type === 'action') {
      // An action has no state to read (docs/protocol.md rule 12); it is there to be written.
      const reader = routes.readers.get(name);
      if (reader !== undefined)
        issues.add(
          ['fields', name],
          `an action is never read from a status topic, but ${reader} reads it: put it in a mapping with only a "set" topic`,
        );
      if (!routes.writers.has(name)) issues.add(['fields', name], 'an action needs a "set" topic that writes it');
      continue;
    }
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
  const availabilityTopics = availabilityTopicsOf(d.availability);
  d.topics.forEach((entry, i) => {
    const set = (entry as { set?: unknown }).set;
    if (typeof set !== 'string') return;
    if (statusTopics.has(set))
      issues.add(['topics', i, 'set'], 'is also a status topic: a write would read back as a device change');
    const availability = availabilityTopics.get(set);
    if (availability !== undefined) issues.add(['topics', i, 'set'], `is also ${availability}`);
    if (setTopics.has(set)) issues.add(['topics', i, 'set'], `already written by topics[${setTopics.get(set)}]`);
    else setTopics.set(set, i);
  });
  if (d.availability !== undefined) checkAvailability(d.availability, allowCustom, statusTopics, issues);
  if (issues.list.length === 0) checkResyncSize(d as DeviceDescription, issues);
  return issues.list;
}
