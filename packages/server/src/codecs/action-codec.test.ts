import { describe, expect, it } from 'vitest';
import type { FieldValue } from '@live-device-form/protocol';
import { freshFrom } from '@live-device-form/testkit';
import { createActionTopics } from '../action-topics.js';
import { defineDevice } from '../device/index.js';
import { createDeviceCodec } from './device-codec.js';

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');

/** One device with an action in each kind of mapping, beside fields with values. */
const encoded: { field: string; value: unknown; values: Record<string, FieldValue> }[] = [];
const device = defineDevice({
  id: 'box',
  topics: [
    { status: 'box/state', pattern: '{level}', set: 'box/level/set', template: 'level {level}' },
    { set: 'box/reboot', template: '{reboot}' },
    { set: 'box/identify', template: 'identify {identify};' },
    { set: 'box/json', json: { mode: '/mode', blink: '/actions/blink' }, send: 'all' },
    { status: 'box/json/state', json: { mode: '/mode' } },
    {
      set: 'box/custom',
      fields: ['dim', 'reset'],
      encode: (w) => {
        encoded.push({ field: w.field, value: w.value, values: { ...w.values } });
        return w.field === 'reset' ? `RESET ${String(w.values.dim)}` : `DIM ${String(w.value)}`;
      },
    },
    { status: 'box/dim', pattern: '{dim}' },
  ],
  fields: {
    level: { type: 'integer', min: 0, max: 10, writable: true },
    reboot: { type: 'action', label: 'Reboot' },
    identify: { type: 'action', token: 'now' },
    mode: { type: 'enum', options: [{ value: 'a' }, { value: 'b' }], writable: true },
    blink: { type: 'action', token: 'BLINK' },
    dim: { type: 'integer', writable: true },
    reset: { type: 'action' },
  },
});
const codec = createDeviceCodec(device);
const none = freshFrom({ mode: 'b', dim: 4 });

describe('action fields in the codecs', () => {
  it('a template renders the token: "PRESS" by default, the field\'s token otherwise', () => {
    expect(codec.encode('reboot', null, none)).toEqual({ ok: true, topic: 'box/reboot', payload: 'PRESS' });
    expect(codec.encode('identify', null, none)).toEqual({ ok: true, topic: 'box/identify', payload: 'identify now;' });
  });

  it('a JSON mapping writes the token string at its pointer, with send "all"s value fields', () => {
    expect(codec.encode('blink', null, none)).toEqual({
      ok: true,
      topic: 'box/json',
      payload: JSON.stringify({ mode: 'b', actions: { blink: 'BLINK' } }),
    });
  });

  it('send "all" never presses an action on another field\'s write', () => {
    expect(codec.encode('mode', 'a', none)).toEqual({ ok: true, topic: 'box/json', payload: '{"mode":"a"}' });
  });

  it('a custom encode receives value null for an action, and null for it among the values of other writes', () => {
    encoded.length = 0;
    expect(codec.encode('reset', null, none)).toEqual({ ok: true, topic: 'box/custom', payload: 'RESET 4' });
    expect(codec.encode('dim', 7, none)).toEqual({ ok: true, topic: 'box/custom', payload: 'DIM 7' });
    expect(encoded).toEqual([
      { field: 'reset', value: null, values: { dim: 4, reset: null } },
      { field: 'dim', value: 7, values: { dim: 7, reset: null } },
    ]);
  });

  it('refuses any value but null for an action, and null for a field with values', () => {
    expect(codec.encode('reboot', 'PRESS', none)).toMatchObject({ ok: false });
    expect(codec.encode('reboot', true, none)).toMatchObject({ ok: false });
    expect(codec.encode('level', null, none)).toMatchObject({ ok: false });
  });

  it('a press seen on the action topic from elsewhere names the action, and reads without a problem', () => {
    const actions = createActionTopics(device);
    expect(actions.read('box/reboot', buf('PRESS'), 1024)).toEqual({ fields: ['reboot'], problem: undefined });
    expect(actions.read('box/identify', buf('identify now;'), 1024)).toEqual({
      fields: ['identify'],
      problem: undefined,
    });
    expect(actions.read('box/reboot', buf('other'), 1024)).toMatchObject({
      fields: ['reboot'],
      problem: expect.any(String),
    });
  });
});
