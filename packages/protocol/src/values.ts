/**
 * Checks a value against a field's schema. The server uses it to refuse `invalid` writes; the
 * element uses the same code to say "out of range" before sending.
 * @module
 */
import type { FieldSchema, WritableValue } from './frames.js';
import { MAX_TEXT_LENGTH } from './limits.js';

/**
 * Why {@link checkValue} refused a value, as a stable code a page can put in its own words
 * (the element's notes do): `below-min`, `above-max` and `off-step` go with the field's `min`,
 * `max` and `step`; `too-long` with its `maxLength`; `not-null`: a value for an `action` field,
 * which takes only `null`.
 */
export type ValueProblem =
  | 'not-number'
  | 'not-integer'
  | 'below-min'
  | 'above-max'
  | 'off-step'
  | 'not-boolean'
  | 'not-option'
  | 'not-text'
  | 'too-long'
  | 'bad-text'
  | 'bad-type'
  | 'not-null';

/**
 * The result of a value check. A failure has `message` in English words and, from
 * {@link checkValue}, a `problem` code (checks built elsewhere may leave it out).
 */
export type ValueCheck =
  { ok: true; value: WritableValue | null } | { ok: false; message: string; problem?: ValueProblem };

/**
 * Unicode category Cc: the C0 controls (U+0000–U+001F, tab and newline among them), DEL and the C1
 * controls (U+0080–U+009F, NEL U+0085 among them).
 */
const CONTROL = /\p{Cc}/u;

/** The line and paragraph separators. */
const LINE_SEPARATOR = /[\u2028\u2029]/;

/** A lone surrogate: with the `u` flag, a well-formed pair is one code point and never matches. */
const LONE_SURROGATE = /\p{Cs}/u;

const codePoint = (c: string): string => `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * Why a text value may not be written, whatever its field: it contains a control character
 * (category Cc, tab included: no field needs one), a line or paragraph separator (U+2028/U+2029)
 * or a lone surrogate (not well-formed UTF-16: what would be published is U+FFFD, not the checked
 * text). A line-based device may take any of the first two for the end of a command
 * (docs/protocol.md, the limits table).
 * `undefined` when none.
 *
 * @example
 * textValueProblem('label a\u0085level 999999') // → 'contains a newline or control character (U+0085)'
 */
export function textValueProblem(value: string): string | undefined {
  const control = CONTROL.exec(value);
  if (control) return `contains a newline or control character (${codePoint(control[0])})`;
  const separator = LINE_SEPARATOR.exec(value);
  if (separator) return `contains the line or paragraph separator ${codePoint(separator[0])}`;
  const surrogate = LONE_SURROGATE.exec(value);
  if (surrogate) return `contains a lone surrogate ${codePoint(surrogate[0])} (not well-formed Unicode)`;
  return undefined;
}

/** Tolerance for floating-point step checks, relative to the step. */
const STEP_EPSILON = 1e-9;

function isOnStep(value: number, step: number, base: number): boolean {
  const k = (value - base) / step;
  return Math.abs(k - Math.round(k)) <= STEP_EPSILON * Math.max(1, Math.abs(k));
}

/**
 * Whether `value` is acceptable for `field`: right type, within `min`/`max`, on `step`, one of
 * `options`, no longer than `maxLength`, text free of what {@link textValueProblem} refuses; for
 * an `action`, `null` and nothing else, and `null` for no other type (docs/protocol.md rule 12).
 * It does not check `writable` (that is `forbidden`, a separate reason).
 *
 * @example
 * checkValue({ name: 'h', label: 'H', type: 'integer', min: -512, max: 511, writable: true }, 600)
 * // → { ok: false, problem: 'above-max', message: 'above the maximum 511' }
 */
export function checkValue(field: FieldSchema, value: unknown): ValueCheck {
  switch (field.type) {
    case 'number':
    case 'integer': {
      if (typeof value !== 'number' || !Number.isFinite(value))
        return { ok: false, problem: 'not-number', message: 'expected a number' };
      if (field.type === 'integer' && !Number.isInteger(value))
        return { ok: false, problem: 'not-integer', message: 'expected an integer' };
      if (field.min !== undefined && value < field.min)
        return { ok: false, problem: 'below-min', message: `below the minimum ${field.min}` };
      if (field.max !== undefined && value > field.max)
        return { ok: false, problem: 'above-max', message: `above the maximum ${field.max}` };
      if (field.step !== undefined && !isOnStep(value, field.step, field.min ?? 0)) {
        return { ok: false, problem: 'off-step', message: `not on a step of ${field.step}` };
      }
      return { ok: true, value };
    }
    case 'boolean':
      return typeof value === 'boolean'
        ? { ok: true, value }
        : { ok: false, problem: 'not-boolean', message: 'expected true or false' };
    case 'enum': {
      if (typeof value !== 'string')
        return { ok: false, problem: 'not-option', message: 'expected one of the options' };
      const options = field.options ?? [];
      return options.some((o) => o.value === value)
        ? { ok: true, value }
        : { ok: false, problem: 'not-option', message: `not one of ${options.map((o) => o.value).join(', ')}` };
    }
    case 'text': {
      if (typeof value !== 'string') return { ok: false, problem: 'not-text', message: 'expected text' };
      const max = field.maxLength ?? MAX_TEXT_LENGTH;
      if (value.length > max) return { ok: false, problem: 'too-long', message: `longer than ${max} characters` };
      const problem = textValueProblem(value);
      return problem === undefined ? { ok: true, value } : { ok: false, problem: 'bad-text', message: problem };
    }
    case 'action':
      return value === null
        ? { ok: true, value }
        : { ok: false, problem: 'not-null', message: 'an action carries no value: expected null' };
    default: {
      const never: never = field.type;
      return { ok: false, problem: 'bad-type', message: `unknown field type ${String(never)}` };
    }
  }
}
