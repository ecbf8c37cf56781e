/**
 * The Zigbee2MQTT source as a translator: real `bridge/devices` entries in, descriptions out that
 * pass `defineDevice`, and through the real codecs a state payload decodes and a write encodes the
 * right JSON for the right topic. Devices coming, going, renamed and changed; hostile lists.
 */
import { describe, expect, it } from 'vitest';
import {
  Z2M_COORDINATOR as COORDINATOR,
  Z2M_DANFOSS_TRV as DANFOSS_TRV,
  Z2M_HUE_LIGHT as HUE_LIGHT,
  Z2M_HUE_STATE as HUE_STATE,
  Z2M_IKEA_STATE as IKEA_STATE,
  Z2M_UNSUPPORTED as UNSUPPORTED,
} from '@live-device-form/testkit';
import { createDeviceCodec } from '../../codecs/index.js';
import { defineDevice } from '../../device/define.js';
import type { DeviceDescription } from '../../device/types.js';
import { recordingLogger, type RecordingLogger } from '../../logger.js';
import type { DeviceChange, DeviceSource } from '../source.js';
import { zigbee2mqtt } from './source.js';

// Real-world fixtures (with their sources) from the testkit, shared with the Mosquitto tests.

/**
 * `defineDevice`, while the tree being integrated lacks field `help` and availability lists (their
 * helpers land them in parallel): a description refused only for those is checked again without
 * them. Any other issue fails the test. Remove once both are in the format.
 */
function define(d: DeviceDescription): DeviceDescription {
  return defineDevice(d as Parameters<typeof defineDevice>[0]);
}

const BASE = 'zigbee2mqtt';
const devicesTopic = `${BASE}/bridge/devices`;
const infoTopic = `${BASE}/bridge/info`;
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function start(base?: string): { source: DeviceSource; log: RecordingLogger } {
  const log = recordingLogger();
  const source = zigbee2mqtt(base === undefined ? {} : { base })({ logger: log });
  return { source, log };
}

function upserts(
  changes: readonly DeviceChange[],
): Map<string, { description: DeviceDescription; notes: readonly string[] }> {
  const out = new Map<string, { description: DeviceDescription; notes: readonly string[] }>();
  for (const c of changes)
    if (c.type === 'upsert') out.set(c.description.id, { description: c.description, notes: c.notes ?? [] });
  return out;
}

const removals = (changes: readonly DeviceChange[]): string[] =>
  changes.flatMap((c) => (c.type === 'remove' ? [c.id] : []));

function only(
  changes: readonly DeviceChange[],
  id: string,
): { description: DeviceDescription; notes: readonly string[] } {
  const u = upserts(changes).get(id);
  if (!u) throw new Error(`no upsert for ${id}: ${JSON.stringify(changes)}`);
  return u;
}

const noFreshValue = (): null => null;

describe('zigbee2mqtt: the Hue light (bridge/devices fixture)', () => {
  const { source } = start();
  const changes = source.receive(devicesTopic, json([COORDINATOR, HUE_LIGHT]));
  const { description, notes } = only(changes, 'hue1');

  it('subscribes to bridge/devices and bridge/info, and its devices live under the base', () => {
    expect(source.name).toBe('zigbee2mqtt');
    expect(source.filters).toEqual(['zigbee2mqtt/bridge/devices', 'zigbee2mqtt/bridge/info']);
    expect(source.topicPrefixes).toEqual(['zigbee2mqtt/']);
    expect(changes).toHaveLength(1); // the coordinator is no device
  });

  it('describes every published feature with its limits, label and help, and passes defineDevice', () => {
    expect(() => define(description)).not.toThrow();
    expect(Object.keys(description.fields)).toEqual([
      'state',
      'brightness',
      'color_temp',
      'color_temp_startup',
      'color_x',
      'color_y',
      'color_hue',
      'color_saturation',
      'linkquality',
    ]);
    expect(description.fields.state).toEqual({
      type: 'boolean',
      label: 'state',
      true: 'ON',
      false: 'OFF',
      writable: true,
      help: 'On/off state of this light',
    });
    expect(description.fields.brightness).toMatchObject({ type: 'number', min: 0, max: 254, writable: true });
    expect(description.fields.color_temp).toMatchObject({ type: 'number', min: 153, max: 500, unit: 'mired' });
    expect(description.fields.color_x).toMatchObject({ type: 'number', label: 'color_xy x', writable: true });
    expect(description.fields.linkquality).toEqual({
      type: 'number',
      label: 'linkquality',
      min: 0,
      max: 255,
      unit: 'lqi',
      help: 'Link quality (signal strength)',
    });
  });

  it('makes the second colour composite read-only and skips the set-only effect, with notes', () => {
    expect(description.fields.color_hue).not.toHaveProperty('writable');
    expect(description.fields.color_saturation).not.toHaveProperty('writable');
    expect(notes).toContain(
      'color_hs: read-only, its property "color" is written through "color_xy" (one composite per property can be written)',
    );
    expect(description.fields).not.toHaveProperty('effect');
    expect(notes).toContain(
      "effect: skipped, it can be set but is not published in the state, so a write could not be checked against the device's value",
    );
  });

  it('reads the state topic, writes /set and the colour on /set/color, availability from the device and the bridge', () => {
    expect(description.topics).toEqual([
      {
        status: 'zigbee2mqtt/hue1',
        json: {
          state: '/state',
          brightness: '/brightness',
          color_temp: '/color_temp',
          color_temp_startup: '/color_temp_startup',
          color_x: '/color/x',
          color_y: '/color/y',
          color_hue: '/color/hue',
          color_saturation: '/color/saturation',
          linkquality: '/linkquality',
        },
      },
      {
        set: 'zigbee2mqtt/hue1/set',
        json: {
          state: '/state',
          brightness: '/brightness',
          color_temp: '/color_temp',
          color_temp_startup: '/color_temp_startup',
        },
        send: 'changed',
      },
      { set: 'zigbee2mqtt/hue1/set/color', json: { color_x: '/x', color_y: '/y' }, send: 'all' },
    ]);
    // No bridge/info yet: Zigbee2MQTT's device availability is off by default, so only the bridge counts.
    expect(description.availability).toEqual({
      topics: [{ topic: 'zigbee2mqtt/bridge/state', json: '/state' }],
      mode: 'all',
    });
  });

  it('decodes state payloads with the real codec', () => {
    const codec = createDeviceCodec(define(description));
    expect(codec.decode('zigbee2mqtt/hue1', json(HUE_STATE))).toEqual({ ok: true, values: { color_temp: 200 } });
    expect(codec.decode('zigbee2mqtt/hue1', json(IKEA_STATE))).toEqual({
      ok: true,
      values: { state: true, brightness: 215, color_temp: 325 },
    });
    expect(
      codec.decode('zigbee2mqtt/hue1', json({ state: 'OFF', color: { x: 0.3, y: 0.4, hue: 20, saturation: 90 } })),
    ).toEqual({ ok: true, values: { state: false, color_x: 0.3, color_y: 0.4, color_hue: 20, color_saturation: 90 } });
  });

  it('encodes writes as Zigbee2MQTT expects them', () => {
    const codec = createDeviceCodec(define(description));
    expect(codec.encode('brightness', 100, noFreshValue)).toEqual({
      ok: true,
      topic: 'zigbee2mqtt/hue1/set',
      payload: '{"brightness":100}',
    });
    expect(codec.encode('state', false, noFreshValue)).toEqual({
      ok: true,
      topic: 'zigbee2mqtt/hue1/set',
      payload: '{"state":"OFF"}',
    });
    // x and y go together, the other at its freshest value (docs/protocol.md rule 4) …
    expect(codec.encode('color_x', 0.3, (f) => (f === 'color_y' ? 0.4 : null))).toEqual({
      ok: true,
      topic: 'zigbee2mqtt/hue1/set/color',
      payload: '{"x":0.3,"y":0.4}',
    });
    // … and not at all while it is unknown.
    expect(codec.encode('color_x', 0.3, noFreshValue)).toMatchObject({ ok: false });
    expect(codec.encode('color_hue', 20, noFreshValue)).toMatchObject({
      ok: false,
      message: expect.stringContaining('read-only'),
    });
    expect(codec.encode('brightness', 300, noFreshValue)).toMatchObject({ ok: false });
  });
});

describe('zigbee2mqtt: the Danfoss TRV (climate features)', () => {
  const { source } = start();
  const { description } = only(source.receive(devicesTopic, json([DANFOSS_TRV])), 'living_room_radiator');

  it('takes the id from the friendly_name, its topics keep the name as it is', () => {
    expect(description.topics[0]).toMatchObject({ status: 'zigbee2mqtt/living room/radiator' });
    expect(description.topics[1]).toMatchObject({ set: 'zigbee2mqtt/living room/radiator/set' });
  });

  it('describes the setpoint, modes and sensors, and passes defineDevice', () => {
    expect(() => define(description)).not.toThrow();
    expect(description.fields.occupied_heating_setpoint).toEqual({
      type: 'number',
      label: 'occupied_heating_setpoint',
      min: 5,
      max: 32,
      step: 0.5,
      unit: '°C',
      writable: true,
      help: 'Temperature setpoint',
    });
    expect(description.fields.system_mode).toMatchObject({
      type: 'enum',
      options: [{ value: 'heat' }],
      writable: true,
    });
    expect(description.fields.keypad_lockout).toMatchObject({
      type: 'enum',
      options: [{ value: 'unlock' }, { value: 'lock1' }, { value: 'lock2' }],
    });
    expect(description.fields.local_temperature).toMatchObject({ type: 'number', unit: '°C' });
    expect(description.fields.local_temperature).not.toHaveProperty('writable');
    expect(description.fields.running_state).not.toHaveProperty('writable');
    expect(description.fields.window_open_external).toMatchObject({ type: 'boolean', writable: true });
    expect(description.fields.window_open_external).not.toHaveProperty('true');
  });

  it('decodes a state and encodes a setpoint, a mode and a JSON boolean', () => {
    const codec = createDeviceCodec(define(description));
    const state = {
      battery: 86,
      keypad_lockout: 'unlock',
      occupied_heating_setpoint: 21,
      local_temperature: 19.37,
      pi_heating_demand: 40,
      system_mode: 'heat',
      running_state: 'heat',
      window_open_external: false,
      linkquality: 102,
    };
    expect(codec.decode('zigbee2mqtt/living room/radiator', json(state))).toEqual({ ok: true, values: state });
    const topic = 'zigbee2mqtt/living room/radiator/set';
    expect(codec.encode('occupied_heating_setpoint', 21.5, noFreshValue)).toEqual({
      ok: true,
      topic,
      payload: '{"occupied_heating_setpoint":21.5}',
    });
    expect(codec.encode('occupied_heating_setpoint', 21.3, noFreshValue)).toMatchObject({ ok: false });
    expect(codec.encode('keypad_lockout', 'lock1', noFreshValue)).toEqual({
      ok: true,
      topic,
      payload: '{"keypad_lockout":"lock1"}',
    });
    expect(codec.encode('window_open_external', true, noFreshValue)).toEqual({
      ok: true,
      topic,
      payload: '{"window_open_external":true}',
    });
  });
});

describe('zigbee2mqtt: availability', () => {
  it("adds the device's availability topic once bridge/info says Zigbee2MQTT publishes it", () => {
    const { source } = start();
    source.receive(devicesTopic, json([HUE_LIGHT]));
    const enabled = source.receive(infoTopic, json({ version: '2.1.0', config: { availability: { enabled: true } } }));
    expect(only(enabled, 'hue1').description.availability).toEqual({
      topics: [
        { topic: 'zigbee2mqtt/hue1/availability', json: '/state' },
        { topic: 'zigbee2mqtt/bridge/state', json: '/state' },
      ],
      mode: 'all',
    });
    // The same settings again: nothing changed.
    expect(source.receive(infoTopic, json({ version: '2.1.1', config: { availability: { enabled: true } } }))).toEqual(
      [],
    );
    // A device's own option wins over the global one.
    const off = source.receive(
      infoTopic,
      json({ config: { availability: { enabled: true }, devices: { '0x0017880104292f0a': { availability: false } } } }),
    );
    expect(only(off, 'hue1').description.availability).toEqual({
      topics: [{ topic: 'zigbee2mqtt/bridge/state', json: '/state' }],
      mode: 'all',
    });
  });

  it('reads the 1.x settings too: availability: true, or the legacy availability_timeout', () => {
    for (const config of [
      { availability: true },
      { advanced: { availability_timeout: 60 } },
      { availability: { active: { timeout: 10 } } },
    ]) {
      const { source } = start();
      source.receive(devicesTopic, json([HUE_LIGHT]));
      const c = source.receive(infoTopic, json({ config }));
      expect(only(c, 'hue1').description.availability).toMatchObject({
        topics: [{ topic: 'zigbee2mqtt/hue1/availability' }, {}],
      });
    }
    const { source } = start();
    source.receive(devicesTopic, json([HUE_LIGHT]));
    expect(source.receive(infoTopic, json({ config: { availability: { enabled: false } } }))).toEqual([]);
  });
});

describe('zigbee2mqtt: devices coming and going', () => {
  it('an unchanged list changes nothing; a device no longer listed, or disabled, is removed', () => {
    const { source } = start();
    expect(upserts(source.receive(devicesTopic, json([HUE_LIGHT, DANFOSS_TRV]))).size).toBe(2);
    expect(source.receive(devicesTopic, json([HUE_LIGHT, DANFOSS_TRV]))).toEqual([]);
    expect(source.receive(devicesTopic, json([DANFOSS_TRV]))).toEqual([{ type: 'remove', id: 'hue1' }]);
    const disabled = { ...clone(DANFOSS_TRV), disabled: true };
    expect(source.receive(devicesTopic, json([disabled]))).toEqual([{ type: 'remove', id: 'living_room_radiator' }]);
  });

  it('an empty retained bridge/devices removes every device', () => {
    const { source } = start();
    source.receive(devicesTopic, json([HUE_LIGHT, DANFOSS_TRV]));
    expect(removals(source.receive(devicesTopic, Buffer.alloc(0))).sort()).toEqual(['hue1', 'living_room_radiator']);
  });

  it('a rename removes the old id and adds the new one with the new topics', () => {
    const { source } = start();
    source.receive(devicesTopic, json([HUE_LIGHT]));
    const renamed = { ...clone(HUE_LIGHT), friendly_name: 'kitchen/ceiling' };
    const changes = source.receive(devicesTopic, json([renamed]));
    expect(changes[0]).toEqual({ type: 'remove', id: 'hue1' });
    expect(only(changes, 'kitchen_ceiling').description.topics[0]).toMatchObject({
      status: 'zigbee2mqtt/kitchen/ceiling',
    });
  });

  it('a changed value_max is an upsert with the new limits', () => {
    const { source } = start();
    source.receive(devicesTopic, json([DANFOSS_TRV]));
    const changed = clone(DANFOSS_TRV);
    (changed.definition.exposes[2] as { features: { value_max?: number }[] }).features[0]!.value_max = 28;
    const d = only(source.receive(devicesTopic, json([changed])), 'living_room_radiator').description;
    expect(d.fields.occupied_heating_setpoint).toMatchObject({ max: 28 });
    expect(() => define(d)).not.toThrow();
  });

  it('skips unsupported devices and devices still interviewing, and says so once', () => {
    const { source, log } = start();
    const interviewing = {
      ...clone(HUE_LIGHT),
      ieee_address: '0x0017880104292f0b',
      friendly_name: 'new',
      interview_completed: false,
    };
    expect(source.receive(devicesTopic, json([COORDINATOR, UNSUPPORTED, interviewing]))).toEqual([]);
    source.receive(devicesTopic, json([COORDINATOR, UNSUPPORTED, interviewing]));
    const warned = log.entries.filter((e) => e.msg === 'discovered device skipped');
    expect(warned).toEqual([
      {
        level: 'warn',
        msg: 'discovered device skipped',
        obj: {
          source: 'zigbee2mqtt',
          device: 'my_sensor',
          ieee_address: '0x00169a00022256da',
          reason: 'not supported by Zigbee2MQTT (no definition.exposes)',
        },
      },
    ]);
  });

  it('another base topic', () => {
    const { source } = start('z2m/home');
    expect(source.filters).toEqual(['z2m/home/bridge/devices', 'z2m/home/bridge/info']);
    expect(source.receive('zigbee2mqtt/bridge/devices', json([HUE_LIGHT]))).toEqual([]);
    const d = only(source.receive('z2m/home/bridge/devices', json([HUE_LIGHT])), 'hue1').description;
    expect(d.topics[0]).toMatchObject({ status: 'z2m/home/hue1' });
    expect(d.availability).toMatchObject({ topics: [{ topic: 'z2m/home/bridge/state' }] });
  });

  it('refuses a base topic that is not one', () => {
    for (const base of ['', '#', 'a/+/b', '$SYS', '/z', 'z/', 'a//b', 'a{b}'])
      expect(() => zigbee2mqtt({ base })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
  });
});

describe('zigbee2mqtt: ids and field names', () => {
  const entry = (ieee: string, name: string, exposes: unknown[]): unknown => ({
    ieee_address: ieee,
    friendly_name: name,
    type: 'Router',
    interview_completed: true,
    definition: { exposes },
  });
  const numeric = (property: string, extra: object = {}): object => ({
    type: 'numeric',
    name: property,
    property,
    access: 7,
    ...extra,
  });

  it('two names that give one id: the second gets its ieee address appended', () => {
    const { source } = start();
    const c = upserts(
      source.receive(
        devicesTopic,
        json([entry('0x01', 'kitchen lamp', [numeric('a')]), entry('0x02', 'kitchen/lamp', [numeric('a')])]),
      ),
    );
    expect([...c.keys()]).toEqual(['kitchen_lamp', 'kitchen_lamp-0x02']);
  });

  it('accents are dropped; a name with no letter or digit left takes the ieee address', () => {
    const { source } = start();
    const c = upserts(
      source.receive(
        devicesTopic,
        json([entry('0x01', 'Küche Decke', [numeric('a')]), entry('0x02', '客厅灯', [numeric('a')])]),
      ),
    );
    expect([...c.keys()]).toEqual(['Kuche_Decke', '0x02']);
  });

  it('field names are made valid and unique; endpoint properties are ordinary ones', () => {
    const { source } = start();
    const d = only(
      source.receive(
        devicesTopic,
        json([
          entry('0x01', 'multi', [
            {
              type: 'switch',
              endpoint: 'l1',
              features: [
                { type: 'binary', name: 'state', property: 'state_l1', access: 7, value_on: 'ON', value_off: 'OFF' },
              ],
            },
            numeric('a-b'),
            numeric('a_b'),
            numeric('1st'),
            numeric('x'.repeat(100)),
          ]),
        ]),
      ),
      'multi',
    ).description;
    expect(Object.keys(d.fields)).toEqual([
      'state_l1',
      'a_b',
      'a_b_2',
      '_1st',
      expect.stringMatching(/^x{55}_[0-9a-f]{8}$/),
    ]);
    expect(d.fields.state_l1).toMatchObject({ label: 'state (l1)' });
    expect(() => define(d)).not.toThrow();
  });
});

describe('zigbee2mqtt: hostile bridge/devices', () => {
  const entry = (name: unknown, exposes: unknown, ieee = '0x01'): unknown => ({
    ieee_address: ieee,
    friendly_name: name,
    type: 'Router',
    interview_completed: true,
    definition: { exposes },
  });
  const ok = [{ type: 'numeric', name: 'a', property: 'a', access: 7 }];

  it('refuses friendly_names that would make wildcard, $SYS-like or foreign topics, and logs each once', () => {
    const { source, log } = start();
    const bad = [
      '+',
      'a/#',
      '$SYS/broker',
      'x/$SYS',
      'bridge/state',
      'bridge',
      'lamp/set/color',
      'lamp/get',
      'a/availability',
      '{x}',
      'lamp/1',
      '/lead',
      'trail/',
      'nul\u0000',
      'x'.repeat(300),
    ];
    const list = bad.map((n, i) => entry(n, ok, `0x${(i + 1).toString(16)}`));
    expect(source.receive(devicesTopic, json(list))).toEqual([]);
    source.receive(devicesTopic, json(list));
    const warned = log.entries.filter((e) => e.msg === 'discovered device skipped');
    expect(warned).toHaveLength(bad.length);
    expect(warned.map((w) => w.obj?.reason)).toContain('its friendly_name contains the MQTT wildcard "+" or "#"');
    expect(warned.map((w) => w.obj?.reason)).toContain('its friendly_name has a topic level starting with "$"');
  });

  it('a bridge/devices that is not a JSON array, or not JSON, is ignored and logged once', () => {
    const { source, log } = start();
    source.receive(devicesTopic, json([HUE_LIGHT]));
    for (const payload of [json({ hue1: HUE_LIGHT }), json({ hue1: HUE_LIGHT }), Buffer.from('[{'), Buffer.from('[{')])
      expect(source.receive(devicesTopic, payload)).toEqual([]);
    expect(log.entries.map((e) => e.msg)).toEqual([
      'bridge/devices is not a JSON array: ignored',
      'bridge/devices is not valid JSON: ignored',
    ]);
    // The devices known before are kept.
    expect(source.receive(devicesTopic, json([HUE_LIGHT]))).toEqual([]);
  });

  it('entries that are not objects, exposes that are not a list: skipped, the others described', () => {
    const { source } = start();
    const changes = source.receive(
      devicesTopic,
      json([null, 7, 'x', [], entry('noexp', { a: 1 }, '0x02'), entry('fine', ok, '0x03')]),
    );
    expect([...upserts(changes).keys()]).toEqual(['fine']);
  });

  it('__proto__, constructor and prototype properties are skipped, and nothing reaches a prototype', () => {
    const { source } = start();
    const payload = `[{"ieee_address":"0x01","friendly_name":"evil","type":"Router","interview_completed":true,"definition":{"exposes":[
      {"type":"numeric","name":"p","property":"__proto__","access":7},
      {"type":"numeric","name":"c","property":"constructor","access":7},
      {"type":"composite","name":"c2","property":"__proto__","features":[{"type":"numeric","name":"polluted","property":"polluted","access":7}]},
      {"type":"numeric","name":"fine","property":"fine","access":7}]},"__proto__":{"friendly_name":"x"}}]`;
    const { description, notes } = only(source.receive(devicesTopic, Buffer.from(payload)), 'evil');
    expect(Object.keys(description.fields)).toEqual(['fine']);
    expect(notes).toHaveLength(3);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => define(description)).not.toThrow();
  });

  it('a huge exposes list is cut to the field limit with one note', () => {
    const { source } = start();
    const exposes = Array.from({ length: 5000 }, (_, i) => ({
      type: 'numeric',
      name: `n${i}`,
      property: `n${i}`,
      access: 1,
    }));
    const { description, notes } = only(source.receive(devicesTopic, json([entry('big', exposes)])), 'big');
    expect(Object.keys(description.fields)).toHaveLength(256);
    expect(notes).toEqual(['more than 256 fields: the rest are skipped']);
    expect(() => define(description)).not.toThrow();
  });

  it('nesting deeper than the limit is skipped with a note, without recursing further', () => {
    const { source } = start();
    // Built as text: JSON.stringify itself would overflow the stack on 10,000 levels.
    const open = '{"type":"composite","name":"c","property":"c","features":['.repeat(10_000);
    const leaf = '{"type":"numeric","name":"leaf","property":"leaf","access":7}';
    const deep = `${open}${leaf}${']}'.repeat(10_000)}`;
    const payload = Buffer.from(
      `[{"ieee_address":"0x01","friendly_name":"deep","type":"Router","interview_completed":true,"definition":{"exposes":[${deep},${JSON.stringify(ok[0])}]}}]`,
    );
    const { description, notes } = only(source.receive(devicesTopic, payload), 'deep');
    expect(Object.keys(description.fields)).toEqual(['a']);
    expect(notes).toEqual([expect.stringContaining('nested deeper than 4 levels: skipped')]);
  });

  it('a device whose exposes give no field is skipped with the reasons', () => {
    const { source, log } = start();
    const exposes = [
      { type: 'list', name: 'schedule', property: 'schedule', access: 3, item_type: { type: 'numeric', name: 't' } },
      { type: 'binary', name: 'b', property: 'b', access: 7, value_on: 1, value_off: 0 },
      { type: 'enum', name: 'e', property: 'e', access: 7, values: [1, 2] },
      { type: 'weird', name: 'w', property: 'w', access: 7 },
      { type: 'numeric', name: 'dup', property: 'dup', access: 0 },
    ];
    expect(source.receive(devicesTopic, json([entry('nothing', exposes)]))).toEqual([]);
    const reason = String(log.entries[0]?.obj?.reason);
    expect(reason).toMatch(/^no field can be shown/);
    expect(reason).toContain('schedule: a list: skipped');
    expect(reason).toContain('b: skipped, its value_on/value_off (1/0)');
    expect(reason).toContain('e: skipped, its values are not distinct non-empty strings');
    expect(reason).toContain('unknown expose type "weird"');
    expect(reason).toContain('dup: skipped, not published in the state');
  });

  it('a property listed twice is read once', () => {
    const { source } = start();
    const exposes = [
      { type: 'numeric', name: 'occupied_heating_setpoint', property: 'occupied_heating_setpoint', access: 7 },
      { type: 'numeric', name: 'occupied_cooling_setpoint', property: 'occupied_heating_setpoint', access: 7 },
      { type: 'numeric', name: 'color', property: 'color', access: 7 },
      {
        type: 'composite',
        name: 'color_xy',
        property: 'color',
        features: [{ type: 'numeric', name: 'x', property: 'x', access: 7 }],
      },
    ];
    const { description, notes } = only(source.receive(devicesTopic, json([entry('dup', exposes)])), 'dup');
    expect(Object.keys(description.fields)).toEqual(['occupied_heating_setpoint', 'color']);
    expect(notes).toEqual([
      'occupied_cooling_setpoint: skipped, "occupied_heating_setpoint" is already read by another field',
      'color_xy x: skipped, "color.x" is already read by another field',
    ]);
    expect(() => define(description)).not.toThrow();
  });
});
