/**
 * How every options object of the package is merged and checked: its interface documents each
 * default ("Defaults to `500`."), a frozen `…DEFAULTS` object holds them, {@link withDefaults}
 * merges it once under the caller's options (never writing into either), and a bad value throws a
 * `TypeError` with code `ERR_INVALID_OPTION` whose message names the option.
 * @module
 */
import { type CodedTypeError, codedTypeError, ServerErrorCode } from './errors.js';

/** The longest delay `setTimeout` takes, in milliseconds; longer ones fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Options merged over their defaults: every defaulted key is set. */
export type WithDefaults<D extends object, O extends object> = Omit<O, keyof D> & {
  readonly [K in keyof D]: K extends keyof O ? Exclude<O[K], undefined> | D[K] : D[K];
};

/**
 * `{ ...defaults, ...options }`, except that an option given as `undefined` keeps its default (as
 * `options.x ?? DEFAULTS.x` would: `0`, `false` and `''` are values). Returns a new object.
 * @internal
 */
export function withDefaults<D extends object, O extends object>(defaults: D, options: O): WithDefaults<D, O> {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [key, value] of Object.entries(options)) if (value !== undefined) merged[key] = value;
  return merged as WithDefaults<D, O>;
}

/** The error for a bad option: a `TypeError` with code `ERR_INVALID_OPTION`. @internal */
export function invalidOption(message: string): CodedTypeError {
  return codedTypeError(ServerErrorCode.InvalidOption, message);
}

/**
 * Checks a numeric option: finite, from `min` to `max` (no upper bound when `max` is `Infinity`),
 * and a whole number when `integer`. Returns it, or throws {@link invalidOption} naming it.
 * @internal
 */
export function checkNumber(
  name: string,
  value: unknown,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  { integer = false }: { integer?: boolean } = {},
): number {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value < min ||
    value > max ||
    (integer && !Number.isInteger(value))
  ) {
    const what = integer ? 'an integer' : 'a number';
    const range = max === Infinity ? `of at least ${min}` : `from ${min} to ${max}`;
    throw invalidOption(`The "${name}" option must be ${what} ${range}, got ${String(value)}`);
  }
  return value;
}

/** Checks a boolean option. Returns it, or throws {@link invalidOption} naming it. @internal */
export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean')
    throw invalidOption(`The "${name}" option must be true or false, got ${String(value)}`);
  return value;
}
