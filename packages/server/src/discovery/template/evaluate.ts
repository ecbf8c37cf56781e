/**
 * The interpreter of a parsed template: walks the tree with Python's operator semantics (as Jinja
 * evaluates them in Home Assistant), reading only the variables it was given and only through
 * {@link PyDict}/list lookups, within the work and size bounds of ./limits.ts.
 * @module
 */
import type { BinaryOperator, CompareOperator, Expr, Node } from './ast.js';
import { FILTERS, MISSING, TESTS } from './filters.js';
import { compareCodePoints, NOT_JSON, parseJson } from './json.js';
import { MAX_TEMPLATE_INT_DIGITS, MAX_TEMPLATE_OUTPUT } from './limits.js';
import type { ParsedTemplate } from './parser.js';
import {
  Budget,
  PyDict,
  TemplateError,
  Undefined,
  type Value,
  dictKey,
  fromJs,
  isRefusedName,
  pyStrip,
  repr,
  toStr,
  truthy,
  typeName,
} from './values.js';

const INT_LIMIT = 10n ** BigInt(MAX_TEMPLATE_INT_DIGITS);

/**
 * Renders a parsed template with these variables, as Home Assistant does: the output stripped of
 * surrounding whitespace. `value_json`, when not given and `value` is a string, is `value` parsed as
 * JSON (Undefined when it is not JSON). Throws a TemplateError.
 */
export function renderTemplate(template: ParsedTemplate, variables: object): string {
  return new Interpreter(variables).render(template.body);
}

class Interpreter {
  readonly budget = new Budget();
  readonly #resolved = new Map<string, Value>();
  readonly #out: string[] = [];
  #length = 0;

  constructor(readonly variables: object) {}

  render(body: readonly Node[]): string {
    this.nodes(body);
    return pyStrip(this.#out.join(''));
  }

  nodes(body: readonly Node[]): void {
    for (const node of body) {
      this.budget.step();
      switch (node.kind) {
        case 'text':
          this.emit(node.text);
          break;
        case 'output':
          this.emit(toStr(this.eval(node.expr), this.budget));
          break;
        case 'if': {
          const branch = node.branches.find((b) => truthy(this.eval(b.test)));
          this.nodes(branch ? branch.body : node.otherwise);
          break;
        }
      }
    }
  }

  emit(s: string): void {
    this.#length += s.length;
    if (this.#length > MAX_TEMPLATE_OUTPUT) {
      throw new TemplateError(`the output is longer than ${MAX_TEMPLATE_OUTPUT} characters`);
    }
    this.#out.push(s);
  }

  variable(name: string): Value {
    const known = this.#resolved.get(name);
    if (known !== undefined) return known;
    const value = this.resolve(name);
    this.#resolved.set(name, value);
    return value;
  }

  resolve(name: string): Value {
    // The parser refuses such names; checked again here because this is where the caller's object is read.
    if (isRefusedName(name)) throw new TemplateError(`the name '${name}' is refused`);
    const own = Object.getOwnPropertyDescriptor(this.variables, name);
    if (own) {
      if (!('value' in own)) throw new TemplateError(`variable '${name}' is an accessor property`);
      return fromJs(own.value, name);
    }
    if (name === 'value_json') {
      const value = Object.getOwnPropertyDescriptor(this.variables, 'value');
      if (value && typeof value.value === 'string') {
        const parsed = parseJson(value.value);
        if (parsed !== NOT_JSON) return parsed;
      }
    }
    return new Undefined(`'${name}' is undefined`);
  }

  eval(e: Expr): Value {
    this.budget.step();
    switch (e.kind) {
      case 'const':
        return e.value;
      case 'name':
        return this.variable(e.name);
      case 'attr':
        return getAttribute(this.eval(e.target), e.name);
      case 'item':
        return getItem(this.eval(e.target), this.eval(e.index), this.budget);
      case 'list':
        return e.items.map((item) => this.eval(item));
      case 'dict': {
        const dict = new PyDict();
        for (const [k, v] of e.items) {
          const key = this.eval(k);
          if (typeof key === 'string' && isRefusedName(key)) throw new TemplateError(`the key '${key}' is refused`);
          dict.set(key, this.eval(v));
        }
        return dict;
      }
      case 'neg':
      case 'pos':
        return unary(e.kind, this.eval(e.operand));
      case 'not':
        return !truthy(this.eval(e.operand));
      case 'binary':
        return binary(e.op, this.eval(e.left), this.eval(e.right), this.budget);
      case 'and': {
        const left = this.eval(e.left);
        return truthy(left) ? this.eval(e.right) : left;
      }
      case 'or': {
        const left = this.eval(e.left);
        return truthy(left) ? left : this.eval(e.right);
      }
      case 'compare': {
        let left = this.eval(e.first);
        for (const { op, operand } of e.rest) {
          const right = this.eval(operand);
          if (!compare(op, left, right, this.budget)) return false;
          left = right;
        }
        return true;
      }
      case 'cond':
        if (truthy(this.eval(e.test))) return this.eval(e.then);
        if (e.otherwise) return this.eval(e.otherwise);
        return new Undefined('the inline if-expression evaluated to false and no else section was defined');
      case 'filter': {
        const input = this.eval(e.input);
        const args = e.args.map((a) => (a ? this.eval(a) : MISSING));
        this.budget.step();
        return FILTERS.get(e.name)!.apply(input, args, this.budget);
      }
      case 'test': {
        const result = TESTS.get(e.name)!(this.eval(e.input));
        return e.negated ? !result : result;
      }
    }
  }
}

/** Jinja's name for an object in "has no attribute" messages. */
function objectName(v: Value): string {
  if (v === null) return 'None';
  return `${typeName(v)} object`;
}

/** `obj.name`: a dict's key; anything else has no attributes here. Undefined raises, as in Jinja. */
export function getAttribute(target: Value, name: string): Value {
  if (target instanceof Undefined) throw new TemplateError(target.hint);
  if (target instanceof PyDict) {
    const v = target.get(name);
    if (v !== undefined) return v;
  }
  return new Undefined(`'${objectName(target)}' has no attribute '${name}'`);
}

/** `obj[key]`: a dict's key, a list's or string's index (negative from the end). */
export function getItem(target: Value, key: Value, budget: Budget): Value {
  if (typeof key === 'string' && isRefusedName(key)) throw new TemplateError(`the key '${key}' is refused`);
  if (target instanceof Undefined) throw new TemplateError(target.hint);
  if (typeof key === 'string') return getAttribute(target, key);
  const missing = new Undefined(`'${objectName(target)}' has no element ${repr(key, budget)}`);
  if (target instanceof PyDict) return target.get(key) ?? missing;
  if (typeof key !== 'bigint' && typeof key !== 'boolean') return missing;
  const index = typeof key === 'boolean' ? (key ? 1 : 0) : Number(key);
  if (Array.isArray(target)) {
    const list = target as readonly Value[];
    const i = index < 0 ? list.length + index : index;
    return i >= 0 && i < list.length ? list[i]! : missing;
  }
  if (typeof target === 'string') {
    budget.string(target.length);
    const chars = [...target];
    const i = index < 0 ? chars.length + index : index;
    return i >= 0 && i < chars.length ? chars[i]! : missing;
  }
  return missing;
}

type Numeric = bigint | number;

function numeric(v: Value): Numeric | null {
  if (typeof v === 'boolean') return v ? 1n : 0n;
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  return null;
}

function toFloat(n: Numeric): number {
  if (typeof n === 'number') return n;
  const f = Number(n);
  if (!Number.isFinite(f)) throw new TemplateError('int too large to convert to float');
  return f;
}

function checkedInt(n: bigint): bigint {
  if (n >= INT_LIMIT || n <= -INT_LIMIT)
    throw new TemplateError(`an integer with more than ${MAX_TEMPLATE_INT_DIGITS} digits`);
  return n;
}

function unary(kind: 'neg' | 'pos', v: Value): Value {
  if (v instanceof Undefined) throw new TemplateError(v.hint);
  const n = numeric(v);
  if (n === null) throw new TemplateError(`bad operand type for unary ${kind === 'neg' ? '-' : '+'}: '${typeName(v)}'`);
  return kind === 'neg' ? -n : n;
}

function unsupported(op: string, a: Value, b: Value): TemplateError {
  return new TemplateError(`unsupported operand type(s) for ${op}: '${typeName(a)}' and '${typeName(b)}'`);
}

/** Python's `*` of a string or list by an int; refuses a result too long before building it. */
function repeat(seq: string | readonly Value[], count: Value, budget: Budget): Value {
  const n = typeof count === 'boolean' ? (count ? 1 : 0) : Number(count as bigint);
  const times = Math.max(0, n);
  if (seq.length === 0 || times === 0) return typeof seq === 'string' ? '' : [];
  if (typeof seq === 'string') {
    budget.string(seq.length * times);
    return seq.repeat(times);
  }
  if (seq.length * times > MAX_TEMPLATE_OUTPUT) {
    throw new TemplateError(`the template builds a list longer than ${MAX_TEMPLATE_OUTPUT} items`);
  }
  budget.step(seq.length * times);
  const out: Value[] = [];
  for (let i = 0; i < times; i++) out.push(...seq);
  return out;
}

function isIntLike(v: Value): boolean {
  return typeof v === 'bigint' || typeof v === 'boolean';
}

/** Python's binary operators (and Jinja's `~`). */
export function binary(op: BinaryOperator, a: Value, b: Value, budget: Budget): Value {
  if (op === '~') {
    const left = toStr(a, budget);
    const right = toStr(b, budget);
    budget.string(left.length + right.length);
    return left + right;
  }
  if (a instanceof Undefined) throw new TemplateError(a.hint);
  if (b instanceof Undefined) throw new TemplateError(b.hint);
  if (op === '+') {
    if (typeof a === 'string' && typeof b === 'string') {
      budget.string(a.length + b.length);
      return a + b;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      budget.step(a.length + b.length);
      return [...(a as Value[]), ...(b as Value[])];
    }
  }
  if (op === '*') {
    if ((typeof a === 'string' || Array.isArray(a)) && isIntLike(b)) return repeat(a as string | Value[], b, budget);
    if ((typeof b === 'string' || Array.isArray(b)) && isIntLike(a)) return repeat(b as string | Value[], a, budget);
  }
  if (op === '%' && typeof a === 'string') throw new TemplateError('string formatting with % is not supported');
  const x = numeric(a);
  const y = numeric(b);
  if (x === null || y === null) throw unsupported(op, a, b);
  if (typeof x === 'bigint' && typeof y === 'bigint') {
    switch (op) {
      case '+':
        return checkedInt(x + y);
      case '-':
        return checkedInt(x - y);
      case '*':
        return checkedInt(x * y);
      case '/':
        if (y === 0n) throw new TemplateError('division by zero');
        return toFloat(x) / toFloat(y);
      case '//': {
        if (y === 0n) throw new TemplateError('integer division or modulo by zero');
        const q = x / y;
        return x % y !== 0n && x < 0n !== y < 0n ? q - 1n : q;
      }
      case '%': {
        if (y === 0n) throw new TemplateError('integer division or modulo by zero');
        const r = x % y;
        return r !== 0n && r < 0n !== y < 0n ? r + y : r;
      }
    }
  }
  const f = toFloat(x);
  const g = toFloat(y);
  switch (op) {
    case '+':
      return f + g;
    case '-':
      return f - g;
    case '*':
      return f * g;
    case '/':
      if (g === 0) throw new TemplateError('float division by zero');
      return f / g;
    case '//':
      if (g === 0) throw new TemplateError('float floor division by zero');
      return Math.floor(f / g);
    case '%': {
      if (g === 0) throw new TemplateError('float modulo');
      const r = f % g;
      if (r === 0) return g < 0 ? -0 : 0;
      return r < 0 !== g < 0 ? r + g : r;
    }
  }
}

/** Python's `==` (Undefined equals only Undefined, as Jinja's does). */
export function equals(a: Value, b: Value, budget: Budget): boolean {
  budget.step();
  if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
  const x = numeric(a);
  const y = numeric(b);
  if (x !== null || y !== null) return x !== null && y !== null && x == y;
  if (typeof a === 'string' || typeof b === 'string' || a === null || b === null) return a === b;
  if (a instanceof PyDict || b instanceof PyDict) {
    if (!(a instanceof PyDict && b instanceof PyDict) || a.size !== b.size) return false;
    for (const [k, [, v]] of a.entries) {
      const other = b.entries.get(k);
      if (!other || !equals(v, other[1], budget)) return false;
    }
    return true;
  }
  const l = a as readonly Value[];
  const m = b as readonly Value[];
  return l.length === m.length && l.every((item, i) => equals(item, m[i]!, budget));
}

/** Python's ordering: numbers with numbers, strings with strings, lists item by item. */
function order(a: Value, b: Value, op: string, budget: Budget): number {
  if (a instanceof Undefined) throw new TemplateError(a.hint);
  if (b instanceof Undefined) throw new TemplateError(b.hint);
  const x = numeric(a);
  const y = numeric(b);
  if (x !== null && y !== null) return x < y ? -1 : x > y ? 1 : x == y ? 0 : NaN;
  if (typeof a === 'string' && typeof b === 'string') return compareCodePoints(a, b);
  if (Array.isArray(a) && Array.isArray(b)) {
    const l = a as readonly Value[];
    const m = b as readonly Value[];
    for (let i = 0; i < Math.min(l.length, m.length); i++) {
      if (!equals(l[i]!, m[i]!, budget)) return order(l[i]!, m[i]!, op, budget);
    }
    return l.length - m.length;
  }
  throw new TemplateError(`'${op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

/** Python's `in`. */
export function contains(needle: Value, haystack: Value, budget: Budget): boolean {
  if (haystack instanceof Undefined) return false;
  if (typeof haystack === 'string') {
    if (typeof needle !== 'string') {
      throw new TemplateError(`'in <string>' requires string as left operand, not ${typeName(needle)}`);
    }
    budget.string(haystack.length);
    return haystack.includes(needle);
  }
  if (haystack instanceof PyDict) {
    if (needle instanceof Undefined) return false;
    const k = dictKey(needle);
    if (k === null) throw new TemplateError(`unhashable type: '${typeName(needle)}'`);
    return haystack.entries.has(k);
  }
  if (Array.isArray(haystack)) return (haystack as readonly Value[]).some((item) => equals(needle, item, budget));
  throw new TemplateError(`argument of type '${typeName(haystack)}' is not iterable`);
}

function compare(op: CompareOperator, a: Value, b: Value, budget: Budget): boolean {
  switch (op) {
    case '==':
      return equals(a, b, budget);
    case '!=':
      return !equals(a, b, budget);
    case 'in':
      return contains(a, b, budget);
    case 'notin':
      return !contains(a, b, budget);
    case '<':
      return order(a, b, op, budget) < 0;
    case '>':
      return order(a, b, op, budget) > 0;
    case '<=':
      return order(a, b, op, budget) <= 0;
    case '>=':
      return order(a, b, op, budget) >= 0;
  }
}
