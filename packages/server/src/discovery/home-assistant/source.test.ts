import { afterEach, describe, expect, it } from 'vitest';
import {
  HA_DEVICE_BASED,
  HA_ABBREVIATED_LIGHT,
  HA_EMS_ESP as EMS_ESP,
  HA_EMS_ESP_TILDE as EMS_ESP_TILDE,
  HA_ESPHOME as ESPHOME,
  HA_ZIGBEE2MQTT as Z2M,
} from '@live-device-form/testkit';
import type { FieldValue } from '@live-device-form/protocol';
import { createDeviceCodec } from '../../codecs/index.js';
import { defineDevice } from '../../device/index.js';
import type { CustomTopicDescription, DeviceDescription } from '../../device/types.js';
import { recordingLogger, type RecordingLogger } from '../../logger.js';
import type { DeviceChange, DeviceSource } from '../source.js';
import { MAX_HOME_ASSISTANT_ENTITIES, homeAssistant } from './source.js';

/** `defineDevice` on the description: what the discovery does with it. */
function define(d: DeviceDescription): DeviceDescription {
  return defineDevice(d as Parameters<typeof defineDevice>[0]);
}

const buf = (s: string): Buffer => Buffer.from(s, 'utf8');
const unknown = (): FieldValue => null;

let logger: RecordingLogger;
function start(prefix?: string): DeviceSource {
  logger = recordingLogger();
  return homeAssistant(prefix === undefined ? {} : { prefix })({ logger });
}
afterEach(() => {
  // Nothing here may have polluted a prototype.
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
});

/** Feeds fixtures; returns the last upsert of each device id (and every change, in order). */
function feed(source: DeviceSource, fixtures: readonly { topic: string; payload: string }[]) {
  const changes: DeviceChange[] = [];
  for (const f of fixtures) changes.push(...source.receive(f.topic, buf(f.payload)));
  const devices = new Map<string, { description: DeviceDescription; notes: readonly string[] }>();
  for (const c of changes) {
    if (c.type === 'upsert') devices.set(c.description.id, { description: c.description, notes: c.notes ?? [] });
    else devices.delete(c.id);
  }
  return { changes, devices };
}

function warnings(): { msg: string; obj?: Record<string, unknown> }[] {
  return logger.entries.filter((e) => e.level === 'warn');
}

// The fixtures (real configs, with their sources) live in the testkit, shared with the Mosquitto tests.

describe('homeAssistant source: topics', () => {
  it('subscribes to the per-entity and device-based config topics under its prefix', () => {
    expect(start().filters).toEqual(['homeassistant/+/+/config', 'homeassistant/+/+/+/config']);
    expect(start('ha').filters).toEqual(['ha/+/+/config', 'ha/+/+/+/config']);
    expect(start().name).toBe('homeassistant');
    expect(start().topicPrefixes).toBeUndefined();
  });

  it('refuses a prefix with wildcards', () => {
    expect(() => homeAssistant({ prefix: 'ha/#' })).toThrow(/prefix/);
    expect(() => homeAssistant({ prefix: '' })).toThrow(/prefix/);
  });

  it('ignores topics that are not discovery configs', () => {
    const s = start();
    expect(s.receive('homeassistant/switch/x/state', buf('{}'))).toEqual([]);
    expect(s.receive('other/switch/x/config', buf(ESPHOME[1]!.payload))).toEqual([]);
    expect(s.receive('homeassistant/a/b/c/d/config', buf(ESPHOME[1]!.payload))).toEqual([]);
  });
});

describe('ESPHome device (number, switch, select, sensor, button)', () => {
  const { devices } = feed(start(), ESPHOME);
  const d = devices.get('dc1ed51d797c')!;

  it('groups the entities into one device named by its identifier', () => {
    expect([...devices.keys()]).toEqual(['dc1ed51d797c']);
  });

  it('has the right fields, limits and labels', () => {
    expect(d.description.fields).toEqual({
      pac_restart: { type: 'action', label: 'pac restart', token: 'PRESS' },
      pac_fan_speed_limit: {
        type: 'integer',
        label: 'pac fan speed limit',
        min: 20,
        max: 100,
        step: 5,
        unit: '%',
        writable: true,
      },
      pac_vertical_swing_mode: {
        type: 'enum',
        label: 'pac vertical swing mode',
        options: ['swing', 'auto', 'up', 'up_center', 'center', 'down_center', 'down'].map((value) => ({ value })),
        writable: true,
      },
      pac_outside_temperature: { type: 'number', label: 'pac outside temperature', unit: '°C' },
      pac_mild_dry_switch: { type: 'boolean', label: 'pac mild dry switch', true: 'ON', false: 'OFF', writable: true },
    });
    expect(d.description.availability).toEqual({ topic: 'pac-1d797c/status', online: 'online', offline: 'offline' });
    expect(d.notes).toEqual([]);
  });

  it('passes defineDevice', () => {
    expect(() => define(d.description)).not.toThrow();
  });

  const codec = createDeviceCodec(define(d.description));
  it('decodes status payloads to the right values', () => {
    expect(codec.decode('pac-1d797c/number/pac_fan_speed_limit/state', buf('65'))).toEqual({
      ok: true,
      values: { pac_fan_speed_limit: 65 },
    });
    expect(codec.decode('pac-1d797c/state/mild_dry', buf('ON'))).toEqual({
      ok: true,
      values: { pac_mild_dry_switch: true },
    });
    expect(codec.decode('pac-1d797c/state/mild_dry', buf('OFF'))).toEqual({
      ok: true,
      values: { pac_mild_dry_switch: false },
    });
    expect(codec.decode('pac-1d797c/state/vertical_swing_mode', buf('up_center'))).toEqual({
      ok: true,
      values: { pac_vertical_swing_mode: 'up_center' },
    });
    expect(codec.decode('pac-1d797c/sensor/pac_outside_temperature/state', buf('-3.5'))).toEqual({
      ok: true,
      values: { pac_outside_temperature: -3.5 },
    });
    // Not an option, not a number: ignored, nothing changes.
    expect(codec.decode('pac-1d797c/state/vertical_swing_mode', buf('sideways'))?.ok).toBe(false);
    expect(codec.decode('pac-1d797c/number/pac_fan_speed_limit/state', buf('65.5'))?.ok).toBe(false);
  });

  it('encodes writes to the right payload on the right topic', () => {
    expect(codec.encode('pac_fan_speed_limit', 75, unknown)).toEqual({
      ok: true,
      topic: 'pac-1d797c/number/pac_fan_speed_limit/command',
      payload: '75',
    });
    expect(codec.encode('pac_mild_dry_switch', true, unknown)).toEqual({
      ok: true,
      topic: 'pac-1d797c/command/mild_dry',
      payload: 'ON',
    });
    expect(codec.encode('pac_vertical_swing_mode', 'down', unknown)).toEqual({
      ok: true,
      topic: 'pac-1d797c/command/vertical_swing_mode',
      payload: 'down',
    });
    // The limits hold: off the step, out of range, not an option.
    expect(codec.encode('pac_fan_speed_limit', 77, unknown).ok).toBe(false);
    expect(codec.encode('pac_fan_speed_limit', 105, unknown).ok).toBe(false);
    expect(codec.encode('pac_vertical_swing_mode', 'sideways', unknown).ok).toBe(false);
    expect(codec.encode('pac_outside_temperature', 3, unknown).ok).toBe(false);
  });

  it('publishes the button press on its command topic', () => {
    const mapping = (d.description.topics as CustomTopicDescription[]).find((t) => t.fields.includes('pac_restart'))!;
    expect(mapping.set).toBe('pac-1d797c/button/pac_restart/command');
    expect(mapping.status).toBeUndefined();
    expect(mapping.encode!({ field: 'pac_restart', value: null as never, values: { pac_restart: null } })).toBe(
      'PRESS',
    );
  });

  it('publishes the button press through the real codec', () => {
    const full = createDeviceCodec(defineDevice(d.description as Parameters<typeof defineDevice>[0]));
    expect(full.encode('pac_restart', null as never, unknown)).toEqual({
      ok: true,
      topic: 'pac-1d797c/button/pac_restart/command',
      payload: 'PRESS',
    });
  });
});

describe('Home Assistant device-based discovery (abbreviations, shared state topic, templates)', () => {
  const s = start();
  const { devices } = feed(s, [HA_DEVICE_BASED]);
  const d = devices.get('ea334450945afc')!;

  it('reads every component with the shared options merged in', () => {
    expect(d.description.fields).toEqual({
      some_unique_component_id1: { type: 'number', label: 'some_unique_component_id1', unit: '°C' },
      some_unique_id2: { type: 'number', label: 'some_unique_id2', unit: '%' },
    });
    // One mapping reads the shared state topic for both.
    expect(d.description.topics).toHaveLength(1);
    expect(d.description.topics[0]).toMatchObject({
      status: 'sensorBedroom/state',
      fields: ['some_unique_component_id1', 'some_unique_id2'],
    });
    expect(() => define(d.description)).not.toThrow();
  });

  it('applies each value template to the same payload', () => {
    const codec = createDeviceCodec(define(d.description));
    expect(codec.decode('sensorBedroom/state', buf('{"temperature":23.20,"humidity":43.70}'))).toEqual({
      ok: true,
      values: { some_unique_component_id1: 23.2, some_unique_id2: 43.7 },
    });
    // A payload carrying one of them updates that one only.
    expect(codec.decode('sensorBedroom/state', buf('{"humidity":50}'))).toEqual({
      ok: true,
      values: { some_unique_id2: 50 },
    });
    expect(codec.decode('sensorBedroom/state', buf('not json'))?.ok).toBe(false);
  });

  it('removes every component when the config is cleared', () => {
    expect(s.receive(HA_DEVICE_BASED.topic, Buffer.alloc(0))).toEqual([{ type: 'remove', id: 'ea334450945afc' }]);
  });

  it('writes a component through its command template', () => {
    const src = start();
    const cfg = JSON.parse(HA_DEVICE_BASED.payload) as { cmps: Record<string, unknown> };
    // Adapted from the example above: a number component with a command template.
    cfg.cmps.target = {
      p: 'number',
      name: 'Target',
      min: 5,
      max: 30,
      step: 0.5,
      val_tpl: '{{ value_json.target }}',
      cmd_t: 'sensorBedroom/set',
      cmd_tpl: '{{ value }}',
    };
    const dev = feed(src, [{ topic: HA_DEVICE_BASED.topic, payload: JSON.stringify(cfg) }]).devices.get(
      'ea334450945afc',
    )!;
    expect(dev.description.fields.target).toEqual({
      type: 'number',
      label: 'Target',
      min: 5,
      max: 30,
      step: 0.5,
      writable: true,
    });
    const codec = createDeviceCodec(define(dev.description));
    expect(codec.decode('sensorBedroom/state', buf('{"target":21.5}'))).toEqual({ ok: true, values: { target: 21.5 } });
    expect(codec.encode('target', 22.5, unknown)).toEqual({ ok: true, topic: 'sensorBedroom/set', payload: '22.5' });
  });

  it('substitutes ~ and expands abbreviations in a per-entity config (JSON light)', () => {
    const light = feed(start(), [HA_ABBREVIATED_LIGHT]).devices;
    // No device block: the entity is a device of its own, named by its unique_id.
    const l = light.get('kitchen_light')!;
    expect(l.description.fields).toEqual({
      kitchen: { type: 'boolean', label: 'Kitchen', true: 'ON', false: 'OFF', writable: true },
      kitchen_brightness: { type: 'integer', label: 'Kitchen brightness', min: 0, max: 255, step: 1, writable: true },
    });
    const codec = createDeviceCodec(define(l.description));
    expect(codec.decode('homeassistant/light/kitchen/state', buf('{"state":"ON","brightness":128}'))).toEqual({
      ok: true,
      values: { kitchen: true, kitchen_brightness: 128 },
    });
    expect(codec.encode('kitchen', false, unknown)).toEqual({
      ok: true,
      topic: 'homeassistant/light/kitchen/set',
      payload: '{"state":"OFF"}',
    });
  });
});

describe("Zigbee2MQTT's Home Assistant output", () => {
  const { devices } = feed(start(), Z2M);
  const log = logger;

  it('makes one device per Zigbee device', () => {
    expect([...devices.keys()].sort()).toEqual([
      'zigbee2mqtt_0x0017880104e45553',
      'zigbee2mqtt_0x18fc26000000cafe',
      'zigbee2mqtt_0x18fc2600000d7ae2',
    ]);
  });

  it('the dimmable light (JSON schema): on/off and brightness 0…254, label from the device (name: null)', () => {
    const bulb = devices.get('zigbee2mqtt_0x0017880104e45553')!;
    expect(bulb.description.fields).toEqual({
      bulb_enddevice: { type: 'boolean', label: 'bulb_enddevice', true: 'ON', false: 'OFF', writable: true },
      bulb_enddevice_brightness: {
        type: 'integer',
        label: 'bulb_enddevice brightness',
        min: 0,
        max: 254,
        step: 1,
        writable: true,
      },
    });
    expect(bulb.description.topics.map((t) => [t.status, t.set])).toEqual([
      ['zigbee2mqtt/bulb_enddevice', undefined],
      [undefined, 'zigbee2mqtt/bulb_enddevice/set'],
    ]);
    const codec = createDeviceCodec(define(bulb.description));
    expect(
      codec.decode('zigbee2mqtt/bulb_enddevice', buf('{"brightness":77,"linkquality":120,"state":"ON","update":{}}')),
    ).toEqual({ ok: true, values: { bulb_enddevice: true, bulb_enddevice_brightness: 77 } });
    expect(codec.encode('bulb_enddevice_brightness', 200, unknown)).toEqual({
      ok: true,
      topic: 'zigbee2mqtt/bulb_enddevice/set',
      payload: '{"state":"ON","brightness":200}',
    });
    expect(codec.encode('bulb_enddevice_brightness', 255, unknown).ok).toBe(false);
  });

  it("the availability list with its value template becomes the device's availability", () => {
    const bulb = devices.get('zigbee2mqtt_0x0017880104e45553')!;
    const a = bulb.description.availability as { topic: string; decode: (p: Buffer) => unknown };
    expect(a.topic).toBe('zigbee2mqtt/bridge/state');
    expect(a.decode(buf('{"state":"online"}'))).toBe('online');
    expect(a.decode(buf('{"state":"offline"}'))).toBe('offline');
  });

  it('the thermostat: its climate entity is skipped with one note', () => {
    // With the template stub the thermostat has no field left: its notes are logged instead.
    const t = devices.get('zigbee2mqtt_0x18fc2600000d7ae2');
    const logged = [...log.entries].reverse().find((e) => e.obj?.device === 'ids:zigbee2mqtt_0x18fc2600000d7ae2');
    const notes = t?.notes ?? (logged?.obj?.notes as string[] | undefined) ?? [];
    expect(notes.filter((n) => n.includes('climate'))).toEqual([
      'climate "bosch_radiator" (homeassistant/climate/0x18fc2600000d7ae2/climate/config) skipped: component "climate" is not supported',
    ]);
  });

  it('the thermostat: the PI heating demand number (0…100 %) reads and writes', () => {
    const t = devices.get('zigbee2mqtt_0x18fc2600000d7ae2')!;
    expect(t.description.fields).toEqual({
      bosch_radiator_pi_heating_demand: {
        type: 'integer',
        label: 'PI heating demand',
        min: 0,
        max: 100,
        step: 1,
        unit: '%',
        writable: true,
      },
    });
    const codec = createDeviceCodec(define(t.description));
    expect(
      codec.decode('zigbee2mqtt/bosch_radiator', buf('{"pi_heating_demand":35,"local_temperature":20.5}')),
    ).toEqual({
      ok: true,
      values: { bosch_radiator_pi_heating_demand: 35 },
    });
    expect(codec.encode('bosch_radiator_pi_heating_demand', 40, unknown)).toEqual({
      ok: true,
      topic: 'zigbee2mqtt/bosch_radiator/set/pi_heating_demand',
      payload: '40',
    });
  });

  it('the select (device_mode) reads its option out of the shared JSON state', () => {
    const sel = devices.get('zigbee2mqtt_0x18fc26000000cafe')!;
    expect(sel.description.fields).toEqual({
      _0x18fc26000000cafe_device_mode: {
        type: 'enum',
        label: 'Device mode',
        options: [{ value: 'light' }, { value: 'shutter' }, { value: 'disabled' }],
        writable: true,
      },
    });
    const codec = createDeviceCodec(define(sel.description));
    expect(codec.decode('zigbee2mqtt/0x18fc26000000cafe', buf('{"device_mode":"shutter"}'))).toEqual({
      ok: true,
      values: { _0x18fc26000000cafe_device_mode: 'shutter' },
    });
    expect(codec.encode('_0x18fc26000000cafe_device_mode', 'light', unknown)).toEqual({
      ok: true,
      topic: 'zigbee2mqtt/0x18fc26000000cafe/set/device_mode',
      payload: 'light',
    });
  });
});

describe('EMS-ESP (nested value templates on a shared JSON topic, ~ base topic)', () => {
  const { devices } = feed(start(), [...EMS_ESP, EMS_ESP_TILDE]);

  it('the thermostat numbers, with their steps and units', () => {
    const t = devices.get('ems-esp-thermostat')!;
    expect(t.description.fields).toEqual({
      thermostat_hc1_heat_temperature: {
        type: 'number',
        label: 'hc1 Heat temperature',
        min: 0,
        max: 127,
        step: 0.5,
        unit: '°C',
        writable: true,
      },
      thermostat_hc1_selected_room_temperature: {
        type: 'number',
        label: 'hc1 Selected room temperature',
        min: 0,
        max: 30,
        step: 0.1,
        unit: '°C',
        writable: true,
      },
    });
    const codec = createDeviceCodec(define(t.description));
    expect(
      codec.decode(
        'ems-esp/thermostat_data',
        buf('{"hc1":{"seltemp":21.5,"currtemp":20.9,"heattemp":22,"mode":"auto"}}'),
      ),
    ).toEqual({
      ok: true,
      values: { thermostat_hc1_heat_temperature: 22, thermostat_hc1_selected_room_temperature: 21.5 },
    });
    expect(codec.encode('thermostat_hc1_selected_room_temperature', 20.7, unknown)).toEqual({
      ok: true,
      topic: 'ems-esp/thermostat/hc1/seltemp',
      payload: '20.7',
    });
  });

  it('the ~ base topic is substituted', () => {
    const solar = devices.get('ems-esp-solar')!;
    expect(solar.description.topics[0]!.status).toBe('ems-esp/solar_data');
    const codec = createDeviceCodec(define(solar.description));
    expect(codec.decode('ems-esp/solar_data', buf('{"collectortemp":54.3}'))).toEqual({
      ok: true,
      values: { solar_collectortemp: 54.3 },
    });
  });
});

describe('availability and the default light schema', () => {
  it('an availability list becomes an availability list with Home Assistant\'s default mode "latest"', () => {
    const payload = JSON.stringify({
      stat_t: 'z/lamp',
      avty: [
        { t: 'zigbee2mqtt/bridge/state', val_tpl: '{{ value_json.state }}' },
        { t: 'zigbee2mqtt/lamp/availability', pl_avail: 'up', pl_not_avail: 'down' },
      ],
      dev: { ids: 'lamp' },
    });
    const d = feed(start(), [{ topic: 'homeassistant/sensor/lamp/config', payload }]).devices.get('lamp')!;
    const a = d.description.availability as {
      topics: { topic: string; online: string; offline: string }[];
      mode: string;
    };
    expect(a.mode).toBe('latest');
    expect(a.topics.map((t) => [t.topic, t.online, t.offline])).toEqual([
      ['zigbee2mqtt/bridge/state', 'online', 'offline'],
      ['zigbee2mqtt/lamp/availability', 'up', 'down'],
    ]);
    expect(() => define(d.description)).not.toThrow();
  });

  it('a default-schema light: on/off and brightness on their own topics, brightness_scale honoured', () => {
    const payload = JSON.stringify({
      name: 'Desk',
      stat_t: 'desk/light/state',
      cmd_t: 'desk/light/set',
      bri_stat_t: 'desk/light/brightness',
      bri_cmd_t: 'desk/light/brightness/set',
      bri_scl: 100,
      dev: { ids: 'desk' },
    });
    const d = feed(start(), [{ topic: 'homeassistant/light/desk/config', payload }]).devices.get('desk')!;
    expect(d.description.fields).toEqual({
      desk: { type: 'boolean', label: 'Desk', true: 'ON', false: 'OFF', writable: true },
      desk_brightness: { type: 'integer', label: 'Desk brightness', min: 0, max: 100, step: 1, writable: true },
    });
    const codec = createDeviceCodec(define(d.description));
    expect(codec.decode('desk/light/brightness', buf('42'))).toEqual({ ok: true, values: { desk_brightness: 42 } });
    expect(codec.encode('desk_brightness', 60, unknown)).toEqual({
      ok: true,
      topic: 'desk/light/brightness/set',
      payload: '60',
    });
    expect(codec.encode('desk', true, unknown)).toEqual({ ok: true, topic: 'desk/light/set', payload: 'ON' });
  });
});

describe('devices come, change and go', () => {
  it('an identical re-published config changes nothing; a different max gives an upsert with the new description', () => {
    const s = start();
    const n = EMS_ESP[0]!;
    const first = s.receive(n.topic, buf(n.payload));
    expect(first).toHaveLength(1);
    expect(s.receive(n.topic, buf(n.payload))).toEqual([]);
    const changed = s.receive(n.topic, buf(n.payload.replace('"max":30', '"max":35')));
    expect(changed).toHaveLength(1);
    expect(changed[0]).toMatchObject({ type: 'upsert', description: { id: 'ems-esp-thermostat' } });
    const d = (changed[0] as { description: DeviceDescription }).description;
    expect((d.fields as Record<string, { max?: number }>).thermostat_hc1_selected_room_temperature!.max).toBe(35);
  });

  it('removing one entity upserts the rest; removing the last removes the device', () => {
    const s = start();
    feed(s, ESPHOME);
    const after = s.receive(ESPHOME[0]!.topic, Buffer.alloc(0));
    expect(after).toHaveLength(1);
    expect(Object.keys((after[0] as { description: DeviceDescription }).description.fields)).not.toContain(
      'pac_vertical_swing_mode',
    );
    for (const f of ESPHOME.slice(1, -1)) s.receive(f.topic, Buffer.alloc(0));
    expect(s.receive(ESPHOME.at(-1)!.topic, Buffer.alloc(0))).toEqual([{ type: 'remove', id: 'dc1ed51d797c' }]);
    // Clearing it again is nothing.
    expect(s.receive(ESPHOME.at(-1)!.topic, Buffer.alloc(0))).toEqual([]);
  });

  it('an entity moving to another device updates both', () => {
    const s = start();
    feed(s, ESPHOME);
    const moved = ESPHOME[1]!.payload.replace('"ids":"dc1ed51d797c"', '"ids":"other-node"');
    const changes = s.receive(ESPHOME[1]!.topic, buf(moved));
    expect(changes.map((c) => (c.type === 'upsert' ? c.description.id : `-${c.id}`)).sort()).toEqual([
      'dc1ed51d797c',
      'other-node',
    ]);
  });
});

describe('ids and field names', () => {
  it('an identifier that is not a valid id is sanitised with a hash suffix; the same input gives the same id', () => {
    const cfg = (ids: string) =>
      JSON.stringify({ name: 'T', stat_t: 'a/t', uniq_id: 'u', dev: { ids: [ids], name: 'x' } });
    const a = feed(start(), [{ topic: 'homeassistant/sensor/a/config', payload: cfg('AA:BB:CC/1') }]);
    const b = feed(start(), [{ topic: 'homeassistant/sensor/a/config', payload: cfg('AA:BB:CC/1') }]);
    const c = feed(start(), [{ topic: 'homeassistant/sensor/a/config', payload: cfg('AA_BB_CC_1') }]);
    const [idA] = a.devices.keys();
    expect(idA).toBe('AA_BB_CC_1-ca4aad88'); // as in docs/discovery.md
    expect([...b.devices.keys()]).toEqual([idA]);
    expect([...c.devices.keys()]).toEqual(['AA_BB_CC_1']);
    const long = feed(start(), [{ topic: 'homeassistant/sensor/a/config', payload: cfg(`.${'x'.repeat(100)}`) }]);
    const [idLong] = long.devices.keys();
    expect(idLong).toMatch(/^_x+-[0-9a-f]{8}$/);
    expect(idLong!.length).toBe(64);
  });

  it('falls back to the first connection when there is no identifier', () => {
    const payload = JSON.stringify({ stat_t: 'a/t', dev: { cns: [['mac', '02:00:00:00:00:01']] } });
    const { devices } = feed(start(), [{ topic: 'homeassistant/sensor/n/t/config', payload }]);
    expect([...devices.keys()][0]).toMatch(/^mac_02_00_00_00_00_01-[0-9a-f]{8}$/);
  });

  it('field names are sanitised and made unique within the device, whatever the arrival order', () => {
    const cfg = (obj: string, t: string) => JSON.stringify({ obj_id: obj, name: obj, stat_t: t, dev: { ids: 'dev1' } });
    const msgs = [
      { topic: 'homeassistant/sensor/n/a/config', payload: cfg('temp-1', 'd/a') },
      { topic: 'homeassistant/sensor/n/b/config', payload: cfg('temp 1', 'd/b') },
      { topic: 'homeassistant/sensor/n/c/config', payload: cfg('1st', 'd/c') },
    ];
    const one = feed(start(), msgs).devices.get('dev1')!;
    const two = feed(start(), [...msgs].reverse()).devices.get('dev1')!;
    const names = Object.keys(one.description.fields);
    expect(names[0]).toBe('temp_1');
    expect(names[1]).toMatch(/^temp_1_[0-9a-f]{8}$/);
    expect(names[2]).toBe('_1st');
    expect(Object.keys(two.description.fields)).toEqual(names);
    expect(() => define(one.description)).not.toThrow();
  });
});

describe('what cannot be protected or translated', () => {
  it('an entity without a state topic (optimistic) is read-only, showing the last command, with a note and help', () => {
    const payload = JSON.stringify({ name: 'Relay', cmd_t: 'r/set', dev: { ids: 'r' } });
    const { devices } = feed(start(), [{ topic: 'homeassistant/switch/r/relay/config', payload }]);
    const d = devices.get('r')!;
    expect(d.description.fields.relay).toMatchObject({ type: 'boolean', label: 'Relay', true: 'ON', false: 'OFF' });
    expect(d.description.fields.relay).not.toHaveProperty('writable');
    expect((d.description.fields.relay as { help?: string }).help).toMatch(/^Read-only: this entity reports no state/);
    expect(d.notes).toEqual([expect.stringContaining('no state topic')]);
    const codec = createDeviceCodec(define(d.description));
    expect(codec.statusTopics).toEqual(['r/set']);
    expect(codec.decode('r/set', buf('ON'))).toEqual({ ok: true, values: { relay: true } });
    // One with a command template cannot be read back: skipped, with a note.
    const templated = JSON.stringify({ name: 'T', cmd_t: 't/set', cmd_tpl: 'x{{ value }}', dev: { ids: 't' } });
    expect(start().receive('homeassistant/number/t/t/config', buf(templated))).toEqual([]);
    expect(JSON.stringify(warnings().at(-1)?.obj)).toContain('no state topic');
  });

  it('a command template outside the subset makes the entity read-only, with a note and help', () => {
    const payload = JSON.stringify({
      name: 'Level',
      stat_t: 'l/state',
      cmd_t: 'l/set',
      cmd_tpl: '{{ value.constructor }}',
      dev: { ids: 'l' },
    });
    const { devices } = feed(start(), [{ topic: 'homeassistant/number/l/level/config', payload }]);
    const d = devices.get('l')!;
    expect(d.description.fields.level).toMatchObject({ type: 'integer', label: 'Level' });
    expect(d.description.fields.level).not.toHaveProperty('writable');
    expect((d.description.fields.level as { help?: string }).help).toMatch(/^Read-only: its command_template/);
    expect(d.notes).toEqual([
      expect.stringMatching(
        /^number "Level" \(homeassistant\/number\/l\/level\/config\) is read-only: its command_template is outside the supported template subset/,
      ),
    ]);
    expect(d.description.topics.every((t) => t.set === undefined)).toBe(true);
    expect(() => define(d.description)).not.toThrow();
  });

  it('a value template reaching for __proto__ skips the entity with a note', () => {
    const payload = JSON.stringify({
      name: 'Evil',
      stat_t: 'e/state',
      val_tpl: '{{ value_json.__proto__ }}',
      dev: { ids: 'e' },
    });
    const s = start();
    expect(s.receive('homeassistant/sensor/e/evil/config', buf(payload))).toEqual([]);
    expect(JSON.stringify(warnings()[0]!.obj)).toContain('value_template is outside the supported template subset');
  });

  it('a command topic that is also a state topic makes the field read-only', () => {
    const payload = JSON.stringify({ name: 'Loop', stat_t: 'x/same', cmd_t: 'x/same', dev: { ids: 'x' } });
    const { devices } = feed(start(), [{ topic: 'homeassistant/switch/x/loop/config', payload }]);
    const d = devices.get('x')!;
    expect(d.description.fields.loop).toMatchObject({ writable: false });
    expect(d.notes[0]).toMatch(/is read-only: its command topic is also a state or availability topic/);
    expect(() => define(d.description)).not.toThrow();
  });
});

describe('malicious and malformed configs', () => {
  it('a wildcard state topic or a $SYS command topic gives a description defineDevice refuses', () => {
    const wild = JSON.stringify({ name: 'W', stat_t: 'dev/#', dev: { ids: 'w' } });
    const sys = JSON.stringify({ name: 'S', stat_t: 'dev/s', cmd_t: '$SYS/broker/log', dev: { ids: 's' } });
    const { devices } = feed(start(), [
      { topic: 'homeassistant/sensor/w/config', payload: wild },
      { topic: 'homeassistant/switch/s/config', payload: sys },
    ]);
    expect(() => define(devices.get('w')!.description)).toThrow(/wildcards/);
    expect(() => define(devices.get('s')!.description)).toThrow(/\$SYS/);
  });

  it('non-object JSON, bad JSON and bad shapes are logged once per topic and skipped', () => {
    const s = start();
    const bad = ['[1,2]', '"text"', '42', 'null', '{not json', '{"stat_t": 5}', '{"min":"ten","stat_t":"a"}'];
    bad.forEach((p, i) => {
      const topic = `homeassistant/number/bad${i}/config`;
      expect(s.receive(topic, buf(p))).toEqual([]);
      expect(s.receive(topic, buf(p))).toEqual([]);
    });
    const w = warnings();
    expect(w).toHaveLength(bad.length);
    expect(new Set(w.map((e) => e.obj!.topic)).size).toBe(bad.length);
    expect(w.every((e) => e.msg === 'Home Assistant discovery config ignored')).toBe(true);
  });

  it('deeply nested JSON is refused without a stack overflow', () => {
    const s = start();
    const deep = `{"stat_t":"a","dev":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    expect(s.receive('homeassistant/sensor/deep/config', buf(deep))).toEqual([]);
    expect(String(warnings()[0]!.obj!.reason)).toMatch(/nested deeper than/);
  });

  it('a huge config is translated without harm: labels are cut to the limit', () => {
    const payload = JSON.stringify({ name: 'n'.repeat(2_000_000), stat_t: 'h/s', dev: { ids: 'h' } });
    const { devices } = feed(start(), [{ topic: 'homeassistant/sensor/h/config', payload }]);
    const d = devices.get('h')!;
    expect((d.description.fields.h as { label: string }).label.length).toBeLessThanOrEqual(256);
    expect(() => define(d.description)).not.toThrow();
  });

  it(`holds at most ${MAX_HOME_ASSISTANT_ENTITIES} entities: a publisher inventing config topics cannot grow it further`, () => {
    const s = start();
    const config = (i: number) => buf(JSON.stringify({ name: 'S', stat_t: `s/${i}`, dev: { ids: `d${i}` } }));
    for (let i = 0; i < MAX_HOME_ASSISTANT_ENTITIES; i++) s.receive(`homeassistant/sensor/n${i}/config`, config(i));
    expect(s.receive('homeassistant/sensor/extra/config', config(-1))).toEqual([]);
    expect(warnings().filter((w) => JSON.stringify(w.obj).includes('entities: this one is ignored'))).toHaveLength(1);
    // One gone makes room again.
    s.receive('homeassistant/sensor/n0/config', buf(''));
    expect(s.receive('homeassistant/sensor/extra/config', config(-1))).toMatchObject([{ type: 'upsert' }]);
  });

  it('__proto__ as object_id or as a key never reaches a prototype', () => {
    const payload =
      '{"obj_id":"__proto__","name":"P","stat_t":"p/s","__proto__":{"polluted":true},"dev":{"ids":"p","__proto__":{"polluted":true}}}';
    const { devices } = feed(start(), [{ topic: 'homeassistant/sensor/p/config', payload }]);
    const d = devices.get('p')!;
    expect(Object.keys(d.description.fields)).toEqual(['__proto___']);
    expect(() => define(d.description)).not.toThrow();
    const constructorName = feed(start(), [
      { topic: 'homeassistant/sensor/c/config', payload: JSON.stringify({ obj_id: 'constructor', stat_t: 'c/s' }) },
    ]).devices;
    expect(Object.keys([...constructorName.values()][0]!.description.fields)).toEqual(['constructor_']);
    // A "__proto__" key cannot supply an option either (here a state topic the config lacks).
    const injected = '{"name":"Q","cmd_t":"q/set","__proto__":{"state_topic":"q/injected"},"dev":{"ids":"q"}}';
    const q = start().receive('homeassistant/switch/q/config', buf(injected));
    expect(JSON.stringify(q.map((c) => (c.type === 'upsert' ? c.description.topics : c)))).not.toContain('q/injected');
  });

  it('a device-based config with a malformed component keeps the others and logs once', () => {
    const s = start();
    const payload = JSON.stringify({
      dev: { ids: 'm' },
      cmps: { good: { p: 'sensor', stat_t: 'm/g' }, bad: { stat_t: 'm/b' }, worse: 7 },
    });
    const { devices } = feed(s, [{ topic: 'homeassistant/device/m/config', payload }]);
    expect(Object.keys(devices.get('m')!.description.fields)).toEqual(['good']);
    s.receive('homeassistant/device/m/config', buf(payload));
    expect(warnings()).toHaveLength(1);
  });
});
