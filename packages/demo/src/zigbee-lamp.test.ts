/**
 * The simulated Zigbee2MQTT lamp on a real (embedded) broker: what it publishes, how it answers a
 * `/set` and its wall switch, and how the server's own Zigbee2MQTT source reads it.
 */
import type { DeviceFrame, ResyncFrame } from '@live-device-form/protocol';
import {
  type EmbeddedBroker,
  createDiscovery,
  silentLogger,
  startEmbeddedBroker,
  zigbee2mqtt,
} from '@live-device-form/server';
import { type Witness, startServer, startWitness, stopAll } from '@live-device-form/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ZigbeeLamp, lampDevices, startZigbeeLamp } from './zigbee-lamp.js';

const STATE = 'zigbee2mqtt/living_room_lamp';
const SET = 'zigbee2mqtt/living_room_lamp/set';
const AVAILABILITY = 'zigbee2mqtt/living_room_lamp/availability';

let broker: EmbeddedBroker;
let lamp: ZigbeeLamp;
let witness: Witness;
const closers: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  broker = await startEmbeddedBroker();
  lamp = await startZigbeeLamp({ url: broker.url });
  witness = await startWitness(broker.url, 'zigbee2mqtt/#');
});
afterEach(async () => {
  await stopAll();
  for (const close of closers.splice(0).reverse()) await close();
  await witness.close();
  await lamp.close();
  await broker.close();
});

const stateIs = (expected: Record<string, unknown>) => (m: { topic: string; payload: string }) =>
  m.topic === STATE &&
  Object.entries(expected).every(([k, v]) => (JSON.parse(m.payload) as Record<string, unknown>)[k] === v);

describe('simulated Zigbee2MQTT lamp', () => {
  it('publishes, retained, what Zigbee2MQTT publishes: bridge state, info, devices, the lamp state and availability', async () => {
    const retained = new Map<string, unknown>();
    for (const t of [
      'bridge/state',
      'bridge/info',
      'bridge/devices',
      'living_room_lamp',
      'living_room_lamp/availability',
    ]) {
      const m = await witness.waitFor((x) => x.retain && x.topic === `zigbee2mqtt/${t}`, t);
      retained.set(t, JSON.parse(m.payload));
    }
    expect(retained.get('bridge/state')).toEqual({ state: 'online' });
    // Device availability on, so a reader counts the lamp's own availability topic (docs/discovery.md).
    expect(retained.get('bridge/info')).toMatchObject({ config: { availability: { enabled: true } } });
    expect(retained.get('bridge/devices')).toEqual(lampDevices('living_room_lamp'));
    expect(retained.get('living_room_lamp')).toEqual({
      state: 'ON',
      brightness: 180,
      color_temp: 370,
      linkquality: 142,
    });
    expect(retained.get('living_room_lamp/availability')).toEqual({ state: 'online' });
  });

  it('applies a /set, clamped, and answers with its state; ignores what Zigbee2MQTT ignores', async () => {
    let mark = witness.mark();
    await witness.publish(SET, '{"brightness":300,"color_temp":100}');
    await witness.waitFor(stateIs({ state: 'ON', brightness: 254, color_temp: 250 }), 'clamped', { from: mark });
    mark = witness.mark();
    await witness.publish(SET, '{"state":"off"}'); // case-insensitive, as in Zigbee2MQTT
    await witness.waitFor(stateIs({ state: 'OFF', brightness: 254 }), 'off', { from: mark });
    mark = witness.mark();
    await witness.publish(SET, '{"brightness":90}'); // a brightness turns the bulb on
    await witness.waitFor(stateIs({ state: 'ON', brightness: 90 }), 'on at 90', { from: mark });
    mark = witness.mark();
    await witness.publish(SET, '{"state":"TOGGLE"}');
    await witness.waitFor(stateIs({ state: 'OFF', brightness: 90 }), 'toggled', { from: mark });

    mark = witness.mark();
    for (const junk of ['not json', '[1,2]', 'null', '{"state":"BLUE","brightness":"high","linkquality":0}'])
      await witness.publish(SET, junk);
    await witness.publish(SET, '{}'); // answered with the state, unchanged
    // The lamp answers in order: once this answer is here, every earlier one is too.
    await witness.publish(SET, '{"brightness":91}');
    await witness.waitFor(stateIs({ brightness: 91 }), 'the fence', { from: mark });
    // Answered: the object with bad values (with the state unchanged), {} and the fence; not the rest.
    expect(
      witness
        .since(mark)
        .filter((m) => m.topic === STATE)
        .map((m) => JSON.parse(m.payload).brightness),
    ).toEqual([90, 90, 91]);
    expect(lamp.state).toEqual({ state: 'ON', brightness: 91, color_temp: 250, linkquality: 142 });
  });

  it('its wall switch changes it and publishes the state; a bad change is a TypeError that publishes nothing', async () => {
    const seen: string[] = [];
    lamp.subscribe((s) => seen.push(`${s.state} ${s.brightness}`));
    const mark = witness.mark();
    await lamp.set({ state: 'TOGGLE' });
    await lamp.set({ brightness: 12.4 });
    expect(seen).toEqual(['OFF 180', 'ON 12']);
    await witness.waitFor(stateIs({ state: 'ON', brightness: 12 }), 'wall switch', { from: mark });

    const before = witness.mark();
    await expect(lamp.set({ state: 'on' as 'ON' })).rejects.toThrow(TypeError);
    await expect(lamp.set({ brightness: Number.NaN })).rejects.toThrow('brightness must be a number');
    await expect(lamp.set({ linkquality: 0 } as never)).rejects.toThrow('unknown key "linkquality"');
    await expect(lamp.set(null as never)).rejects.toThrow(TypeError);
    await witness.publish('zigbee2mqtt/fence', '');
    await witness.waitFor((m) => m.topic === 'zigbee2mqtt/fence', 'fence', { from: before });
    expect(witness.since(before).filter((m) => m.topic === STATE)).toEqual([]);
    expect(lamp.state).toMatchObject({ state: 'ON', brightness: 12 });
  });

  it('says offline on close, on its availability and bridge/state', async () => {
    const mark = witness.mark();
    await lamp.close();
    await witness.waitFor((m) => m.topic === AVAILABILITY && m.payload === '{"state":"offline"}', 'lamp', {
      from: mark,
    });
    await witness.waitFor(
      (m) => m.topic === 'zigbee2mqtt/bridge/state' && m.payload === '{"state":"offline"}',
      'bridge',
      {
        from: mark,
      },
    );
    await lamp.close(); // twice is fine
  });

  it("is read by the server's Zigbee2MQTT source: its fields, writes to the lamp, its own changes and availability", async () => {
    const discovery = createDiscovery({
      url: broker.url,
      sources: [zigbee2mqtt()],
      logger: silentLogger,
      settleMs: 20,
    });
    closers.push(() => discovery.close());
    const server = await startServer({ catalogs: [discovery] });
    const client = await server.connect();
    client.hello(0, 'living_room_lamp');
    const resync = await client.next<ResyncFrame>((f) => f.type === 'resync' && f.device === 'online', 10_000);
    expect(resync.schema.map((f) => [f.name, f.type, f.writable])).toEqual([
      ['state', 'boolean', true],
      ['brightness', 'number', true],
      ['color_temp', 'number', true],
      ['linkquality', 'number', false],
    ]);
    expect(resync.schema[1]).toMatchObject({ min: 0, max: 254 });
    expect(resync.fields.brightness!.value).toBe(180);

    // A write from the page reaches the lamp.
    const mark = witness.mark();
    client.set(1, 'brightness', 60, resync.fields.brightness!.rev);
    expect(await client.ack(1, 10_000)).toMatchObject({ status: 'accepted' });
    await witness.waitFor((m) => m.topic === SET && JSON.parse(m.payload).brightness === 60, 'the write', {
      from: mark,
    });
    await client.next((f) => f.type === 'update' && f.field === 'brightness' && f.value === 60, 10_000);
    expect(lamp.state.brightness).toBe(60);

    // The wall switch: the page sees the change.
    await lamp.set({ state: 'OFF' });
    await client.next((f) => f.type === 'update' && f.field === 'state' && f.value === false, 10_000);

    // The lamp's own availability counts (bridge/info enables it), not only bridge/state.
    await witness.publish(AVAILABILITY, '{"state":"offline"}', { retain: true });
    await client.next<DeviceFrame>((f) => f.type === 'device' && f.status === 'offline', 10_000);
  });
});
