/**
 * Devices that come and go (docs/protocol.md, *Devices that come and go*), as pages see them: real
 * `ws` clients on a real HTTP server, a server following an in-memory catalog of MemoryBridges
 * beside its fixed device; and once with real MQTT bridges on the embedded broker.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AckFrame, FieldSchema, ResyncFrame, ServerFrame } from '@live-device-form/protocol';
import {
  type Harness,
  type TestClient,
  genlockDevice,
  makeBridge,
  startServer,
  startWitness,
  stopAll,
  until,
  whenOnline,
} from '@live-device-form/testkit';
import { startEmbeddedBroker } from './embedded-broker.js';
import { MemoryBridge } from './memory-bridge.js';
import { MemoryCatalog } from './memory-catalog.js';
import { silentLogger } from './logger.js';
import { createMqttBridge } from './mqtt-bridge.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];

afterEach(async () => {
  await stopAll();
  for (const c of cleanups.splice(0).reverse()) await c();
});

const LAMP: FieldSchema[] = [{ name: 'level', label: 'Level', type: 'integer', min: 0, max: 100, writable: true }];
const LAMP_2: FieldSchema[] = [...LAMP, { name: 'on', label: 'On', type: 'boolean', writable: true }];

/** A catalog device; closed after the test. */
function lamp(schema = LAMP, options: Partial<ConstructorParameters<typeof MemoryBridge>[0]> = {}): MemoryBridge {
  const bridge = new MemoryBridge({ id: 'lamp', schema, values: { level: 40, on: true }, ...options });
  cleanups.push(() => bridge.close());
  return bridge;
}

const isResync = (f: ServerFrame): boolean => f.type === 'resync';
const isGone = (f: ServerFrame): boolean => f.type === 'device' && f.status === 'gone';

/** A client that said hello for `device`. */
async function hello(h: Harness, device: string, mounts = 0): Promise<TestClient> {
  const client = await h.connect();
  client.hello(mounts, device);
  return client;
}

/** The state of the server's only session for `device`, or of its newest session. */
const sessionState = (h: Harness): string | undefined => h.live.sessions().at(-1)?.state;

describe('hello for an id the server does not know yet', () => {
  it('waits for the catalog to add it, then gets its resync', async () => {
    const catalog = new MemoryCatalog();
    const h = await startServer({ catalogs: [catalog] });
    const client = await hello(h, 'lamp');
    await until(() => sessionState(h) === 'awaiting-device-id');
    // Sets meanwhile are refused guard: nothing is known of the device.
    client.set(1, 'level', 50, 0);
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'guard' });
    catalog.add(lamp());
    const resync = await client.next<ResyncFrame>(isResync);
    expect(resync.schema.map((f) => f.name)).toEqual(['level']);
    expect(resync.fields.level?.value).toBe(40);
    client.set(2, 'level', 50, resync.fields.level?.rev as number);
    expect(await client.ack(2)).toEqual({ type: 'ack', id: 2, status: 'accepted' });
  });

  it('is refused with 4404 once readyTimeoutMs has passed since the hello', async () => {
    // Only readyTimeoutMs can end the wait here (the hello deadline is far off).
    const h = await startServer({ catalogs: [new MemoryCatalog()], readyTimeoutMs: 150, helloTimeoutMs: 60_000 });
    const client = await hello(h, 'nobody');
    const started = performance.now();
    await until(() => sessionState(h) === 'awaiting-device-id');
    const closed = await client.closed;
    expect(closed.code).toBe(4404);
    // Timers never fire early; the ceiling is left to the test timeout (a loaded machine is slow).
    expect(performance.now() - started).toBeGreaterThanOrEqual(100);
    expect(client.frames).toContainEqual({
      type: 'error',
      code: 'unknown-device',
      message: 'unknown device "nobody" (not added in time)',
    });
  });

  it('without catalogs, an unknown id is refused at once', async () => {
    const h = await startServer({ readyTimeoutMs: 60_000 });
    const client = await hello(h, 'nobody');
    expect((await client.closed).code).toBe(4404);
    expect(client.frames).toContainEqual({ type: 'error', code: 'unknown-device', message: 'unknown device "nobody"' });
  });

  it('the hello deadline (helloTimeoutMs) ends the wait too: 4404, not 4408', async () => {
    const h = await startServer({ catalogs: [new MemoryCatalog()], readyTimeoutMs: 60_000, helloTimeoutMs: 200 });
    const client = await hello(h, 'nobody');
    await until(() => sessionState(h) === 'awaiting-device-id');
    expect((await client.closed).code).toBe(4404);
  });

  it('a drain ends the wait cleanly: 1001', async () => {
    const h = await startServer({ catalogs: [new MemoryCatalog()], readyTimeoutMs: 60_000 });
    const client = await hello(h, 'nobody');
    await until(() => sessionState(h) === 'awaiting-device-id');
    await h.live.drain({ timeoutMs: 0 });
    expect((await client.closed).code).toBe(1001);
    expect(client.frames.filter((f) => f.type === 'error')).toEqual([]);
  });
});

describe('a device replaced (new schema)', () => {
  it('its pages get a fresh resync with the new schema; a set from the old revision is stale', async () => {
    const catalog = new MemoryCatalog({ devices: [lamp()] });
    const h = await startServer({ catalogs: [catalog] });
    const client = await hello(h, 'lamp');
    const first = await client.next<ResyncFrame>(isResync);
    const oldRev = first.fields.level?.rev as number;
    catalog.add(lamp(LAMP_2, { values: { level: 40, on: false } }));
    const second = await client.next<ResyncFrame>(isResync);
    expect(second.schema.map((f) => f.name)).toEqual(['level', 'on']);
    expect(second.epoch).toBe(first.epoch);
    expect(second.fields.level?.rev).toBeGreaterThan(oldRev);
    client.set(1, 'level', 60, oldRev);
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'stale', field: 'level', value: 40 });
    client.set(2, 'on', true, second.fields.on?.rev as number);
    expect(await client.ack(2)).toEqual({ type: 'ack', id: 2, status: 'accepted' });
    expect(client.frames.filter(isResync)).toHaveLength(2);
  });

  it("the fresh resync waits for the new bridge's state (readiness), not a form of nulls; sets meanwhile are guard", async () => {
    const catalog = new MemoryCatalog({ devices: [lamp()] });
    const h = await startServer({ catalogs: [catalog] });
    const client = await hello(h, 'lamp');
    const first = await client.next<ResyncFrame>(isResync);
    // A replacement whose retained state has not arrived yet: its values are unknown until setReady.
    const next = lamp(LAMP_2, { values: { level: 40, on: false }, ready: false });
    catalog.add(next);
    await until(() => sessionState(h) === 'awaiting-device');
    client.set(1, 'level', 60, first.fields.level?.rev as number);
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'guard' });
    expect(client.frames.filter(isResync)).toHaveLength(1);
    next.setReady();
    const second = await client.next<ResyncFrame>(isResync);
    expect(second.schema.map((f) => f.name)).toEqual(['level', 'on']);
    expect(second.fields.on?.value).toBe(false);
  });

  it('a write in flight on the old bridge still gets its ack', async () => {
    const old = lamp();
    old.writeBehaviour = 'hang';
    const catalog = new MemoryCatalog({ devices: [old] });
    const h = await startServer({ catalogs: [catalog] });
    const client = await hello(h, 'lamp');
    const first = await client.next<ResyncFrame>(isResync);
    client.set(1, 'level', 70, first.fields.level?.rev as number);
    await until(() => old.hanging === 1);
    catalog.add(lamp(LAMP_2));
    await client.next(isResync);
    old.release();
    expect(await client.ack(1)).toEqual({ type: 'ack', id: 1, status: 'accepted' });
    expect(h.live.stats()).toMatchObject({ sets: 1, acks: 1, writesInFlight: 0 });
  });

  it('a session inside its reconnect guard keeps it: one resync, with the new schema, when the guard ends', async () => {
    const catalog = new MemoryCatalog({ devices: [lamp()] });
    const h = await startServer({ catalogs: [catalog], guardMs: 300 });
    const client = await hello(h, 'lamp', 1);
    await until(() => sessionState(h) === 'guarded');
    catalog.add(lamp(LAMP_2));
    expect(sessionState(h)).toBe('guarded');
    client.set(1, 'level', 60, 0);
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'guard' });
    const resync = await client.next<ResyncFrame>(isResync);
    expect(resync.schema.map((f) => f.name)).toEqual(['level', 'on']);
    await client.roundTrip();
    expect(client.frames.filter(isResync)).toHaveLength(1);
  });
});

describe('a device removed', () => {
  it('its pages get device gone and stay connected; sets are refused offline; a page that comes back is told gone; re-added, all resync', async () => {
    const catalog = new MemoryCatalog({ devices: [lamp()] });
    const h = await startServer({ catalogs: [catalog] });
    const client = await hello(h, 'lamp');
    const first = await client.next<ResyncFrame>(isResync);
    catalog.remove('lamp');
    await client.next(isGone);
    await client.roundTrip(); // still connected
    client.set(1, 'level', 60, first.fields.level?.rev as number);
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'offline' });
    expect(h.live.sessions()[0]).toMatchObject({ state: 'gone', device: 'lamp' });

    // A page that (re)connects now: its hello is answered `device gone`, no resync, no 4404.
    const again = await hello(h, 'lamp', 1);
    await again.next(isGone);
    await again.roundTrip();
    expect(again.frames.map((f) => f.type)).toEqual(['device', 'pong']);

    catalog.add(lamp(LAMP, { values: { level: 55 } }));
    const back = await client.next<ResyncFrame>(isResync);
    expect(back.fields.level).toMatchObject({ value: 55 });
    expect(back.fields.level?.rev).toBeGreaterThan(first.fields.level?.rev as number);
    expect((await again.next<ResyncFrame>(isResync)).fields.level?.value).toBe(55);
    client.set(2, 'level', 61, back.fields.level?.rev as number);
    expect(await client.ack(2)).toEqual({ type: 'ack', id: 2, status: 'accepted' });
    expect(client.frames.filter((f) => f.type === 'error')).toEqual([]);
  });

  it('the fixed device is not touched by a catalog reporting its id', async () => {
    const catalog = new MemoryCatalog();
    const h = await startServer({ catalogs: [catalog] });
    const { client, resync } = await h.join();
    catalog.add(new MemoryBridge({ id: 'videoproc', schema: LAMP, values: { level: 1 } }));
    catalog.remove('videoproc');
    await client.roundTrip();
    expect(client.frames.filter((f) => f.type !== 'pong')).toEqual([resync]);
    expect(h.log.entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: 'catalog device refused: its id is served by a device of the "devices" option',
      }),
    );
  });
});

describe('health and ready() with catalogs', () => {
  it('starting until every catalog is ready; then ready, with the catalog’s devices in the report', async () => {
    const catalog = new MemoryCatalog({ ready: false });
    const h = await startServer({ catalogs: [catalog] });
    expect(h.live.health()).toEqual({ state: 'starting', notReady: [] });
    let reported = false;
    const ready = h.live.ready().then((r) => ((reported = true), r));
    catalog.add(lamp(LAMP, { ready: false }));
    expect(h.live.health()).toEqual({ state: 'starting', notReady: ['lamp'] });
    catalog.setReady();
    await catalog.ready();
    await new Promise((resolve) => setImmediate(resolve)); // the server has heard it
    // The catalog is ready; the device it reported while starting is still waited for.
    expect(h.live.health().state).toBe('starting');
    expect(reported).toBe(false);
    (catalog.devices()[0] as MemoryBridge).setReady();
    expect(await ready).toEqual({ ready: true, notReady: [] });
    expect(h.live.health()).toEqual({ state: 'ready', notReady: [] });
  });

  it('a catalog that never says ready holds health at starting for readyTimeoutMs only', async () => {
    const h = await startServer({ catalogs: [new MemoryCatalog({ ready: false })], readyTimeoutMs: 100 });
    expect(h.live.health().state).toBe('starting');
    expect(await h.live.ready()).toEqual({ ready: false, notReady: [] });
    expect(h.live.health().state).toBe('ready');
  });

  it('the catalogs option is checked like every option', async () => {
    await expect(startServer({ catalogs: [{} as MemoryCatalog] })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTION',
      message: 'The "catalogs" option must hold DeviceCatalog objects (devices, subscribe, ready)',
    });
  });
});

describe('over MQTT', () => {
  it('a real MQTT bridge added at run time serves its page and its writes; removed, the page is told gone', async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    cleanups.push(() => broker.close());
    const prefix = `catalog-${process.pid}`;
    const witness = await startWitness(broker.url, [`${prefix}/set/#`]);
    cleanups.push(() => witness.close());
    await witness.publish(`${prefix}/status/phase`, '1 2', { retain: true });
    await witness.publish(`${prefix}/status/name`, 'cam', { retain: true });
    await witness.publish(`${prefix}/online`, '1', { retain: true });
    const catalog = new MemoryCatalog();
    const h = await startServer({ devices: [makeBridge()], catalogs: [catalog] });
    const client = await hello(h, 'genlock');
    await until(() => sessionState(h) === 'awaiting-device-id');

    const bridge = createMqttBridge(genlockDevice(prefix), { url: broker.url, logger: silentLogger });
    cleanups.push(() => bridge.close());
    catalog.add(bridge);
    const resync = await client.next<ResyncFrame>(isResync);
    expect(resync.fields.h?.value).toBe(1);
    await whenOnline(bridge);
    if (resync.device !== 'online') await client.next(isResync);
    const rev = client.frames.filter(isResync).at(-1) as ResyncFrame;
    client.set(1, 'h', 7, rev.fields.h?.rev as number);
    expect(await client.ack(1)).toEqual<AckFrame>({ type: 'ack', id: 1, status: 'accepted' });
    await witness.waitFor((m) => m.payload === 'genlock 7 2', 'the page’s write');

    catalog.remove('genlock');
    await bridge.close(); // the catalog's to close, after it reported the removal
    await client.next(isGone);
    client.set(2, 'h', 8, rev.fields.h?.rev as number);
    expect(await client.ack(2)).toMatchObject({ status: 'rejected', reason: 'offline' });
    expect(witness.messages.map((m) => m.payload)).toEqual(['genlock 7 2']);
  });
});
