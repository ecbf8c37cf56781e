/**
 * Integration: the MQTT bridge, and the bridge behind the real server SDK, against a real Mosquitto
 * started by the test harness. What reaches the broker is checked by independent clients (a plain
 * mqtt.js witness, `mosquitto_sub`), never through the SDK's own view. Nothing here mocks MQTT.
 *
 * Runs whenever Mosquitto is installed, and always in CI (where a missing Mosquitto fails it).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AckFrame, FieldValue, ResyncFrame, ServerFrame, UpdateFrame } from '@live-device-form/protocol';
import { loadDeviceFile, type DeviceDescription } from './device/index.js';
import { recordingLogger, silentLogger } from './logger.js';
import { createMqttBridge, type MqttBridge, type MqttBridgeOptions } from './mqtt-bridge.js';
import { createLiveDeviceServer, type LiveDeviceServer } from './server.js';
import {
  availability,
  recordEvents,
  status,
  VIDEOPROC_FILE,
  VP,
  startEchoDevice,
  TestClient,
  runMosquittoTests,
  startMosquitto,
  startMosquittoSub,
  type Mosquitto,
  startFaultProxy,
  type FaultProxy,
  ProxyMode,
  startWitness,
  type Witness,
  freshestOf,
  until,
} from '@live-device-form/testkit';

let mosquitto: Mosquitto;
let witness: Witness;
let device: DeviceDescription;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

/** Runs at teardown, in reverse order. */
const later = (fn: () => Promise<unknown> | unknown): void => void cleanups.push(fn);

function bridgeOn(url: string, logger = silentLogger): MqttBridge {
  const bridge = createMqttBridge(device, { url, logger, reconnectPeriodMs: 20, maxReconnectPeriodMs: 200 });
  later(() => bridge.close());
  return bridge;
}

async function newWitness(): Promise<Witness> {
  const w = await startWitness(mosquitto.url, ['cy-vp4/#']);
  later(() => w.close());
  return w;
}

async function proxied(): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ target: { host: mosquitto.host, port: mosquitto.port } });
  later(() => proxy.close());
  return proxy;
}

/** The device's retained state, as the hardware (and its Last Will) leaves it on the broker. */
async function deviceState(w: Witness, h: number, v: number): Promise<void> {
  await w.publish(VP.genlockStatus, `${h} ${v}`, { retain: true });
  await w.publish(VP.delayStatus, '40', { retain: true });
  await w.publish(VP.online, '1', { retain: true });
}

const actions = (w: Witness) => w.messages.filter((m) => m.topic.includes('/action/')).map((m) => m.payload);

beforeEach(async () => {
  device = await loadDeviceFile(VIDEOPROC_FILE);
  mosquitto = await startMosquitto();
  later(() => mosquitto.close());
  witness = await newWitness();
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe.runIf(runMosquittoTests)('mqtt bridge on Mosquitto', () => {
  it('starts from the retained state of a device that was already there', async () => {
    await deviceState(witness, -25, 10);
    const bridge = bridgeOn(mosquitto.url);
    await recordEvents(bridge).next(availability(true), 'online');
    expect(bridge.snapshot()).toEqual({ genlock_phase_h: -25, genlock_phase_v: 10, audio_delay: 40 });
  });

  it('publishes a write at QoS 1 with the right topic and payload (seen by mosquitto_sub)', async () => {
    await deviceState(witness, -25, 10);
    const sub = await startMosquittoSub(mosquitto.port, 'cy-vp4/videoproc/action/#');
    later(() => sub.close());
    const bridge = bridgeOn(mosquitto.url);
    await recordEvents(bridge).next(availability(true), 'online');
    expect(await bridge.write('genlock_phase_h', 22, freshestOf(bridge))).toBe('accepted');
    // Delivered at QoS 1 to a QoS 1 subscriber: the bridge published at QoS 1 (a QoS 0 publish arrives as q0).
    await sub.waitFor(/received PUBLISH \(d0, q1, r0, m\d+, 'cy-vp4\/videoproc\/action\/set\/genlock'/);
    expect(await sub.waitFor(/^cy-vp4\//)).toBe('cy-vp4/videoproc/action/set/genlock genlock 22 10');
  });

  it('writes a composite topic with the fresh value of the other field', async () => {
    await deviceState(witness, -25, 10);
    const bridge = bridgeOn(mosquitto.url);
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    // The hardware moves V on its own.
    await witness.publish(VP.genlockStatus, '-25 33', { retain: true });
    await events.next(status({ genlock_phase_v: 33 }), 'V=33');
    expect(await bridge.write('genlock_phase_h', 22, freshestOf(bridge))).toBe('accepted');
    await witness.waitFor((m) => m.topic === VP.genlockSet, 'the write');
    expect(actions(witness)).toEqual(['genlock 22 33']);
  });

  it('ignores and logs a status payload that does not match its pattern', async () => {
    const log = recordingLogger();
    await deviceState(witness, -25, 10);
    const bridge = bridgeOn(mosquitto.url, log);
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    const since = events.mark();
    await witness.publish(VP.genlockStatus, 'genlock=-25,10');
    await witness.publish(VP.genlockStatus, '1 2');
    await events.next(status({ genlock_phase_h: 1 }), 'the next good status');
    expect(events.events.slice(since)).toEqual([
      { type: 'status', values: { genlock_phase_h: 1, genlock_phase_v: 2 } },
    ]);
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'status payload ignored',
        obj: expect.objectContaining({ payload: 'genlock=-25,10' }),
      }),
    );
  });

  it('broker killed (SIGKILL) and restarted with a write in flight: unknown, never published late; offline, then online with a rebuilt cache', async () => {
    await deviceState(witness, -25, 10);
    const proxy = await proxied();
    const bridge = bridgeOn(proxy.url('mqtt'));
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');

    // Frozen, Mosquitto reads nothing: the write is sent but never acknowledged.
    mosquitto.freeze();
    const outcome = bridge.write('genlock_phase_h', 22, freshestOf(bridge));
    proxy.setMode(ProxyMode.Refuse); // the open link dies with the broker, not by the proxy
    await mosquitto.stop('SIGKILL');
    expect(await outcome).toBe('unknown');
    await events.next(availability(false, true), 'offline with reset');
    expect(bridge.online).toBe(false);
    expect(bridge.snapshot()).toEqual({});
    expect(await bridge.write('genlock_phase_v', 1, () => 0)).toBe('offline');

    // A fresh broker (no persistence): the witness subscribes before the bridge may reconnect, the
    // hardware reports its (changed) state again.
    await mosquitto.start();
    const after = await newWitness();
    await deviceState(after, 7, 8);
    proxy.pass();
    await events.next(availability(true), 'online again');
    expect(bridge.snapshot()).toEqual({ genlock_phase_h: 7, genlock_phase_v: 8, audio_delay: 40 });

    expect(await bridge.write('audio_delay', 41, freshestOf(bridge))).toBe('accepted');
    await after.waitFor((m) => m.topic === VP.delaySet, 'the marker write');
    // Had the in-flight "genlock 22 10" been re-sent on reconnect, it would have arrived before the marker.
    expect(actions(after)).toEqual(['delay 41']);
  });

  it('writes while the device or the broker is offline resolve offline and are never published later', async () => {
    await deviceState(witness, -25, 10);
    const proxy = await proxied();
    const bridge = bridgeOn(proxy.url('mqtt'));
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');

    await witness.publish(VP.online, '0', { retain: true });
    await events.next(availability(false), 'device offline');
    expect(await bridge.write('genlock_phase_h', 100, freshestOf(bridge))).toBe('offline');

    proxy.refuse();
    await events.next(availability(false, true), 'broker link lost');
    expect(await bridge.write('genlock_phase_h', 101, () => 0)).toBe('offline');

    await witness.publish(VP.online, '1', { retain: true });
    proxy.pass();
    await events.next(availability(true), 'online again');
    expect(await bridge.write('audio_delay', 42, freshestOf(bridge))).toBe('accepted');
    await witness.waitFor((m) => m.topic === VP.delaySet, 'the marker write');
    expect(actions(witness)).toEqual(['delay 42']);
  });

  it("two bridges (two SDK processes) on one broker see the effects of each other's writes", async () => {
    await deviceState(witness, -25, 10);
    const hardware = await startEchoDevice(mosquitto.url);
    later(() => hardware.close());
    const a = bridgeOn(mosquitto.url);
    const b = bridgeOn(mosquitto.url);
    const eventsB = recordEvents(b);
    await Promise.all([
      recordEvents(a).next(availability(true), 'A online'),
      eventsB.next(availability(true), 'B online'),
    ]);
    expect(await a.write('genlock_phase_v', -3, freshestOf(a))).toBe('accepted');
    await eventsB.next(status({ genlock_phase_h: -25, genlock_phase_v: -3 }), "the device's echo, seen by B");
    expect(b.snapshot()).toMatchObject({ genlock_phase_h: -25, genlock_phase_v: -3 });
    expect(hardware.received).toEqual([{ topic: VP.genlockSet, payload: 'genlock -25 -3' }]);
  });
});

// ---------------------------------------------------------------- end to end: pages, server SDK, bridge, Mosquitto

interface Process {
  live: LiveDeviceServer;
  bridge: MqttBridge;
  url: string;
  /** Resolves when the server has handed the next write to the bridge (and the bridge has published it). */
  nextWrite(): Promise<void>;
}

/** One "SDK process": an HTTP server, the server SDK, and an MQTT bridge to `brokerUrl`. */
async function sdkProcess(brokerUrl: string, guardMs = 500): Promise<Process> {
  const bridge = bridgeOn(brokerUrl);
  let writeWaiters: (() => void)[] = [];
  // The real bridge, observed: `write` publishes synchronously before returning its promise.
  const observed = new Proxy(bridge, {
    get(target, prop) {
      if (prop === 'write') {
        return (...args: Parameters<MqttBridge['write']>) => {
          const outcome = target.write(...args);
          const w = writeWaiters;
          writeWaiters = [];
          for (const resolve of w) resolve();
          return outcome;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const live = createLiveDeviceServer({ devices: [observed], logger: silentLogger, guardMs });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  live.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  later(async () => {
    await live.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  await recordEvents(bridge).next(availability(true), 'online');
  return {
    live,
    bridge,
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/live`,
    nextWrite: () => new Promise<void>((resolve) => writeWaiters.push(resolve)),
  };
}

async function page(p: Process, mounts = 0): Promise<{ client: TestClient; resync: ResyncFrame }> {
  const client = await TestClient.connect(p.url);
  later(() => client.ws.terminate());
  client.hello(mounts, 'videoproc');
  const resync = await client.next<ResyncFrame>((f) => f.type === 'resync', 5000);
  return { client, resync };
}

const isUpdate = (field: string, value: FieldValue) => (f: ServerFrame) =>
  f.type === 'update' && f.field === field && f.value === value;

describe.runIf(runMosquittoTests)('mqtt bridge on Mosquitto: oversized statuses (maxPayloadBytes)', () => {
  /** A bridge with a 1 KiB payload limit; `mqtt` options passed through. */
  function limited(log: ReturnType<typeof recordingLogger>, mqtt: MqttBridgeOptions['mqtt'] = {}): MqttBridge {
    const bridge = createMqttBridge(device, { url: mosquitto.url, logger: log, maxPayloadBytes: 1024, mqtt });
    later(() => bridge.close());
    return bridge;
  }

  /** A retained 4 MiB status the device's topic really carries (the witness sees it), then a normal one. */
  async function oversizedThenNormal(): Promise<void> {
    await witness.publish(VP.genlockStatus, `7 ${'0'.repeat(4 * 1024 * 1024)}8`, { retain: true });
    await witness.waitFor((m) => m.topic === VP.genlockStatus && m.payload.length > 4 * 1024 * 1024, 'the big one');
    await witness.publish(VP.genlockStatus, '3 4', { retain: true });
  }

  it('MQTT 3.1.1: dropped with a warning, never parsed; the value stays and the next status arrives', async () => {
    const log = recordingLogger();
    await deviceState(witness, -25, 10);
    const bridge = limited(log);
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    const since = events.mark();
    await oversizedThenNormal();
    await events.next(status({ genlock_phase_h: 3, genlock_phase_v: 4 }), 'the normal status');
    expect(events.events.slice(since)).toEqual([
      { type: 'status', values: { genlock_phase_h: 3, genlock_phase_v: 4 } },
    ]);
    expect(bridge.linkState).toBe('up');
    expect(log.entries).toContainEqual({
      level: 'warn',
      msg: 'payload dropped: larger than maxPayloadBytes',
      obj: { device: 'videoproc', topic: VP.genlockStatus, bytes: 4 * 1024 * 1024 + 3, maxPayloadBytes: 1024 },
    });
  });

  it('MQTT 5: the CONNECT maximumPacketSize makes Mosquitto keep it from the bridge altogether', async () => {
    const log = recordingLogger();
    await deviceState(witness, -25, 10);
    const bridge = limited(log, { protocolVersion: 5 });
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    const since = events.mark();
    await oversizedThenNormal();
    await events.next(status({ genlock_phase_h: 3, genlock_phase_v: 4 }), 'the normal status');
    expect(events.events.slice(since)).toEqual([
      { type: 'status', values: { genlock_phase_h: 3, genlock_phase_v: 4 } },
    ]);
    expect(bridge.linkState).toBe('up');
    // Never sent to the bridge, so nothing to drop: the broker kept it.
    expect(log.entries.filter((e) => e.msg.startsWith('payload dropped'))).toEqual([]);
    expect(log.entries.filter((e) => e.msg === 'lost the MQTT broker connection; reconnecting')).toEqual([]);
  });
});

describe.runIf(runMosquittoTests)('end to end on Mosquitto: pages, server SDK, MQTT bridge', () => {
  it('a stale write is never published: refused by revision, and in the reconnect guard', async () => {
    await deviceState(witness, -25, 10);
    const hardware = await startEchoDevice(mosquitto.url);
    later(() => hardware.close());
    const sdk = await sdkProcess(mosquitto.url);
    const { client, resync } = await page(sdk);
    expect(resync.fields.genlock_phase_h).toMatchObject({ value: -25 });
    const oldRev = (resync.fields.genlock_phase_h as { rev: number }).rev;

    // The hardware changes H on its own; the page's edit was based on the old value.
    await witness.publish(VP.genlockStatus, '-30 10', { retain: true });
    const update = await client.next<UpdateFrame>(isUpdate('genlock_phase_h', -30), 5000);
    client.set(1, 'genlock_phase_h', -20, oldRev);
    expect(await client.ack(1, 5000)).toMatchObject({
      status: 'rejected',
      reason: 'stale',
      field: 'genlock_phase_h',
      value: -30,
      rev: update.rev,
    });

    // A reconnecting page's immediate write lands in the guard.
    const again = await TestClient.connect(sdk.url);
    later(() => again.ws.terminate());
    again.hello(1, 'videoproc');
    again.set(1, 'genlock_phase_h', -21, update.rev);
    expect(await again.ack(1, 5000)).toMatchObject({ status: 'rejected', reason: 'guard' });

    // A write from the fresh value goes through: everything before it would have reached the broker first.
    client.set(2, 'genlock_phase_h', -19, update.rev);
    expect(await client.ack(2, 5000)).toEqual({ type: 'ack', id: 2, status: 'accepted' });
    await witness.waitFor((m) => m.topic === VP.genlockSet, 'the fresh write');
    expect(actions(witness)).toEqual(['genlock -19 10']);
  });

  it('broker restarted while pages are connected: write unknown and never published late, offline, then a fresh resync', async () => {
    await deviceState(witness, -25, 10);
    const proxy = await proxied();
    const sdk = await sdkProcess(proxy.url('mqtt'));
    const { client, resync: first } = await page(sdk);

    mosquitto.freeze();
    const published = sdk.nextWrite();
    client.set(1, 'genlock_phase_h', 22, (first.fields.genlock_phase_h as { rev: number }).rev);
    // The write reaches the bridge and is published into the frozen broker's socket; then the broker dies.
    await published;
    proxy.setMode(ProxyMode.Refuse); // the open link dies with the broker, not by the proxy
    await mosquitto.stop('SIGKILL');
    const ack = await client.ack(1, 5000);
    expect(ack).toEqual({ type: 'ack', id: 1, status: 'unknown' });
    await client.next((f) => f.type === 'device' && f.status === 'offline', 5000);

    await mosquitto.start();
    const after = await newWitness();
    await deviceState(after, 7, 8);
    proxy.pass();
    const resync = await client.next<ResyncFrame>((f) => f.type === 'resync', 5000);
    expect(resync.device).toBe('online');
    expect(resync.fields.genlock_phase_h).toMatchObject({ value: 7 });
    expect(resync.fields.genlock_phase_v).toMatchObject({ value: 8 });

    client.set(2, 'audio_delay', 43, (resync.fields.audio_delay as { rev: number }).rev);
    expect(await client.ack(2, 5000)).toMatchObject({ status: 'accepted' });
    await after.waitFor((m) => m.topic === VP.delaySet, 'the marker write');
    expect(actions(after)).toEqual(['delay 43']);
    // Every set got exactly one ack.
    expect(client.frames.filter((f): f is AckFrame => f.type === 'ack').map((f) => f.id)).toEqual([1, 2]);
  });

  it('two SDK processes on one broker: a write through one reaches pages on the other', async () => {
    await deviceState(witness, -25, 10);
    const hardware = await startEchoDevice(mosquitto.url);
    later(() => hardware.close());
    const one = await sdkProcess(mosquitto.url);
    const two = await sdkProcess(mosquitto.url);
    const writer = await page(one);
    const reader = await page(two);
    expect(writer.resync.epoch).not.toBe(reader.resync.epoch);
    writer.client.set(1, 'genlock_phase_v', 12, (writer.resync.fields.genlock_phase_v as { rev: number }).rev);
    expect(await writer.client.ack(1, 5000)).toMatchObject({ status: 'accepted' });
    await reader.client.next(isUpdate('genlock_phase_v', 12), 5000);
    expect(hardware.received).toEqual([{ topic: VP.genlockSet, payload: 'genlock -25 12' }]);
  });
});

describe.runIf(runMosquittoTests)('mqtt bridge on Mosquitto: readiness', () => {
  it('an ACL that grants a subscription but never delivers a status topic: one warning naming it', async () => {
    const readable = [
      VP.online,
      VP.genlockStatus,
      VP.formatStatus,
      VP.brightnessStatus,
      VP.delayStatus,
      VP.inputStatus,
    ];
    // Anyone may publish; the freeze status may be subscribed to (Mosquitto grants it) but never read.
    const guarded = await startMosquitto({ acl: ['topic write cy-vp4/#', ...readable.map((t) => `topic read ${t}`)] });
    later(() => guarded.close());
    const device = await startWitness(guarded.url);
    later(() => device.close());
    for (const topic of [...readable, VP.freezeStatus]) {
      const payload = topic === VP.online ? '1' : topic === VP.genlockStatus ? '-25 10' : '1';
      await device.publish(topic, payload, { retain: true });
    }
    const log = recordingLogger();
    const bridge = createMqttBridge(await loadDeviceFile(VIDEOPROC_FILE), {
      url: guarded.url,
      logger: log,
      settleMs: 50,
      readyTimeoutMs: 300,
    });
    later(() => bridge.close());
    expect(await bridge.ready()).toBe(true);
    expect(bridge.snapshot()).toMatchObject({ genlock_phase_h: -25, audio_delay: 1 });
    expect(bridge.snapshot()).not.toHaveProperty('freeze');
    const silent = (): typeof log.entries => log.entries.filter((e) => e.msg.startsWith('subscribed, but no message'));
    await until(() => silent().length > 0, 3000);
    expect(silent()).toEqual([
      {
        level: 'warn',
        msg: 'subscribed, but no message arrived on these topics: no retained message yet, or the broker (an ACL) does not deliver them',
        obj: { device: 'videoproc', topics: [VP.freezeStatus], readyTimeoutMs: 300 },
      },
    ]);
  });
});
