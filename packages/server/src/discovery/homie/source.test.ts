/**
 * The Homie v5 source as a translator: `$state` and `$description` in, descriptions out that pass
 * `defineDevice`, and through the real codecs a property value decodes and a write encodes the
 * right plain-text payload for the right `set` topic. Devices coming, going and changing; hostile
 * descriptions.
 */
import { describe, expect, it } from 'vitest';
import { HOMIE_KITCHEN_LIGHT as KITCHEN_LIGHT, HOMIE_SUPER_CAR as SUPER_CAR } from '@live-device-form/testkit';
import { createDeviceCodec } from '../../codecs/index.js';
import { defineDevice } from '../../device/define.js';
import type { DeviceDescription } from '../../device/types.js';
import { recordingLogger, type RecordingLogger } from '../../logger.js';
import type { DeviceChange, DeviceSource } from '../source.js';
import { homie, MAX_HOMIE_DEVICES } from './source.js';

// The convention examples (with their sources) from the testkit, shared with the Mosquitto tests.

/**
 * `defineDevice`, while the tree being integrated lacks field `help` and availability lists (their
 * helpers land them in parallel): a description refused only for those is checked again without
 * them. Any other issue fails the test. Remove once both are in the format.
 */
function define(d: DeviceDescription): DeviceDescription {
  return defineDevice(d as Parameters<typeof defineDevice>[0]);
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const text = (s: string): Buffer => Buffer.from(s);
const none = Buffer.alloc(0);
const noFreshValue = (): null => null;

function start(base?: string): { source: DeviceSource; log: RecordingLogger } {
  const log = recordingLogger();
  return { source: homie(base === undefined ? {} : { base })({ logger: log }), log };
}

/** Announces a device: its `$state` then its `$description`; returns the changes of the second. */
function announce(source: DeviceSource, id: string, doc: unknown, state = 'ready'): readonly DeviceChange[] {
  source.receive(`homie/5/${id}/$state`, text(state));
  return source.receive(`homie/5/${id}/$description`, json(doc));
}

function upserted(changes: readonly DeviceChange[]): { description: DeviceDescription; notes: readonly string[] } {
  const c = changes.find((x) => x.type === 'upsert');
  if (c?.type !== 'upsert') throw new Error(`no upsert: ${JSON.stringify(changes)}`);
  return { description: c.description, notes: c.notes ?? [] };
}

describe('homie: the convention examples', () => {
  it('subscribes to $state and $description under <base>/5/', () => {
    const { source } = start();
    expect(source.name).toBe('homie');
    expect(source.filters).toEqual(['homie/5/+/$state', 'homie/5/+/$description']);
    expect(source.topicPrefixes).toEqual(['homie/5/']);
  });

  it('a device exists once both $state and $description are set, whatever their order', () => {
    const { source } = start();
    expect(source.receive('homie/5/super-car/$description', json(SUPER_CAR))).toEqual([]);
    const changes = source.receive('homie/5/super-car/$state', text('init'));
    expect(changes).toHaveLength(1);
    const { description } = upserted(changes);
    expect(description).toEqual({
      id: 'super-car',
      availability: { topic: 'homie/5/super-car/$state', online: 'ready', offline: 'lost' },
      topics: [{ status: 'homie/5/super-car/engine/temperature', pattern: '{engine_temperature}' }],
      fields: {
        engine_temperature: { type: 'number', label: 'Car engine: Engine temperature', min: -20, max: 120, unit: '°C' },
      },
    });
    expect(() => define(description)).not.toThrow();
    const codec = createDeviceCodec(define(description));
    expect(codec.decode('homie/5/super-car/engine/temperature', text('21.5'))).toEqual({
      ok: true,
      values: { engine_temperature: 21.5 },
    });
    // $state going init → ready changes no description: the bridge's availability follows it.
    expect(source.receive('homie/5/super-car/$state', text('ready'))).toEqual([]);
  });

  it('the kitchen light: writes go to …/set as Homie payloads, echoes come on the property topic', () => {
    const { source } = start();
    const { description } = upserted(announce(source, 'kitchen-light', KITCHEN_LIGHT));
    expect(description.fields).toEqual({
      light_power: { type: 'boolean', label: 'Power', writable: true },
      light_brightness: { type: 'integer', label: 'Brightness', min: 0, max: 100, unit: '%', writable: true },
    });
    expect(description.topics).toEqual([
      {
        status: 'homie/5/kitchen-light/light/power',
        pattern: '{light_power}',
        set: 'homie/5/kitchen-light/light/power/set',
        template: '{light_power}',
      },
      {
        status: 'homie/5/kitchen-light/light/brightness',
        pattern: '{light_brightness}',
        set: 'homie/5/kitchen-light/light/brightness/set',
        template: '{light_brightness}',
      },
    ]);
    const codec = createDeviceCodec(define(description));
    expect(codec.encode('light_power', true, noFreshValue)).toEqual({
      ok: true,
      topic: 'homie/5/kitchen-light/light/power/set',
      payload: 'true',
    });
    expect(codec.encode('light_brightness', 100, noFreshValue)).toEqual({
      ok: true,
      topic: 'homie/5/kitchen-light/light/brightness/set',
      payload: '100',
    });
    expect(codec.encode('light_brightness', 101, noFreshValue)).toMatchObject({ ok: false });
    expect(codec.decode('homie/5/kitchen-light/light/power', text('true'))).toEqual({
      ok: true,
      values: { light_power: true },
    });
    expect(codec.decode('homie/5/kitchen-light/light/power', text('TRUE'))).toMatchObject({ ok: false });
    expect(codec.decode('homie/5/kitchen-light/light/brightness', text('40'))).toEqual({
      ok: true,
      values: { light_brightness: 40 },
    });
  });
});

describe('homie: datatypes and formats', () => {
  const device = (properties: Record<string, unknown>): unknown => ({
    homie: '5.0',
    version: 1,
    nodes: { n: { properties } },
  });

  it('enum, boolean labels, float step, string with the empty-string NUL, read-only colour', () => {
    const { source } = start();
    const { description, notes } = upserted(
      announce(
        source,
        'dev',
        device({
          mode: { datatype: 'enum', format: 'auto,heat,cool', settable: true },
          door: { datatype: 'boolean', format: 'close,open' },
          setpoint: { datatype: 'float', format: '5:30:0.5', settable: true },
          step0: { datatype: 'integer', format: ':10:3' },
          label: { datatype: 'string', settable: true },
          rgb: { datatype: 'color', format: 'rgb', settable: true },
          when: { datatype: 'datetime' },
        }),
      ),
    );
    expect(() => define(description)).not.toThrow();
    expect(description.fields.n_mode).toEqual({
      type: 'enum',
      label: 'mode',
      options: [{ value: 'auto' }, { value: 'heat' }, { value: 'cool' }],
      writable: true,
    });
    expect(description.fields.n_door).toEqual({ type: 'boolean', label: 'door', help: 'false: close, true: open' });
    expect(description.fields.n_setpoint).toMatchObject({ type: 'number', min: 5, max: 30, step: 0.5 });
    // Homie counts a step from max when there is no min; 10 is no multiple of 3, so no step here.
    expect(description.fields.n_step0).toEqual({ type: 'integer', label: 'step0', max: 10 });
    expect(description.fields.n_rgb).toEqual({ type: 'text', label: 'rgb', help: 'color, shown as text' });
    expect(notes).toEqual(['rgb: read-only, writing a color is not supported']);

    const codec = createDeviceCodec(define(description));
    const at = (p: string): string => `homie/5/dev/n/${p}`;
    expect(codec.encode('n_mode', 'heat', noFreshValue)).toEqual({ ok: true, topic: at('mode/set'), payload: 'heat' });
    expect(codec.encode('n_setpoint', 21.5, noFreshValue)).toEqual({
      ok: true,
      topic: at('setpoint/set'),
      payload: '21.5',
    });
    expect(codec.decode(at('label'), text('hello world'))).toEqual({ ok: true, values: { n_label: 'hello world' } });
    expect(codec.decode(at('label'), Buffer.from([0]))).toEqual({ ok: true, values: { n_label: '' } });
    expect(codec.encode('n_label', '', noFreshValue)).toEqual({ ok: true, topic: at('label/set'), payload: '\u0000' });
    expect(codec.encode('n_label', 'hi', noFreshValue)).toEqual({ ok: true, topic: at('label/set'), payload: 'hi' });
    expect(codec.decode(at('rgb'), text('rgb,100,100,100'))).toEqual({
      ok: true,
      values: { n_rgb: 'rgb,100,100,100' },
    });
    expect(codec.encode('n_rgb', 'rgb,1,2,3', noFreshValue)).toMatchObject({ ok: false });
  });

  it('skips json, unknown datatypes, non-retained events and bad enum formats; bad number formats lose their limits', () => {
    const { source } = start();
    const { description, notes } = upserted(
      announce(
        source,
        'dev',
        device({
          brew: { name: 'Brew coffee', datatype: 'boolean', settable: true, retained: false },
          doorbell: { name: 'Doorbell pressed', datatype: 'boolean', retained: false },
          blob: { datatype: 'json' },
          odd: { datatype: 'quaternion' },
          empty: { datatype: 'enum', format: 'a,,b' },
          dup: { datatype: 'enum', format: 'a,a' },
          range: { datatype: 'integer', format: '10:1' },
          frac: { datatype: 'integer', format: '0.5:3' },
          ok: { datatype: 'integer' },
        }),
      ),
    );
    expect(Object.keys(description.fields)).toEqual(['n_range', 'n_frac', 'n_ok']);
    expect(description.fields.n_range).toEqual({ type: 'integer', label: 'range' });
    expect(notes).toEqual([
      'Brew coffee: skipped, not retained (an event: it has no state to show or protect)',
      'Doorbell pressed: skipped, not retained (an event: it has no state to show or protect)',
      'blob: skipped, datatype "json" is not supported',
      'odd: skipped, datatype "quaternion" is not supported',
      'empty: skipped, its enum format is not 1 to 256 distinct non-empty values',
      'dup: skipped, its enum format is not 1 to 256 distinct non-empty values',
      'range: its format "10:1" is not valid, so no limits are used',
      'frac: its format "0.5:3" is not valid, so no limits are used',
    ]);
    expect(() => define(description)).not.toThrow();
  });

  it('field names are node_property, made valid and unique', () => {
    const { source } = start();
    const { description } = upserted(
      announce(source, 'dev', {
        homie: '5.0',
        version: 1,
        nodes: {
          'a-b': { properties: { c: { datatype: 'integer' } } },
          a: { properties: { 'b-c': { datatype: 'integer' } } },
          '1st': { properties: { x: { datatype: 'integer' } } },
        },
      }),
    );
    expect(Object.keys(description.fields)).toEqual(['a_b_c', 'a_b_c_2', '_1st_x']);
    expect(() => define(description)).not.toThrow();
  });
});

describe('homie: devices coming, going and changing', () => {
  it('a cleared $state or $description removes the device; set again, it is back', () => {
    const { source } = start();
    announce(source, 'kitchen-light', KITCHEN_LIGHT);
    expect(source.receive('homie/5/kitchen-light/$state', none)).toEqual([{ type: 'remove', id: 'kitchen-light' }]);
    expect(source.receive('homie/5/kitchen-light/$state', text('ready'))).toHaveLength(1);
    expect(source.receive('homie/5/kitchen-light/$description', none)).toEqual([
      { type: 'remove', id: 'kitchen-light' },
    ]);
    expect(source.receive('homie/5/kitchen-light/$state', none)).toEqual([]);
    expect(upserted(announce(source, 'kitchen-light', KITCHEN_LIGHT)).description.id).toBe('kitchen-light');
  });

  it('a changed description is an upsert with the new limits; the same one again changes nothing', () => {
    const { source } = start();
    announce(source, 'kitchen-light', KITCHEN_LIGHT);
    expect(source.receive('homie/5/kitchen-light/$description', json({ ...KITCHEN_LIGHT, version: 2 }))).toEqual([]);
    const changed = structuredClone(KITCHEN_LIGHT);
    changed.nodes.light.properties.brightness.format = '0:254';
    const { description } = upserted(source.receive('homie/5/kitchen-light/$description', json(changed)));
    expect(description.fields.light_brightness).toMatchObject({ max: 254 });
  });

  it('a child device is online only while it and its root are ready', () => {
    const { source } = start();
    const { description } = upserted(
      announce(source, 'light1', { ...KITCHEN_LIGHT, root: 'bridge', parent: 'dualrelay' }),
    );
    expect(description.availability).toEqual({
      topics: [
        { topic: 'homie/5/light1/$state', online: 'ready', offline: 'lost' },
        { topic: 'homie/5/bridge/$state', online: 'ready', offline: 'lost' },
      ],
      mode: 'all',
    });
  });

  it('another domain', () => {
    const { source } = start('acme');
    expect(source.filters).toEqual(['acme/5/+/$state', 'acme/5/+/$description']);
    source.receive('acme/5/kitchen-light/$state', text('ready'));
    const { description } = upserted(source.receive('acme/5/kitchen-light/$description', json(KITCHEN_LIGHT)));
    expect(description.topics[0]).toMatchObject({ status: 'acme/5/kitchen-light/light/power' });
    expect(() => homie({ base: 'a/#' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });
});

describe('homie: hostile input', () => {
  it('ids that are not Homie ids never become topics', () => {
    const { source, log } = start();
    expect(announce(source, 'Bad_Id', KITCHEN_LIGHT)).toEqual([]);
    expect(announce(source, '-lead', KITCHEN_LIGHT)).toEqual([]);
    const { description, notes } = upserted(
      announce(source, 'dev', {
        homie: '5.0',
        version: 1,
        nodes: {
          'a/b': { properties: { x: { datatype: 'integer' } } },
          '+': { properties: { x: { datatype: 'integer' } } },
          '#': { properties: { x: { datatype: 'integer' } } },
          $sys: { properties: { x: { datatype: 'integer' } } },
          n: {
            properties: {
              'x/set': { datatype: 'integer' },
              ['__proto__']: { datatype: 'integer' },
              y: { datatype: 'integer' },
            },
          },
        },
      }),
    );
    expect(Object.keys(description.fields)).toEqual(['n_y']);
    expect(notes).toHaveLength(6);
    expect(log.entries.filter((e) => e.msg === 'Homie device skipped: not a valid device id')).toHaveLength(2);
  });

  it('__proto__ in a $description reaches no prototype', () => {
    const { source } = start();
    const payload =
      '{"homie":"5.0","version":1,"__proto__":{"polluted":1},"nodes":{"__proto__":{"properties":{"x":{"datatype":"integer"}}},"n":{"properties":{"y":{"datatype":"integer","__proto__":{"settable":true}}}}}}';
    source.receive('homie/5/dev/$state', text('ready'));
    const { description } = upserted(source.receive('homie/5/dev/$description', Buffer.from(payload)));
    expect(Object.keys(description.fields)).toEqual(['n_y']);
    expect(description.fields.n_y).not.toHaveProperty('writable');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('a description that is not JSON, not an object or not v5 is skipped and logged once per reason', () => {
    const { source, log } = start();
    source.receive('homie/5/dev/$state', text('ready'));
    for (const p of [
      text('{'),
      text('{'),
      json([1]),
      json({ homie: '4.0.0', nodes: {} }),
      json({ homie: '5.0', nodes: [] }),
    ])
      expect(source.receive('homie/5/dev/$description', p)).toEqual([]);
    expect(log.entries.map((e) => e.obj?.reason)).toEqual([
      '$description is not valid JSON',
      '$description is not a JSON object',
      '$description.homie is "4.0.0", not "5.x"',
      '$description.nodes is not an object',
    ]);
  });

  it('a device that was announced and then sends a broken description is removed', () => {
    const { source } = start();
    announce(source, 'kitchen-light', KITCHEN_LIGHT);
    expect(source.receive('homie/5/kitchen-light/$description', text('nope'))).toEqual([
      { type: 'remove', id: 'kitchen-light' },
    ]);
  });

  it('a huge description is cut to the field limit with one note', () => {
    const { source } = start();
    const properties = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`p${i}`, { datatype: 'integer' }]));
    const { description, notes } = upserted(
      announce(source, 'big', { homie: '5.0', version: 1, nodes: { n: { properties } } }),
    );
    expect(Object.keys(description.fields)).toHaveLength(256);
    expect(notes).toEqual(['more than 256 fields or 1024 properties: the rest are skipped']);
    expect(() => define(description)).not.toThrow();
  });

  it(`tracks at most ${MAX_HOMIE_DEVICES} devices, and says so once`, () => {
    const { source, log } = start();
    for (let i = 0; i < MAX_HOMIE_DEVICES + 10; i++) source.receive(`homie/5/d${i}/$state`, text('ready'));
    expect(source.receive(`homie/5/d${MAX_HOMIE_DEVICES + 1}/$description`, json(KITCHEN_LIGHT))).toEqual([]);
    expect(upserted(source.receive('homie/5/d1/$description', json(KITCHEN_LIGHT))).description.id).toBe('d1');
    expect(log.entries.filter((e) => e.msg === 'Homie devices over the limit ignored')).toHaveLength(1);
  });

  it('topics other than $state and $description are ignored', () => {
    const { source } = start();
    expect(source.receive('homie/5/dev/$log', text('x'))).toEqual([]);
    expect(source.receive('homie/5/dev/n/p', text('x'))).toEqual([]);
    expect(source.receive('other/5/dev/$state', text('ready'))).toEqual([]);
  });
});
