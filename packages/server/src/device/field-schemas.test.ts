import { describe, expect, it } from 'vitest';
import { parseServerFrame } from '@live-device-form/protocol';
import { VIDEOPROC_FILE } from '@live-device-form/testkit';
import { defineDevice, loadDeviceFile } from './define.js';
import { toFieldSchemas } from './field-schemas.js';

describe('toFieldSchemas', () => {
  it('gives pages labels, limits and option values, never tokens or topics', async () => {
    const schema = toFieldSchemas(await loadDeviceFile(VIDEOPROC_FILE));
    expect(schema.find((f) => f.name === 'output_format')).toEqual({
      name: 'output_format',
      label: 'Output format',
      type: 'enum',
      writable: true,
      options: [
        { value: '1080p50', label: '1080p 50' },
        { value: '1080p59.94', label: '1080p 59.94' },
        { value: '1080i50', label: '1080i 50' },
        { value: '2160p50', label: '2160p 50 (UHD)' },
      ],
    });
    expect(schema.find((f) => f.name === 'freeze')).toEqual({
      name: 'freeze',
      label: 'Freeze frame',
      type: 'boolean',
      writable: true,
    });
    expect(schema.find((f) => f.name === 'input_signal')).toEqual({
      name: 'input_signal',
      label: 'Input signal',
      type: 'text',
      writable: false,
    });
    const text = JSON.stringify(schema);
    expect(text).not.toContain('token');
    expect(text).not.toContain('cy-vp4');
    // Pages accept it: it passes the protocol's own resync parser.
    const frame = { type: 'resync', epoch: 'e', device: 'online', schema, fields: {} };
    expect(parseServerFrame(JSON.stringify(frame)).ok).toBe(true);
  });

  it('defaults the label to the name and writable to false', () => {
    const device = defineDevice({
      id: 'd',
      topics: [{ status: 's', pattern: '{x}' }],
      fields: { x: { type: 'text' } },
    });
    expect(toFieldSchemas(device)).toEqual([{ name: 'x', label: 'x', type: 'text', writable: false }]);
  });
});
