/**
 * Discovery end to end on a real Mosquitto 2 (docs/discovery.md), with the real-world fixtures the
 * sources' unit tests use (`@live-device-form/testkit`'s discovery-fixtures): `createDiscovery` as
 * the catalog of a real server (`startServer`), real `ws` pages (`TestClient`), and a plain mqtt.js
 * client (the witness) that plays the devices and records what reached the broker. For each
 * source: the fields and limits a page gets, a write's exact payload and topic, the echo, a stale
 * write, removal and return, a schema change. Then hostile configs, a hello that comes before its
 * device, and Zigbee2MQTT's bridge availability.
 *
 * Runs whenever Mosquitto is installed, and always in CI (where a missing Mosquitto fails it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AckFrame, ResyncFrame, ServerFrame, UpdateFrame } from '@live-device-form/protocol';
import {
  HA_DEVICE_BASED,
  HA_ESPHOME,
  HOMIE_KITCHEN_LIGHT,
  Z2M_COORDINATOR,
  Z2M_DANFOSS_TRV,
  Z2M_HUE_LIGHT,
  runMosquittoTests,
  startMosquitto,
  startServer,
  startWitness,
  stopAll,
  until,
  type Harness,
  type TestClient,
  type Witness,
} from '@live-device-form/testkit';
import { recordingLogger, type RecordingLogger } from '../logger.js';
import { createDiscovery, type Discovery, type DiscoveryOptions } from './discovery.js';
import { homeAssistant } from './home-assistant/index.js';
import { homie } from './homie/source.js';
import type { DeviceSourceFactory } from './source.js';
import { zigbee2mqtt } from './zigbee2mqtt/source.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  await stopAll();
  for (const c of cleanups.splice(0).reverse()) await c();
  // Nothing a config carried may have reached a prototype.
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

interface Stack {
  h: Harness;
  discovery: Discovery;
  witness: Witness;
  log: RecordingLogger;
}

/**
 * A Mosquitto holding `retained` (published before anything else starts, so the discovery's first
 * view has them), a witness subscribed to `watch`, a discovery over `sources`, a server following it.
 */
async function stack(
  sources: DeviceSourceFactory[],
  retained: readonly (readonly [string, string])[],
  watch: string[],
  options: Partial<DiscoveryOptions> = {},
  serverOptions: Parameters<typeof startServer>[0] = {},
): Promise<Stack> {
  const mosquitto = await startMosquitto();
  cleanups.push(() => mosquitto.close());
  const witness = await startWitness(mosquitto.url, watch);
  cleanups.push(() => witness.close());
  for (const [topic, payload] of retained) await witness.publish(topic, payload, { retain: true });
  const log = recordingLogger();
  const discovery = createDiscovery({ url: mosquitto.url, sources, logger: log, settleMs: 50, ...options });
  cleanups.push(() => discovery.close());
  const h = await startServer({ devices: [], catalogs: [discovery], ...serverOptions });
  return { h, discovery, witness, log };
}

const isOnlineResync = (f: ServerFrame): boolean => f.type === 'resync' && f.device === 'online';
const isGone = (f: ServerFrame): boolean => f.type === 'device' && f.status === 'gone';

/** A page that said hello for `device` and got its first resync with the device online. */
async function page(h: Harness, device: string): Promise<{ client: TestClient; resync: ResyncFrame }> {
  const client = await h.connect();
  client.hello(0, device);
  const resync = await client.next<ResyncFrame>(isOnlineResync, 10_000);
  return { client, resync };
}

/** The next update of `field` to `value`. */
const updated = (client: TestClient, field: string, value: unknown): Promise<UpdateFrame> =>
  client.next<UpdateFrame>((f) => f.type === 'update' && f.field === field && f.value === value, 10_000);

/** The field of a resync's schema. */
const schemaOf = (resync: ResyncFrame, name: string) => resync.schema.find((f) => f.name === name);

/** Sends a set and resolves with its ack. */
async function write(client: TestClient, id: number, field: string, value: unknown, rev: number): Promise<AckFrame> {
  client.set(id, field, value, rev);
  return client.ack(id, 10_000);
}

/**
 * What every source must do once a page has its device (docs/discovery.md, "Devices come and go";
 * docs/protocol.md): removal → `gone`, still connected, writes refused `offline` and never
 * published; back → a fresh resync whose revisions are above the old ones.
 */
async function expectRemovalAndReturn(
  s: Stack,
  client: TestClient,
  field: string,
  value: unknown,
  rev: number,
  setTopic: string,
  remove: () => Promise<void>,
  restore: () => Promise<void>,
): Promise<ResyncFrame> {
  await remove();
  await client.next(isGone, 10_000);
  const mark = s.witness.mark();
  expect(await write(client, 900, field, value, rev)).toMatchObject({ status: 'rejected', reason: 'offline' });
  expect(client.ws.readyState).toBe(client.ws.OPEN);
  expect(s.witness.since(mark).filter((m) => m.topic === setTopic)).toEqual([]);
  await restore();
  const back = await client.next<ResyncFrame>(isOnlineResync, 10_000);
  expect(back.fields[field]!.rev).toBeGreaterThan(rev);
  return back;
}

describe.runIf(runMosquittoTests)('discovery on a real Mosquitto', () => {
  describe('Home Assistant: a device-based config with abbreviations and templates', () => {
    // Home Assistant's device-based example (two sensors reading one JSON state topic with value
    // templates), plus a number written through a command template, in abbreviated keys.
    const STATE = 'sensorBedroom/state';
    const SET = 'sensorBedroom/set';
    const config = (max: number): string => {
      const cfg = JSON.parse(HA_DEVICE_BASED.payload) as { cmps: Record<string, unknown> };
      cfg.cmps.target = {
        p: 'number',
        name: 'Target',
        min: 5,
        max,
        step: 0.5,
        unit_of_meas: '°C',
        val_tpl: '{{ value_json.target }}',
        cmd_t: SET,
        cmd_tpl: '{"target": {{ value }}}',
        uniq_id: 'temp01ae_target',
      };
      return JSON.stringify(cfg);
    };
    const state = (target: number): string => JSON.stringify({ temperature: 23.2, humidity: 43.7, target });

    it('fields and limits, a write through the command template, the echo, a stale write, removal and return, a changed max', async () => {
      const s = await stack(
        [homeAssistant()],
        [
          [HA_DEVICE_BASED.topic, config(30)],
          [STATE, state(21)],
        ],
        [SET],
      );
      const { client, resync } = await page(s.h, 'ea334450945afc');
      expect(resync.schema).toEqual([
        expect.objectContaining({ name: 'some_unique_component_id1', type: 'number', unit: '°C', writable: false }),
        expect.objectContaining({ name: 'some_unique_id2', type: 'number', unit: '%', writable: false }),
        expect.objectContaining({ name: 'target', label: 'Target', type: 'number', min: 5, max: 30, step: 0.5 }),
      ]);
      expect(schemaOf(resync, 'target')).toMatchObject({ unit: '°C', writable: true });
      expect(resync.fields).toMatchObject({
        some_unique_component_id1: { value: 23.2 },
        some_unique_id2: { value: 43.7 },
        target: { value: 21 },
      });

      expect(await write(client, 1, 'target', 22.5, resync.fields.target!.rev)).toMatchObject({ status: 'accepted' });
      const sent = await s.witness.waitFor((m) => m.topic === SET, 'the command');
      expect(sent).toMatchObject({ payload: '{"target": 22.5}', retain: false });
      await s.witness.publish(STATE, state(22.5), { retain: true });
      const echo = await updated(client, 'target', 22.5);
      // Someone else sets 24: a write based on the echo is stale.
      await s.witness.publish(STATE, state(24), { retain: true });
      const external = await updated(client, 'target', 24);
      expect(await write(client, 2, 'target', 20, echo.rev)).toMatchObject({
        status: 'rejected',
        reason: 'stale',
        value: 24,
        rev: external.rev,
      });

      // A changed max: a fresh resync with it; a write based on a revision from before is stale.
      await s.witness.publish(HA_DEVICE_BASED.topic, config(28), { retain: true });
      const changed = await client.next<ResyncFrame>((f) => f.type === 'resync' && schemaOf(f, 'target')?.max === 28);
      expect(changed.fields.target!.value).toBe(24);
      expect(await write(client, 3, 'target', 20, external.rev)).toMatchObject({ status: 'rejected', reason: 'stale' });
      expect(await write(client, 4, 'target', 29, changed.fields.target!.rev)).toMatchObject({
        status: 'rejected',
        reason: 'invalid',
      });

      // An empty retained config removes the device; the same config again brings it back.
      const back = await expectRemovalAndReturn(
        s,
        client,
        'target',
        20,
        changed.fields.target!.rev,
        SET,
        () => s.witness.publish(HA_DEVICE_BASED.topic, '', { retain: true }),
        () => s.witness.publish(HA_DEVICE_BASED.topic, config(28), { retain: true }),
      );
      const mark = s.witness.mark();
      expect(await write(client, 5, 'target', 19.5, back.fields.target!.rev)).toMatchObject({ status: 'accepted' });
      expect(
        await s.witness.waitFor((m) => m.topic === SET, 'the command after the return', { from: mark }),
      ).toMatchObject({ payload: '{"target": 19.5}' });
    });
  });

  describe('Zigbee2MQTT: bridge/devices with a thermostat and a dimmable light', () => {
    const BASE = 'zigbee2mqtt';
    const TRV = `${BASE}/living room/radiator`;
    const LAMP = `${BASE}/hue1`;
    const devices = (list: unknown[]): [string, string] => [`${BASE}/bridge/devices`, JSON.stringify(list)];
    const trvState = (setpoint: number) =>
      JSON.stringify({
        battery: 86,
        keypad_lockout: 'unlock',
        occupied_heating_setpoint: setpoint,
        local_temperature: 19.37,
        pi_heating_demand: 40,
        system_mode: 'heat',
        running_state: 'heat',
        window_open_external: false,
        trigger_time: 0,
        linkquality: 102,
      });
    /** A TRV whose setpoint goes up to `max`. */
    const trv = (max: number) => {
      const copy = JSON.parse(JSON.stringify(Z2M_DANFOSS_TRV)) as typeof Z2M_DANFOSS_TRV;
      (copy.definition.exposes[2] as { features: { value_max?: number }[] }).features[0]!.value_max = max;
      return copy;
    };
    const RETAINED: [string, string][] = [
      [`${BASE}/bridge/state`, '{"state":"online"}'],
      [`${BASE}/bridge/info`, JSON.stringify({ version: '2.1.0', config: { availability: { enabled: true } } })],
      [`${TRV}/availability`, '{"state":"online"}'],
      [`${LAMP}/availability`, '{"state":"online"}'],
      [TRV, trvState(21)],
      // Zigbee2MQTT publishes `null` for a value it does not know (its own tests expect states such
      // as `{"action":null,"battery":null,…}`); here the light's startup colour temperature.
      [
        LAMP,
        JSON.stringify({
          brightness: 180,
          color_mode: 'color_temp',
          color_temp: 250,
          color_temp_startup: null,
          linkquality: 72,
          state: 'ON',
        }),
      ],
      devices([Z2M_COORDINATOR, Z2M_HUE_LIGHT, trv(32)]),
    ];
    const WATCH = [`${TRV}/set`, `${LAMP}/set`];

    it('fields and limits, writes as Zigbee2MQTT reads them, the echo, a stale write, a changed value_max, a device gone and back', async () => {
      const s = await stack([zigbee2mqtt()], RETAINED, WATCH);
      const radiator = await page(s.h, 'living_room_radiator');
      expect(schemaOf(radiator.resync, 'occupied_heating_setpoint')).toMatchObject({
        type: 'number',
        min: 5,
        max: 32,
        step: 0.5,
        unit: '°C',
        writable: true,
        help: 'Temperature setpoint',
      });
      expect(schemaOf(radiator.resync, 'system_mode')).toMatchObject({
        type: 'enum',
        options: [{ value: 'heat' }],
        writable: true,
      });
      expect(schemaOf(radiator.resync, 'local_temperature')).toMatchObject({ type: 'number', writable: false });
      expect(schemaOf(radiator.resync, 'window_open_external')).toMatchObject({ type: 'boolean', writable: true });
      expect(radiator.resync.fields).toMatchObject({
        occupied_heating_setpoint: { value: 21 },
        local_temperature: { value: 19.37 },
        window_open_external: { value: false },
      });
      const lamp = await page(s.h, 'hue1');
      expect(schemaOf(lamp.resync, 'brightness')).toMatchObject({ type: 'number', min: 0, max: 254, writable: true });
      expect(schemaOf(lamp.resync, 'state')).toMatchObject({ type: 'boolean', writable: true });
      // The state message with a null was read, not dropped as a whole.
      expect(lamp.resync.fields).toMatchObject({ brightness: { value: 180 }, state: { value: true } });

      // Writes: the exact JSON on the device's /set topic.
      const sp = radiator.resync.fields.occupied_heating_setpoint!.rev;
      expect(await write(radiator.client, 1, 'occupied_heating_setpoint', 21.5, sp)).toMatchObject({
        status: 'accepted',
      });
      expect(await s.witness.waitFor((m) => m.topic === `${TRV}/set`, 'the setpoint')).toMatchObject({
        payload: '{"occupied_heating_setpoint":21.5}',
        retain: false,
      });
      expect(await write(lamp.client, 1, 'brightness', 100, lamp.resync.fields.brightness!.rev)).toMatchObject({
        status: 'accepted',
      });
      expect(await s.witness.waitFor((m) => m.topic === `${LAMP}/set`, 'the brightness')).toMatchObject({
        payload: '{"brightness":100}',
      });

      // The echo, then a change on the radiator itself: a write based on the echo is stale.
      await s.witness.publish(TRV, trvState(21.5), { retain: true });
      const echo = await updated(radiator.client, 'occupied_heating_setpoint', 21.5);
      await s.witness.publish(TRV, trvState(23), { retain: true });
      const turned = await updated(radiator.client, 'occupied_heating_setpoint', 23);
      expect(await write(radiator.client, 2, 'occupied_heating_setpoint', 19, echo.rev)).toMatchObject({
        status: 'rejected',
        reason: 'stale',
        value: 23,
        rev: turned.rev,
      });

      // A changed value_max: a fresh resync with it; the old revision is stale.
      await s.witness.publish(...devices([Z2M_COORDINATOR, Z2M_HUE_LIGHT, trv(28)]), { retain: true });
      const changed = await radiator.client.next<ResyncFrame>(
        (f) => f.type === 'resync' && schemaOf(f, 'occupied_heating_setpoint')?.max === 28,
        10_000,
      );
      expect(await write(radiator.client, 3, 'occupied_heating_setpoint', 19, turned.rev)).toMatchObject({
        status: 'rejected',
        reason: 'stale',
      });
      expect(
        await write(radiator.client, 4, 'occupied_heating_setpoint', 30, changed.fields.occupied_heating_setpoint!.rev),
      ).toMatchObject({ status: 'rejected', reason: 'invalid' });

      // The light leaves bridge/devices: gone; the radiator is untouched. Listed again: back.
      await expectRemovalAndReturn(
        s,
        lamp.client,
        'brightness',
        120,
        lamp.resync.fields.brightness!.rev,
        `${LAMP}/set`,
        () => s.witness.publish(...devices([Z2M_COORDINATOR, trv(28)]), { retain: true }),
        () => s.witness.publish(...devices([Z2M_COORDINATOR, Z2M_HUE_LIGHT, trv(28)]), { retain: true }),
      );
      expect(radiator.client.frames.filter(isGone)).toEqual([]);
    });

    it('bridge/state offline: the pages see the device offline; online again: a fresh resync', async () => {
      const s = await stack([zigbee2mqtt()], RETAINED, WATCH);
      const { client, resync } = await page(s.h, 'living_room_radiator');
      await s.witness.publish(`${BASE}/bridge/state`, '{"state":"offline"}', { retain: true });
      await client.next((f) => f.type === 'device' && f.status === 'offline', 10_000);
      const rev = resync.fields.occupied_heating_setpoint!.rev;
      expect(await write(client, 1, 'occupied_heating_setpoint', 22, rev)).toMatchObject({
        status: 'rejected',
        reason: 'offline',
      });
      await s.witness.publish(`${BASE}/bridge/state`, '{"state":"online"}', { retain: true });
      const back = await client.next<ResyncFrame>(isOnlineResync, 10_000);
      expect(back.fields.occupied_heating_setpoint!.value).toBe(21);
    });
  });

  describe('Homie v5: a device with $state, $description and retained property values', () => {
    const DEV = 'homie/5/kitchen-light';
    const description = (format: string): string => {
      const copy = JSON.parse(JSON.stringify(HOMIE_KITCHEN_LIGHT)) as typeof HOMIE_KITCHEN_LIGHT;
      copy.nodes.light.properties.brightness.format = format;
      return JSON.stringify(copy);
    };

    it('fields and limits, writes to …/set never retained, the echo, a stale write, a changed format, $state cleared and back', async () => {
      const s = await stack(
        [homie()],
        [
          [`${DEV}/$state`, 'ready'],
          [`${DEV}/$description`, description('0:100')],
          [`${DEV}/light/power`, 'true'],
          [`${DEV}/light/brightness`, '40'],
        ],
        ['homie/5/+/+/+/set'],
      );
      const { client, resync } = await page(s.h, 'kitchen-light');
      expect(resync.schema).toEqual([
        expect.objectContaining({ name: 'light_power', label: 'Power', type: 'boolean', writable: true }),
        expect.objectContaining({
          name: 'light_brightness',
          label: 'Brightness',
          type: 'integer',
          min: 0,
          max: 100,
          unit: '%',
          writable: true,
        }),
      ]);
      expect(resync.fields).toMatchObject({ light_power: { value: true }, light_brightness: { value: 40 } });

      expect(await write(client, 1, 'light_brightness', 55, resync.fields.light_brightness!.rev)).toMatchObject({
        status: 'accepted',
      });
      expect(await s.witness.waitFor((m) => m.topic === `${DEV}/light/brightness/set`, 'the write')).toMatchObject({
        payload: '55',
        retain: false,
      });
      expect(await write(client, 2, 'light_power', false, resync.fields.light_power!.rev)).toMatchObject({
        status: 'accepted',
      });
      expect(await s.witness.waitFor((m) => m.topic === `${DEV}/light/power/set`, 'the write')).toMatchObject({
        payload: 'false',
        retain: false,
      });

      await s.witness.publish(`${DEV}/light/brightness`, '55', { retain: true });
      const echo = await updated(client, 'light_brightness', 55);
      await s.witness.publish(`${DEV}/light/brightness`, '70', { retain: true });
      const dimmed = await updated(client, 'light_brightness', 70);
      expect(await write(client, 3, 'light_brightness', 10, echo.rev)).toMatchObject({
        status: 'rejected',
        reason: 'stale',
        value: 70,
        rev: dimmed.rev,
      });

      // A changed format: a fresh resync with the new max; the old revision is stale.
      await s.witness.publish(`${DEV}/$description`, description('0:80'), { retain: true });
      const changed = await client.next<ResyncFrame>(
        (f) => f.type === 'resync' && schemaOf(f, 'light_brightness')?.max === 80,
        10_000,
      );
      expect(await write(client, 4, 'light_brightness', 10, dimmed.rev)).toMatchObject({
        status: 'rejected',
        reason: 'stale',
      });

      // The convention's removal clears $state first: gone; a $state again: back.
      await expectRemovalAndReturn(
        s,
        client,
        'light_brightness',
        10,
        changed.fields.light_brightness!.rev,
        `${DEV}/light/brightness/set`,
        () => s.witness.publish(`${DEV}/$state`, '', { retain: true }),
        () => s.witness.publish(`${DEV}/$state`, 'ready', { retain: true }),
      );
    });
  });

  describe('hostile Home Assistant configs on the broker', () => {
    const ESP = 'dc1ed51d797c';
    const ESP_RETAINED: [string, string][] = [
      ...HA_ESPHOME.map((f): [string, string] => [f.topic, f.payload]),
      ['pac-1d797c/status', 'online'],
      ['pac-1d797c/number/pac_fan_speed_limit/state', '65'],
      ['pac-1d797c/state/mild_dry', 'OFF'],
      ['pac-1d797c/state/vertical_swing_mode', 'auto'],
      ['pac-1d797c/sensor/pac_outside_temperature/state', '-3.5'],
    ];
    const cfg = (o: Record<string, unknown>): string => JSON.stringify(o);
    const EVIL: [string, string][] = [
      // Topics that are no topics: refused by the device format's checks.
      [
        'homeassistant/number/evil/wild/config',
        cfg({ name: 'W', stat_t: 'pac-1d797c/#', cmd_t: 'w/set', dev: { ids: 'evil-wild' } }),
      ],
      [
        'homeassistant/switch/evil/sys/config',
        cfg({ name: 'S', stat_t: '$SYS/broker/uptime', cmd_t: '$SYS/broker/log', dev: { ids: 'evil-sys' } }),
      ],
      // Over maxConfigBytes (262144 by default): dropped unread.
      [
        'homeassistant/sensor/evil/huge/config',
        cfg({ name: 'n'.repeat(300_000), stat_t: 'evil/huge', dev: { ids: 'evil-huge' } }),
      ],
      // Templates reaching for JavaScript: the value template's entity is skipped, the command
      // template's is read-only.
      [
        'homeassistant/sensor/evil/proto/config',
        cfg({ name: 'P', stat_t: 'evil/tpl/state', val_tpl: '{{ value_json.__proto__ }}', dev: { ids: 'evil-tpl' } }),
      ],
      [
        'homeassistant/sensor/evil/ctor/config',
        cfg({
          name: 'C',
          stat_t: 'evil/tpl/state',
          val_tpl: "{{ value_json.constructor.constructor('return process')() }}",
          dev: { ids: 'evil-tpl' },
        }),
      ],
      [
        'homeassistant/number/evil/level/config',
        cfg({
          name: 'Level',
          stat_t: 'evil/tpl/level',
          cmd_t: 'evil/tpl/level/set',
          cmd_tpl: "{{ value_json.constructor.constructor('return process')() }}",
          dev: { ids: 'evil-tpl' },
        }),
      ],
      ['evil/tpl/level', '5'],
      // __proto__ as object_id and as keys of the config and its device.
      [
        'homeassistant/sensor/evil/p/config',
        '{"obj_id":"__proto__","name":"P","stat_t":"evil/p/state","unit_of_meas":"V","__proto__":{"polluted":true},"dev":{"ids":"evil-proto","__proto__":{"polluted":true}}}',
      ],
      ['evil/p/state', '7'],
    ];

    it('refuses wildcard, $SYS and oversized configs, disarms hostile templates and __proto__ names, and serves the rest', async () => {
      const s = await stack([homeAssistant()], [...ESP_RETAINED, ...EVIL], ['pac-1d797c/#', 'evil/#']);
      expect(await s.discovery.ready()).toBe(true);
      const served = s.discovery.devices().map((d) => d.id);
      expect(served.sort()).toEqual([ESP, 'evil-proto', 'evil-tpl']);
      const refused = s.log.entries.filter((e) => e.msg === 'discovered device refused: invalid description');
      expect(refused.map((e) => e.obj?.device).sort()).toEqual(['evil-sys', 'evil-wild']);
      expect(s.log.entries).toContainEqual(
        expect.objectContaining({
          msg: 'discovery message dropped: larger than maxConfigBytes',
          obj: expect.objectContaining({ topic: 'homeassistant/sensor/evil/huge/config' }),
        }),
      );

      // The command template outside the subset: the field is read-only, says why, and a write is
      // refused before it could reach the broker.
      const tpl = await page(s.h, 'evil-tpl');
      expect(tpl.resync.schema).toEqual([
        expect.objectContaining({
          name: 'level',
          writable: false,
          help: expect.stringMatching(/^Read-only: its command_template/),
        }),
      ]);
      expect(tpl.resync.fields.level!.value).toBe(5);
      expect(await write(tpl.client, 1, 'level', 6, tpl.resync.fields.level!.rev)).toMatchObject({
        status: 'rejected',
        reason: 'forbidden',
      });
      // __proto__ as an object id is an ordinary field name with a "_" after it.
      const proto = await page(s.h, 'evil-proto');
      expect(proto.resync.schema.map((f) => f.name)).toEqual(['__proto___']);
      expect(proto.resync.fields.__proto___!.value).toBe(7);

      // A refused id stays unknown; the good node is served, its writes and its button reach it.
      const refusedPage = await s.h.connect();
      refusedPage.hello(0, 'evil-sys');
      expect((await refusedPage.closed).code).toBe(4404);
      const esp = await page(s.h, ESP);
      expect(esp.resync.fields.pac_fan_speed_limit!.value).toBe(65);
      expect(
        await write(esp.client, 1, 'pac_fan_speed_limit', 75, esp.resync.fields.pac_fan_speed_limit!.rev),
      ).toMatchObject({
        status: 'accepted',
      });
      expect(await write(esp.client, 2, 'pac_restart', null, 0)).toMatchObject({ status: 'accepted' });
      await s.witness.waitFor((m) => m.topic === 'pac-1d797c/number/pac_fan_speed_limit/command' && m.payload === '75');
      await s.witness.waitFor((m) => m.topic === 'pac-1d797c/button/pac_restart/command' && m.payload === 'PRESS');
      expect(s.witness.messages.filter((m) => m.topic.startsWith('evil/') && m.topic.endsWith('/set'))).toEqual([]);
      expect(s.h.live.health().state).toBe('ready');
    });

    it("a page's hello for a discovered id before the discovery has seen it gets its resync once the device appears", async () => {
      const s = await stack([homeAssistant()], [], ['pac-1d797c/#'], {}, { readyTimeoutMs: 4000 });
      const client = await s.h.connect();
      client.hello(0, ESP);
      await until(() => s.h.live.sessions().at(-1)?.state === 'awaiting-device-id', 5000);
      expect(s.discovery.devices()).toEqual([]);
      for (const [topic, payload] of ESP_RETAINED) await s.witness.publish(topic, payload, { retain: true });
      const resync = await client.next<ResyncFrame>(isOnlineResync, 10_000);
      expect(resync.schema.map((f) => f.name).sort()).toEqual([
        'pac_fan_speed_limit',
        'pac_mild_dry_switch',
        'pac_outside_temperature',
        'pac_restart',
        'pac_vertical_swing_mode',
      ]);
      expect(resync.fields.pac_fan_speed_limit!.value).toBe(65);
      expect(client.frames.filter((f) => f.type === 'error')).toEqual([]);
    });
  });
});
