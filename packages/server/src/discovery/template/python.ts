/**
 * Python's conversions that Jinja's and Home Assistant's filters are made of: `int()`, `float()`
 * and `round()` with Python's own rules (underscores in numbers, `inf`/`nan`, rounding half to even
 * on the exact binary value), so that a template gives what it gives in Home Assistant.
 * @module
 */
import { MAX_TEMPLATE_INT_DIGITS } from './limits.js';
import { PY_WHITESPACE, PyDict, TemplateError, Undefined, type Value, pyStrip } from './values.js';

/** Thrown (as a value, never escaping this package) where Python raises ValueError or TypeError. */
export const CONVERSION_FAILED: unique symbol = Symbol('conversion failed');

const FLOAT_TEXT = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;
const FLOAT_WORDS = /^[+-]?(?:inf|infinity|nan)$/i;
const SPACE_ONLY = new RegExp(`^[${PY_WHITESPACE}]*$`);

/** Python's `float(value)`, or {@link CONVERSION_FAILED}. Undefined raises, as Jinja's does. */
export function pyFloat(value: Value): number | typeof CONVERSION_FAILED {
  if (value instanceof Undefined) throw new TemplateError(value.hint);
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') {
    const f = Number(value);
    if (!Number.isFinite(f)) throw new TemplateError('int too large to convert to float');
    return f;
  }
  if (typeof value === 'string') {
    const s = pyStrip(value);
    if (FLOAT_WORDS.test(s)) {
      const negative = s.startsWith('-');
      if (/nan/i.test(s)) return NaN;
      return negative ? -Infinity : Infinity;
    }
    if (!FLOAT_TEXT.test(s) || SPACE_ONLY.test(s)) return CONVERSION_FAILED;
    return Number(s.replaceAll('_', ''));
  }
  return CONVERSION_FAILED;
}

/** Python's `int(text, base)` for base 0 or 2–36, or {@link CONVERSION_FAILED}. */
export function pyIntFromText(text: string, base: number): bigint | typeof CONVERSION_FAILED {
  let s = pyStrip(text);
  let sign = 1n;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s.startsWith('-')) sign = -1n;
    s = s.slice(1);
  }
  const prefix = /^0([bBoOxX])/.exec(s)?.[1]?.toLowerCase();
  const prefixBase = prefix === 'b' ? 2 : prefix === 'o' ? 8 : prefix === 'x' ? 16 : 0;
  if (base === 0) {
    if (prefixBase) {
      base = prefixBase;
      s = s.slice(2).replace(/^_/, '');
    } else {
      base = 10;
      // Base 0 refuses leading zeros ("010"), as Python does; "0", "00" and "0_0" are fine.
      if (/^0/.test(s) && !/^0(?:_?0)*$/.test(s)) return CONVERSION_FAILED;
    }
  } else if (prefixBase && prefixBase === base) s = s.slice(2).replace(/^_/, '');
  if (!/^[0-9a-zA-Z](?:_?[0-9a-zA-Z])*$/.test(s)) return CONVERSION_FAILED;
  const digits = s.replaceAll('_', '').toLowerCase();
  if (digits.length > MAX_TEMPLATE_INT_DIGITS) return CONVERSION_FAILED;
  let n = 0n;
  const b = BigInt(base);
  for (const ch of digits) {
    const d = parseInt(ch, 36);
    if (d >= base) return CONVERSION_FAILED;
    n = n * b + BigInt(d);
  }
  return sign * n;
}

/** Python's `int(x)` of a float (NaN fails, an infinity raises OverflowError). */
export function intOfFloat(f: number): bigint | typeof CONVERSION_FAILED {
  if (Number.isNaN(f)) return CONVERSION_FAILED;
  if (!Number.isFinite(f)) throw new TemplateError('cannot convert float infinity to integer');
  return BigInt(Math.trunc(f));
}

/**
 * Jinja's `do_int` conversion: `int(value)` (with `base` for text), else `int(float(value))`, else
 * {@link CONVERSION_FAILED}. Undefined raises.
 */
export function jinjaInt(value: Value, base: number): bigint | typeof CONVERSION_FAILED {
  if (value instanceof Undefined) throw new TemplateError(value.hint);
  if (typeof value === 'string') {
    const n = pyIntFromText(value, base);
    if (n !== CONVERSION_FAILED) return n;
  } else if (typeof value === 'boolean') return value ? 1n : 0n;
  else if (typeof value === 'bigint') return value;
  else if (typeof value === 'number') return intOfFloat(value);
  const f = pyFloat(value);
  // Jinja's fallback int(float(value)) also catches OverflowError: 'inf' | int(9) is 9.
  return f === CONVERSION_FAILED || !Number.isFinite(f) ? CONVERSION_FAILED : intOfFloat(f);
}

/** Python's `round(x)` with no digits: the nearest integer, half to even (as a float here). */
export function roundHalfEven(q: number): number {
  if (!Number.isFinite(q)) return q;
  const r = Math.round(q);
  return Math.abs(q % 1) === 0.5 ? 2 * Math.round(q / 2) : r;
}

/** Python's `round(x, ndigits)` for a float: correctly rounded, half to even on the exact value. */
export function pyRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  if (ndigits < 0) {
    if (-ndigits > 308) return 0 * x;
    const scale = 10 ** -ndigits;
    return roundHalfEven(x / scale) * scale;
  }
  if (ndigits > 100 || Math.abs(x) >= 1e21) return x;
  // toFixed() rounds the exact binary value too, but sends ties away from zero; Python sends them
  // to the even digit. A tie is exact, so it is found exactly.
  let fixed = Math.abs(x).toFixed(ndigits);
  if (isHalfway(x, ndigits) && /[13579]$/.test(fixed)) {
    const digits = BigInt(fixed.replace('.', '')) - 1n;
    const padded = digits.toString().padStart(ndigits + 1, '0');
    fixed = ndigits === 0 ? padded : `${padded.slice(0, -ndigits)}.${padded.slice(-ndigits)}`;
  }
  return x < 0 ? -Number(fixed) : Number(fixed);
}

/** Whether |x| × 10^ndigits lies exactly halfway between two integers. */
function isHalfway(x: number, ndigits: number): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const exponentBits = (hi >>> 20) & 0x7ff;
  let mantissa = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let exponent = -1074;
  if (exponentBits !== 0) {
    mantissa |= 1n << 52n;
    exponent = exponentBits - 1075;
  }
  // |x| × 10^n × 2 = mantissa × 10^n × 2^(exponent + 1) must be an odd integer.
  const numerator = mantissa * 10n ** BigInt(ndigits) * 2n;
  if (exponent >= 0) return false;
  const denominator = 1n << BigInt(-exponent);
  return numerator % denominator === 0n && (numerator / denominator) % 2n === 1n;
}

/** Home Assistant's `cv.boolean`: the words it accepts, numbers by non-zero, else failure. */
export function haBoolean(value: Value): boolean | typeof CONVERSION_FAILED {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const s = pyStrip(value.toLowerCase());
    if (['1', 'true', 'yes', 'on', 'enable'].includes(s)) return true;
    if (['0', 'false', 'no', 'off', 'disable'].includes(s)) return false;
    return CONVERSION_FAILED;
  }
  if (typeof value === 'bigint') return value !== 0n;
  if (typeof value === 'number') return value !== 0;
  return CONVERSION_FAILED;
}

/** Python's `len()`: strings by code point, lists, dicts; Undefined is 0 (Jinja); else TypeError. */
export function pyLen(value: Value): number {
  if (value instanceof Undefined) return 0;
  if (typeof value === 'string') return [...value].length;
  if (value instanceof PyDict) return value.size;
  if (Array.isArray(value)) return value.length;
  throw new TemplateError(`object of type '${describe(value)}' has no len()`);
}

function describe(value: Value): string {
  if (value === null) return 'NoneType';
  if (typeof value === 'boolean') return 'bool';
  return typeof value === 'bigint' ? 'int' : 'float';
}
