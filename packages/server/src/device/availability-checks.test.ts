/** The checks of `availability` in a device description: one topic, or a list with a mode. */
import { describe, expect, it } from 'vitest';
import { defineDevice, parseDeviceDescription } from './define.js';
import { MAX_AVAILABILITY_TOPICS } from './shapes.js';

/** A Zigbee2MQTT-shaped device: a JSON state topic, its set topic, and the two availability topics. */
const z2m = (availability: unknown): Record<string, unknown> => ({
  id: 'lamp',
  availability,
  topics: [{ status: 'z2m/lamp', set: 'z2m/lamp/set', json: { state: '/state' } }],
  fields: { state: { type: 'boolean', true: 'ON', false: 'OFF', writable: true } },
});

const list = (...topics: unknown[]): Record<string, unknown> => ({ topics });
const device = { topic: 'z2m/lamp/availability', json: '/state' };
const bridge = { topic: 'z2m/bridge/state', json: '/state' };

const issuesOf = (json: unknown): string[] => {
  const r = parseDeviceDescription(json);
  if (r.ok) throw new Error('expected the description to be refused');
  return r.issues;
};

describe('availability lists: accepted', () => {
  it('a list with each mode, from JSON', () => {
    for (const mode of [undefined, 'all', 'any', 'latest']) {
      const r = parseDeviceDescription(z2m({ ...list(device, bridge), ...(mode ? { mode } : {}) }));
      expect(r).toMatchObject({ ok: true });
    }
  });

  it('one topic with a JSON pointer, from JSON', () => {
    expect(parseDeviceDescription(z2m(device))).toMatchObject({ ok: true });
  });

  it('decode from TypeScript, in a list and alone', () => {
    const decode = (p: Buffer): string => p.toString().toLowerCase();
    const d = defineDevice({
      id: 'lamp',
      availability: { topics: [{ topic: 'ha/lamp/avail', decode }, bridge], mode: 'any' },
      topics: [{ status: 'z2m/lamp', json: { state: '/state' } }],
      fields: { state: { type: 'boolean' } },
    });
    expect(d.availability).toMatchObject({ mode: 'any', topics: [{ decode }, bridge] });
    expect(() => defineDevice({ ...d, availability: { topic: 'ha/lamp/avail', decode } })).not.toThrow();
  });
});

describe('availability lists: refused', () => {
  it('an empty list, or one longer than MAX_AVAILABILITY_TOPICS', () => {
    expect(issuesOf(z2m(list()))).toEqual(['availability.topics: expected at least 1 entry']);
    const many = Array.from({ length: MAX_AVAILABILITY_TOPICS + 1 }, (_, i) => ({ topic: `z2m/a${i}` }));
    expect(issuesOf(z2m(list(...many)))).toEqual([`availability.topics: more than ${MAX_AVAILABILITY_TOPICS} entries`]);
    expect(parseDeviceDescription(z2m(list(...many.slice(1))))).toMatchObject({ ok: true });
  });

  it('a mode that is not all, any or latest, and unknown keys', () => {
    expect(issuesOf(z2m({ ...list(device), mode: 'first' }))).toEqual([
      'availability.mode: expected one of "all", "any", "latest"',
    ]);
    expect(issuesOf(z2m({ ...list(device), payload_available: 'online' }))).toEqual([
      'availability.payload_available: unknown key',
    ]);
    expect(issuesOf(z2m(list({ ...device, qos: 1 })))).toEqual(['availability.topics[0].qos: unknown key']);
    expect(issuesOf(z2m(list('z2m/lamp/availability')))).toEqual(['availability.topics[0]: expected an object']);
    expect(issuesOf(z2m('z2m/lamp/availability'))).toEqual(['availability: expected an object']);
  });

  it('each topic checked like a single one: wildcards, $SYS, a status topic', () => {
    expect(issuesOf(z2m(list(device, { topic: 'z2m/+/state' })))).toEqual([
      'availability.topics[1].topic: must not contain the wildcards "+" or "#"',
    ]);
    expect(issuesOf(z2m(list(device, { topic: '$SYS/broker/uptime' })))).toEqual([
      "availability.topics[1].topic: must not be in $SYS/, the broker's own topics: they are not the device's",
    ]);
    expect(issuesOf(z2m(list(device, { topic: 'z2m/lamp' })))).toEqual([
      'availability.topics[1].topic: is also a status topic',
    ]);
  });

  it('a set topic that is any one of the availability topics', () => {
    expect(issuesOf(z2m(list(bridge, { topic: 'z2m/lamp/set' })))).toEqual([
      'topics[0].set: is also the availability topic availability.topics[1]',
    ]);
    // The single form keeps its message.
    expect(issuesOf(z2m({ topic: 'z2m/lamp/set' }))).toEqual(['topics[0].set: is also the availability topic']);
  });

  it('the same topic twice', () => {
    expect(issuesOf(z2m(list(device, bridge, { topic: device.topic, online: '1', offline: '0' })))).toEqual([
      'availability.topics[2].topic: already the topic of availability.topics[0]',
    ]);
  });

  it('equal online and offline tokens, in a list and alone', () => {
    expect(issuesOf(z2m(list(device, { ...bridge, online: 'up', offline: 'up' })))).toEqual([
      'availability.topics[1].offline: the online and offline payloads must differ',
    ]);
    expect(issuesOf(z2m({ ...device, offline: 'online' }))).toEqual([
      'availability.offline: the online and offline payloads must differ',
    ]);
  });

  it('a json value that is not a JSON pointer', () => {
    expect(issuesOf(z2m(list(device, { ...bridge, json: 'state' })))).toEqual([
      'availability.topics[1].json: a JSON pointer is "" or starts with "/"',
    ]);
    expect(issuesOf(z2m({ ...device, json: '/a~2' }))).toEqual([
      'availability.json: bad escape in "a~2" (use ~0 for "~", ~1 for "/")',
    ]);
    expect(issuesOf(z2m({ ...device, json: '/__proto__' }))).toEqual([
      'availability.json: segment "__proto__" is not allowed',
    ]);
    expect(issuesOf(z2m({ ...device, json: '/constructor/x' }))).toEqual([
      'availability.json: segment "constructor" is not allowed',
    ]);
    expect(issuesOf(z2m({ ...device, json: 5 }))).toEqual(['availability.json: expected a string']);
  });

  it('decode in a JSON file (TypeScript only), and decode together with json', () => {
    expect(issuesOf(z2m(list(device, { ...bridge, decode: 'value_json.state' })))).toEqual([
      'availability.topics[1].decode: decode is only available in the TypeScript API; use "json" for a token inside a JSON payload',
    ]);
    expect(issuesOf(z2m({ topic: 'z2m/lamp/availability', decode: {} }))).toEqual([
      'availability.decode: decode is only available in the TypeScript API; use "json" for a token inside a JSON payload',
    ]);
    expect(() =>
      defineDevice({
        id: 'lamp',
        availability: { topic: 'z2m/lamp/availability', json: '/state', decode: (p) => p.toString() },
        topics: [{ status: 'z2m/lamp', json: { state: '/state' } }],
        fields: { state: { type: 'boolean' } },
      }),
    ).toThrow('availability.json: "json" and "decode" do not go together: decode is given the whole payload');
    expect(() =>
      defineDevice({
        id: 'lamp',
        availability: { topic: 'z2m/lamp/availability', decode: 'x' as never },
        topics: [{ status: 'z2m/lamp', json: { state: '/state' } }],
        fields: { state: { type: 'boolean' } },
      }),
    ).toThrow('availability.decode: expected a function');
  });
});
