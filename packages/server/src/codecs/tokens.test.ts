import { describe, expect, it } from 'vitest';
import type { FieldDescription } from '../device/types.js';
import { payloadTokens, readToken, textProblem, writeToken } from './tokens.js';

const freeze: FieldDescription = { type: 'boolean', true: '1', false: '0' };
const format: FieldDescription = {
  type: 'enum',
  options: [{ value: '1080p50', token: '0' }, { value: '2160p50' }],
};

describe('payload tokens', () => {
  it("lists a boolean's two tokens and an enum's option tokens, with where each is declared", () => {
    expect(payloadTokens(freeze)).toEqual([
      { token: '1', at: ['true'] },
      { token: '0', at: ['false'] },
    ]);
    expect(payloadTokens({ type: 'boolean' })).toEqual([
      { token: 'true', at: ['true'] },
      { token: 'false', at: ['false'] },
    ]);
    expect(payloadTokens(format)).toEqual([
      { token: '0', at: ['options', 0, 'token'] },
      { token: '2160p50', at: ['options', 1, 'token'] },
    ]);
    expect(payloadTokens({ type: 'integer' })).toEqual([]);
  });

  it('reads back what it writes', () => {
    expect(writeToken('freeze', freeze, true, [])).toBe('1');
    expect(readToken(freeze, '1')).toBe(true);
    expect(readToken(freeze, 'true')).toBeUndefined();
    expect(writeToken('format', format, '1080p50', [])).toBe('0');
    expect(readToken(format, '0')).toBe('1080p50');
    expect(writeToken('b', { type: 'number', step: 0.05 }, 0.3, [])).toBe('0.30');
    expect(writeToken('b', { type: 'number' }, null, [])).toEqual({
      error: 'field "b" is not known yet, so the payload cannot be built',
    });
  });

  it('a text token may hold no control character, separator or punctuation of a separator', () => {
    expect(textProblem('a b', [' '])).toBe('contains " ", which separates the fields of its payload');
    expect(textProblem('a;b', ['; '])).toBe('contains ";", a character of the separator "; " of its payload');
    expect(textProblem('a\tb', [])).toBe('contains a newline or control character (U+0009)');
    expect(textProblem('a\u0085b', [])).toBe('contains a newline or control character (U+0085)');
    expect(textProblem('cam1', [' ', ';'])).toBeNull();
    expect(writeToken('t', { type: 'text' }, 'a b', [' '])).toEqual({
      error: 'field "t": contains " ", which separates the fields of its payload',
    });
  });
});
