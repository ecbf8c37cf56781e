/**
 * The values a template computes with, modelled on the Python values Jinja sees in Home Assistant:
 * `None`, booleans, ints (kept apart from floats so that `1.0` prints as `1.0`), floats, strings,
 * lists, dicts and Jinja's `Undefined`. Dicts are {@link PyDict}s (a `Map`), never JavaScript
 * objects, so no lookup can reach a prototype. Also: Python's `str()`/`repr()` of them, truthiness,
 * and the work budget every operation charges.
 * @module
 */
import { MAX_TEMPLATE_DATA_DEPTH, MAX_TEMPLATE_OUTPUT, MAX_TEMPLATE_STEPS } from './limits.js';

/** Why a template could not be rendered (or, inside the compiler, compiled). */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

const REFUSED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Whether an attribute, key or variable name is refused: `__proto__`, `constructor`, `prototype`
 * and any name starting with `_` (as Jinja's sandbox refuses those). Literal names are refused when
 * compiling, computed ones when rendering.
 */
export function isRefusedName(name: string): boolean {
  return REFUSED_NAMES.has(name) || name.startsWith('_');
}

/** Jinja's `Undefined`: what a missing variable, key or index gives. Prints as ''. */
export class Undefined {
  /** @param hint Jinja's message for it, e.g. `'dict object' has no attribute 'x'`. */
  constructor(readonly hint: string) {}
}

/** A Python dict: keys are strings, numbers, booleans or None, in insertion order. */
export class PyDict {
  /** Canonical key (see {@link dictKey}) → the key as given and its value. */
  readonly entries = new Map<string, readonly [Value, Value]>();

  /** The value for `key`, or `undefined` when there is none. */
  get(key: Value): Value | undefined {
    const k = dictKey(key);
    return k === null ? undefined : this.entries.get(k)?.[1];
  }

  /** Sets `key` (a TemplateError for a key Python cannot hash). */
  set(key: Value, value: Value): void {
    const k = dictKey(key);
    if (k === null) throw new TemplateError(`unhashable type: '${typeName(key)}'`);
    const existing = this.entries.get(k);
    // Python keeps the first key object and its position, and takes the last value.
    this.entries.set(k, [existing ? existing[0] : key, value]);
  }

  /** Number of keys. */
  get size(): number {
    return this.entries.size;
  }
}

/** A value inside a template. `bigint` is Python's int, `number` its float. */
export type Value = Undefined | null | boolean | bigint | number | string | readonly Value[] | PyDict;

/**
 * The canonical form of a dict key, so that equal Python keys (`1`, `1.0`, `True`) are one key;
 * `null` for a value that cannot be a key (lists, dicts, Undefined).
 */
export function dictKey(key: Value): string | null {
  if (typeof key === 'string') return `s${key}`;
  if (key === null) return 'z';
  if (typeof key === 'boolean') return key ? 'n1' : 'n0';
  if (typeof key === 'bigint') return `n${key}`;
  if (typeof key === 'number') {
    if (Number.isInteger(key)) return `n${BigInt(key)}`;
    return `n${key}`;
  }
  return null;
}

/** Python's type name of a value, for error messages. */
export function typeName(v: Value): string {
  if (v instanceof Undefined) return 'Undefined';
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'number') return 'float';
  if (typeof v === 'string') return 'str';
  if (v instanceof PyDict) return 'dict';
  return 'list';
}

/** Python's truth value (Undefined is false, as in Jinja). */
export function truthy(v: Value): boolean {
  if (v instanceof Undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof PyDict) return v.size > 0;
  return v.length > 0;
}

/** Counts the work of one render and refuses to go past {@link MAX_TEMPLATE_STEPS}. */
export class Budget {
  #steps = 0;

  /** Charges `n` steps. */
  step(n = 1): void {
    this.#steps += n;
    if (this.#steps > MAX_TEMPLATE_STEPS) {
      throw new TemplateError(`the template needs more than ${MAX_TEMPLATE_STEPS} steps`);
    }
  }

  /** Charges for a string about to be built of `length` characters, refusing one too long. */
  string(length: number): void {
    this.length(length);
    this.step(1 + (length >> 6));
  }

  /** Refuses a string about to grow to `length` characters when that is too long (no charge). */
  length(length: number): void {
    if (length > MAX_TEMPLATE_OUTPUT) {
      throw new TemplateError(`the template builds a string longer than ${MAX_TEMPLATE_OUTPUT} characters`);
    }
  }
}

/** Python's `repr()` of a float: shortest round-trip digits, `1.0`, `1e+16`, `1e-05`, `inf`, `nan`. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that read back as x, as Python.
  const [mantissa, exponent] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const decpt = Number(exponent) + 1;
  if (decpt <= -4 || decpt > 16) {
    const e = decpt - 1;
    const rest = digits.length > 1 ? `.${digits.slice(1)}` : '';
    return `${sign}${digits[0]}${rest}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return `${sign}${digits}${'0'.repeat(decpt - digits.length)}.0`;
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

// Python's str.isprintable() is false for these categories (and true for the plain space).
const NOT_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

/** Python's `repr()` of a string: `'a'`, `"it's"`, with escapes for what is not printable. */
export function stringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch !== ' ' && NOT_PRINTABLE.test(ch)) {
      const cp = ch.codePointAt(0)!;
      const hex = cp.toString(16);
      out +=
        cp <= 0xff
          ? `\\x${hex.padStart(2, '0')}`
          : cp <= 0xffff
            ? `\\u${hex.padStart(4, '0')}`
            : `\\U${hex.padStart(8, '0')}`;
    } else out += ch;
  }
  return out + quote;
}

/** Python's `str()` of a value, as `{{ … }}` prints it (Undefined prints as ''). */
export function toStr(v: Value, budget: Budget): string {
  if (typeof v === 'string') return v;
  if (v instanceof Undefined) return '';
  return repr(v, budget);
}

/** Python's `repr()` of a value (lists and dicts print their items this way). */
export function repr(v: Value, budget: Budget): string {
  budget.step();
  if (v instanceof Undefined) return 'Undefined';
  if (v === null) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return floatRepr(v);
  if (typeof v === 'string') return checked(stringRepr(v), budget);
  if (v instanceof PyDict) {
    const parts: string[] = [];
    let length = 2;
    for (const [key, value] of v.entries.values()) {
      const part = `${repr(key, budget)}: ${repr(value, budget)}`;
      length += part.length + 2;
      budget.length(length);
      parts.push(part);
    }
    return `{${parts.join(', ')}}`;
  }
  const parts: string[] = [];
  let length = 2;
  for (const item of v) {
    const part = repr(item, budget);
    length += part.length + 2;
    budget.length(length);
    parts.push(part);
  }
  return `[${parts.join(', ')}]`;
}

function checked(s: string, budget: Budget): string {
  budget.string(s.length);
  return s;
}

/** Python's whitespace (str.isspace), for strip(), int() and float(). */
export const PY_WHITESPACE =
  '\\t\\n\\x0b\\x0c\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const SPACE = new RegExp(`[${PY_WHITESPACE}]`);

/**
 * Python's `str.strip()` with no argument. A loop, not a regular expression: `/\s+$/` tries every
 * run of spaces to its end, which is quadratic on a long output with spaces in the middle.
 */
export function pyStrip(s: string): string {
  let start = 0;
  while (start < s.length && SPACE.test(s[start]!)) start++;
  return pyStripEnd(s.slice(start));
}

/** Python's `str.rstrip()` with no argument. */
export function pyStripEnd(s: string): string {
  let end = s.length;
  while (end > 0 && SPACE.test(s[end - 1]!)) end--;
  return s.slice(0, end);
}

/** Number of code points (Python's `len()` of a str). */
export function codePointLength(s: string): number {
  let n = 0;
  for (const ch of s) if (ch) n++;
  return n;
}

/**
 * Turns a variable the caller passes into a template value: JSON-like data only (plain objects,
 * arrays, strings, numbers, booleans, null). A JavaScript number that is an integer becomes an int,
 * any other a float. Anything else (a function, a class instance, an accessor property) is refused.
 */
export function fromJs(x: unknown, name: string, depth = 0): Value {
  if (depth > MAX_TEMPLATE_DATA_DEPTH) throw new TemplateError(`variable '${name}' is nested too deeply`);
  if (x === undefined) return new Undefined(`'${name}' is undefined`);
  if (x === null || typeof x === 'boolean' || typeof x === 'string' || typeof x === 'bigint') return x;
  if (typeof x === 'number') return Number.isInteger(x) ? BigInt(x) : x;
  if (Array.isArray(x)) {
    const out: Value[] = [];
    for (let i = 0; i < x.length; i++) out.push(fromJsProperty(x, String(i), name, depth) ?? null);
    return out;
  }
  if (typeof x === 'object') {
    const proto = Object.getPrototypeOf(x) as unknown;
    if (proto === Object.prototype || proto === null) {
      const dict = new PyDict();
      for (const key of Object.keys(x)) {
        const v = fromJsProperty(x, key, name, depth);
        if (v !== undefined) dict.set(key, v);
      }
      return dict;
    }
  }
  throw new TemplateError(`variable '${name}' holds something that is not JSON data`);
}

/** One own data property converted, or `undefined` for a hole or an `undefined` (as JSON drops them). */
function fromJsProperty(holder: object, key: string, name: string, depth: number): Value | undefined {
  const d = Object.getOwnPropertyDescriptor(holder, key);
  if (d === undefined) return undefined;
  // Never run a getter the caller's data might carry.
  if (!('value' in d)) throw new TemplateError(`variable '${name}' holds an accessor property`);
  const v: unknown = d.value;
  return v === undefined ? undefined : fromJs(v, name, depth + 1);
}
