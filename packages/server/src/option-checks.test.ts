import { describe, expect, it } from 'vitest';
import { checkNumber, withDefaults } from './option-checks.js';

describe('option checks', () => {
  it('merges over the defaults once: a given value wins, undefined keeps the default, 0 and false are values', () => {
    const defaults = Object.freeze({ a: 1, b: true, c: 'x' });
    const options = { a: 0, b: undefined, d: 5 };
    const merged = withDefaults(defaults, options);
    expect(merged).toEqual({ a: 0, b: true, c: 'x', d: 5 });
    expect(options).toEqual({ a: 0, b: undefined, d: 5 });
    expect(merged).not.toBe(defaults);
    expect(withDefaults(defaults, { b: false }).b).toBe(false);
  });

  it('checks a number and names the option, with the code ERR_INVALID_OPTION', () => {
    expect(checkNumber('guardMs', 0, 0, 10)).toBe(0);
    expect(() => checkNumber('guardMs', 11, 0, 10)).toThrow(
      'The "guardMs" option must be a number from 0 to 10, got 11',
    );
    expect(() => checkNumber('x', Number.NaN, 0)).toThrow(TypeError);
    expect(() => checkNumber('x', '5', 0)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => checkNumber('x', 0, 1, Infinity)).toThrow('The "x" option must be a number of at least 1, got 0');
    expect(() => checkNumber('port', 1.5, 0, 65535, { integer: true })).toThrow(
      'The "port" option must be an integer from 0 to 65535, got 1.5',
    );
  });
});
