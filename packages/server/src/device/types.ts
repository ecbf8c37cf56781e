/**
 * What a device description is: its fields, their limits, and how each is read from and written to
 * MQTT (docs/devices.md). Types only, and {@link topicKind}; checking them is `checks.ts`'s job.
 * @module
 */
import type { FieldValue, WritableValue } from '@live-device-form/protocol';

/** Properties every field has. */
interface FieldDescriptionBase {
  /** What the user sees. Defaults to the field's name. */
  label?: string;
  /** Whether pages may write it. A writable field needs a `set` topic. Defaults to `false`. */
  writable?: boolean;
  /** A short note shown under the field (e.g. why a discovered field is read-only). At most 256 characters. */
  help?: string;
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

/**
 * An `action` field: a write-only trigger (rendered as a button) with no value and no revision. A
 * page's `set` for it carries `value: null`; the guard, availability, rate and auth rules apply, the
 * stale rule cannot (docs/protocol.md rule 12). It is always written through a `set` mapping, which
 * publishes `token` (a pattern template's `{name}`, a JSON mapping's string at its pointer, a custom
 * `encode`'s `value: null`); it is never read from a status topic, and has no `writable` key (it
 * always is).
 */
export interface ActionFieldDescription {
  type: 'action';
  /** What the user sees (the button's text). Defaults to the field's name. */
  label?: string;
  /** The payload token published when the action is triggered. Defaults to `"PRESS"`. */
  token?: string;
  /** A short note shown under the button. At most 256 characters. */
  help?: string;
}

/** A field of a device. */
export type FieldDescription =
  | NumberFieldDescription
  | BooleanFieldDescription
  | EnumFieldDescription
  | TextFieldDescription
  | ActionFieldDescription;

/** The device's availability topic, typically its Last Will: a retained "online"/"offline" payload. */
export interface AvailabilityDescription {
  /** The topic. */
  topic: string;
  /** The payload that means online. Defaults to `"online"`. */
  online?: string;
  /** The payload that means offline. Defaults to `"offline"`. Any other payload counts as offline too. */
  offline?: string;
  /**
   * A JSON pointer (RFC 6901) to the availability token inside a JSON payload, e.g. `"/state"` for
   * Zigbee2MQTT's `{"state":"online"}`. A payload that is not JSON is compared as it is.
   */
  json?: string;
  /**
   * TypeScript only: turns a payload into the token compared with `online`/`offline` (a discovered
   * device's `value_template`). `undefined`/`null` or a throw counts as offline.
   */
  decode?: (payload: Buffer) => string | undefined | null;
}

/**
 * Several availability topics (Home Assistant's `availability` list, Zigbee2MQTT's device and
 * bridge state) and how they combine.
 */
export interface AvailabilityListDescription {
  /** The topics, at least one. */
  topics: readonly AvailabilityDescription[];
  /**
   * `all`: online only while every topic says online; `any`: while at least one does; `latest`:
   * what the last message received on any of them said. Defaults to `"all"`.
   */
  mode?: 'all' | 'any' | 'latest';
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
  /** Its new value; `null` for an `action` field's press (its only value). */
  value: WritableValue | null;
  /**
   * Every field of the mapping: the written one with its new value, the others with their freshest
   * value (`null` when not known, and always for an `action` field).
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

/** A device: its id, availability, topic mappings and fields (docs/devices.md). */
export interface DeviceDescription<F extends string = string> {
  /** The id pages send in `hello.device`; matches `DEVICE_ID_PATTERN`. */
  id: string;
  /** The availability topic (or topics). Without one, the device counts as online whenever the broker is. */
  availability?: AvailabilityDescription | AvailabilityListDescription;
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
