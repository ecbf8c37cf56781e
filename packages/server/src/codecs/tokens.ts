/**
 * Payload tokens: the text one field's value is on the wire, and back. A boolean is its `true` or
 * `false` token, an enum its option's `token`, a number its digits, a text itself, an action's
 * press its `token`. One definition
 * for the pattern codec, the JSON codec (tokens as JSON strings) and the description checks (a
 * token must not contain a separator of its mapping).
 * @module
 */
import {
  MAX_ABS_NUMBER,
  MAX_TEXT_LENGTH,
  textValueProblem,
  type FieldValue,
  type WritableValue,
} from '@live-device-form/protocol';
import type { FieldDescription } from '../device/types.js';
import { describe } from './codec.js';

/** What a field needs to have payload tokens; a {@link FieldDescription} has it, so does a field being checked. */
export interface TokenizedField {
  readonly type: string;
  readonly true?: string | undefined;
  readonly false?: string | undefined;
  readonly options?: readonly { readonly value: string; readonly token?: string | undefined }[] | undefined;
  readonly token?: string | undefined;
}

/** The payload of an action's press when its description gives no `token`. */
export const DEFAULT_ACTION_TOKEN = 'PRESS';

/** The payload token of an action's press: its `token`, `"PRESS"` by default. */
export function actionToken(f: TokenizedField): string {
  return f.token ?? DEFAULT_ACTION_TOKEN;
}

/** The payload token of a boolean value: the field's `true`/`false` token, `"true"`/`"false"` by default. */
export function booleanToken(f: TokenizedField, value: boolean): string {
  return value ? (f.true ?? 'true') : (f.false ?? 'false');
}

/** The payload token of an enum option: its `token`, else its `value`. */
export function optionToken(option: { readonly value: string; readonly token?: string | undefined }): string {
  return option.token ?? option.value;
}

/**
 * Every payload token a field has, with where it is declared inside the field (`['true']`,
 * `['options', 2, 'token']`): a boolean's two, an enum's one per option, an action's one, none for
 * other types.
 */
export function payloadTokens(f: TokenizedField): { token: string; at: (string | number)[] }[] {
  if (f.type === 'boolean')
    return [
      { token: booleanToken(f, true), at: ['true'] },
      { token: booleanToken(f, false), at: ['false'] },
    ];
  if (f.type === 'enum')
    return (f.options ?? []).map((o, j) => ({ token: optionToken(o), at: ['options', j, 'token'] }));
  if (f.type === 'action') return [{ token: actionToken(f), at: ['token'] }];
  return [];
}

/**
 * Reads one field's value from its payload token. `undefined` if it does not fit. An action is
 * never read from a status (the description checks refuse it); only a press seen on its own `set`
 * topic is read (`action-topics.ts`), and its token reads as itself.
 */
export function readToken(f: FieldDescription, raw: string): WritableValue | undefined {
  switch (f.type) {
    case 'integer':
    case 'number': {
      const n = Number(raw);
      if (!Number.isFinite(n) || Math.abs(n) > MAX_ABS_NUMBER) return undefined;
      if (f.type === 'integer' && !Number.isSafeInteger(n)) return undefined;
      return n;
    }
    case 'boolean':
      return raw === booleanToken(f, true) ? true : raw === booleanToken(f, false) ? false : undefined;
    case 'enum':
      return f.options.find((o) => optionToken(o) === raw)?.value;
    case 'text':
      return raw.length <= MAX_TEXT_LENGTH ? raw : undefined;
    case 'action':
      return raw === actionToken(f) ? raw : undefined;
    default: {
      const never: never = f;
      return never;
    }
  }
}

/** Decimals of a step: `0.05` → 2, `1e-7` → 7, `5` → 0. */
function decimalsOf(step: number): number {
  const [mantissa = '', exp] = String(step).split('e');
  const frac = mantissa.split('.')[1]?.length ?? 0;
  return Math.min(20, Math.max(0, frac - Number(exp ?? 0)));
}

/**
 * Writes one field's value as its payload token, or says why it cannot. A text value is refused
 * when it contains one of `separators` (see {@link textProblem}). An action's press (`null`, its
 * only value) is its {@link actionToken}.
 */
export function writeToken(
  name: string,
  f: FieldDescription,
  v: FieldValue,
  separators: readonly string[],
): string | { error: string } {
  if (f.type === 'action')
    return v === null ? actionToken(f) : { error: `field "${name}": an action carries no value, got ${describe(v)}` };
  if (v === null) return { error: `field "${name}" is not known yet, so the payload cannot be built` };
  switch (f.type) {
    case 'integer':
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v))
        return { error: `field "${name}": expected a number, got ${describe(v)}` };
      if (f.type === 'integer')
        return Number.isInteger(v) ? String(v) : { error: `field "${name}": expected an integer` };
      return f.step !== undefined ? v.toFixed(decimalsOf(f.step)) : String(v);
    case 'boolean':
      if (typeof v !== 'boolean') return { error: `field "${name}": expected true or false` };
      return booleanToken(f, v);
    case 'enum': {
      const option = f.options.find((o) => o.value === v);
      return option ? optionToken(option) : { error: `field "${name}": not one of its options: ${describe(v)}` };
    }
    case 'text': {
      if (typeof v !== 'string') return { error: `field "${name}": expected text` };
      const problem = textProblem(v, separators);
      return problem ? { error: `field "${name}": ${problem}` } : v;
    }
    default: {
      const never: never = f;
      return never;
    }
  }
}

/**
 * Why a text value cannot be carried in a payload with these separators (what the protocol's
 * `textValueProblem` refuses: a control character, a line separator, a lone surrogate; a
 * separator, or any punctuation or space character of one), or `null` when it can.
 */
export function textProblem(v: string, separators: readonly string[]): string | null {
  const problem = textValueProblem(v);
  if (problem !== undefined) return problem;
  const sep = separators.find((s) => v.includes(s));
  if (sep !== undefined) return `contains ${JSON.stringify(sep)}, which separates the fields of its payload`;
  // Devices often split on any one of these characters, not on the exact separator: refuse each.
  for (const s of separators) {
    for (const c of s) {
      if (!/[\p{L}\p{N}]/u.test(c) && v.includes(c))
        return `contains ${JSON.stringify(c)}, a character of the separator ${JSON.stringify(s)} of its payload`;
    }
  }
  return null;
}
