import { describe, expect, it } from 'vitest';
import type { FieldValue } from '@live-device-form/protocol';
import { defineDevice } from '../device/index.js';
import { createDeviceCodec } from './device-codec.js';
import { noFreshValue, freshFrom } from '@live-device-form/testkit';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('custom codec', () => {
  const device = defineDevice({
    id: 'rgb',
    topics: [
      {
        status: 'rgb/state',
        set: 'rgb/set',
        fields: ['r', 'g'],
        decode: (payload) => {
          const m = /^#([0-9a-f]{2})([0-9a-f]{2})$/.exec(payload.toString());
          if (!m) return undefined;
          if (m[1] === 'ff') throw new Error('boom');
          return { r: parseInt(m[1] as string, 16), g: parseInt(m[2] as string, 16) };
        },
        encode: ({ values }) =>
          values.r === null || values.g === null
            ? undefined
            : `#${[values.r, values.g].map((n) => Number(n).toString(16).padStart(2, '0')).join('')}`,
      },
    ],
    fields: {
      r: { type: 'integer', min: 0, max: 255, writable: true },
      g: { type: 'integer', min: 0, max: 255, writable: true },
    },
  });
  const codec = createDeviceCodec(device);

  it('decodes with the user function', () => {
    expect(codec.decode('rgb/state', buf('#0a10'))).toEqual({ ok: true, values: { r: 10, g: 16 } });
  });

  it('contains a throwing or refusing decode, and checks what it returns', () => {
    expect(codec.decode('rgb/state', buf('#ff00'))).toEqual({ ok: false, message: 'decode threw: boom' });
    expect(codec.decode('rgb/state', buf('red'))).toEqual({
      ok: false,
      message: 'decode did not recognise the payload',
    });
    const sloppy = createDeviceCodec(
      defineDevice({
        id: 's',
        topics: [{ status: 's', fields: ['a'], decode: (p) => JSON.parse(p.toString()) as Record<'a', FieldValue> }],
        fields: { a: { type: 'integer' } },
      }),
    );
    expect(sloppy.decode('s', buf('{"a":"1"}'))).toEqual({
      ok: false,
      message: 'decode returned an invalid value for "a": "1"',
    });
    expect(sloppy.decode('s', buf('{"b":1}'))).toEqual({
      ok: false,
      message: 'decode returned a field this topic does not carry: "b"',
    });
  });

  it('encodes with every field of the mapping, the others from freshest', () => {
    expect(codec.encode('r', 255, freshFrom({ g: 1 }))).toEqual({ ok: true, topic: 'rgb/set', payload: '#ff01' });
    expect(codec.encode('r', 255, noFreshValue)).toEqual({ ok: false, message: 'encode refused the write' });
  });
});
