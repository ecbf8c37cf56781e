import { describe, expect, it } from 'vitest';
import { defineDevice } from '../device/index.js';
import { createDeviceCodec } from './device-codec.js';
import { parseJsonPointer } from './json-pointer.js';
import { noFreshValue, freshFrom } from '@live-device-form/testkit';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

describe('JSON codec', () => {
  const device = defineDevice({
    id: 'lamp',
    topics: [
      {
        status: 'lamp/state',
        set: 'lamp/set',
        json: { on: '/state', level: '/light/level', mode: '/mode', name: '/meta/na~1me' },
      },
      { status: 'lamp/all', set: 'lamp/all/set', json: { x: '/x', y: '/y', rssi: '/rssi' }, send: 'all' },
    ],
    fields: {
      on: { type: 'boolean', true: 'ON', false: 'OFF', writable: true },
      level: { type: 'integer', min: 0, max: 254, writable: true },
      mode: {
        type: 'enum',
        options: [
          { value: 'warm', token: 'w' },
          { value: 'cold', token: 'c' },
        ],
        writable: true,
      },
      name: { type: 'text', writable: true },
      x: { type: 'number', writable: true },
      y: { type: 'number', writable: true },
      rssi: { type: 'integer' },
    },
  });
  const codec = createDeviceCodec(device);

  it('reads each field at its pointer; missing fields are simply not carried', () => {
    expect(
      codec.decode(
        'lamp/state',
        buf('{"state":"ON","light":{"level":120},"mode":"c","meta":{"na/me":"hall"},"other":1}'),
      ),
    ).toEqual({
      ok: true,
      values: { on: true, level: 120, mode: 'cold', name: 'hall' },
    });
    expect(codec.decode('lamp/state', buf('{"light":{"level":3}}'))).toEqual({ ok: true, values: { level: 3 } });
  });

  it('a null at a pointer means the message does not carry that field (Zigbee2MQTT publishes nulls)', () => {
    // As in Zigbee2MQTT's own tests of the states it republishes: {"action":null,"battery":null,…}.
    expect(codec.decode('lamp/state', buf('{"state":"ON","light":{"level":null},"mode":null}'))).toEqual({
      ok: true,
      values: { on: true },
    });
    expect(codec.decode('lamp/state', buf('{"light":null,"meta":{"na/me":"hall"}}'))).toEqual({
      ok: true,
      values: { name: 'hall' },
    });
    // Nulls only: it carries none of its fields.
    expect(codec.decode('lamp/state', buf('{"state":null,"light":{"level":null}}'))).toEqual({
      ok: false,
      message: 'payload carries none of its fields',
    });
  });

  it('refuses non-JSON, wrong types, unknown tokens and payloads carrying none of its fields', () => {
    for (const bad of [
      'not json',
      '{"state":"MAYBE"}',
      '{"light":{"level":"120"}}',
      '{"light":{"level":1.5}}',
      '{"mode":"x"}',
      '{}',
      '[1]',
      'null',
    ]) {
      expect(codec.decode('lamp/state', buf(bad))?.ok, bad).toBe(false);
    }
  });

  it('never reads through the prototype', () => {
    expect(codec.decode('lamp/state', buf('{"light":{}}'))?.ok).toBe(false);
    expect(parseJsonPointer('/__proto__/x')).toEqual({ ok: false, message: 'segment "__proto__" is not allowed' });
  });

  it('writes the changed field only, or every writable field with send: "all"', () => {
    expect(codec.encode('on', false, noFreshValue)).toEqual({
      ok: true,
      topic: 'lamp/set',
      payload: '{"state":"OFF"}',
    });
    expect(codec.encode('level', 7, noFreshValue)).toEqual({
      ok: true,
      topic: 'lamp/set',
      payload: '{"light":{"level":7}}',
    });
    expect(codec.encode('name', 'a "b"\\', noFreshValue)).toEqual({
      ok: true,
      topic: 'lamp/set',
      payload: '{"meta":{"na/me":"a \\"b\\"\\\\"}}',
    });
    expect(codec.encode('x', 0.25, freshFrom({ y: 0.5, rssi: -60 }))).toEqual({
      ok: true,
      topic: 'lamp/all/set',
      payload: '{"x":0.25,"y":0.5}',
    });
    expect(codec.encode('x', 0.25, noFreshValue)).toEqual({
      ok: false,
      message: 'field "y" is not known yet, so the payload cannot be built',
    });
  });
});
