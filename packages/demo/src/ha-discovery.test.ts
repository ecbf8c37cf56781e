/**
 * The simulated cy-vp4's Home Assistant discovery config, read by the server's own Home Assistant
 * source on a real (embedded) broker: the fields and limits it gives, and writes through the
 * discovered device that reach the simulated hardware in its own payload format.
 */
import type { FieldSchema, ResyncFrame } from '@live-device-form/protocol';
import {
  type Discovery,
  type EmbeddedBroker,
  createDiscovery,
  homeAssistant,
  silentLogger,
  startEmbeddedBroker,
} from '@live-device-form/server';
import { type Witness, startServer, startWitness, stopAll } from '@live-device-form/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HA_DEVICE, HA_DISCOVERY_TOPIC, videoprocDiscoveryConfig } from './ha-discovery.js';
import { type HardwareValue, VIDEOPROC_FILE, readDevice, readDeviceFile } from './payload-format.js';
import { type Simulator, startSimulator } from './simulator.js';

let broker: EmbeddedBroker;
let witness: Witness;
const closers: (() => Promise<unknown>)[] = [];
beforeEach(async () => {
  broker = await startEmbeddedBroker();
  witness = await startWitness(broker.url, ['homeassistant/#', 'cy-vp4/#']);
});
afterEach(async () => {
  await stopAll();
  for (const close of closers.splice(0).reverse()) await close();
  await witness.close();
  await broker.close();
});

async function simulator(options: Partial<Parameters<typeof startSimulator>[0]> = {}): Promise<Simulator> {
  const sim = await startSimulator({ url: broker.url, ...options });
  closers.push(() => sim.close());
  return sim;
}

/** A page of a server that follows a Home Assistant discovery, joined to the simulated device. */
async function discoveredPage() {
  const discovery: Discovery = createDiscovery({
    url: broker.url,
    sources: [homeAssistant()],
    logger: silentLogger,
    settleMs: 20,
  });
  closers.push(() => discovery.close());
  const server = await startServer({ catalogs: [discovery] });
  const client = await server.connect();
  client.hello(0, HA_DEVICE.id);
  const resync = await client.next<ResyncFrame>((f) => f.type === 'resync' && f.device === 'online', 10_000);
  return { client, resync };
}

/** Resolves when the simulator applies an action that sets `field` to `value`. */
function applied(sim: Simulator, field: string, value: HardwareValue): Promise<void> {
  return new Promise((resolve) => {
    const off = sim.subscribe((e) => {
      if (e.type === 'change' && e.cause === 'action' && e.values[field] === value) {
        off();
        resolve();
      }
    });
  });
}

describe("the simulated cy-vp4's Home Assistant discovery", () => {
  it('is published retained with haDiscovery on, and not at all with it off (the default)', async () => {
    await simulator();
    await witness.waitFor((m) => m.topic === 'cy-vp4/status/online' && m.payload === '1', 'online');
    expect(witness.messages.filter((m) => m.topic.startsWith('homeassistant/'))).toEqual([]);

    await simulator({ haDiscovery: true });
    await witness.waitFor((m) => m.topic === HA_DISCOVERY_TOPIC, 'the discovery config');
    // The broker keeps it for a discovery started later:
    const late = await startWitness(broker.url, 'homeassistant/#');
    closers.push(() => late.close());
    const stored = await late.waitFor((m) => m.topic === HA_DISCOVERY_TOPIC, 'the retained config');
    expect(stored.retain).toBe(true);
    expect(JSON.parse(stored.payload)).toEqual(videoprocDiscoveryConfig(readDeviceFile(VIDEOPROC_FILE)));
  });

  it("gives the server's Home Assistant source the cy-vp4's fields with their limits, without the genlock pair", async () => {
    const sim = await simulator({ haDiscovery: true, initial: { brightness: 62.5, audio_delay: 120 } });
    const { resync } = await discoveredPage();
    const byName = Object.fromEntries(resync.schema.map((f: FieldSchema) => [f.name, f]));
    expect(Object.keys(byName).sort()).toEqual([
      'audio_delay',
      'brightness',
      'freeze',
      'input_signal',
      'output_format',
    ]);
    expect(byName.brightness).toMatchObject({ type: 'number', min: 0, max: 100, step: 0.5, unit: '%', writable: true });
    expect(byName.audio_delay).toMatchObject({
      type: 'integer',
      min: 0,
      max: 500,
      step: 1,
      unit: 'ms',
      writable: true,
    });
    expect(byName.freeze).toMatchObject({ type: 'boolean', label: 'Freeze frame', writable: true });
    expect(byName.output_format).toMatchObject({
      type: 'enum',
      options: ['1080p50', '1080p59.94', '1080i50', '2160p50'].map((value) => ({ value })),
      writable: true,
    });
    expect(byName.input_signal).toMatchObject({ type: 'text', writable: false });
    const values = Object.fromEntries(Object.entries(resync.fields).map(([k, v]) => [k, v.value]));
    expect(values).toEqual({
      audio_delay: sim.values.audio_delay,
      brightness: sim.values.brightness,
      freeze: sim.values.freeze,
      input_signal: sim.values.input_signal,
      output_format: sim.values.output_format,
    });
  });

  it("writes through the discovered device reach the hardware in its own payload format (the configs' templates)", async () => {
    const sim = await simulator({ haDiscovery: true });
    const { client, resync } = await discoveredPage();
    const rev = (field: string): number => resync.fields[field]!.rev;
    const mark = witness.mark();
    const writes: [string, HardwareValue, string, string][] = [
      ['output_format', '2160p50', 'cy-vp4/videoproc/action/set/output_format', 'format 3'],
      ['brightness', 33.5, 'cy-vp4/videoproc/action/set/brightness', 'brightness 33.5'],
      ['freeze', true, 'cy-vp4/videoproc/action/set/freeze', 'freeze 1'],
      ['audio_delay', 120, 'cy-vp4/audio/action/set/delay', 'delay 120'],
    ];
    let id = 1;
    for (const [field, value, topic, payload] of writes) {
      const done = applied(sim, field, value);
      client.set(id, field, value, rev(field));
      expect(await client.ack(id, 10_000)).toMatchObject({ id, status: 'accepted' });
      await witness.waitFor((m) => m.topic === topic && m.payload === payload, `${topic} "${payload}"`, { from: mark });
      await done;
      id++;
    }
    expect(sim.values).toMatchObject({ output_format: '2160p50', brightness: 33.5, freeze: true, audio_delay: 120 });
  });

  it('writes a writable text and an option with a quote in it, and keeps Jinja syntax in a literal as text', async () => {
    // A device of another shape than the example: what the config's builder must get right in general.
    const device = readDevice({
      id: 'other',
      availability: { topic: 'cy-vp4/status/online', online: '1', offline: '0' },
      topics: [
        { status: 'cy-vp4/name', pattern: '{name}', set: 'cy-vp4/name/set', template: 'name {name}' },
        { status: 'cy-vp4/mode', pattern: '{mode}', set: 'cy-vp4/mode/set', template: 'mode {%{mode}' },
      ],
      fields: {
        name: { label: 'Name', type: 'text', writable: true },
        mode: {
          label: 'Mode',
          type: 'enum',
          options: [
            { value: 'plain', token: 'p' },
            { value: "director's cut", token: "d'c" },
          ],
          writable: true,
        },
      },
    });
    const sim = await simulator({ haDiscovery: true, device, initial: { name: 'studio', mode: 'plain' } });
    const { client, resync } = await discoveredPage();
    expect(resync.fields.mode!.value).toBe('plain');
    const mark = witness.mark();

    const named = applied(sim, 'name', 'studio 2');
    client.set(1, 'name', 'studio 2', resync.fields.name!.rev);
    expect(await client.ack(1, 10_000)).toMatchObject({ status: 'accepted' });
    await witness.waitFor((m) => m.topic === 'cy-vp4/name/set' && m.payload === 'name studio 2', 'name', {
      from: mark,
    });
    await named;

    const cut = applied(sim, 'mode', "director's cut");
    client.set(2, 'mode', "director's cut", resync.fields.mode!.rev);
    expect(await client.ack(2, 10_000)).toMatchObject({ status: 'accepted' });
    await witness.waitFor((m) => m.topic === 'cy-vp4/mode/set' && m.payload === "mode {%d'c", 'mode', { from: mark });
    await cut;
    await client.next((f) => f.type === 'update' && f.field === 'mode' && f.value === "director's cut", 10_000);
  });
});
