import { describe, expect, it } from 'vitest';
import { getPointer, parseJsonPointer, pointersOverlap, setPointer } from './json-pointer.js';

const segments = (pointer: string): string[] => {
  const r = parseJsonPointer(pointer);
  if (!r.ok) throw new Error(r.message);
  return r.segments;
};

describe('JSON pointers', () => {
  it('parses RFC 6901 pointers with their escapes', () => {
    expect(parseJsonPointer('')).toEqual({ ok: true, segments: [] });
    expect(parseJsonPointer('/a/na~1me/t~0x')).toEqual({ ok: true, segments: ['a', 'na/me', 't~x'] });
    expect(parseJsonPointer('a')).toEqual({ ok: false, message: 'a JSON pointer is "" or starts with "/"' });
    expect(parseJsonPointer('/a~2')).toMatchObject({ ok: false });
    expect(parseJsonPointer('/constructor')).toEqual({ ok: false, message: 'segment "constructor" is not allowed' });
  });

  it('reads own keys and array indexes only, never through a prototype', () => {
    const doc = JSON.parse('{"a":{"b":[10,20]},"s":"x"}') as unknown;
    expect(getPointer(doc, segments('/a/b/1'))).toBe(20);
    expect(getPointer(doc, segments(''))).toBe(doc);
    expect(getPointer(doc, segments('/a/b/01'))).toBeUndefined();
    expect(getPointer(doc, segments('/s/length'))).toBeUndefined();
    expect(getPointer(doc, ['toString'])).toBeUndefined();
  });

  it('writes at a pointer, creating the objects on the way', () => {
    const root = setPointer({}, segments('/light/level'), 7);
    expect(setPointer(root, segments('/light/on'), true)).toEqual({ light: { level: 7, on: true } });
    expect(setPointer({ x: 1 }, segments(''), 5)).toBe(5);
  });

  it('two pointers overlap when one is the other or lies inside it', () => {
    expect(pointersOverlap(segments('/a'), segments('/a/b'))).toBe(true);
    expect(pointersOverlap(segments('/a/b'), segments('/a'))).toBe(true);
    expect(pointersOverlap(segments(''), segments('/x'))).toBe(true);
    expect(pointersOverlap(segments('/a/b'), segments('/a/c'))).toBe(false);
  });
});
