/**
 * The drain of a rolling restart (docs/protocol.md, *Shutdown and drain*): writes in flight when it
 * begins finish and are acked as the broker says (or `unknown` once the bound passes), sets that
 * arrive meanwhile are refused and never reach the broker, upgrades are refused 503, the health
 * check says 503, and only then do the sessions close with 1001. Real pieces: an embedded aedes
 * broker that holds the writes' publishes (no PUBACK) until the test releases them, the MQTT
 * bridge, the SDK on a real HTTP server on loopback, real `ws` pages and a witness subscriber.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResyncFrame } from '@live-device-form/protocol';
import { loadDeviceFile } from './device/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { healthHandler } from './health.js';
import { silentLogger } from './logger.js';
import { createMqttBridge } from './mqtt-bridge.js';
import type { LiveDeviceServerOptions } from './options.js';
import { createLiveDeviceServer } from './server.js';
import {
  type HeldPublishes,
  TestClient,
  VIDEOPROC_FILE,
  VP,
  holdPublishes,
  startWitness,
  type Witness,
  whenOnline,
} from '@live-device-form/testkit';

const H = 'genlock_phase_h';
let broker: EmbeddedBroker;
let witness: Witness;
let held: HeldPublishes;
/**
 * The write publishes the broker received and the acks the pages received, in the order it
 * happened: broker, server and pages share this process, so this order is the real one.
 */
let order: string[];
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeEach(async () => {
  broker = await startEmbeddedBroker();
  witness = await startWitness(broker.url, ['cy-vp4/#']);
  await witness.publish(VP.online, '1', { retain: true });
  await witness.publish(VP.genlockStatus, '-25 10', { retain: true });
  await witness.publish(VP.brightnessStatus, '50', { retain: true });
  await witness.publish(VP.delayStatus, '40', { retain: true });
  order = [];
  held = holdPublishes(
    broker,
    (topic) => WRITES.some((w) => w.topic === topic),
    (p) => {
      if (WRITES.some((w) => w.topic === p.topic)) order.push(`published ${p.payload}`);
    },
  );
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await witness.close();
  await broker.close();
});

/** The SDK, its MQTT bridge and an HTTP server answering `GET /healthz` with `healthHandler`. */
async function serve(options: Partial<LiveDeviceServerOptions> = {}) {
  const bridge = createMqttBridge(await loadDeviceFile(VIDEOPROC_FILE), { url: broker.url, logger: silentLogger });
  const live = createLiveDeviceServer({ devices: [bridge], logger: silentLogger, ...options });
  const health = healthHandler(live);
  const server = http.createServer((req, res) =>
    req.url === '/healthz' ? health(req, res) : res.writeHead(404).end(),
  );
  live.attach(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  await whenOnline(bridge);
  await live.ready();
  cleanups.push(async () => {
    await live.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await bridge.close();
  });
  const port = (server.address() as AddressInfo).port;
  return { live, port, url: `ws://127.0.0.1:${port}/live` };
}

/** A page past its resync; its acks go into {@link order} as `ack NAME:ID STATUS`. */
async function page(url: string, name = 'p', field = H): Promise<{ client: TestClient; rev: number }> {
  const client = await TestClient.connect(url);
  cleanups.push(() => client.ws.terminate());
  client.ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as { type: string; id?: number; status?: string };
    if (frame.type === 'ack') order.push(`ack ${name}:${frame.id} ${frame.status}`);
  });
  client.hello(0, 'videoproc');
  const resync = await client.next<ResyncFrame>((f) => f.type === 'resync' && f.device === 'online', 5000);
  return { client, rev: resync.fields[field]?.rev ?? 0 };
}

/** `GET /healthz`: status, cache-control and body. */
async function healthz(port: number): Promise<{ status: number; cache: string | null; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: res.status, cache: res.headers.get('cache-control'), body: await res.text() };
}

/** A WebSocket upgrade by hand, for the refusal's headers. */
function upgrade(port: number): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.get({
      host: '127.0.0.1',
      port,
      path: '/live',
      headers: {
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'sec-websocket-version': '13',
        'sec-websocket-protocol': 'ldf.v1',
      },
    });
    req.on('response', (res) => {
      res.resume();
      resolve(res);
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve(res);
    });
    req.on('error', reject);
  });
}

/** The genlock payload a write of H = `h` publishes (V stays 10). */
const payload = (h: number): string => `genlock ${h} 10`;

/**
 * One field per page where several pages write at once: a write from a revision while another
 * session's write to that field awaits its echo is stale (docs/protocol.md rule 3).
 */
const WRITES = [
  { field: H, topic: VP.genlockSet, payload },
  { field: 'brightness', topic: VP.brightnessSet, payload: (v: number) => `brightness ${v.toFixed(1)}` },
  { field: 'audio_delay', topic: VP.delaySet, payload: (v: number) => `delay ${v}` },
] as const;

/** Sends a fresh write through the witness's own link and waits for it: the broker has handled everything before. */
async function brokerBarrier(): Promise<void> {
  const mark = witness.mark();
  await witness.publish('cy-vp4/barrier', String(mark));
  await witness.waitFor((m) => m.topic === 'cy-vp4/barrier' && m.payload === String(mark), 'the barrier', {
    from: mark,
  });
}

describe('drain: writes in flight', () => {
  it('writes in flight when the drain begins are published and acked as the broker says, then the sessions close with 1001', async () => {
    const s = await serve();
    const pages = await Promise.all(WRITES.map((w, i) => page(s.url, `p${i}`, w.field)));
    for (const [i, p] of pages.entries()) {
      p.client.set(1, WRITES[i]!.field, i * 10 + 1, p.rev);
      p.client.set(2, WRITES[i]!.field, i * 10 + 2, p.rev);
    }
    await held.whenHeld(6);
    const drained = s.live.drain();
    expect(s.live.stats().writesInFlight).toBe(6);
    // The sessions still run (a ping is answered) and nothing is acked or closed: the PUBACKs have not come.
    await pages[0]?.client.roundTrip();
    expect(order.filter((e) => e.startsWith('ack'))).toEqual([]);

    held.release();
    expect(await drained).toEqual({ writesInFlight: 6, answeredUnknown: 0, setsRefused: 0 });
    for (const [i, p] of pages.entries()) {
      expect(p.client.acksFor(1)).toEqual([{ type: 'ack', id: 1, status: 'accepted' }]);
      expect(p.client.acksFor(2)).toEqual([{ type: 'ack', id: 2, status: 'accepted' }]);
      expect((await p.client.closed).code).toBe(1001);
      for (const id of [1, 2]) {
        // Published (the broker had it) before its ack reached the page; the witness checks delivery below.
        const published = order.indexOf(`published ${WRITES[i]!.payload(i * 10 + id)}`);
        expect(published).toBeGreaterThanOrEqual(0);
        expect(published).toBeLessThan(order.indexOf(`ack p${i}:${id} accepted`));
      }
    }
    expect(s.live.stats()).toMatchObject({ sets: 6, acks: 6, undeliveredAcks: 0, writesInFlight: 0 });
    const seen = witness.messages.filter((m) => WRITES.some((w) => w.topic === m.topic)).map((m) => m.payload);
    expect(seen.sort()).toEqual(WRITES.flatMap((w, i) => [1, 2].map((id) => w.payload(i * 10 + id))).sort());
  });

  it('a set that arrives during the drain is rejected offline and never reaches the broker', async () => {
    const s = await serve();
    const { client, rev } = await page(s.url);
    client.set(1, H, 1, rev);
    await held.whenHeld(1);
    const drained = s.live.drain();
    client.set(2, H, 99, rev);
    expect(await client.ack(2)).toEqual({
      type: 'ack',
      id: 2,
      status: 'rejected',
      reason: 'offline',
      message: 'server shutting down: not written; reconnect to write',
      field: H,
      value: -25,
      rev,
    });
    held.release();
    expect(await client.ack(1)).toEqual({ type: 'ack', id: 1, status: 'accepted' });
    expect((await client.closed).code).toBe(1001);
    expect(await drained).toEqual({ writesInFlight: 1, answeredUnknown: 0, setsRefused: 1 });
    await brokerBarrier();
    const received = held.received.filter((p) => p.topic === VP.genlockSet).map((p) => p.payload);
    expect(received).toEqual([payload(1)]);
    expect(witness.messages.filter((m) => m.topic === VP.genlockSet).map((m) => m.payload)).toEqual([payload(1)]);
  });

  it('close() drains too: a write in flight is acked before the 1001', async () => {
    const s = await serve();
    const { client, rev } = await page(s.url);
    client.set(1, H, 7, rev);
    await held.whenHeld(1);
    const closing = s.live.close();
    expect(s.live.health().state).toBe('draining');
    held.release();
    await closing;
    expect(client.acksFor(1)).toEqual([{ type: 'ack', id: 1, status: 'accepted' }]);
    expect((await client.closed).code).toBe(1001);
  });
});

describe('drain: the bound', () => {
  it('writes still in flight when the bound passes are answered unknown before the 1001; nothing is published after its ack', async () => {
    const s = await serve();
    const { client, rev } = await page(s.url);
    client.set(1, H, 1, rev);
    client.set(2, H, 2, rev);
    await held.whenHeld(2);
    // The broker never acknowledges them (nor delivers them) while the test runs.
    expect(await s.live.drain({ timeoutMs: 200 })).toEqual({ writesInFlight: 2, answeredUnknown: 2, setsRefused: 0 });
    expect(client.acksFor(1)).toEqual([{ type: 'ack', id: 1, status: 'unknown' }]);
    expect(client.acksFor(2)).toEqual([{ type: 'ack', id: 2, status: 'unknown' }]);
    expect((await client.closed).code).toBe(1001);
    await brokerBarrier();
    // The broker got both before their acks, and (holding them) delivered neither.
    expect(order).toEqual([`published ${payload(1)}`, `published ${payload(2)}`, 'ack p:1 unknown', 'ack p:2 unknown']);
    expect(witness.messages.filter((m) => m.topic === VP.genlockSet)).toEqual([]);
    expect(s.live.stats()).toMatchObject({ sets: 2, acks: 2 });
  });

  it('a second drain() with a shorter timeoutMs brings the bound forward (the CLI second signal)', async () => {
    // Without the shorter call this drain would wait ten minutes: the test would time out.
    const s = await serve({ drainTimeoutMs: 600_000 });
    const { client, rev } = await page(s.url);
    client.set(1, H, 1, rev);
    await held.whenHeld(1);
    const first = s.live.drain();
    await client.roundTrip();
    const second = s.live.drain({ timeoutMs: 0 });
    expect(second).toBe(first);
    expect(await second).toEqual({ writesInFlight: 1, answeredUnknown: 1, setsRefused: 0 });
    expect(client.acksFor(1)).toEqual([{ type: 'ack', id: 1, status: 'unknown' }]);
    expect((await client.closed).code).toBe(1001);
  });

  it('checks timeoutMs and drainTimeoutMs like every option', async () => {
    const s = await serve();
    expect(() => s.live.drain({ timeoutMs: -1 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: 'The "timeoutMs" option must be a number from 0 to 2147483647, got -1',
      }),
    );
    const bridge = createMqttBridge(await loadDeviceFile(VIDEOPROC_FILE), { url: broker.url, logger: silentLogger });
    cleanups.push(() => bridge.close());
    expect(() => createLiveDeviceServer({ devices: [bridge], drainTimeoutMs: Number.NaN })).toThrow(
      /The "drainTimeoutMs" option must be a number from 0 to 2147483647/,
    );
  });
});

describe('drain: what the balancer sees', () => {
  it('health is 200 until the drain, 503 at once when it begins and after; upgrades are refused 503 with Retry-After', async () => {
    const s = await serve();
    expect(await healthz(s.port)).toEqual({ status: 200, cache: 'no-store', body: 'ready\n' });
    const { client, rev } = await page(s.url);
    client.set(1, H, 1, rev);
    await held.whenHeld(1);
    const drained = s.live.drain();
    expect(await healthz(s.port)).toEqual({ status: 503, cache: 'no-store', body: 'draining\n' });
    const refused = await upgrade(s.port);
    expect(refused.statusCode).toBe(503);
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.headers.connection).toBe('close');
    expect(s.live.sessionCount).toBe(1);
    held.release();
    await drained;
    expect(await healthz(s.port)).toEqual({ status: 503, cache: 'no-store', body: 'closed\n' });
    expect(client.acksFor(1)).toEqual([{ type: 'ack', id: 1, status: 'accepted' }]);
  });
});

describe('drain: the announcement (drainDelayMs)', () => {
  it('says draining to the balancer at once while upgrades and writes are served as before; a second drain() cuts it short', async () => {
    // Without the second call this announcement would last ten minutes: the test would time out.
    const s = await serve({ drainDelayMs: 600_000 });
    held.stop();
    const before = await page(s.url, 'before');
    const drained = s.live.drain();
    expect(await healthz(s.port)).toEqual({ status: 503, cache: 'no-store', body: 'draining\n' });
    // A page still gets in (the balancer has not taken the server out yet), and writes go through.
    const after = await page(s.url, 'after');
    after.client.set(1, H, 7, after.rev);
    expect(await after.client.ack(1)).toMatchObject({ status: 'accepted' });
    await witness.waitFor((m) => m.topic === VP.genlockSet && m.payload === payload(7), 'the write');
    expect(s.live.sessionCount).toBe(2);

    // The drain proper: the sessions close with 1001, upgrades are refused from then on.
    expect(s.live.drain({ timeoutMs: 0 })).toBe(drained);
    expect(await drained).toEqual({ writesInFlight: 0, answeredUnknown: 0, setsRefused: 0 });
    expect((await before.client.closed).code).toBe(1001);
    expect((await after.client.closed).code).toBe(1001);
  });

  it('ends by itself after drainDelayMs, and drain({ delayMs: 0 }) skips it', async () => {
    const s = await serve({ drainDelayMs: 20 });
    const { client } = await page(s.url);
    expect(await s.live.drain()).toEqual({ writesInFlight: 0, answeredUnknown: 0, setsRefused: 0 });
    expect((await client.closed).code).toBe(1001);

    const t = await serve({ drainDelayMs: 600_000 });
    const other = await page(t.url);
    // Without delayMs 0 this drain would wait ten minutes.
    await t.live.drain({ delayMs: 0 });
    expect((await other.client.closed).code).toBe(1001);
  });

  it('checks delayMs and drainDelayMs like every option', async () => {
    const s = await serve();
    expect(() => s.live.drain({ delayMs: -1 })).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_OPTION',
        message: 'The "delayMs" option must be a number from 0 to 2147483647, got -1',
      }),
    );
    const bridge = createMqttBridge(await loadDeviceFile(VIDEOPROC_FILE), { url: broker.url, logger: silentLogger });
    cleanups.push(() => bridge.close());
    expect(() => createLiveDeviceServer({ devices: [bridge], drainDelayMs: 1.5e10 })).toThrow(
      /The "drainDelayMs" option must be a number from 0 to 2147483647/,
    );
  });
});
