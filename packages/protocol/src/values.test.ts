import { describe, expect, it } from 'vitest';
import { checkValue, textValueProblem } from './values.js';
import type { FieldSchema } from './frames.js';

const int: FieldSchema = { name: 'h', label: 'H', type: 'integer', min: -512, max: 511, writable: true };
const num: FieldSchema = {
  name: 'g',
  label: 'Gain',
  type: 'number',
  min: -10,
  max: 10,
  step: 0.1,
  unit: 'dB',
  writable: true,
};
const bool: FieldSchema = { name: 'b', label: 'B', type: 'boolean', writable: true };
const en: FieldSchema = {
  name: 'e',
  label: 'E',
  type: 'enum',
  options: [{ value: 'ntsc' }, { value: 'pal' }],
  writable: true,
};
const text: FieldSchema = { name: 't', label: 'T', type: 'text', maxLength: 8, writable: true };

const action: FieldSchema = { name: 'reboot', label: 'Reboot', type: 'action', writable: true };

describe('checkValue', () => {
  it('accepts null for an action and nothing else', () => {
    expect(checkValue(action, null)).toEqual({ ok: true, value: null });
    for (const v of ['PRESS', true, 0, '', undefined]) {
      expect(checkValue(action, v)).toEqual({
        ok: false,
        problem: 'not-null',
        message: 'an action carries no value: expected null',
      });
    }
  });

  it('refuses null for every field that is not an action', () => {
    for (const f of [int, num, bool, en, text]) expect(checkValue(f, null).ok).toBe(false);
  });

  it('accepts values that fit', () => {
    expect(checkValue(int, -512).ok).toBe(true);
    expect(checkValue(int, 511).ok).toBe(true);
    expect(checkValue(num, 0.3).ok).toBe(true);
    expect(checkValue(num, -9.9).ok).toBe(true);
    expect(checkValue(bool, false).ok).toBe(true);
    expect(checkValue(en, 'pal').ok).toBe(true);
    expect(checkValue(text, 'cam 1').ok).toBe(true);
  });

  it('refuses out of range, off-step and wrong types with a specific message', () => {
    expect(checkValue(int, 512)).toEqual({ ok: false, problem: 'above-max', message: 'above the maximum 511' });
    expect(checkValue(int, -513)).toEqual({ ok: false, problem: 'below-min', message: 'below the minimum -512' });
    expect(checkValue(int, 1.5)).toEqual({ ok: false, problem: 'not-integer', message: 'expected an integer' });
    expect(checkValue(int, '1')).toEqual({ ok: false, problem: 'not-number', message: 'expected a number' });
    expect(checkValue(int, Number.NaN)).toEqual({ ok: false, problem: 'not-number', message: 'expected a number' });
    expect(checkValue(num, 0.05)).toEqual({ ok: false, problem: 'off-step', message: 'not on a step of 0.1' });
    expect(checkValue(bool, 1)).toEqual({ ok: false, problem: 'not-boolean', message: 'expected true or false' });
    expect(checkValue(en, 'secam')).toMatchObject({ ok: false, problem: 'not-option' });
    expect(checkValue(text, 'way too long')).toMatchObject({ ok: false, problem: 'too-long' });
    expect(checkValue(text, 'a\nb')).toEqual({
      ok: false,
      problem: 'bad-text',
      message: 'contains a newline or control character (U+000A)',
    });
  });
});

describe('text values: what a line-based device could read as the end of a command', () => {
  const wide: FieldSchema = { name: 't', label: 'T', type: 'text', writable: true };
  const refused = (value: string): string | undefined => {
    const r = checkValue(wide, value);
    return r.ok ? undefined : r.message;
  };

  it('refuses every C0 control, tab and newline included, and DEL', () => {
    for (let c = 0; c <= 0x1f; c++) {
      const hex = c.toString(16).toUpperCase().padStart(4, '0');
      expect(refused(`a${String.fromCharCode(c)}b`)).toBe(`contains a newline or control character (U+${hex})`);
    }
    expect(refused('a\u007fb')).toBe('contains a newline or control character (U+007F)');
  });

  it('refuses every C1 control, NEL (U+0085) among them', () => {
    for (let c = 0x80; c <= 0x9f; c++) {
      const hex = c.toString(16).toUpperCase().padStart(4, '0');
      expect(refused(`a${String.fromCharCode(c)}b`)).toBe(`contains a newline or control character (U+${hex})`);
    }
    expect(refused('label a\u0085level 999999')).toBe('contains a newline or control character (U+0085)');
  });

  it('refuses the line and paragraph separators U+2028 and U+2029', () => {
    expect(refused('a\u2028b')).toBe('contains the line or paragraph separator U+2028');
    expect(refused('a\u2029b')).toBe('contains the line or paragraph separator U+2029');
  });

  it('refuses a lone surrogate, high or low, anywhere', () => {
    expect(refused('a\ud800')).toBe('contains a lone surrogate U+D800 (not well-formed Unicode)');
    expect(refused('\udfffa')).toBe('contains a lone surrogate U+DFFF (not well-formed Unicode)');
    expect(refused('\ude00\ud83d')).toBe('contains a lone surrogate U+DE00 (not well-formed Unicode)');
    expect(JSON.parse('"\\ud800"')).toBe('\ud800'); // how one arrives: a JSON escape
  });

  it('accepts the characters next to the refused ones, and well-formed pairs', () => {
    for (const value of [
      '\u00a0nbsp',
      'é ü ß',
      '\u2027\u202a',
      '\ud7ff\ue000',
      'emoji \ud83d\ude00',
      '\u{10ffff}',
      '~',
    ]) {
      expect(refused(value), JSON.stringify(value)).toBeUndefined();
    }
    expect(textValueProblem('cam 1')).toBeUndefined();
  });

  it('is the same check whatever the field: enum options and numbers are unaffected', () => {
    expect(checkValue(en, 'pal').ok).toBe(true);
    expect(checkValue(text, 'a\u0085')).toEqual({
      ok: false,
      problem: 'bad-text',
      message: 'contains a newline or control character (U+0085)',
    });
  });
});
