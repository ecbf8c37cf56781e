/**
 * Readiness: a session's first resync waits for its device's state (docs/protocol.md, Lifecycle:
 * readiness), bounded by `readyTimeoutMs`; `LiveDeviceServer.ready()` reports the devices that were
 * not ready. Real `ws` clients on a real HTTP server; the device is a MemoryBridge held not ready,
 * or the MQTT bridge against a broker that cannot be reached.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AckFrame, ResyncFrame } from '@live-device-form/protocol';
import { startEmbeddedBroker } from './embedded-broker.js';
import { loadDeviceFile } from './device/index.js';
import { silentLogger } from './logger.js';
import { createMqttBridge } from './mqtt-bridge.js';
import { createLiveDeviceServer } from './server.js';
import { VIDEOPROC_FILE, makeBridge, startServer, stopAll, type TestClient, until } from '@live-device-form/testkit';

const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  await stopAll();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const H = 'genlock_phase_h';
const isResync = (f: { type: string }): boolean => f.type === 'resync';

/** Sends a set (from revision `rev`) and returns its ack. */
async function trySet(client: TestClient, id: number, rev = 0): Promise<AckFrame> {
  client.set(id, H, 5, rev);
  return client.ack(id);
}

describe('first resync waits for the device', () => {
  it('goes out once the bridge is ready, with the values of that moment; sets before are guard', async () => {
    const bridge = makeBridge({ ready: false, values: {} });
    const h = await startServer({ bridge });
    const client = await h.connect();
    client.hello(0);
    // Its ack comes after the hello was handled: the session is waiting for the device.
    expect(await trySet(client, 1)).toMatchObject({
      status: 'rejected',
      reason: 'guard',
      message: 'device state not in yet: wait for resync',
    });
    expect(h.live.sessions()[0]?.state).toBe('awaiting-device');
    bridge.setStatus({ [H]: -25, genlock_phase_v: 10 });
    await client.roundTrip();
    expect(client.frames.filter(isResync)).toEqual([]);

    bridge.setReady();
    const resync = await client.next<ResyncFrame>(isResync);
    expect(resync.fields[H]?.value).toBe(-25);
    expect(resync.device).toBe('online');
    expect(client.frames.filter((f) => f.type === 'update')).toEqual([]);
    expect(await trySet(client, 2, resync.fields[H]?.rev)).toEqual({ type: 'ack', id: 2, status: 'accepted' });
    expect(await h.live.ready()).toEqual({ ready: true, notReady: [] });
    expect(bridge.writes.map((w) => w.value)).toEqual([5]);
  });

  it('a reconnect (mounts > 0): the resync goes out when both the guard has ended and the device is ready', async () => {
    const bridge = makeBridge({ ready: false });
    const h = await startServer({ bridge, guardMs: 100 });
    const client = await h.connect();
    client.hello(3);
    expect(await trySet(client, 1)).toMatchObject({ reason: 'guard', message: 'reconnect guard: wait for resync' });
    // The guard ends; the device is still not ready: no resync.
    await until(() => h.live.sessions()[0]?.state === 'awaiting-device');
    await client.roundTrip();
    expect(client.frames.filter(isResync)).toEqual([]);
    expect(await trySet(client, 2)).toMatchObject({
      reason: 'guard',
      message: 'device state not in yet: wait for resync',
    });
    bridge.setReady();
    await client.next(isResync);

    // Ready first: the guard still holds the resync for its full length.
    const early = await h.connect();
    const started = performance.now();
    early.hello(1);
    await early.next(isResync);
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
  });

  it('after readyTimeoutMs the resync goes out with what is known; ready() names the device', async () => {
    const bridge = makeBridge({ ready: false, values: {} });
    const h = await startServer({ bridge, readyTimeoutMs: 200 });
    const { client, resync } = await h.join(0);
    expect(resync.fields[H]).toEqual({ value: null, rev: 0 });
    expect(await h.live.ready()).toEqual({ ready: false, notReady: ['videoproc'] });
    expect(h.log.entries).toContainEqual(
      expect.objectContaining({ level: 'warn', msg: 'device not ready in time: first resyncs carry what is known' }),
    );
    // Ready later: nothing more to wait for; values arrive as updates.
    bridge.setReady();
    bridge.setStatus({ [H]: 4 });
    expect(await client.next((f) => f.type === 'update')).toMatchObject({ field: H, value: 4 });
  });

  it('a bridge without ready() is ready at once', async () => {
    const bridge = makeBridge();
    const plain = Object.assign(Object.create(bridge) as typeof bridge, { ready: undefined });
    const live = createLiveDeviceServer({ devices: [plain], logger: silentLogger });
    cleanups.push(() => live.close());
    expect(await live.ready()).toEqual({ ready: true, notReady: [] });
  });

  it('readyTimeoutMs is checked like every option', () => {
    expect(() => createLiveDeviceServer({ devices: [makeBridge()], readyTimeoutMs: -5 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringContaining('"readyTimeoutMs"') }),
    );
  });
});

describe('readiness over MQTT', () => {
  it('broker unreachable: ready() resolves after the bound naming the device; sets before are guard', async () => {
    const gone = await startEmbeddedBroker();
    await gone.close(); // nothing listens on its port any more
    const bridge = createMqttBridge(await loadDeviceFile(VIDEOPROC_FILE), {
      url: gone.url,
      logger: silentLogger,
      readyTimeoutMs: 60_000, // the server's bound is the one that ends the wait here
    });
    cleanups.push(() => bridge.close());
    const h = await startServer({ devices: [bridge], readyTimeoutMs: 400 });
    const started = performance.now();
    const client = await h.connect();
    client.hello(0);
    expect(await trySet(client, 1)).toMatchObject({ status: 'rejected', reason: 'guard' });
    expect(await h.live.ready()).toEqual({ ready: false, notReady: ['videoproc'] });
    expect(performance.now() - started).toBeGreaterThanOrEqual(350);
    const resync = await client.next<ResyncFrame>(isResync);
    expect(resync.device).toBe('offline');
    expect(resync.fields[H]?.value).toBeNull();
    expect(await trySet(client, 2)).toMatchObject({ status: 'rejected', reason: 'forbidden' });
  });
});
