/**
 * The template tokenizer: splits a template into text, `{{ … }}` outputs and `{% … %}` blocks
 * (dropping `{# … #}` comments and applying `-` whitespace control), and each tag into expression
 * tokens, as Jinja's lexer does with its default delimiters.
 * @module
 */
import { PY_WHITESPACE, pyStripEnd } from './values.js';

/** One token inside a tag. */
export type Token =
  | { type: 'name'; value: string; pos: number }
  | { type: 'string'; value: string; pos: number }
  | { type: 'int'; value: bigint; pos: number }
  | { type: 'float'; value: number; pos: number }
  | { type: 'op'; value: string; pos: number };

/** One piece of a template. */
export type Piece =
  | { type: 'text'; text: string }
  | { type: 'output'; tokens: Token[]; pos: number }
  | { type: 'block'; tokens: Token[]; pos: number };

/** Why a template could not be tokenized; `pos` is the offset in the source. */
export class LexError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

const TAG_START = /\{[{%#]/g;
const SPACE = /\s+/y;
const LEADING_SPACE = new RegExp(`[${PY_WHITESPACE}]*`, 'y');
const FLOAT = /(?<!\.)\d(?:_?\d)*(?:(?:\.\d(?:_?\d)*)?[eE][+-]?\d(?:_?\d)*|\.\d(?:_?\d)*)/y;
const INT = /(?:0[bB](?:_?[01])+|0[oO](?:_?[0-7])+|0[xX](?:_?[\da-fA-F])+|[1-9](?:_?\d)*|0(?:_?0)*)/y;
const NAME = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const STRING = /'([^'\\]*(?:\\.[^'\\]*)*)'|"([^"\\]*(?:\\.[^"\\]*)*)"/sy;
const OPERATORS = ['//', '**', '==', '!=', '>=', '<=', ...'+-/*%~[](){}><=.:|,;'];
const CLOSERS: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Splits a template into pieces. Throws a {@link LexError}. */
export function lex(source: string): Piece[] {
  const pieces: Piece[] = [];
  let pos = 0;
  let stripNext = false;
  while (pos < source.length) {
    if (stripNext) {
      LEADING_SPACE.lastIndex = pos;
      pos += LEADING_SPACE.exec(source)![0].length;
    }
    TAG_START.lastIndex = pos;
    const m = TAG_START.exec(source);
    const start = m ? m.index : source.length;
    let text = source.slice(pos, start);
    if (!m) {
      if (text) pieces.push({ type: 'text', text });
      break;
    }
    const kind = source[start + 1]!;
    let p = start + 2;
    if (source[p] === '-') {
      text = pyStripEnd(text);
      p++;
    } else if (source[p] === '+') p++;
    if (text) pieces.push({ type: 'text', text });
    if (kind === '#') {
      const end = source.indexOf('#}', p);
      if (end < 0) throw new LexError('missing end of comment tag', start);
      stripNext = source[end - 1] === '-' && end - 1 >= p;
      pos = end + 2;
      continue;
    }
    const tokens: Token[] = [];
    const result = tagTokens(source, p, kind === '{' ? '}}' : '%}', tokens);
    pieces.push({ type: kind === '{' ? 'output' : 'block', tokens, pos: start });
    pos = result.end;
    stripNext = result.strip;
  }
  return pieces;
}

/** Reads the tokens of one tag up to its closing delimiter (ignored inside brackets, as Jinja does). */
function tagTokens(source: string, from: number, close: string, tokens: Token[]): { end: number; strip: boolean } {
  const open: string[] = [];
  let pos = from;
  for (;;) {
    SPACE.lastIndex = pos;
    const space = SPACE.exec(source);
    if (space) pos += space[0].length;
    if (pos >= source.length) {
      throw new LexError(`unclosed ${close === '}}' ? '{{' : '{%'}`, from);
    }
    if (open.length === 0) {
      if (source.startsWith(close, pos)) return { end: pos + 2, strip: false };
      if (source.startsWith(`-${close}`, pos)) return { end: pos + 3, strip: true };
      if (close === '%}' && source.startsWith('+%}', pos)) return { end: pos + 3, strip: false };
    }
    const token = readToken(source, pos);
    if (token.type === 'op') {
      if (CLOSERS[token.value]) open.push(CLOSERS[token.value]!);
      else if (token.value === ')' || token.value === ']' || token.value === '}') {
        if (open.pop() !== token.value) throw new LexError(`unexpected '${token.value}'`, pos);
      }
    }
    tokens.push(token);
    pos = token.end;
  }
}

function readToken(source: string, pos: number): Token & { end: number } {
  for (const [re, type] of [
    [FLOAT, 'float'],
    [INT, 'int'],
    [NAME, 'name'],
  ] as const) {
    re.lastIndex = pos;
    const m = re.exec(source);
    if (!m) continue;
    const end = pos + m[0].length;
    const text = m[0].replaceAll('_', '');
    if (type === 'float') return { type, value: Number(text), pos, end };
    if (type === 'int') return { type, value: BigInt(text), pos, end };
    return { type, value: m[0], pos, end };
  }
  STRING.lastIndex = pos;
  const s = STRING.exec(source);
  if (s) return { type: 'string', value: unescape(s[1] ?? s[2]!, pos), pos, end: pos + s[0].length };
  const op = OPERATORS.find((o) => source.startsWith(o, pos));
  if (op) return { type: 'op', value: op, pos, end: pos + op.length };
  throw new LexError(`unexpected character ${JSON.stringify(source[pos])}`, pos);
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\n': '',
};

/** Python's string escapes, as Jinja decodes string literals. */
function unescape(body: string, pos: number): string {
  return body.replace(/\\([0-7]{1,3}|x[^]{0,2}|u[^]{0,4}|U[^]{0,8}|N|[^])/g, (all, e: string) => {
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) return simple;
    if (/^[0-7]/.test(e)) return String.fromCodePoint(parseInt(e, 8));
    const lengths: Record<string, number> = { x: 2, u: 4, U: 8 };
    const length = lengths[e[0]!];
    if (length !== undefined) {
      const hex = e.slice(1);
      if (hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) throw new LexError(`truncated \\${e[0]} escape`, pos);
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw new LexError('illegal Unicode character', pos);
      return String.fromCodePoint(cp);
    }
    if (e === 'N') throw new LexError('\\N{…} escapes are not supported', pos);
    return all;
  });
}
