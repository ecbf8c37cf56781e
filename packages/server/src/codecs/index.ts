/**
 * Codecs: how field values become MQTT payloads and back (docs/devices.md). One file per concept:
 *
 * - `codec.ts`: what a codec is (`TopicCodec`, decode/encode results);
 * - `pattern-syntax.ts`: the `{field}` pattern tokeniser and the separators of a mapping;
 * - `json-pointer.ts`: JSON pointers (RFC 6901);
 * - `tokens.ts`: one field value as a payload token, and back;
 * - `pattern-codec.ts`, `json-codec.ts`, `custom-codec.ts`: the three kinds of mapping;
 * - `device-codec.ts`: a device's codecs, routed by topic and field.
 * @module
 */
export { MAX_STATUS_PAYLOAD_BYTES } from './codec.js';
export type { DecodeResult, EncodeResult, TopicCodec } from './codec.js';
export { createDeviceCodec, createTopicCodec } from './device-codec.js';
export type { DeviceCodec } from './device-codec.js';
export { parseJsonPointer } from './json-pointer.js';
export { parsePattern, separatorsOf } from './pattern-syntax.js';
export type { PatternPart } from './pattern-syntax.js';
