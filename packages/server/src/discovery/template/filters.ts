/**
 * The filters (`value | int`) and tests (`value is defined`) of the safe subset, each as Jinja or
 * Home Assistant defines it (docs/discovery.md, "Templates"). A name not listed here does not
 * compile.
 * @module
 */
import { dumpJson, NOT_JSON, parseJson } from './json.js';
import {
  CONVERSION_FAILED,
  haBoolean,
  intOfFloat,
  jinjaInt,
  pyFloat,
  pyLen,
  pyRound,
  roundHalfEven,
} from './python.js';
import { type Budget, PyDict, TemplateError, Undefined, type Value, pyStrip, toStr, truthy } from './values.js';

/** An argument the template did not give. */
export const MISSING: unique symbol = Symbol('missing');

/** An argument as a filter receives it. */
export type Argument = Value | typeof MISSING;

/** One filter. */
export interface FilterDefinition {
  /** Its parameters after the input, by name (keyword arguments use these names). */
  readonly params: readonly string[];
  /** How many of them must be given. */
  readonly required: number;
  /** Applies it. Throws a TemplateError. */
  apply(input: Value, args: readonly Argument[], budget: Budget): Value;
}

/**
 * Home Assistant's `raise_no_default`: a conversion filter given bad input and no default fails
 * the render (Home Assistant logs it and drops the message).
 */
function noDefault(filter: string, input: Value, budget: Budget): never {
  throw new TemplateError(`${filter} got invalid input '${toStr(input, budget)}' but no default was specified`);
}

function orDefault<T extends Value>(
  result: T | typeof CONVERSION_FAILED,
  fallback: Argument,
  filter: string,
  input: Value,
  budget: Budget,
): Value {
  if (result !== CONVERSION_FAILED) return result;
  if (fallback === MISSING) noDefault(filter, input, budget);
  return fallback;
}

function intArgument(v: Argument, name: string, fallback: number): number {
  if (v === MISSING) return fallback;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint' && v >= -1000n && v <= 1000n) return Number(v);
  throw new TemplateError(`${name} must be a small integer`);
}

function stringArgument(v: Argument, fallback: string, budget: Budget): string {
  return v === MISSING ? fallback : toStr(v, budget);
}

function withLength(s: string, budget: Budget): string {
  budget.string(s.length);
  return s;
}

/** Python's str.replace(old, new, count), refusing a result that would be too long before building it. */
function replace(s: string, old: string, replacement: string, count: number, budget: Budget): string {
  if (old === '') {
    // 'abc'.replace('', '-') is '-a-b-c-': the empty string matches at every code point boundary.
    const chars = [...s];
    const slots = chars.length + 1;
    const n = count < 0 ? slots : Math.min(count, slots);
    budget.string(s.length + n * replacement.length);
    let out = '';
    for (let i = 0; i < chars.length; i++) out += (i < n ? replacement : '') + chars[i];
    return n === slots ? out + replacement : out;
  }
  const parts = s.split(old);
  const found = parts.length - 1;
  const n = count < 0 ? found : Math.min(count, found);
  budget.string(s.length + n * (replacement.length - old.length));
  return parts.slice(0, n + 1).join(replacement) + (n < found ? old + parts.slice(n + 1).join(old) : '');
}

function truncate(input: Value, args: readonly Argument[], budget: Budget): Value {
  if (input instanceof Undefined) return input;
  if (typeof input !== 'string') throw new TemplateError('truncate needs a string');
  const length = args[0] === MISSING ? 255 : Number(intArgumentLarge(args[0]!, 'truncate length'));
  const killwords = args[1] === MISSING ? false : truthy(args[1]!);
  const end = stringArgument(args[2]!, '...', budget);
  const leeway = args[3] === MISSING || args[3] === null ? 5 : Number(intArgumentLarge(args[3]!, 'truncate leeway'));
  const chars = [...input];
  const endLength = [...end].length;
  if (length < endLength) throw new TemplateError(`expected length >= ${endLength}, got ${length}`);
  if (leeway < 0) throw new TemplateError(`expected leeway >= 0, got ${leeway}`);
  if (chars.length <= length + leeway) return input;
  const head = chars.slice(0, length - endLength).join('');
  if (killwords) return head + end;
  const space = head.lastIndexOf(' ');
  return (space < 0 ? head : head.slice(0, space)) + end;
}

function intArgumentLarge(v: Value, name: string): bigint {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'bigint' && v >= -(2n ** 31n) && v < 2n ** 31n) return v;
  throw new TemplateError(`${name} must be an integer`);
}

function round(input: Value, args: readonly Argument[], budget: Budget): Value {
  const [precisionArg, methodArg, fallback] = args as [Argument, Argument, Argument];
  const f = pyFloat(input);
  const precision =
    precisionArg === MISSING ? 0n : typeof precisionArg === 'boolean' ? BigInt(precisionArg) : precisionArg;
  if (f === CONVERSION_FAILED || typeof precisionArg === 'number' || typeof precision !== 'bigint') {
    return orDefault(CONVERSION_FAILED, fallback, 'round', input, budget);
  }
  if (precision > 400n || precision < -400n) throw new TemplateError('round precision out of range');
  const p = Number(precision);
  const method = methodArg === MISSING ? 'common' : methodArg;
  let result: number;
  if (method === 'ceil' || method === 'floor') {
    const multiplier = 10 ** p;
    if (!Number.isFinite(multiplier)) throw new TemplateError('int too large to convert to float');
    const scaled = f * multiplier;
    if (!Number.isFinite(scaled)) throw new TemplateError('cannot convert float infinity to integer');
    result = (method === 'ceil' ? Math.ceil(scaled) : Math.floor(scaled)) / multiplier;
  } else if (method === 'half') {
    result = roundHalfEven(f * 2) / 2;
  } else {
    result = pyRound(f, p);
  }
  if (p !== 0) return result;
  return orDefault(intOfFloat(result), fallback, 'round', input, budget);
}

const FILTER_LIST: Record<string, FilterDefinition> = {
  int: {
    params: ['default', 'base'],
    required: 0,
    apply(input, [fallback, base], budget) {
      const b = intArgument(base!, 'int base', 10);
      if (b !== 0 && (b < 2 || b > 36)) throw new TemplateError('int() base must be >= 2 and <= 36, or 0');
      return orDefault(jinjaInt(input, b), fallback!, 'int', input, budget);
    },
  },
  float: {
    params: ['default'],
    required: 0,
    apply(input, [fallback], budget) {
      return orDefault(pyFloat(input), fallback!, 'float', input, budget);
    },
  },
  round: { params: ['precision', 'method', 'default'], required: 0, apply: round },
  default: {
    params: ['default_value', 'boolean'],
    required: 0,
    apply(input, [fallback, boolean]) {
      const useBoolean = boolean !== MISSING && truthy(boolean!);
      if (input instanceof Undefined || (useBoolean && !truthy(input))) return fallback === MISSING ? '' : fallback!;
      return input;
    },
  },
  lower: {
    params: [],
    required: 0,
    apply: (input, _, budget) => withLength(toStr(input, budget).toLowerCase(), budget),
  },
  upper: {
    params: [],
    required: 0,
    apply: (input, _, budget) => withLength(toStr(input, budget).toUpperCase(), budget),
  },
  string: { params: [], required: 0, apply: (input, _, budget) => toStr(input, budget) },
  trim: {
    params: ['chars'],
    required: 0,
    apply(input, [chars], budget) {
      const s = toStr(input, budget);
      if (chars === MISSING || chars === null) return pyStrip(s);
      const set = new Set(toStr(chars!, budget));
      const cps = [...s];
      let a = 0;
      let b = cps.length;
      while (a < b && set.has(cps[a]!)) a++;
      while (b > a && set.has(cps[b - 1]!)) b--;
      return cps.slice(a, b).join('');
    },
  },
  replace: {
    params: ['old', 'new', 'count'],
    required: 2,
    apply(input, [old, replacement, count], budget) {
      const n = count === MISSING || count === null ? -1 : Number(intArgumentLarge(count!, 'replace count'));
      return replace(toStr(input, budget), toStr(old as Value, budget), toStr(replacement as Value, budget), n, budget);
    },
  },
  abs: {
    params: [],
    required: 0,
    apply(input) {
      if (typeof input === 'boolean') return input ? 1n : 0n;
      if (typeof input === 'bigint') return input < 0n ? -input : input;
      if (typeof input === 'number') return Math.abs(input);
      throw new TemplateError(`bad operand type for abs()`);
    },
  },
  bool: {
    params: ['default'],
    required: 0,
    apply(input, [fallback], budget) {
      return orDefault(haBoolean(input), fallback!, 'bool', input, budget);
    },
  },
  length: { params: [], required: 0, apply: (input) => BigInt(pyLen(input)) },
  tojson: {
    params: ['indent'],
    required: 0,
    apply(input, [indent], budget) {
      const n = indent === MISSING || indent === null ? null : intArgument(indent!, 'tojson indent', 0);
      const json = dumpJson(
        input,
        {
          sortKeys: true,
          ensureAscii: true,
          indent: n,
          itemSeparator: ', ',
          keySeparator: ': ',
          nonFinite: 'python',
          int64: false,
        },
        budget,
      );
      // Jinja's htmlsafe_json_dumps.
      return json.replace(/[<>&']/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
    },
  },
  to_json: {
    params: ['ensure_ascii', 'pretty_print', 'sort_keys'],
    required: 0,
    apply(input, [ensureAscii, prettyPrint, sortKeys], budget) {
      const ascii = ensureAscii !== MISSING && truthy(ensureAscii!);
      const pretty = prettyPrint !== MISSING && truthy(prettyPrint!);
      return dumpJson(
        input,
        {
          sortKeys: sortKeys !== MISSING && truthy(sortKeys!),
          ensureAscii: ascii,
          indent: pretty ? 2 : null,
          // orjson writes compactly; with ensure_ascii Home Assistant falls back to Python's json.
          itemSeparator: ascii ? ', ' : ',',
          keySeparator: ascii || pretty ? ': ' : ':',
          nonFinite: ascii ? 'python' : 'null',
          int64: !ascii,
        },
        budget,
      );
    },
  },
  from_json: {
    params: ['default'],
    required: 0,
    apply(input, [fallback], budget) {
      const parsed = typeof input === 'string' ? parseJson(input) : NOT_JSON;
      return orDefault(parsed === NOT_JSON ? CONVERSION_FAILED : parsed, fallback!, 'from_json', input, budget);
    },
  },
  is_defined: {
    params: [],
    required: 0,
    apply(input) {
      if (input instanceof Undefined) throw new TemplateError(input.hint);
      return input;
    },
  },
  is_number: { params: [], required: 0, apply: (input) => isNumber(input) },
  truncate: { params: ['length', 'killwords', 'end', 'leeway'], required: 0, apply: truncate },
};

/** The filters of the subset, with Jinja's aliases (`d` for `default`, `count` for `length`). */
export const FILTERS: ReadonlyMap<string, FilterDefinition> = new Map([
  ...Object.entries(FILTER_LIST),
  ['d', FILTER_LIST.default!],
  ['count', FILTER_LIST.length!],
]);

/** Home Assistant's `is_number`: a finite float can be made of it. */
function isNumber(input: Value): boolean {
  if (input instanceof Undefined) return false;
  const f = pyFloat(input);
  return f !== CONVERSION_FAILED && Number.isFinite(f);
}

/** The tests of the subset (`x is defined`); none takes an argument. */
export const TESTS: ReadonlyMap<string, (input: Value) => boolean> = new Map<string, (input: Value) => boolean>([
  ['defined', (v) => !(v instanceof Undefined)],
  ['undefined', (v) => v instanceof Undefined],
  ['none', (v) => v === null],
  // Jinja's number test is isinstance(value, Number): booleans are numbers too.
  ['number', (v) => typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean'],
  ['integer', (v) => typeof v === 'bigint'],
  ['float', (v) => typeof v === 'number'],
  ['string', (v) => typeof v === 'string'],
  ['boolean', (v) => typeof v === 'boolean'],
  ['true', (v) => v === true],
  ['false', (v) => v === false],
  ['mapping', (v) => v instanceof PyDict],
  ['is_number', isNumber],
]);
