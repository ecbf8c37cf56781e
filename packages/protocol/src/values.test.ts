import { describe, expect, it } from 'vitest';
import { checkValue } from './values.js';
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

describe('checkValue', () => {
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
    expect(checkValue(int, 512)).toEqual({ ok: false, message: 'above the maximum 511' });
    expect(checkValue(int, -513)).toEqual({ ok: false, message: 'below the minimum -512' });
    expect(checkValue(int, 1.5)).toEqual({ ok: false, message: 'expected an integer' });
    expect(checkValue(int, '1')).toEqual({ ok: false, message: 'expected a number' });
    expect(checkValue(int, Number.NaN)).toEqual({ ok: false, message: 'expected a number' });
    expect(checkValue(num, 0.05)).toEqual({ ok: false, message: 'not on a step of 0.1' });
    expect(checkValue(bool, 1)).toEqual({ ok: false, message: 'expected true or false' });
    expect(checkValue(en, 'secam').ok).toBe(false);
    expect(checkValue(text, 'way too long').ok).toBe(false);
    expect(checkValue(text, 'a\nb')).toEqual({ ok: false, message: 'contains a newline or control character' });
  });
});
