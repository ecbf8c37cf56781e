/**
 * Writes from elsewhere on a real Mosquitto 2 speaking MQTT 5 (docs/protocol.md, *Several server
 * processes*): each bridge tags its writes with the `ldf-origin` user property and knows its own by
 * it. Two real servers with their own bridges, plain mqtt.js clients as the other writers and as
 * the witness of what reached the broker.
 *
 * Runs whenever Mosquitto is installed, and always in CI (where a missing Mosquitto fails it).
 */
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FieldValue, ServerFrame, UpdateFrame } from '@live-device-form/protocol';
import { loadDeviceFile, type DeviceDescription } from './device/index.js';
import { silentLogger } from './logger.js';
import { createMqttBridge, type MqttBridge, type MqttBridgeOptions } from './mqtt-bridge.js';
import { ORIGIN_PROPERTY } from './own-publishes.js';
import {
  availability,
  recordEvents,
  runMosquittoTests,
  startMosquitto,
  startServer,
  startWitness,
  stopAll,
  VIDEOPROC_FILE,
  VP,
  type Harness,
  type Mosquitto,
  type Witness,
} from '@live-device-form/testkit';

const H = 'genlock_phase_h';

let mosquitto: Mosquitto;
let witness: Witness;
let device: DeviceDescription;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeEach(async () => {
  device = await loadDeviceFile(VIDEOPROC_FILE);
  mosquitto = await startMosquitto();
  witness = await startWitness(mosquitto.url, ['cy-vp4/#']);
  // The device's retained state; it never answers a write here (the window before its echo).
  await witness.publish(VP.genlockStatus, '-25 10', { retain: true });
  await witness.publish(VP.delayStatus, '40', { retain: true });
  await witness.publish(VP.online, '1', { retain: true });
});

afterEach(async () => {
  await stopAll();
  for (const c of cleanups.splice(0).reverse()) await c();
  await witness.close();
  await mosquitto.close();
});

/**
 * One server process with its own bridge, online. `ownWriteTimeoutMs: 0` by default: every write
 * remembered for first-in-first-out matching is overdue at once, so only the user property can
 * tell the bridge its own writes.
 */
async function serverProcess(
  options: Partial<MqttBridgeOptions> = {},
): Promise<{ harness: Harness; bridge: MqttBridge }> {
  const bridge = createMqttBridge(device, {
    url: mosquitto.url,
    logger: silentLogger,
    mqtt: { protocolVersion: 5 },
    ownWriteTimeoutMs: 0,
    ...options,
  });
  cleanups.push(() => bridge.close());
  await recordEvents(bridge).next(availability(true), 'online');
  return { harness: await startServer({ devices: [bridge] }), bridge };
}

/** A plain MQTT 5 client: another program on the broker. */
async function mqtt5Client(): Promise<MqttClient> {
  const client = await connectAsync(mosquitto.url, { protocolVersion: 5, reconnectPeriod: 0 });
  cleanups.push(() => client.endAsync(true));
  return client;
}

const isUpdate = (field: string) => (f: ServerFrame) => f.type === 'update' && f.field === field;
const revOf = (fields: Record<string, { rev: number; value: FieldValue }>, name: string): number =>
  (fields[name] as { rev: number }).rev;

describe.runIf(runMosquittoTests)('writes from elsewhere on Mosquitto (MQTT 5)', () => {
  it('page A on server 1 and page B on server 2, one field, one revision: A accepted, B refused stale; A may write on', async () => {
    const one = await serverProcess();
    const two = await serverProcess();
    const a = await one.harness.join();
    const b = await two.harness.join();
    const base = revOf(b.resync.fields, H);

    a.client.set(1, H, 100, base);
    expect(await a.client.ack(1, 5000)).toEqual({ type: 'ack', id: 1, status: 'accepted' });
    const bump = await b.client.next<UpdateFrame>(isUpdate(H), 5000);
    expect(bump).toMatchObject({ value: -25 });
    b.client.set(1, H, -100, base);
    expect(await b.client.ack(1, 5000)).toMatchObject({
      status: 'rejected',
      reason: 'stale',
      value: -25,
      rev: bump.rev,
    });

    // A's own write, back on server 1 before this later write from elsewhere (one subscriber, in
    // order), was known as A's by its property alone: A's next write from its base is not stale.
    const other = await mqtt5Client();
    await other.publishAsync(VP.delaySet, 'delay 60', { qos: 1 });
    await a.client.next(isUpdate('audio_delay'), 5000);
    a.client.set(2, H, 101, base);
    expect(await a.client.ack(2, 5000)).toMatchObject({ status: 'accepted' });
    await witness.waitFor((m) => m.payload === 'genlock 101 10', "A's second write");
    expect(witness.messages.filter((m) => m.topic === VP.genlockSet).map((m) => m.payload)).toEqual([
      'genlock 100 10',
      'genlock 101 10',
    ]);
  });

  it('each bridge tags its writes with its own id in the ldf-origin user property', async () => {
    const seen: { payload: string; origin: unknown }[] = [];
    const sub = await mqtt5Client();
    sub.on('message', (_topic, payload, packet) =>
      seen.push({ payload: payload.toString(), origin: packet.properties?.userProperties?.[ORIGIN_PROPERTY] }),
    );
    const both = new Promise<void>((resolve) => sub.on('message', () => seen.length >= 2 && resolve()));
    await sub.subscribeAsync(VP.delaySet, { qos: 1 });
    const one = await serverProcess();
    const two = await serverProcess();
    expect(await one.bridge.write('audio_delay', 1, () => null)).toBe('accepted');
    expect(await two.bridge.write('audio_delay', 2, () => null)).toBe('accepted');
    await both;
    expect(seen.map((s) => s.payload)).toEqual(['delay 1', 'delay 2']);
    expect(seen[0]?.origin).toMatch(/^[0-9a-f]{16}$/);
    expect(seen[1]?.origin).toMatch(/^[0-9a-f]{16}$/);
    expect(seen[0]?.origin).not.toBe(seen[1]?.origin);
  });

  it('a plain MQTT 5 client writing the action topic (no property): the next set from the older revision is stale', async () => {
    const { harness } = await serverProcess();
    const page = await harness.join();
    const base = revOf(page.resync.fields, H);
    const other = await mqtt5Client();
    await other.publishAsync(VP.genlockSet, 'genlock 5 6', { qos: 1 });
    const bump = await page.client.next<UpdateFrame>(isUpdate(H), 5000);
    page.client.set(1, H, 7, base);
    expect(await page.client.ack(1, 5000)).toMatchObject({ status: 'rejected', reason: 'stale', rev: bump.rev });
  });

  it('a mixed pair (MQTT 5 and MQTT 3.1.1): each sees the other’s write, neither its own', async () => {
    const five = await serverProcess();
    const three = await serverProcess({ mqtt: {}, ownWriteTimeoutMs: 5000 });
    const p5 = await five.harness.join();
    const p3 = await three.harness.join();
    const base = revOf(p5.resync.fields, H);

    p5.client.set(1, H, 1, base);
    expect(await p5.client.ack(1, 5000)).toMatchObject({ status: 'accepted' });
    const bump3 = await p3.client.next<UpdateFrame>(isUpdate(H), 5000);
    p3.client.set(1, H, 2, bump3.rev);
    expect(await p3.client.ack(1, 5000)).toMatchObject({ status: 'accepted' });
    const bump5 = await p5.client.next<UpdateFrame>(isUpdate(H), 5000);
    expect(bump5.rev).toBeGreaterThan(base);
    // A later write from elsewhere, seen by both: each server has had its own write back before it.
    const other = await mqtt5Client();
    await other.publishAsync(VP.delaySet, 'delay 70', { qos: 1 });
    await p5.client.next(isUpdate('audio_delay'), 5000);
    await p3.client.next(isUpdate('audio_delay'), 5000);
    // Neither page got an update for its own write: only the other's.
    expect(p5.client.frames.filter(isUpdate(H))).toHaveLength(1);
    expect(p3.client.frames.filter(isUpdate(H))).toHaveLength(1);
  });
});
