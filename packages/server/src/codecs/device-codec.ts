/**
 * A device's codecs together: one per topic mapping, routed by status topic (decoding) and by field
 * (encoding), with the schema pages see. What the MQTT bridge works with.
 * @module
 */
import {
  checkValue as checkSchemaValue,
  type FieldSchema,
  type ValueCheck,
  type WritableValue,
} from '@live-device-form/protocol';
import type { FreshestValue } from '../bridge.js';
import { toFieldSchemas } from '../device/field-schemas.js';
import {
  topicKind,
  type CustomTopicDescription,
  type DeviceDescription,
  type FieldDescription,
  type JsonTopicDescription,
  type PatternTopicDescription,
  type TopicDescription,
} from '../device/types.js';
import type { DecodeResult, EncodeResult, TopicCodec } from './codec.js';
import { createCustomCodec } from './custom-codec.js';
import { createJsonCodec } from './json-codec.js';
import { createPatternCodec } from './pattern-codec.js';

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

/** All of a device's codecs, routed by status topic and by field. */
export interface DeviceCodec {
  /** The fields as sent to pages. */
  readonly schema: readonly FieldSchema[];
  /** Every status topic, each read by one codec. */
  readonly statusTopics: readonly string[];
  /** Decodes a message on a status topic; `undefined` when `topic` is not one. Never throws. */
  decode(topic: string, payload: Buffer): DecodeResult | undefined;
  /** Encodes a write of `field`. Never throws. */
  encode(field: string, value: WritableValue | null, freshest: FreshestValue): EncodeResult;
  /**
   * What the codec cannot carry in a value that already fits the field's schema: a text value
   * containing its payload's separators. Returns why, or `undefined` when it can be written.
   * This is `DeviceBridge.checkWrite`.
   */
  checkWrite(field: string, value: WritableValue | null): string | undefined;
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
  function checkValueFor(field: string, value: WritableValue | null): ValueCheck {
    const s = byName.get(field);
    if (!s) return { ok: false, message: 'unknown field' };
    if (!s.writable) return { ok: false, message: 'read-only' };
    const r = checkSchemaValue(s, value);
    if (!r.ok) return r;
    const problem = bySetField.get(field)?.check(field, r.value) ?? null;
    return problem === null ? r : { ok: false, message: problem };
  }
}
