/**
 * The MQTT bridge against a real (embedded aedes) broker. What reaches the broker is checked with a
 * separate plain mqtt.js client (the witness), or with aedes's own hooks, never through the bridge.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { DeviceBridge } from './bridge.js';
import { defineDevice, loadDeviceFile, type DeviceDescription } from './device/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { recordingLogger, silentLogger } from './logger.js';
import { createMqttBridge, type MqttBridge, type MqttBridgeOptions } from './mqtt-bridge.js';
import {
  availability,
  recordEvents,
  status,
  VIDEOPROC_FILE,
  VP,
  startFaultProxy,
  type FaultProxy,
  startWitness,
  type Witness,
  freshestOf,
} from '@live-device-form/testkit';

let broker: EmbeddedBroker;
let witness: Witness;
let device: DeviceDescription;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeEach(async () => {
  device = await loadDeviceFile(VIDEOPROC_FILE);
  broker = await startEmbeddedBroker();
  witness = await startWitness(broker.url, ['cy-vp4/#']);
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await witness.close();
  await broker.close();
});

function bridgeOn(url: string, options: Partial<MqttBridgeOptions> = {}, d: DeviceDescription = device): MqttBridge {
  const bridge = createMqttBridge(d, {
    url,
    logger: silentLogger,
    reconnectPeriodMs: 20,
    maxReconnectPeriodMs: 200,
    ...options,
  });
  cleanups.push(() => bridge.close());
  return bridge;
}

async function proxied(): Promise<FaultProxy> {
  const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port: broker.port } });
  cleanups.push(() => proxy.close());
  return proxy;
}

/** The device's retained state, as a real device (or its Last Will) leaves it on the broker. */
async function deviceState(h: number, v: number, online = '1'): Promise<void> {
  await witness.publish(VP.genlockStatus, `${h} ${v}`, { retain: true });
  await witness.publish(VP.freezeStatus, '0', { retain: true });
  await witness.publish(VP.online, online, { retain: true });
}

/** A write through the bridge whose arrival at the witness proves every earlier publish arrived first (same connection, in order). */
async function marker(bridge: DeviceBridge, delay: number): Promise<void> {
  expect(await bridge.write('audio_delay', delay, freshestOf(bridge))).toBe('accepted');
  await witness.waitFor((m) => m.topic === VP.delaySet && m.payload === `delay ${delay}`, `marker delay ${delay}`);
}

const setMessages = () => witness.messages.filter((m) => m.topic.includes('/action/'));

describe('mqtt bridge: state from the broker', () => {
  it('builds its cache from retained messages and goes online when the availability topic says so', async () => {
    await deviceState(-25, 10);
    const bridge = bridgeOn(broker.url);
    const events = recordEvents(bridge);
    expect(bridge.online).toBe(false);
    await events.next(availability(true), 'online');
    expect(bridge.online).toBe(true);
    expect(bridge.linkState).toBe('up');
    expect(bridge.snapshot()).toEqual({ genlock_phase_h: -25, genlock_phase_v: 10, freeze: false });
    expect(events.events.find(status({ genlock_phase_h: -25, genlock_phase_v: 10 }))).toBeDefined();
  });

  it('follows the availability topic: offline, writes refused and nothing queued, then online again', async () => {
    await deviceState(1, 2);
    const bridge = bridgeOn(broker.url);
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');

    await witness.publish(VP.online, '0', { retain: true });
    const off = await events.next(availability(false), 'offline');
    expect(off).toEqual({ type: 'availability', online: false });
    expect(bridge.online).toBe(false);
    expect(await bridge.write('genlock_phase_h', 99, freshestOf(bridge))).toBe('offline');
    // The cache survives a device going offline (only a lost broker link resets it).
    expect(bridge.snapshot()).toMatchObject({ genlock_phase_h: 1, genlock_phase_v: 2 });

    await witness.publish(VP.online, '1', { retain: true });
    await events.next(availability(true), 'online again');
    await marker(bridge, 11);
    expect(setMessages().map((m) => m.payload)).toEqual(['delay 11']);
  });

  it('counts an unexpected availability payload as offline and logs it', async () => {
    const log = recordingLogger();
    await deviceState(1, 2);
    const bridge = bridgeOn(broker.url, { logger: log });
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    await witness.publish(VP.online, 'maybe', { retain: true });
    await events.next(availability(false), 'offline');
    expect(log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'unexpected availability payload: counted as offline' }),
    );
  });

  it('ignores and logs a status payload that does not match its pattern, and keeps the cache intact', async () => {
    const log = recordingLogger();
    await deviceState(-25, 10);
    const bridge = bridgeOn(broker.url, { logger: log });
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    const since = events.mark();
    await witness.publish(VP.genlockStatus, '-25 ten');
    await witness.publish(VP.genlockStatus, 'garbage\u0000');
    await witness.publish(VP.genlockStatus, '7 8');
    await events.next(status({ genlock_phase_h: 7, genlock_phase_v: 8 }), 'the good status after the bad ones');
    // The bad ones produced no event and changed nothing: the only status since is the good one.
    expect(events.events.slice(since)).toEqual([
      { type: 'status', values: { genlock_phase_h: 7, genlock_phase_v: 8 } },
    ]);
    const ignored = log.entries.filter((e) => e.msg === 'status payload ignored');
    expect(ignored).toHaveLength(2);
    expect(ignored[0]?.obj).toMatchObject({ device: 'videoproc', topic: VP.genlockStatus, payload: '-25 ten' });
  });
});

describe('mqtt bridge: oversized and repeated bad statuses', () => {
  it('drops a status over maxPayloadBytes with a warning, unparsed: the value stays, later statuses arrive', async () => {
    const log = recordingLogger();
    await deviceState(-25, 10);
    const bridge = bridgeOn(broker.url, { logger: log, maxPayloadBytes: 1024 });
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    const since = events.mark();
    // Parseable if it were read (two integers): only its size keeps it out.
    const oversized = `7 ${'0'.repeat(2000)}8`;
    await witness.publish(VP.genlockStatus, oversized, { retain: true });
    await witness.publish(VP.genlockStatus, '3 4', { retain: true });
    await events.next(status({ genlock_phase_h: 3, genlock_phase_v: 4 }), 'the normal status after it');
    expect(events.events.slice(since)).toEqual([
      { type: 'status', values: { genlock_phase_h: 3, genlock_phase_v: 4 } },
    ]);
    expect(bridge.linkState).toBe('up');
    expect(log.entries.filter((e) => e.msg === 'payload dropped: larger than maxPayloadBytes')).toEqual([
      {
        level: 'warn',
        msg: 'payload dropped: larger than maxPayloadBytes',
        obj: { device: 'videoproc', topic: VP.genlockStatus, bytes: oversized.length, maxPayloadBytes: 1024 },
      },
    ]);
    expect(log.entries.some((e) => e.msg === 'status payload ignored')).toBe(false);
  });

  it('a retained oversized status does not keep a new connection from coming online', async () => {
    const log = recordingLogger();
    await deviceState(-25, 10);
    await witness.publish(VP.genlockStatus, 'x'.repeat(70_000), { retain: true });
    const bridge = bridgeOn(broker.url, { logger: log });
    expect(await bridge.ready()).toBe(true);
    expect(bridge.snapshot()).not.toHaveProperty('genlock_phase_h');
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        msg: 'payload dropped: larger than maxPayloadBytes',
        obj: expect.objectContaining({ bytes: 70_000, maxPayloadBytes: 65_536 }),
      }),
    );
  });

  it('20,000 malformed statuses: a few warning lines and one summary with the count', async () => {
    const log = recordingLogger();
    await deviceState(-25, 10);
    const bridge = bridgeOn(broker.url, { logger: log, logThrottleMs: 600_000 });
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    for (let i = 0; i < 20_000; i++) witness.client.publish(VP.genlockStatus, `-25 ten${i}`, { qos: 0 });
    await witness.publish(VP.genlockStatus, '7 8');
    // Same connection, in order: every malformed status was read before this one.
    await events.next(status({ genlock_phase_h: 7, genlock_phase_v: 8 }), 'the good status after the flood');
    const ignored = (): typeof log.entries => log.entries.filter((e) => e.msg.startsWith('status payload ignored'));
    expect(ignored().map((e) => e.obj?.payload)).toEqual(['-25 ten0', '-25 ten1']);
    await bridge.close(); // ends the window: its summary now
    expect(ignored()).toHaveLength(3);
    expect(ignored()[2]).toMatchObject({
      level: 'warn',
      msg: 'status payload ignored (and 19,998 more in the last 600 s)',
      obj: { device: 'videoproc', topic: VP.genlockStatus, payload: '-25 ten19999', suppressed: 19_998 },
    });
  });

  it('checks maxPayloadBytes and logThrottleMs like every option', () => {
    expect(() => bridgeOn(broker.url, { maxPayloadBytes: 0 })).toThrow(/maxPayloadBytes/);
    expect(() => bridgeOn(broker.url, { maxPayloadBytes: 65_537 })).toThrow(/maxPayloadBytes/);
    expect(() => bridgeOn(broker.url, { logThrottleMs: -1 })).toThrow(/logThrottleMs/);
  });
});

describe('mqtt bridge: writes', () => {
  it("turns Nagle's algorithm off on its broker socket: small writes and their PUBACKs are not held back", async () => {
    // With it on, a write, its PUBACK and the write coming back on the action topic wait for the
    // peer's delayed ACK: 32 writes in flight went at ~1.4k/s instead of ~15k/s (BENCHMARKS.md figure 5).
    const calls: { port: number | undefined; on: boolean | undefined }[] = [];
    const original = Socket.prototype.setNoDelay;
    Socket.prototype.setNoDelay = function (this: Socket, on?: boolean) {
      calls.push({ port: this.remotePort, on });
      return original.call(this, on);
    };
    cleanups.push(() => (Socket.prototype.setNoDelay = original));
    await deviceState(-25, 10);
    const bridge = bridgeOn(broker.url);
    await recordEvents(bridge).next(availability(true), 'online');
    expect(calls).toContainEqual({ port: broker.port, on: true });
  });

  it('publishes at QoS 1 and resolves accepted only once the broker acknowledged (PUBACK)', async () => {
    await deviceState(-25, 10);
    const bridge = bridgeOn(broker.url);
    await recordEvents(bridge).next(availability(true), 'online');

    let release: (() => void) | undefined;
    const arrived = new Promise<void>((resolve) => {
      broker.broker.authorizePublish = (client, packet, callback) => {
        if (packet.topic === VP.genlockSet) {
          release = () => callback(null);
          resolve();
        } else callback(null);
      };
    });
    let settled = false;
    const outcome = bridge.write('genlock_phase_h', 22, freshestOf(bridge)).then((o) => {
      settled = true;
      return o;
    });
    await arrived;
    // The broker holds the message and has not acknowledged it: the write is not settled.
    expect(settled).toBe(false);
    release?.();
    expect(await outcome).toBe('accepted');
    const seen = await witness.waitFor((m) => m.topic === VP.genlockSet, 'the write');
    expect(seen).toMatchObject({ topic: VP.genlockSet, payload: 'genlock 22 10', qos: 1, retain: false });
  });

  it('writes a composite topic with the fresh value of the other field', async () => {
    await deviceState(-25, 10);
    const bridge = bridgeOn(broker.url);
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    // The hardware changes V; the store's freshest value of V is the device's latest status.
    await witness.publish(VP.genlockStatus, '-25 40', { retain: true });
    await events.next(status({ genlock_phase_v: 40 }), 'V=40');
    expect(await bridge.write('genlock_phase_h', 22, freshestOf(bridge))).toBe('accepted');
    // A write still awaiting its echo wins over the device's status (the store decides; the bridge uses what it is given).
    expect(await bridge.write('genlock_phase_v', 5, (f) => (f === 'genlock_phase_h' ? 22 : null))).toBe('accepted');
    await witness.waitFor((m) => m.payload === 'genlock 22 5', 'the second write');
    expect(setMessages().map((m) => m.payload)).toEqual(['genlock 22 40', 'genlock 22 5']);
  });

  it('refuses (offline) a composite write whose other field is unknown, and publishes nothing', async () => {
    const log = recordingLogger();
    await witness.publish(VP.online, '1', { retain: true });
    const bridge = bridgeOn(broker.url, { logger: log });
    await recordEvents(bridge).next(availability(true), 'online');
    expect(bridge.snapshot()).toEqual({});
    expect(await bridge.write('genlock_phase_h', 22, freshestOf(bridge))).toBe('offline');
    expect(log.entries).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'write not published: its payload cannot be built',
        obj: expect.objectContaining({
          reason: 'field "genlock_phase_v" is not known yet, so the payload cannot be built',
        }),
      }),
    );
    await marker(bridge, 1);
    expect(setMessages().map((m) => m.payload)).toEqual(['delay 1']);
  });

  it('checkWrite refuses a text value carrying its payload separators; write never publishes one', async () => {
    const named = defineDevice({
      id: 'named',
      topics: [{ status: 'n/status', pattern: '{name} {slot}', set: 'n/set', template: 'name {name} {slot}' }],
      fields: { name: { type: 'text', writable: true }, slot: { type: 'integer', writable: true } },
    });
    await witness.client.subscribeAsync('n/#', { qos: 1 });
    await witness.publish('n/status', 'cam1 3', { retain: true });
    const bridge = bridgeOn(broker.url, {}, named);
    // Without an availability topic the device is online as soon as the bridge is subscribed.
    await recordEvents(bridge).next(status({ name: 'cam1', slot: 3 }), 'the retained status');
    expect(bridge.online).toBe(true);
    expect(bridge.checkWrite('name', 'cam 2')).toBe('contains " ", which separates the fields of its payload');
    expect(bridge.checkWrite('name', 'cam2')).toBeUndefined();
    expect(await bridge.write('name', 'cam 2 7', freshestOf(bridge))).toBe('offline');
    expect(await bridge.write('name', 'cam2', freshestOf(bridge))).toBe('accepted');
    await witness.waitFor((m) => m.topic === 'n/set', 'the good write');
    expect(witness.messages.filter((m) => m.topic === 'n/set').map((m) => m.payload)).toEqual(['name cam2 3']);
  });

  it('while the broker is unreachable, writes resolve offline at once and nothing is published later', async () => {
    await deviceState(-25, 10);
    const proxy = await proxied();
    const bridge = bridgeOn(proxy.url('mqtt'));
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');

    proxy.refuse();
    await events.next(availability(false, true), 'offline with reset');
    for (let i = 0; i < 5; i++) expect(await bridge.write('genlock_phase_h', 100 + i, () => 0)).toBe('offline');
    expect(await bridge.write('freeze', true, () => null)).toBe('offline');

    proxy.pass();
    await events.next(availability(true), 'online again');
    await marker(bridge, 2);
    expect(setMessages().map((m) => m.payload)).toEqual(['delay 2']);
  });
});

describe('mqtt bridge: broker connection lost and back', () => {
  it('answers an in-flight write unknown and never publishes it after the reconnect', async () => {
    await deviceState(-25, 10);
    const proxy = await proxied();
    const bridge = bridgeOn(proxy.url('mqtt'));
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');

    // The broker receives the write but never acknowledges it (held in authorizePublish) and the link dies.
    const received: string[] = [];
    let drop: (() => void) | undefined;
    const held = new Promise<void>((resolve) => {
      broker.broker.authorizePublish = (client, packet, callback) => {
        received.push(packet.payload.toString());
        if (packet.topic === VP.genlockSet && !drop) {
          drop = () => callback(new Error('dropped by the test'));
          resolve();
        } else callback(null);
      };
    });
    const outcome = bridge.write('genlock_phase_h', 22, freshestOf(bridge));
    await held;
    proxy.cut();
    expect(await outcome).toBe('unknown');
    drop?.();
    await events.next(availability(false, true), 'offline with reset');
    await events.next(availability(true), 'online again');

    await marker(bridge, 3);
    // mqtt.js would have re-sent "genlock 22 10" from its outgoing store right after reconnecting.
    expect(received).toEqual(['genlock 22 10', 'delay 3']);
    expect(setMessages().map((m) => m.payload)).toEqual(['delay 3']);
  });

  it('goes offline with a reset, then online with a cache rebuilt from retained messages', async () => {
    await deviceState(-25, 10);
    const proxy = await proxied();
    const bridge = bridgeOn(proxy.url('mqtt'));
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');

    proxy.refuse();
    await events.next(availability(false, true), 'offline with reset');
    expect(bridge.online).toBe(false);
    expect(bridge.snapshot()).toEqual({});

    // The hardware changed during the outage.
    await deviceState(30, -4);
    const since = events.mark();
    proxy.pass();
    await events.next(availability(true), 'online again');
    expect(bridge.snapshot()).toEqual({ genlock_phase_h: 30, genlock_phase_v: -4, freeze: false });
    const order = events.events.slice(since).map((e) => e.type);
    // Reported online after the retained statuses arrived: the first resync is complete.
    expect(order.indexOf('availability')).toBeGreaterThan(order.indexOf('status'));
  });

  it('keeps retrying with backoff while the broker is away, quietly after the first warning', async () => {
    const log = recordingLogger();
    await deviceState(1, 1);
    const proxy = await proxied();
    const bridge = bridgeOn(proxy.url('mqtt'), { logger: log });
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    proxy.refuse();
    await events.next(availability(false, true), 'offline');
    // Several refused attempts later it still comes back.
    for (let i = 0; i < 3; i++) await proxy.nextLink();
    proxy.pass();
    await events.next(availability(true), 'online');
    expect(log.entries.filter((e) => e.msg === 'lost the MQTT broker connection; reconnecting')).toHaveLength(1);
    expect(
      log.entries.filter((e) => e.level === 'warn' && e.msg === 'MQTT connection error').length,
    ).toBeLessThanOrEqual(1);
  });
});

describe('mqtt bridge: readiness (the retained state before online)', () => {
  /** The example device without its availability topic: online as soon as the link is up. */
  const withoutAvailability = (): DeviceDescription => {
    const { availability: _ignored, ...rest } = device;
    return rest;
  };

  /** Retained values on every status topic of the example device. */
  async function everyStatus(h: number): Promise<void> {
    await witness.publish(VP.genlockStatus, `${h} 10`, { retain: true });
    await witness.publish(VP.freezeStatus, '1', { retain: true });
    await witness.publish(VP.formatStatus, '2', { retain: true });
    await witness.publish(VP.brightnessStatus, '50', { retain: true });
    await witness.publish(VP.delayStatus, '40', { retain: true });
    await witness.publish(VP.inputStatus, 'SDI 1', { retain: true });
  }

  it('ready() resolves true with every retained value in, online reported after the last status', async () => {
    await everyStatus(-25);
    await witness.publish(VP.online, '1', { retain: true });
    // A settle longer than the test's timeout: only "every topic delivered" can end it.
    const bridge = bridgeOn(broker.url, { settleMs: 60_000, readyTimeoutMs: 60_000 });
    const events = recordEvents(bridge);
    expect(await bridge.ready()).toBe(true);
    expect(bridge.linkState).toBe('up');
    expect(bridge.online).toBe(true);
    expect(bridge.snapshot()).toMatchObject({ genlock_phase_h: -25, freeze: true, input_signal: 'SDI 1' });
    const order = events.events.map((e) => e.type);
    expect(order.filter((t) => t === 'status')).toHaveLength(6);
    expect(order.at(-1)).toBe('availability');
  });

  it('without an availability topic, online only after the retained statuses (not at the SUBACK)', async () => {
    await everyStatus(7);
    const bridge = bridgeOn(broker.url, {}, withoutAvailability());
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    // What a session's resync would carry at that moment.
    expect(bridge.snapshot()).toMatchObject({ genlock_phase_h: 7, genlock_phase_v: 10, audio_delay: 40 });
    expect(await bridge.ready()).toBe(true);
  });

  it('topics without a retained message: up after settleMs without a message', async () => {
    await deviceState(3, 4);
    const bridge = bridgeOn(broker.url, { settleMs: 50, readyTimeoutMs: 60_000 });
    const events = recordEvents(bridge);
    expect(await bridge.ready()).toBe(true);
    expect(bridge.snapshot()).toEqual({ genlock_phase_h: 3, genlock_phase_v: 4, freeze: false });
    expect(events.events.at(-1)).toEqual({ type: 'availability', online: true });
  });

  it('after a broker reconnect, online again only once the retained statuses are back', async () => {
    await everyStatus(1);
    const proxy = await proxied();
    const bridge = bridgeOn(proxy.url('mqtt'), {}, withoutAvailability());
    const events = recordEvents(bridge);
    await events.next(availability(true), 'online');
    proxy.refuse();
    await events.next(availability(false, true), 'offline with reset');
    await everyStatus(2);
    const since = events.mark();
    proxy.pass();
    await events.next(availability(true), 'online again');
    expect(bridge.snapshot()).toMatchObject({ genlock_phase_h: 2, audio_delay: 40 });
    const order = events.events.slice(since).map((e) => e.type);
    expect(order.filter((t) => t === 'status')).toHaveLength(6);
    expect(order.at(-1)).toBe('availability');
  });

  it('ready() resolves false after readyTimeoutMs when the broker cannot be reached', async () => {
    const closed = await startEmbeddedBroker();
    await closed.close(); // a port nothing listens on any more
    const bridge = bridgeOn(closed.url, { readyTimeoutMs: 150 });
    const started = performance.now();
    expect(await bridge.ready()).toBe(false);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(bridge.online).toBe(false);
  });

  it('checks settleMs and readyTimeoutMs like every option', () => {
    expect(() => createMqttBridge(device, { url: broker.url, settleMs: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('"settleMs"') }),
    );
    expect(() => createMqttBridge(device, { url: broker.url, readyTimeoutMs: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('"readyTimeoutMs"') }),
    );
  });
});

describe('mqtt bridge: connecting', () => {
  it('passes credentials through', async () => {
    let refused = 0;
    let refusedTwice: () => void = () => {};
    const retried = new Promise<void>((resolve) => (refusedTwice = resolve));
    broker.broker.authenticate = (client, username, password, done) => {
      const ok = username === 'panel' && password?.toString() === 's3cret';
      if (!ok && ++refused === 2) refusedTwice();
      done(ok ? null : Object.assign(new Error('bad credentials'), { returnCode: 4 as const }), ok);
    };
    await deviceState(1, 2);
    const good = bridgeOn(broker.url, { username: 'panel', password: 's3cret' });
    await recordEvents(good).next(availability(true), 'online');
    expect(good.snapshot()).toMatchObject({ genlock_phase_h: 1 });

    const log = recordingLogger();
    const bad = bridgeOn(broker.url, { username: 'panel', password: 'wrong', logger: log });
    await retried;
    expect(bad.online).toBe(false);
    expect(log.entries).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'MQTT connection error' }));
    expect(bad.snapshot()).toEqual({});
  });

  it('connects over ws://', async () => {
    const http = createServer();
    const wss = new WebSocketServer({ server: http });
    wss.on('connection', (socket) => broker.broker.handle(createWebSocketStream(socket)));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise<void>((resolve) => {
          for (const c of wss.clients) c.terminate();
          wss.close();
          http.close(() => resolve());
        }),
    );
    await deviceState(5, 6);
    const bridge = bridgeOn(`ws://127.0.0.1:${(http.address() as AddressInfo).port}`);
    await recordEvents(bridge).next(availability(true), 'online');
    expect(bridge.snapshot()).toMatchObject({ genlock_phase_h: 5, genlock_phase_v: 6 });
    expect(await bridge.write('freeze', true, freshestOf(bridge))).toBe('accepted');
    await witness.waitFor((m) => m.topic === VP.freezeSet && m.payload === 'freeze 1', 'the write over ws');
  });

  it('connects over mqtts:// with the CA passed through, and refuses an untrusted certificate', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ldf-tls-'));
    const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'];
    args.push(
      '-addext',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    );
    const r = spawnSync('openssl', args, { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl failed (it is needed for this test): ${r.stderr}`);
    const [key, cert] = await Promise.all([readFile(join(dir, 'key.pem')), readFile(join(dir, 'cert.pem'))]);
    const tls = createTlsServer({ key, cert }, (socket) => broker.broker.handle(socket));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => tls.close(() => resolve())));
    const url = `mqtts://127.0.0.1:${(tls.address() as AddressInfo).port}`;
    await deviceState(3, 4);

    const trusted = bridgeOn(url, { ca: cert });
    await recordEvents(trusted).next(availability(true), 'online over TLS');
    expect(trusted.snapshot()).toMatchObject({ genlock_phase_h: 3, genlock_phase_v: 4 });

    const untrusted = bridgeOn(url);
    let refused: () => void = () => {};
    const handshakeFailed = new Promise<void>((resolve) => (refused = resolve));
    tls.on('tlsClientError', () => refused());
    await handshakeFailed;
    expect(untrusted.online).toBe(false);
  });

  it('throws a TypeError for contradictory or missing options', () => {
    expect(() => createMqttBridge(device, {})).toThrow('createMqttBridge needs a broker');
    expect(() => createMqttBridge(device, { url: 'http://x' })).toThrow(TypeError);
    expect(() => createMqttBridge(device, { url: broker.url, mqtt: { clean: false, reconnectPeriod: 5 } })).toThrow(
      'The bridge sets the mqtt.js option(s) "clean", "reconnectPeriod" itself (they prevent late publishes); remove them',
    );
    expect(() => createMqttBridge({ ...device, id: 'bad id' }, { url: broker.url })).toThrow(
      /id: not a valid device id/,
    );
    expect(() => createMqttBridge(device, { url: broker.url, reconnectPeriodMs: 0 })).toThrow(
      'The "reconnectPeriodMs" option must be a number of at least 1, got 0',
    );
  });

  it('its errors carry a stable code, and the renamed time options name their new names', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as { code?: unknown }).code;
      }
      return undefined;
    };
    expect(code(() => createMqttBridge(device, {}))).toBe('ERR_INVALID_OPTION');
    expect(code(() => createMqttBridge(device, { url: broker.url, closeTimeoutMs: -1 }))).toBe('ERR_INVALID_OPTION');
    expect(code(() => createMqttBridge({ ...device, id: 'bad id' }, { url: broker.url }))).toBe(
      'ERR_INVALID_DEVICE_DESCRIPTION',
    );
    const legacy = { url: broker.url, reconnectPeriod: 20 } as MqttBridgeOptions;
    expect(() => createMqttBridge(device, legacy)).toThrow(
      'The "reconnectPeriod" option is now "reconnectPeriodMs" (milliseconds)',
    );
  });

  it('close() is safe twice, stops reconnecting and answers later writes offline', async () => {
    await deviceState(1, 2);
    const bridge = bridgeOn(broker.url);
    await recordEvents(bridge).next(availability(true), 'online');
    await Promise.all([bridge.close(), bridge.close()]);
    expect(bridge.linkState).toBe('closed');
    expect(bridge.online).toBe(false);
    expect(await bridge.write('freeze', true, () => null)).toBe('offline');
  });
});

describe('mqtt bridge: closing', () => {
  it('close() resolves while connecting and while waiting to reconnect to an unreachable broker', async () => {
    const proxy = await proxied();
    proxy.refuse();
    const connecting = bridgeOn(proxy.url('mqtt'));
    expect(connecting.linkState).toBe('connecting');
    await connecting.close();
    expect(connecting.linkState).toBe('closed');

    const waiting = bridgeOn(proxy.url('mqtt'));
    await proxy.nextLink();
    await proxy.nextLink();
    await waiting.close();
    expect(waiting.linkState).toBe('closed');
  });

  it('close() lets a PUBACK on its way arrive (accepted), and answers one that never comes unknown', async () => {
    await deviceState(-25, 10);
    const bridge = bridgeOn(broker.url, { closeTimeoutMs: 100 });
    await recordEvents(bridge).next(availability(true), 'online');
    const held: (() => void)[] = [];
    let heldOne: () => void = () => {};
    const gotOne = new Promise<void>((resolve) => (heldOne = resolve));
    broker.broker.authorizePublish = (client, packet, callback) => {
      held.push(() => callback(null));
      heldOne();
    };
    const first = bridge.write('freeze', true, freshestOf(bridge));
    await gotOne;
    const closing = bridge.close();
    held[0]?.();
    expect(await first).toBe('accepted');
    await closing;

    const other = bridgeOn(broker.url, { closeTimeoutMs: 50 });
    await recordEvents(other).next(availability(true), 'online');
    const second = other.write('freeze', false, freshestOf(other));
    await other.close();
    expect(await second).toBe('unknown');
  });
});

describe('embedded broker', () => {
  it('listens on loopback on a free port, and close() is safe twice', async () => {
    const b = await startEmbeddedBroker();
    expect(b.url).toBe(`mqtt://127.0.0.1:${b.port}`);
    expect(b.port).toBeGreaterThan(0);
    const w = await startWitness(b.url, ['x']);
    await w.publish('x', 'hello');
    await w.waitFor((m) => m.payload === 'hello');
    await w.close();
    await Promise.all([b.close(), b.close()]);
  });

  it('rejects when the port is taken', async () => {
    await expect(startEmbeddedBroker({ port: broker.port })).rejects.toThrow(/EADDRINUSE/);
  });

  it('rejects an invalid port with a coded TypeError', async () => {
    await expect(startEmbeddedBroker({ port: 1.5 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: 'The "port" option must be an integer from 0 to 65535, got 1.5',
    });
  });
});
