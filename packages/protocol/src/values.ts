/**
 * Checks a value against a field's schema. The server uses it to refuse `invalid` writes; the
 * element uses the same code to say "out of range" before sending.
 * @module
 */
import type { FieldSchema, WritableValue } from './frames.js';
import { MAX_TEXT_LENGTH } from './limits.js';

export type ValueCheck = { ok: true; value: WritableValue } | { ok: false; message: string };

/** Tolerance for floating-point step checks, relative to the step. */
const STEP_EPSILON = 1e-9;

function isOnStep(value: number, step: number, base: number): boolean {
  const k = (value - base) / step;
  return Math.abs(k - Math.round(k)) <= STEP_EPSILON * Math.max(1, Math.abs(k));
}

/**
 * Whether `value` is acceptable for `field`: right type, within `min`/`max`, on `step`, one of
 * `options`, no longer than `maxLength`. It does not check `writable` (that is `forbidden`, a
 * separate reason).
 *
 * @example
 * checkValue({ name: 'h', label: 'H', type: 'integer', min: -512, max: 511, writable: true }, 600)
 * // → { ok: false, message: 'above the maximum 511' }
 */
export function checkValue(field: FieldSchema, value: unknown): ValueCheck {
  switch (field.type) {
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return { ok: false, message: 'expected a number' };
      if (field.type === 'integer' && !Number.isInteger(value)) return { ok: false, message: 'expected an integer' };
      if (field.min !== undefined && value < field.min) return { ok: false, message: `below the minimum ${field.min}` };
      if (field.max !== undefined && value > field.max) return { ok: false, message: `above the maximum ${field.max}` };
      if (field.step !== undefined && !isOnStep(value, field.step, field.min ?? 0)) {
        return { ok: false, message: `not on a step of ${field.step}` };
      }
      return { ok: true, value };
    }
    case 'boolean':
      return typeof value === 'boolean' ? { ok: true, value } : { ok: false, message: 'expected true or false' };
    case 'enum': {
      if (typeof value !== 'string') return { ok: false, message: 'expected one of the options' };
      const options = field.options ?? [];
      return options.some((o) => o.value === value)
        ? { ok: true, value }
        : { ok: false, message: `not one of ${options.map((o) => o.value).join(', ')}` };
    }
    case 'text': {
      if (typeof value !== 'string') return { ok: false, message: 'expected text' };
      const max = field.maxLength ?? MAX_TEXT_LENGTH;
      if (value.length > max) return { ok: false, message: `longer than ${max} characters` };
      if (/[\u0000-\u001f\u007f]/.test(value)) return { ok: false, message: 'contains a newline or control character' };
      return { ok: true, value };
    }
    default: {
      const never: never = field.type;
      return { ok: false, message: `unknown field type ${String(never)}` };
    }
  }
}
