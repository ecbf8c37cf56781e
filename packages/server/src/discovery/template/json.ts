/**
 * JSON in and out of template values. Parsing is our own (not `JSON.parse`) so that it gives what
 * Python's parser gives Home Assistant: `1` an int and `1.0` a float, keys in document order, the
 * last of duplicate keys winning, and a depth bound. Serializing follows Jinja's `tojson` (Python's
 * `json.dumps` with sorted keys and HTML-safe escapes) and Home Assistant's `to_json` (orjson).
 * @module
 */
import { MAX_TEMPLATE_DATA_DEPTH, MAX_TEMPLATE_INT_DIGITS } from './limits.js';
import { type Budget, PyDict, TemplateError, Undefined, type Value, floatRepr, typeName } from './values.js';

/** What {@link parseJson} returns for text that is not JSON (or nested deeper than the bound). */
export const NOT_JSON: unique symbol = Symbol('not JSON');

/** Parses JSON text into template values, or {@link NOT_JSON}. Never throws. */
export function parseJson(text: string): Value | typeof NOT_JSON {
  const parser = new JsonParser(text);
  try {
    const v = parser.value(0);
    parser.space();
    return parser.done() ? v : NOT_JSON;
  } catch (e) {
    if (e === NOT_JSON_ERROR) return NOT_JSON;
    throw e;
  }
}

const NOT_JSON_ERROR = new Error('not JSON');
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class JsonParser {
  #pos = 0;
  constructor(readonly text: string) {}

  done(): boolean {
    return this.#pos === this.text.length;
  }

  space(): void {
    while (this.#pos < this.text.length) {
      const c = this.text.charCodeAt(this.#pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) break;
      this.#pos++;
    }
  }

  value(depth: number): Value {
    if (depth > MAX_TEMPLATE_DATA_DEPTH) throw NOT_JSON_ERROR;
    this.space();
    const c = this.text[this.#pos];
    if (c === '{') return this.object(depth);
    if (c === '[') return this.array(depth);
    if (c === '"') return this.string();
    if (this.text.startsWith('true', this.#pos)) return this.word(4, true);
    if (this.text.startsWith('false', this.#pos)) return this.word(5, false);
    if (this.text.startsWith('null', this.#pos)) return this.word(4, null);
    NUMBER.lastIndex = this.#pos;
    const m = NUMBER.exec(this.text);
    if (!m) throw NOT_JSON_ERROR;
    this.#pos += m[0].length;
    if (m[1] === undefined && !/[eE]/.test(m[0])) {
      if (m[0].replace('-', '').length > MAX_TEMPLATE_INT_DIGITS) throw NOT_JSON_ERROR;
      return BigInt(m[0]);
    }
    return Number(m[0]);
  }

  word<T extends Value>(length: number, v: T): T {
    this.#pos += length;
    return v;
  }

  object(depth: number): PyDict {
    const dict = new PyDict();
    this.#pos++;
    this.space();
    if (this.text[this.#pos] === '}') {
      this.#pos++;
      return dict;
    }
    for (;;) {
      this.space();
      if (this.text[this.#pos] !== '"') throw NOT_JSON_ERROR;
      const key = this.string();
      this.space();
      if (this.text[this.#pos++] !== ':') throw NOT_JSON_ERROR;
      dict.set(key, this.value(depth + 1));
      this.space();
      const c = this.text[this.#pos++];
      if (c === '}') return dict;
      if (c !== ',') throw NOT_JSON_ERROR;
    }
  }

  array(depth: number): Value[] {
    const list: Value[] = [];
    this.#pos++;
    this.space();
    if (this.text[this.#pos] === ']') {
      this.#pos++;
      return list;
    }
    for (;;) {
      list.push(this.value(depth + 1));
      this.space();
      const c = this.text[this.#pos++];
      if (c === ']') return list;
      if (c !== ',') throw NOT_JSON_ERROR;
    }
  }

  string(): string {
    let out = '';
    let start = ++this.#pos;
    for (;;) {
      if (this.#pos >= this.text.length) throw NOT_JSON_ERROR;
      const c = this.text.charCodeAt(this.#pos);
      if (c === 0x22) {
        out += this.text.slice(start, this.#pos++);
        return out;
      }
      if (c < 0x20) throw NOT_JSON_ERROR;
      if (c !== 0x5c) {
        this.#pos++;
        continue;
      }
      out += this.text.slice(start, this.#pos);
      const e = this.text[this.#pos + 1] ?? '';
      if (e === 'u') {
        const hex = this.text.slice(this.#pos + 2, this.#pos + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw NOT_JSON_ERROR;
        out += String.fromCharCode(parseInt(hex, 16));
        this.#pos += 6;
      } else {
        const ch = ESCAPES[e];
        if (ch === undefined) throw NOT_JSON_ERROR;
        out += ch;
        this.#pos += 2;
      }
      start = this.#pos;
    }
  }
}

/** How {@link dumpJson} writes. */
export interface DumpOptions {
  /** Sort dict keys. */
  sortKeys: boolean;
  /** Escape everything outside ASCII as `\uXXXX` (Python's json), or keep it (orjson). */
  ensureAscii: boolean;
  /** Indent nested items by this many spaces, or write on one line. */
  indent: number | null;
  /** Between items on one line: `', '` (Python's json) or `','` (orjson). */
  itemSeparator: string;
  /** Between a key and its value: `': '` or `':'`. */
  keySeparator: string;
  /** NaN and infinities as `NaN`/`Infinity` (Python's json) or `null` (orjson). */
  nonFinite: 'python' | 'null';
  /** Refuse ints outside 64 bits, as orjson does. */
  int64: boolean;
}

/** Serializes a value as JSON (a TemplateError for Undefined, as Python's serializers raise). */
export function dumpJson(v: Value, options: DumpOptions, budget: Budget): string {
  const out: string[] = [];
  let length = 0;
  const emit = (s: string): void => {
    length += s.length;
    budget.length(length);
    out.push(s);
  };
  const write = (x: Value, level: number): void => {
    budget.step();
    if (x instanceof Undefined) throw new TemplateError('Object of type Undefined is not JSON serializable');
    if (x === null) return emit('null');
    if (typeof x === 'boolean') return emit(x ? 'true' : 'false');
    if (typeof x === 'bigint') {
      if (options.int64 && (x < -(2n ** 63n) || x >= 2n ** 64n))
        throw new TemplateError('Integer exceeds 64-bit range');
      return emit(x.toString());
    }
    if (typeof x === 'number') {
      if (Number.isFinite(x)) return emit(floatRepr(x));
      if (options.nonFinite === 'null') return emit('null');
      return emit(Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity');
    }
    if (typeof x === 'string') {
      budget.step(x.length >> 6);
      return emit(jsonString(x, options.ensureAscii));
    }
    const items: [string | null, Value][] =
      x instanceof PyDict
        ? [...x.entries.values()].map(([k, val]) => [keyString(k), val])
        : x.map((val) => [null, val]);
    if (x instanceof PyDict && options.sortKeys) items.sort(([a], [b]) => compareCodePoints(a!, b!));
    const [open, close] = x instanceof PyDict ? ['{', '}'] : ['[', ']'];
    if (items.length === 0) return emit(open + close);
    emit(open);
    const inner = options.indent === null ? '' : `\n${' '.repeat(options.indent * (level + 1))}`;
    items.forEach(([key, val], i) => {
      if (i > 0) emit(options.indent === null ? options.itemSeparator : ',');
      emit(inner);
      if (key !== null) emit(jsonString(key, options.ensureAscii) + options.keySeparator);
      write(val, level + 1);
    });
    emit(options.indent === null ? close : `\n${' '.repeat(options.indent * level)}${close}`);
  };
  write(v, 0);
  return out.join('');
}

/** A dict key as JSON writes it: strings as they are, numbers, booleans and None as JSON words. */
function keyString(k: Value): string {
  if (typeof k === 'string') return k;
  if (k === null) return 'null';
  if (typeof k === 'boolean') return k ? 'true' : 'false';
  if (typeof k === 'bigint') return k.toString();
  if (typeof k === 'number') return floatRepr(k);
  throw new TemplateError(`keys must be str, int, float, bool or None, not ${typeName(k)}`);
}

const SHORT: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\b': '\\b',
  '\f': '\\f',
};

/** A JSON string literal; `ensureAscii` escapes every non-ASCII UTF-16 unit as Python's json does. */
export function jsonString(s: string, ensureAscii: boolean): string {
  const pattern = ensureAscii ? /["\\\u0000-\u001f\u007f-\uffff]/g : /["\\\u0000-\u001f\ud800-\udfff]/g;
  return `"${s.replace(pattern, (ch, offset: number) => {
    const short = SHORT[ch];
    if (short !== undefined) return short;
    const code = ch.charCodeAt(0);
    // Without ensureAscii only lone surrogates are escaped (orjson refuses them; we keep them visible).
    if (!ensureAscii && code >= 0xd800 && code <= 0xdfff && isPaired(s, offset, code)) return ch;
    return `\\u${code.toString(16).padStart(4, '0')}`;
  })}"`;
}

function isPaired(s: string, offset: number, code: number): boolean {
  if (code <= 0xdbff) {
    const next = s.charCodeAt(offset + 1);
    return next >= 0xdc00 && next <= 0xdfff;
  }
  const prev = s.charCodeAt(offset - 1);
  return prev >= 0xd800 && prev <= 0xdbff;
}

/** Compares strings by code point, as Python orders them. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done && y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}
