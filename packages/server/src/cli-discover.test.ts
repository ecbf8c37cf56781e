/**
 * `live-device-server --discover` (docs/discovery.md, docs/cli.md): the bin as shipped, without a
 * device file, against a real Mosquitto 2 holding an ESPHome node's retained Home Assistant
 * discovery configs (the layout ESPHome publishes: per-entity configs under
 * `homeassistant/<component>/<node>/<object>/config`, abbreviated keys, a shared `avty_t`). A plain
 * mqtt.js client plays the node and witnesses what reached the broker.
 *
 * Runs whenever Mosquitto is installed, and always in CI (where a missing Mosquitto fails it).
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ResyncFrame, UpdateFrame } from '@live-device-form/protocol';
import {
  TestClient,
  buildCli,
  listeningUrl,
  runCli,
  runMosquittoTests,
  startMosquitto,
  stopCliProcesses,
  type Mosquitto,
} from '@live-device-form/testkit';

beforeAll(buildCli, 120_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  await stopCliProcesses();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const DEV = { ids: 'a0b1c2d3e4f5', name: 'livingroom', sw: '2024.6.0', mdl: 'esp32dev', mf: 'Espressif' };
const VOLUME_CONFIG = 'homeassistant/number/livingroom/volume/config';
const RELAY_CONFIG = 'homeassistant/switch/livingroom/relay/config';
const volume = (max: number) =>
  JSON.stringify({
    name: 'Volume',
    stat_t: 'livingroom/number/volume/state',
    cmd_t: 'livingroom/number/volume/command',
    min: 0,
    max,
    step: 1,
    avty_t: 'livingroom/status',
    uniq_id: 'livingroom-volume',
    dev: DEV,
  });
const RELAY = JSON.stringify({
  name: 'Relay',
  stat_t: 'livingroom/switch/relay/state',
  cmd_t: 'livingroom/switch/relay/command',
  avty_t: 'livingroom/status',
  uniq_id: 'livingroom-relay',
  dev: DEV,
});

/** A Mosquitto holding the node's configs, state and availability, retained; the node's client. */
async function espNode(): Promise<{ mosquitto: Mosquitto; node: MqttClient; commands: string[] }> {
  const mosquitto = await startMosquitto();
  cleanups.push(() => mosquitto.close());
  const node = await connectAsync(mosquitto.url, { reconnectPeriod: 0 });
  cleanups.push(() => node.endAsync(true));
  const retain = { qos: 1 as const, retain: true };
  await node.publishAsync(VOLUME_CONFIG, volume(100), retain);
  await node.publishAsync(RELAY_CONFIG, RELAY, retain);
  await node.publishAsync('livingroom/number/volume/state', '30', retain);
  await node.publishAsync('livingroom/switch/relay/state', 'OFF', retain);
  await node.publishAsync('livingroom/status', 'online', retain);
  const commands: string[] = [];
  node.on('message', (topic, payload) => commands.push(`${topic} ${payload.toString()}`));
  await node.subscribeAsync('livingroom/+/+/command', { qos: 1 });
  return { mosquitto, node, commands };
}

async function page(url: string, device: string): Promise<{ client: TestClient; resync: ResyncFrame }> {
  const client = await TestClient.connect(url);
  cleanups.push(() => client.ws.terminate());
  client.hello(0, device);
  const resync = await client.next<ResyncFrame>((f) => f.type === 'resync' && f.device === 'online', 10_000);
  return { client, resync };
}

describe.runIf(runMosquittoTests)('live-device-server --discover homeassistant on a real Mosquitto', () => {
  it('serves a discovered node with no device file: its fields and limits, writes, echoes, stale writes, changes and removal', async () => {
    const { mosquitto, node, commands } = await espNode();
    const cli = runCli(['--mqtt', mosquitto.url, '--discover', 'homeassistant', '--port', '0']);
    expect(await cli.line(/^discovered /)).toBe('discovered homeassistant device "a0b1c2d3e4f5" with 2 fields');
    const url = await listeningUrl(cli);

    const { client, resync } = await page(url, 'a0b1c2d3e4f5');
    expect(resync.schema).toEqual([
      expect.objectContaining({ name: 'volume', label: 'Volume', type: 'integer', min: 0, max: 100, writable: true }),
      expect.objectContaining({ name: 'relay', label: 'Relay', type: 'boolean', writable: true }),
    ]);
    expect(resync.fields.volume?.value).toBe(30);
    expect(resync.fields.relay?.value).toBe(false);

    // A write reaches the node as ESPHome expects it; its echo updates the page.
    const rev = resync.fields.volume!.rev;
    client.set(1, 'volume', 42, rev);
    expect(await client.ack(1, 5000)).toMatchObject({ status: 'accepted' });
    await expect.poll(() => commands).toContain('livingroom/number/volume/command 42');
    await node.publishAsync('livingroom/number/volume/state', '42', { qos: 1, retain: true });
    const echo = await client.next<UpdateFrame>((f) => f.type === 'update' && f.field === 'volume' && f.value === 42);
    // Someone turns the knob: a write based on what the page saw before is stale.
    await node.publishAsync('livingroom/number/volume/state', '55', { qos: 1, retain: true });
    const knob = await client.next<UpdateFrame>((f) => f.type === 'update' && f.field === 'volume' && f.value === 55);
    client.set(2, 'volume', 10, echo.rev);
    expect(await client.ack(2, 5000)).toMatchObject({ status: 'rejected', reason: 'stale', value: 55, rev: knob.rev });
    client.set(3, 'relay', true, resync.fields.relay!.rev);
    expect(await client.ack(3, 5000)).toMatchObject({ status: 'accepted' });
    await expect.poll(() => commands).toContain('livingroom/switch/relay/command ON');

    // A new limit: a fresh resync with it, and the old revision is stale.
    await node.publishAsync(VOLUME_CONFIG, volume(50), { qos: 1, retain: true });
    expect(await cli.line(/^changed /)).toBe('changed homeassistant device "a0b1c2d3e4f5" with 2 fields');
    const fresh = await client.next<ResyncFrame>(
      (f) => f.type === 'resync' && f.schema[0]?.max === 50 && f.device === 'online',
      10_000,
    );
    client.set(4, 'volume', 20, knob.rev);
    expect(await client.ack(4, 5000)).toMatchObject({ status: 'rejected', reason: 'stale' });
    client.set(5, 'volume', 20, fresh.fields.volume!.rev);
    expect(await client.ack(5, 5000)).toMatchObject({ status: 'accepted' });

    // Cleared configs: the device is gone, its page stays connected and cannot write.
    await node.publishAsync(VOLUME_CONFIG, '', { qos: 1, retain: true });
    await node.publishAsync(RELAY_CONFIG, '', { qos: 1, retain: true });
    expect(await cli.line(/^removed /)).toBe('removed homeassistant device "a0b1c2d3e4f5"');
    await client.next((f) => f.type === 'device' && f.status === 'gone', 10_000);
    const before = commands.length;
    client.set(6, 'relay', false, fresh.fields.relay!.rev);
    expect(await client.ack(6, 5000)).toMatchObject({ status: 'rejected', reason: 'offline' });
    expect(client.ws.readyState).toBe(client.ws.OPEN);
    expect(commands.length).toBe(before);
  });

  it('refuses a config whose topics are wildcards or $SYS, and serves the rest', async () => {
    const { mosquitto, node } = await espNode();
    const bad = JSON.stringify({
      name: 'Evil',
      stat_t: '$SYS/broker/uptime',
      cmd_t: 'livingroom/#',
      uniq_id: 'evil-1',
      dev: { ids: 'evil1' },
    });
    await node.publishAsync('homeassistant/number/evil/x/config', bad, { qos: 1, retain: true });
    const cli = runCli(['--mqtt', mosquitto.url, '--discover', 'homeassistant', '--port', '0']);
    await listeningUrl(cli);
    expect(cli.stdout()).toContain('discovered homeassistant device "a0b1c2d3e4f5" with 2 fields');
    expect(cli.stdout()).not.toContain('evil');
    expect(cli.stderr()).toContain('discovered device refused: invalid description');
  });
});

describe('live-device-server --discover: bad flags', () => {
  it('refuses an unknown source, a bad base, and a start with neither --device nor --discover', async () => {
    const unknown = runCli(['--discover', 'tasmota']);
    expect(await unknown.exited).toBe(1);
    expect(unknown.stderr()).toContain('expected one of homeassistant, zigbee2mqtt, homie');
    const wildcard = runCli(['--discover', 'zigbee2mqtt=z2m/#']);
    expect(await wildcard.exited).toBe(1);
    expect(wildcard.stderr()).toContain('must not be empty, start with "$" or "/", or contain "+" or "#"');
    const nothing = runCli([]);
    expect(await nothing.exited).toBe(1);
    expect(nothing.stderr()).toContain('at least one --device FILE or --discover SOURCE is needed');
  });
});
