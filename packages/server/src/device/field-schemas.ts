/**
 * What pages see of a device description: the `resync.schema`. Payload tokens, topics and codecs
 * never leave the server.
 * @module
 */
import type { FieldSchema } from '@live-device-form/protocol';
import { codedTypeError, ServerErrorCode } from '../errors.js';
import type { DeviceDescription, FieldDescription } from './types.js';

/**
 * The schema sent to pages in `resync.schema`, in the description's field order. Payload tokens,
 * topics and codecs never leave the server.
 */
export function toFieldSchemas(description: DeviceDescription): FieldSchema[] {
  return Object.entries(description.fields as Record<string, FieldDescription>).map(([name, f]) => {
    const schema: FieldSchema = {
      name,
      label: f.label ?? name,
      type: f.type,
      writable: f.type === 'action' || (f.writable ?? false),
    };
    if (f.help !== undefined) schema.help = f.help;
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
      case 'action':
        break;
      default: {
        const never: never = f;
        throw codedTypeError(
          ServerErrorCode.InvalidDeviceDescription,
          `unknown field type ${String((never as FieldDescription).type)}`,
        );
      }
    }
    return schema;
  });
}
