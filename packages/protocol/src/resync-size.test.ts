import { describe, expect, it } from 'vitest';
import { encodeFrame, parseServerFrame } from './parse.js';
import type { FieldSchema, FieldState, ResyncFrame } from './frames.js';
import { MAX_COUNTER, MAX_EPOCH_LENGTH, MAX_SERVER_FRAME_BYTES, MAX_TEXT_LENGTH } from './limits.js';
import { maxResyncBytes } from './resync-size.js';

/** UTF-8 length by another route than the one under test: each `%XX` of a URI escape is one byte. */
const utf8 = (text: string): number => encodeURIComponent(text).replace(/%[0-9A-F]{2}/g, '.').length;

/** Every field at the longest value a server could send for it. */
function worstFrame(schema: FieldSchema[]): ResyncFrame {
  const fields: Record<string, FieldState> = {};
  for (const f of schema) {
    if (f.type === 'action') continue; // no value, no entry in fields
    const value =
      f.type === 'text'
        ? '\u0001'.repeat(MAX_TEXT_LENGTH)
        : f.type === 'enum'
          ? (f.options ?? []).reduce(
              (a, o) => (utf8(JSON.stringify(o.value)) > utf8(JSON.stringify(a)) ? o.value : a),
              '',
            )
          : f.type === 'boolean'
            ? false
            : -2.2250738585072014e-308;
    fields[f.name] = { value, rev: MAX_COUNTER };
  }
  return { type: 'resync', epoch: '\u0002'.repeat(MAX_EPOCH_LENGTH), device: 'offline', schema, fields };
}

const mixed: FieldSchema[] = [
  { name: 'h', label: 'Phase Horizontal', type: 'integer', min: -512, max: 511, writable: true },
  { name: 'g', label: 'Gain', type: 'number', min: -10, max: 10, step: 0.1, unit: 'dB', writable: true },
  { name: 'f', label: 'Freeze', type: 'boolean', writable: true },
  {
    name: 'fmt',
    label: 'Format — ü',
    type: 'enum',
    options: [{ value: '1080p50' }, { value: 'école "é"', label: 'École' }],
    writable: true,
  },
  { name: 'name', label: 'Name', type: 'text', maxLength: 8, writable: true },
  { name: 'input', label: 'Input', type: 'text', writable: false },
  { name: 'reboot', label: 'Reboot', type: 'action', help: 'Restarts it — ü', writable: true },
];

describe('maxResyncBytes', () => {
  it('is exactly the size of the largest resync the schema allows', () => {
    expect(maxResyncBytes(mixed)).toBe(utf8(encodeFrame(worstFrame(mixed))));
  });

  it('gives an action no entry in fields: it costs its schema entry only', () => {
    const action: FieldSchema = { name: 'reboot', label: 'Reboot', type: 'action', writable: true };
    const without = mixed.filter((f) => f.type !== 'action');
    expect(maxResyncBytes([...without, action]) - maxResyncBytes(without)).toBe(utf8(`,${JSON.stringify(action)}`));
  });

  it('counts a text status at MAX_TEXT_LENGTH escaped, whatever maxLength says (maxLength bounds writes only)', () => {
    const short: FieldSchema[] = [{ name: 't', label: 'T', type: 'text', maxLength: 1, writable: true }];
    const long: FieldSchema[] = [{ name: 't', label: 'T', type: 'text', writable: true }];
    expect(maxResyncBytes(short) - maxResyncBytes(long)).toBe(utf8(',"maxLength":1'));
    expect(maxResyncBytes(long)).toBeGreaterThan(6 * MAX_TEXT_LENGTH);
  });

  it('a schema over the limit gives a resync every client refuses', () => {
    const big: FieldSchema[] = Array.from({ length: 6 }, (_, i) => ({
      name: `e${i}`,
      label: `E${i}`,
      type: 'enum' as const,
      options: Array.from({ length: 256 }, (_, j) => ({ value: `${j}`.padStart(1000, 'x') })),
      writable: true,
    }));
    const bytes = maxResyncBytes(big);
    expect(bytes).toBeGreaterThan(MAX_SERVER_FRAME_BYTES);
    expect(bytes).toBe(utf8(encodeFrame(worstFrame(big))));
    expect(parseServerFrame(encodeFrame(worstFrame(big)))).toMatchObject({ ok: false, code: 'too-large' });
    expect(maxResyncBytes(mixed)).toBeLessThan(MAX_SERVER_FRAME_BYTES);
    expect(parseServerFrame(encodeFrame(worstFrame(mixed))).ok).toBe(true);
  });
});
