/**
 * Aggregate write rate limits: the per-socket limit alone let 40 sockets push 1,914 writes a second
 * at one device. Real servers and sockets; each socket stays far inside its own limit, and the
 * shared buckets never refill within a test (`perSecond: 0.001`), so the counts are exact.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { AckFrame, RejectedAck } from '@live-device-form/protocol';
import {
  type Harness,
  type TestClient,
  VIDEOPROC_FILE,
  VP,
  makeBridge,
  startServer,
  startWitness,
  stopAll,
  until,
  whenOnline,
} from '@live-device-form/testkit';
import { loadDeviceFile } from './device/index.js';
import { startEmbeddedBroker } from './embedded-broker.js';
import { silentLogger } from './logger.js';
import { createMqttBridge } from './mqtt-bridge.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  await stopAll();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Never refills during a test. */
const NO_REFILL = 0.001;

/** Opens `count` sessions on `device` (each past its resync). */
async function pages(h: Harness, count: number, device = 'videoproc'): Promise<TestClient[]> {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const client = await h.connect();
      client.hello(0, device);
      await client.next((f) => f.type === 'resync');
      return client;
    }),
  );
}

/** Every client sends `each` valid sets of `field` at once; resolves with all their acks. */
async function burst(clients: TestClient[], each: number, field = 'gain'): Promise<AckFrame[]> {
  // Valid for `gain` (-10…10, step 0.5) and `brightness` (0…100, step 0.5).
  for (const c of clients) for (let i = 1; i <= each; i++) c.set(i, field, (i % 20) / 2, 0);
  return Promise.all(clients.flatMap((c) => Array.from({ length: each }, (_, i) => c.ack(i + 1))));
}

const rate = (acks: AckFrame[]) => acks.filter((a): a is RejectedAck => a.status === 'rejected' && a.reason === 'rate');
const accepted = (acks: AckFrame[]) => acks.filter((a) => a.status === 'accepted');

describe('per-device write rate', () => {
  it('many sockets on one device share its bucket: accepted writes add up to its burst, the rest are rate', async () => {
    // Revisions off: writes from five pages at one field would otherwise refuse each other `stale`.
    const h = await startServer({ deviceRateLimit: { burst: 12, perSecond: NO_REFILL }, checkRevisions: false });
    const clients = await pages(h, 5);
    const acks = await burst(clients, 8); // 40 sets, 8 per socket: each far inside its own 50
    expect(acks).toHaveLength(40);
    expect(accepted(acks)).toHaveLength(12);
    expect(rate(acks)).toHaveLength(28);
    expect(rate(acks)[0]?.message).toBe('more than 0.001 writes a second to this device (all its sockets)');
    expect(h.bridge.writes).toHaveLength(12);
  });

  it('a second device keeps its own bucket', async () => {
    const other = makeBridge({ id: 'other' });
    cleanups.push(() => other.close());
    const h = await startServer({
      devices: [makeBridge(), other],
      deviceRateLimit: { burst: 5, perSecond: NO_REFILL },
      checkRevisions: false,
    });
    const [a1, a2] = await pages(h, 2);
    expect(rate(await burst([a1 as TestClient, a2 as TestClient], 5))).toHaveLength(5);
    const [b] = await pages(h, 1, 'other');
    const acks = await burst([b as TestClient], 5);
    expect(accepted(acks)).toHaveLength(5);
    expect(other.writes).toHaveLength(5);
  });

  it('against a real broker: what reaches MQTT from a swarm of sockets is capped at the device burst', async () => {
    const broker = await startEmbeddedBroker();
    cleanups.push(() => broker.close());
    const witness = await startWitness(broker.url, ['cy-vp4/#']);
    cleanups.push(() => witness.close());
    await witness.publish(VP.online, '1', { retain: true });
    await witness.publish(VP.brightnessStatus, '50', { retain: true });
    const bridge = createMqttBridge(await loadDeviceFile(VIDEOPROC_FILE), { url: broker.url, logger: silentLogger });
    cleanups.push(() => bridge.close());
    await whenOnline(bridge);
    const h = await startServer({
      devices: [bridge],
      deviceRateLimit: { burst: 10, perSecond: NO_REFILL },
      checkRevisions: false,
    });
    const clients = await pages(h, 8);
    const acks = await burst(clients, 5, 'brightness');
    expect(acks).toHaveLength(40);
    expect(accepted(acks)).toHaveLength(10);
    expect(rate(acks)).toHaveLength(30);
    const published = () => witness.messages.filter((m) => m.topic === VP.brightnessSet);
    await until(() => published().length >= 10);
    expect(published()).toHaveLength(10);
  });
});

describe('per-user write rate', () => {
  const asUser = (name: string) => () => ({ user: name });

  it("one user's sockets share a bucket; another user's writes are unaffected", async () => {
    let next = 'ann';
    const h = await startServer({
      authorize: () => ({ user: next }),
      userRateLimit: { burst: 7, perSecond: NO_REFILL },
      checkRevisions: false,
    });
    const ann = await pages(h, 3);
    const acks = await burst(ann, 5);
    expect(accepted(acks)).toHaveLength(7);
    expect(rate(acks)).toHaveLength(8);
    expect(rate(acks)[0]?.message).toBe('more than 0.001 writes a second by this user (all their sockets)');
    next = 'bob';
    const bob = await pages(h, 1);
    expect(accepted(await burst(bob, 5))).toHaveLength(5);
  });

  it("the user's bucket goes with their last session: a new session starts with a full one", async () => {
    const h = await startServer({
      authorize: asUser('ann'),
      userRateLimit: { burst: 4, perSecond: NO_REFILL },
      checkRevisions: false,
    });
    const first = await pages(h, 2);
    expect(accepted(await burst(first, 4))).toHaveLength(4);
    for (const c of first) c.ws.close();
    await until(() => h.live.sessionCount === 0);
    const again = await pages(h, 1);
    expect(accepted(await burst(again, 4))).toHaveLength(4);
  });

  it('without a user named by authorize, only the socket and device limits apply', async () => {
    const h = await startServer({ userRateLimit: { burst: 1, perSecond: NO_REFILL }, checkRevisions: false });
    expect(accepted(await burst(await pages(h, 2), 3))).toHaveLength(6);
  });
});

describe('write rate options', () => {
  it('are checked like rateLimit', async () => {
    await expect(startServer({ deviceRateLimit: { burst: 0 } })).rejects.toThrow(/"deviceRateLimit.burst"/);
    await expect(startServer({ userRateLimit: { perSecond: -1 } })).rejects.toThrow(/"userRateLimit.perSecond"/);
  });
});
