/**
 * Writes from elsewhere (docs/protocol.md, *Several server processes*): the MQTT bridge subscribes
 * to its device's action topics, tells its own writes coming back (first in, first out: the
 * embedded aedes speaks MQTT 3.1.1 only) from writes by other server processes and MQTT clients,
 * and the store refuses a set based on a revision before such a write `stale`. Real components:
 * the embedded aedes broker, real MQTT bridges, two real servers with real `ws` clients; what reaches
 * the broker is checked with a plain mqtt.js witness.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FieldValue, ServerFrame, UpdateFrame } from '@live-device-form/protocol';
import type { BridgeEvent } from './bridge.js';
import { loadDeviceFile, type DeviceDescription } from './device/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { recordingLogger, silentLogger, type Logger } from './logger.js';
import { createMqttBridge, type MqttBridge, type MqttBridgeOptions } from './mqtt-bridge.js';
import {
  availability,
  recordEvents,
  startServer,
  startWitness,
  stopAll,
  VIDEOPROC_FILE,
  VP,
  type Harness,
  type Witness,
} from '@live-device-form/testkit';

const H = 'genlock_phase_h';
const V = 'genlock_phase_v';

let broker: EmbeddedBroker;
let witness: Witness;
let device: DeviceDescription;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeEach(async () => {
  device = await loadDeviceFile(VIDEOPROC_FILE);
  broker = await startEmbeddedBroker();
  witness = await startWitness(broker.url, ['cy-vp4/#']);
  // The device's retained state; the device itself never answers a write here: every test runs in
  // the window before its echo, where only the action topics can tell one process of another's write.
  await witness.publish(VP.genlockStatus, '-25 10', { retain: true });
  await witness.publish(VP.delayStatus, '40', { retain: true });
  await witness.publish(VP.online, '1', { retain: true });
});

afterEach(async () => {
  await stopAll();
  for (const c of cleanups.splice(0).reverse()) await c();
  await witness.close();
  await broker.close();
});

function bridgeOn(options: Partial<MqttBridgeOptions> = {}): MqttBridge {
  const bridge = createMqttBridge(device, {
    url: broker.url,
    logger: silentLogger,
    reconnectPeriodMs: 20,
    maxReconnectPeriodMs: 200,
    ...options,
  });
  cleanups.push(() => bridge.close());
  return bridge;
}

/** One server process: the SDK with its own MQTT bridge to the shared broker, online. */
async function serverProcess(logger: Logger = silentLogger): Promise<{ harness: Harness; bridge: MqttBridge }> {
  const bridge = bridgeOn({ logger });
  await recordEvents(bridge).next(availability(true), 'online');
  return { harness: await startServer({ devices: [bridge] }), bridge };
}

const writtenElsewhere =
  (...fields: string[]) =>
  (e: BridgeEvent): boolean =>
    e.type === 'written-elsewhere' && fields.every((f) => e.fields.includes(f));

const isUpdate = (field: string) => (f: ServerFrame) => f.type === 'update' && f.field === field;
const revOf = (fields: Record<string, { rev: number; value: FieldValue }>, name: string): number =>
  (fields[name] as { rev: number }).rev;
const setMessages = (): string[] => witness.messages.filter((m) => m.topic.includes('/action/')).map((m) => m.payload);

/** Refuses every subscription to an action topic, as a broker ACL would (SUBACK 0x80). */
function refuseActionTopics(): void {
  broker.broker.authorizeSubscribe = (_client, sub, callback) =>
    callback(null, sub.topic.includes('/action/') ? null : sub);
}

describe('two server processes on one broker', () => {
  it('page A on server 1 and page B on server 2 edit one field from the same revision: A is accepted, B refused stale', async () => {
    const one = await serverProcess();
    const two = await serverProcess();
    const a = await one.harness.join();
    const b = await two.harness.join();
    const base = revOf(b.resync.fields, H);
    expect(revOf(a.resync.fields, H)).toBe(base);

    a.client.set(1, H, 100, base);
    expect(await a.client.ack(1)).toEqual({ type: 'ack', id: 1, status: 'accepted' });
    // A's publish reached server 2: B's page gets the field at a new revision, its value unchanged
    // (the device has not answered yet).
    const bump = await b.client.next<UpdateFrame>(isUpdate(H));
    expect(bump).toMatchObject({ value: -25 });
    expect(bump.rev).toBeGreaterThan(base);

    b.client.set(1, H, -100, base); // B had not looked at the update yet
    expect(await b.client.ack(1)).toMatchObject({
      status: 'rejected',
      reason: 'stale',
      field: H,
      value: -25,
      rev: bump.rev,
    });
    // Nothing of B's reached the broker: a marker through server 2's bridge comes right after A's write.
    expect(await two.bridge.write('audio_delay', 41, () => null)).toBe('accepted');
    await witness.waitFor((m) => m.topic === VP.delaySet, 'the marker');
    expect(setMessages()).toEqual(['genlock 100 10', 'delay 41']);
  });

  it('without the action topics (a broker that refuses them), B’s write is accepted: what the subscription prevents', async () => {
    refuseActionTopics();
    const log = recordingLogger();
    const one = await serverProcess();
    const two = await serverProcess(log);
    const a = await one.harness.join();
    const b = await two.harness.join();
    const base = revOf(b.resync.fields, H);

    a.client.set(1, H, 100, base);
    expect(await a.client.ack(1)).toMatchObject({ status: 'accepted' });
    await witness.waitFor((m) => m.topic === VP.genlockSet, "A's write on the broker");
    b.client.set(1, H, -100, base);
    expect(await b.client.ack(1)).toMatchObject({ status: 'accepted' });
    await witness.waitFor((m) => m.payload === 'genlock -100 10', "B's write on the broker");
    expect(setMessages()).toEqual(['genlock 100 10', 'genlock -100 10']);
    // Said once, with the topics, and the link works as it did before.
    const warnings = log.entries.filter((e) => e.msg.startsWith('the broker refused the subscription to these action'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.obj).toMatchObject({ device: 'videoproc', denied: expect.arrayContaining([VP.genlockSet]) });
    expect(two.bridge.linkState).toBe('up');
  });
});

describe('a write by another MQTT client on an action topic', () => {
  it('makes a following set from the older revision stale; the page sees the new revision first', async () => {
    const { harness } = await serverProcess();
    const page = await harness.join();
    const base = revOf(page.resync.fields, H);
    // Node-RED, Home Assistant or a script: a plain MQTT client writing to the device.
    await witness.publish(VP.genlockSet, 'genlock 5 6');
    const h = await page.client.next<UpdateFrame>(isUpdate(H));
    const v = await page.client.next<UpdateFrame>(isUpdate(V));
    expect([h.value, v.value]).toEqual([-25, 10]);
    page.client.set(1, H, 7, base);
    expect(await page.client.ack(1)).toMatchObject({ status: 'rejected', reason: 'stale', value: -25, rev: h.rev });
    // From the new revision the write goes out; the other field of the payload is the device's
    // value, never the one written elsewhere (nothing read on an action topic is written back).
    page.client.set(2, H, 7, h.rev);
    expect(await page.client.ack(2)).toMatchObject({ status: 'accepted' });
    await witness.waitFor((m) => m.payload === 'genlock 7 10', 'the write');
    expect(setMessages()).toEqual(['genlock 5 6', 'genlock 7 10']);
    expect(harness.live.sessions()).toHaveLength(1);
  });

  it('is reported by the bridge as the fields it may change, and never stored', async () => {
    const bridge = bridgeOn();
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    const since = events.mark();
    await witness.publish(VP.genlockSet, 'genlock 5 6');
    await witness.publish(VP.delaySet, 'delay 99');
    await events.next(writtenElsewhere('audio_delay'), 'the delay write');
    expect(events.events.slice(since)).toEqual([
      { type: 'written-elsewhere', fields: [H, V] },
      { type: 'written-elsewhere', fields: ['audio_delay'] },
    ]);
    expect(bridge.snapshot()).toEqual({ [H]: -25, [V]: 10, audio_delay: 40 });
  });

  it('a retained message on an action topic is an old command, not a write now: ignored', async () => {
    await witness.publish(VP.genlockSet, 'genlock 1 1', { retain: true });
    const bridge = bridgeOn();
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    await witness.publish(VP.delaySet, 'delay 1');
    await events.next(writtenElsewhere('audio_delay'), 'the marker');
    expect(events.events.filter((e) => e.type === 'written-elsewhere')).toEqual([
      { type: 'written-elsewhere', fields: ['audio_delay'] },
    ]);
  });
});

describe('the bridge’s own writes (first in, first out on aedes)', () => {
  it('do not make its own pages’ next writes stale', async () => {
    const { harness } = await serverProcess();
    const page = await harness.join();
    const base = revOf(page.resync.fields, H);
    for (let id = 1; id <= 5; id++) {
      page.client.set(id, H, id, base);
      expect(await page.client.ack(id)).toMatchObject({ status: 'accepted' });
    }
    // A write from elsewhere after them, on another field: when the page sees it, every write of
    // its own has come back to the server before it (one subscriber, in order).
    await witness.publish(VP.delaySet, 'delay 50');
    await page.client.next(isUpdate('audio_delay'));
    page.client.set(6, H, 6, base);
    expect(await page.client.ack(6)).toMatchObject({ status: 'accepted' });
    expect(page.client.frames.filter(isUpdate(H))).toEqual([]);
  });

  it('never produce a written-elsewhere event, however many', async () => {
    const bridge = bridgeOn();
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    const fresh = (): FieldValue => 10;
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => bridge.write(H, i, fresh)));
    expect(outcomes.every((o) => o === 'accepted')).toBe(true);
    await witness.publish(VP.delaySet, 'delay 50');
    await events.next(writtenElsewhere('audio_delay'), 'the marker');
    expect(events.events.filter((e) => e.type === 'written-elsewhere')).toEqual([
      { type: 'written-elsewhere', fields: ['audio_delay'] },
    ]);
  });

  it('an ACL that lets the bridge subscribe but never delivers its writes back: one warning once one is overdue', async () => {
    // To the bridges (not to the witness), nothing on an action topic is delivered.
    broker.broker.authorizeForward = (client, packet) =>
      client?.id.startsWith('ldf-videoproc-') && packet.topic.includes('/action/') ? null : packet;
    const log = recordingLogger();
    // 0: a write is overdue as soon as any time has passed, so the second write finds the first one overdue.
    const bridge = bridgeOn({ logger: log, ownWriteTimeoutMs: 0 });
    await recordEvents(bridge).next(availability(true), 'online');
    for (const delay of [1, 2, 3]) {
      expect(await bridge.write('audio_delay', delay, () => null)).toBe('accepted');
      await witness.waitFor((m) => m.payload === `delay ${delay}`, `write ${delay}`);
    }
    const warned = log.entries.filter((e) => e.msg.startsWith('the broker does not deliver this bridge’s own writes'));
    expect(warned).toEqual([
      expect.objectContaining({ level: 'warn', obj: { device: 'videoproc', ownWriteTimeoutMs: 0 } }),
    ]);
  });
});

describe('garbage on the action topics', () => {
  it('2,000 unreadable payloads: counted as writes of every field they may carry, a few warning lines, no crash', async () => {
    const log = recordingLogger();
    const bridge = bridgeOn({ logger: log, logThrottleMs: 600_000, maxPayloadBytes: 1024 });
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    const since = events.mark();
    const garbage = ['genlock=5', '\u0000\u0001', 'genlock 1', '{"h":1}', 'x'.repeat(2000), 'genlock 1 2 3'];
    for (let i = 0; i < 2000; i++)
      witness.client.publish(VP.genlockSet, garbage[i % garbage.length] as string, { qos: 0 });
    await witness.publish(VP.delaySet, 'delay 3');
    // Same connection, in order: every garbage payload was read before the marker.
    await events.next(writtenElsewhere('audio_delay'), 'the marker');
    const seen = events.events.slice(since);
    expect(seen).toHaveLength(2001);
    expect(seen.slice(0, 2000).every((e) => e.type === 'written-elsewhere' && e.fields.join() === `${H},${V}`)).toBe(
      true,
    );
    expect(bridge.linkState).toBe('up');
    expect(bridge.snapshot()).toEqual({ [H]: -25, [V]: 10, audio_delay: 40 });
    const unreadable = (): typeof log.entries => log.entries.filter((e) => e.msg.startsWith('unreadable write'));
    expect(unreadable().map((e) => e.obj?.reason)).toEqual([
      'payload does not match the template "genlock {genlock_phase_h} {genlock_phase_v}"',
      'payload does not match the template "genlock {genlock_phase_h} {genlock_phase_v}"',
    ]);
    await bridge.close(); // ends the window: its summary now
    expect(unreadable()).toHaveLength(3);
    expect(unreadable()[2]?.obj).toMatchObject({ suppressed: 1998 });
    // Nothing went back to the broker: only the garbage and the marker are on the action topics.
    await witness.waitFor((m) => m.payload === 'delay 3', 'the marker, at the witness');
    expect(setMessages()).toHaveLength(2001);
  });

  it('checks ownWriteTimeoutMs like every option', () => {
    expect(() => bridgeOn({ ownWriteTimeoutMs: -1 })).toThrow(/ownWriteTimeoutMs/);
    expect(() => bridgeOn({ ownWriteTimeoutMs: Number.NaN })).toThrow(/ownWriteTimeoutMs/);
  });
});
