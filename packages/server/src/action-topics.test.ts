import { describe, expect, it } from 'vitest';
import { createActionTopics } from './action-topics.js';
import { defineDevice } from './device/index.js';

const device = defineDevice({
  id: 'mixed',
  topics: [
    { status: 'm/phase', pattern: '{h} {v}', set: 'm/phase/set', template: 'genlock {h} {v}' },
    { status: 'm/sensor', pattern: '{temp}' },
    { status: 'm/lamp', set: 'm/lamp/set', json: { level: '/light/level', mode: '/mode' } },
    {
      status: 'm/rgb',
      set: 'm/rgb/set',
      fields: ['r', 'g'],
      decode: (p) => ({ r: p[0] ?? 0, g: p[1] ?? 0 }),
      encode: ({ values }) => Buffer.from([Number(values.r), Number(values.g)]),
    },
  ],
  fields: {
    h: { type: 'integer', min: -512, max: 511, writable: true },
    v: { type: 'integer', min: -512, max: 511, writable: true },
    temp: { type: 'number' },
    level: { type: 'integer', min: 0, max: 100, writable: true },
    mode: { type: 'enum', options: [{ value: 'day' }, { value: 'night' }], writable: true },
    r: { type: 'integer', min: 0, max: 255, writable: true },
    g: { type: 'integer', min: 0, max: 255, writable: true },
  },
});

const actions = createActionTopics(device);
const read = (topic: string, payload: string | Buffer, max = 65536) =>
  actions.read(topic, typeof payload === 'string' ? Buffer.from(payload) : payload, max);

describe('action topics', () => {
  it('are the set topics of the mappings that have one', () => {
    expect(actions.topics).toEqual(['m/phase/set', 'm/lamp/set', 'm/rgb/set']);
    expect(actions.has('m/phase/set')).toBe(true);
    expect(actions.has('m/phase')).toBe(false);
    expect(read('m/phase', '1 2')).toBeUndefined();
  });

  it('pattern: a payload matching the template names every field of it', () => {
    expect(read('m/phase/set', 'genlock 5 -3')).toEqual({ fields: ['h', 'v'], problem: undefined });
  });

  it('pattern: a payload not matching the template still names every field, with the problem', () => {
    expect(read('m/phase/set', 'genlock=5')).toEqual({
      fields: ['h', 'v'],
      problem: 'payload does not match the template "genlock {h} {v}"',
    });
    expect(read('m/phase/set', 'genlock x 1')?.problem).toMatch(/does not match/);
  });

  it('json: only the fields whose pointer is present', () => {
    expect(read('m/lamp/set', '{"light":{"level":40}}')).toEqual({ fields: ['level'], problem: undefined });
    expect(read('m/lamp/set', '{"mode":"night","light":{"level":1}}')?.fields).toEqual(['level', 'mode']);
    // A field of the wrong type still counts: the device may coerce it.
    expect(read('m/lamp/set', '{"mode":7}')?.fields).toEqual(['mode']);
    expect(read('m/lamp/set', '{"other":1}')).toEqual({ fields: [], problem: undefined });
  });

  it('json: not JSON, or not an object: every field, with the problem', () => {
    expect(read('m/lamp/set', '{"light":')).toEqual({
      fields: ['level', 'mode'],
      problem: 'payload is not valid JSON',
    });
    expect(read('m/lamp/set', '[1,2]')).toEqual({ fields: ['level', 'mode'], problem: 'payload is not a JSON object' });
    expect(read('m/lamp/set', 'null')?.problem).toBe('payload is not a JSON object');
    expect(read('m/lamp/set', Buffer.from([0xff, 0xfe, 0x00]))?.fields).toEqual(['level', 'mode']);
  });

  it('custom: every field of the mapping, whatever the payload', () => {
    expect(read('m/rgb/set', Buffer.from([1, 2]))).toEqual({ fields: ['r', 'g'], problem: undefined });
    expect(read('m/rgb/set', '')).toEqual({ fields: ['r', 'g'], problem: undefined });
  });

  it('a payload over maxPayloadBytes is not read: every field, with the problem', () => {
    expect(read('m/lamp/set', '{"mode":"day"}', 4)).toEqual({
      fields: ['level', 'mode'],
      problem: 'payload larger than maxPayloadBytes (4)',
    });
  });

  it('never throws on hostile payloads', () => {
    const hostile = [
      '\u0000'.repeat(1000),
      `genlock ${'9'.repeat(5000)} 1`,
      '{"__proto__":{"level":1}}',
      `${'['.repeat(10_000)}`,
      'genlock 1 2\n',
    ];
    for (const p of hostile) {
      for (const topic of actions.topics) expect(() => read(topic, p)).not.toThrow();
    }
    expect(read('m/lamp/set', '{"__proto__":{"level":1}}')?.fields).toEqual([]);
  });
});
