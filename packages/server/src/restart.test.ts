/**
 * Revisions across a server restart (docs/protocol.md rule 3): a page that held a value before the
 * server restarted must not write from it afterwards, even when the new process's revision of the
 * device's newer value is the very number the page holds. Real pieces: an embedded aedes broker,
 * the MQTT bridge, a WebSocket server on loopback, and a witness subscriber that sees what reached
 * the broker.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ResyncFrame } from '@live-device-form/protocol';
import { loadDeviceFile } from './device/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { silentLogger } from './logger.js';
import { createMqttBridge } from './mqtt-bridge.js';
import { type LiveDeviceServerOptions } from './options.js';
import { createLiveDeviceServer } from './server.js';
import { TestClient, VIDEOPROC_FILE, VP, startWitness, type Witness, whenOnline } from '@live-device-form/testkit';

const H = 'genlock_phase_h';
let broker: EmbeddedBroker;
let witness: Witness;
const cleanups: (() => Promise<unknown> | unknown)[] = [];

beforeEach(async () => {
  broker = await startEmbeddedBroker();
  witness = await startWitness(broker.url, ['cy-vp4/#']);
  await witness.publish(VP.online, '1', { retain: true });
  await witness.publish(VP.genlockStatus, '-25 10', { retain: true });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await witness.close();
  await broker.close();
});

/** One run of the server: SDK, MQTT bridge and HTTP server; `stop()` is the process ending. */
async function serverRun(port: number, options: Partial<LiveDeviceServerOptions> = {}) {
  const bridge = createMqttBridge(await loadDeviceFile(VIDEOPROC_FILE), { url: broker.url, logger: silentLogger });
  const live = createLiveDeviceServer({ devices: [bridge], logger: silentLogger, ...options });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  live.attach(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await whenOnline(bridge);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await live.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await bridge.close();
  };
  cleanups.push(stop);
  return { live, port: (server.address() as AddressInfo).port, stop };
}

/**
 * Sends a fresh write and waits for the broker to have it: a write refused before it would have
 * reached the broker first, so `witness.since(mark)` now shows everything that was published.
 */
async function barrier(client: TestClient, id: number, rev: number, value: number): Promise<void> {
  client.set(id, H, value, rev);
  expect(await client.ack(id, 5000)).toMatchObject({ status: 'accepted' });
  await witness.waitFor((m) => m.topic === VP.genlockSet && m.payload === `genlock ${value} 10`, 'the fresh write');
}

/** The set messages published since `mark`. */
const published = (mark: number): string[] =>
  witness
    .since(mark)
    .filter((m) => m.topic === VP.genlockSet)
    .map((m) => m.payload);

async function page(port: number, mounts = 0): Promise<{ client: TestClient; resync: ResyncFrame }> {
  const client = await TestClient.connect(`ws://127.0.0.1:${port}/live`);
  cleanups.push(() => client.ws.terminate());
  client.hello(mounts, 'videoproc');
  const resync = await client.next<ResyncFrame>((f) => f.type === 'resync', 5000);
  return { client, resync };
}

/** The device's H moves while the server is down: the scenario of the report. */
async function restartWhileDeviceMoves(options: Partial<LiveDeviceServerOptions>) {
  const first = await serverRun(0, options);
  const before = await page(first.port);
  const held = before.resync.fields[H] as { value: number; rev: number };
  expect(held.value).toBe(-25);
  await first.stop();
  await witness.publish(VP.genlockStatus, '-30 10', { retain: true });
  const second = await serverRun(first.port, options);
  const after = await page(second.port, 1);
  expect(after.resync.fields[H]).toMatchObject({ value: -30 });
  expect(after.resync.epoch).not.toBe(before.resync.epoch);
  return { held, oldEpoch: before.resync.epoch, after };
}

describe('a set from before a server restart', () => {
  it('is refused stale even when its revision collides with the new run’s, and never published', async () => {
    // Both runs count from 0 (the clock-based start off): the new run gives -30 the very revision
    // the page holds for -25. Only the epoch tells them apart.
    const { held, oldEpoch, after } = await restartWhileDeviceMoves({ firstRevision: 0 });
    expect(after.resync.fields[H]?.rev).toBe(held.rev);
    const mark = witness.mark();
    after.client.set(1, H, -20, held.rev, oldEpoch);
    expect(await after.client.ack(1, 5000)).toMatchObject({
      status: 'rejected',
      reason: 'stale',
      field: H,
      value: -30,
      rev: held.rev,
    });
    await barrier(after.client, 2, held.rev, -19);
    expect(published(mark)).toEqual(['genlock -19 10']);
  });

  it('from a client that ignores the epoch is refused too: revisions never repeat across runs', async () => {
    // Defence in depth: the client sends the new epoch with its old revision. The new run's
    // revisions start above anything the old one reached (the clock-based default), so the old
    // revision is below the new run's first one: stale.
    const { held, after } = await restartWhileDeviceMoves({});
    expect(after.resync.fields[H]?.rev).toBeGreaterThan(held.rev);
    const mark = witness.mark();
    after.client.set(1, H, -20, held.rev, after.resync.epoch);
    const ack = await after.client.ack(1, 5000);
    expect(ack).toMatchObject({ status: 'rejected', reason: 'stale', value: -30 });
    await barrier(after.client, 2, (ack as { rev: number }).rev, -19);
    expect(published(mark)).toEqual(['genlock -19 10']);
  });

  it('without an epoch is invalid, with the current value, and never published', async () => {
    const run = await serverRun(0);
    const { client, resync } = await page(run.port);
    const mark = witness.mark();
    client.send({ type: 'set', id: 1, field: H, value: -20, rev: resync.fields[H]?.rev });
    const ack = await client.ack(1, 5000);
    expect(ack).toMatchObject({ status: 'rejected', reason: 'invalid', field: H, value: -25 });
    expect((ack as { message?: string }).message).toMatch(/set\.epoch/);
    await barrier(client, 2, resync.fields[H]?.rev as number, -19);
    expect(published(mark)).toEqual(['genlock -19 10']);
  });
});
