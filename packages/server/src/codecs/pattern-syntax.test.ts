import { describe, expect, it } from 'vitest';
import { mappingSeparators, parsePattern, placeholdersOf, separatorsOf } from './pattern-syntax.js';

describe('parsePattern', () => {
  it('splits placeholders from literal text and unescapes braces', () => {
    expect(parsePattern('genlock {h} {v}')).toEqual({
      ok: true,
      parts: [
        { kind: 'literal', text: 'genlock ' },
        { kind: 'field', name: 'h' },
        { kind: 'literal', text: ' ' },
        { kind: 'field', name: 'v' },
      ],
    });
    const r = parsePattern('{{"a":{a}}}');
    expect(r.ok && r.parts).toEqual([
      { kind: 'literal', text: '{"a":' },
      { kind: 'field', name: 'a' },
      { kind: 'literal', text: '}' },
    ]);
  });

  it('separators are the literals after a placeholder', () => {
    const r = parsePattern('set {a}, {b};');
    expect(r.ok && separatorsOf(r.parts)).toEqual([', ', ';']);
  });

  it('placeholders are the field names, in order', () => {
    const r = parsePattern('genlock {h} {v}');
    expect(r.ok && placeholdersOf(r.parts)).toEqual(['h', 'v']);
  });

  it("a mapping's separators are its pattern's and its template's, each once; a text that does not parse adds none", () => {
    expect(mappingSeparators(['{a} {b}', 'set {a} {b};', undefined, '{a}{b}'])).toEqual([' ', ';']);
    expect(mappingSeparators([undefined, '{free}'])).toEqual([]);
  });
});
