/**
 * Device descriptions (docs/devices.md): a device's fields, their limits, and how each is read
 * from and written to MQTT. One file per concept:
 *
 * - `types.ts`: what a description is;
 * - `shapes.ts`: its shape in zod, with plain-English messages;
 * - `issues.ts`: the `path: problem` lines a check reports;
 * - `checks.ts`: everything beyond the shape;
 * - `define.ts`: the entry points (`defineDevice`, `parseDeviceDescription`, `loadDeviceFile`);
 * - `field-schemas.ts`: what pages see of it.
 * @module
 */
export { checkedDevice, defineDevice, loadDeviceFile, parseDeviceDescription } from './define.js';
export type { ParseDeviceResult } from './define.js';
export { toFieldSchemas } from './field-schemas.js';
export { topicKind } from './types.js';
export type {
  ActionFieldDescription,
  AvailabilityDescription,
  AvailabilityListDescription,
  BooleanFieldDescription,
  CustomTopicDescription,
  CustomWrite,
  DeviceDescription,
  EnumFieldDescription,
  EnumOptionDescription,
  FieldDescription,
  JsonTopicDescription,
  NumberFieldDescription,
  PatternTopicDescription,
  TextFieldDescription,
  TopicDescription,
  TopicKind,
} from './types.js';
