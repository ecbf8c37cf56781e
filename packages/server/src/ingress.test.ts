/**
 * docs/protocol.md rule 11: the store applies every status at once, the fan-out follows in rounds;
 * a page more than `lagLimitMs` behind is told `device lagging`, its sets are refused `guard`, and
 * it gets a fresh resync once caught up.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type ResyncFrame, SUBPROTOCOL } from '@live-device-form/protocol';
import { openPausedClients, startServer, stopAll, type TestClient, until } from '@live-device-form/testkit';

afterEach(stopAll);

const H = 'genlock_phase_h';
/** One turn of the event loop: the fan-out's next slice has run. */
const turn = () => new Promise((resolve) => setImmediate(resolve));
const socketOf = (client: TestClient) =>
  (client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;

describe('lagging: a page that does not read', () => {
  it('is told lagging, its sets are refused guard, and it gets a fresh resync when it reads again', async () => {
    const h = await startServer({ sendBufferLimit: 1024, lagLimitMs: 50 });
    const { client } = await h.join();
    socketOf(client).pause();
    const text = (i: number) => `${i}`.padEnd(1000, '.');
    let i = 0;
    // Fill the kernel buffers until the session has to hold updates back.
    while (h.live.sessions()[0]!.queuedUpdates === 0 && i < 100_000) {
      h.bridge.setStatus({ name: text(++i) });
      await turn();
    }
    // The trigger is time itself: an update held back for longer than lagLimitMs.
    await new Promise((resolve) => setTimeout(resolve, 60));
    h.bridge.setStatus({ name: text(++i) });
    await turn();
    // Its held updates gave way to a resync, due as soon as it reads.
    expect(h.live.sessions()[0]!.queuedUpdates).toBe(0);
    client.set(1, 'gain', 1, 0);
    await until(() => h.live.stats().acks === 1);
    socketOf(client).resume();
    expect(await client.ack(1)).toMatchObject({ status: 'rejected', reason: 'guard', field: 'gain', value: 0 });
    const resync = await client.next<ResyncFrame>((f) => f.type === 'resync', 10_000);
    expect(resync.device).toBe('online');
    expect(resync.fields.name!.value).toBe(text(i));
    const order = client.frames
      .map((f) => (f.type === 'device' ? `device ${f.status}` : f.type))
      .filter((t) => t !== 'update');
    expect(order).toEqual(['resync', 'device lagging', 'ack', 'resync']);
    // Caught up: writes are judged again.
    client.set(2, 'gain', 1, resync.fields.gain!.rev);
    expect(await client.ack(2)).toMatchObject({ status: 'accepted' });
  });
});

describe('lagging: a device whose fan-out falls behind', () => {
  it('every page is told lagging, sets are refused guard, and a resync follows at once when it caught up', async () => {
    // A fan-out that yields after every 16 pages, and a limit a busy event loop passes at once.
    const h = await startServer({ lagLimitMs: 1, fanoutSliceMs: 0 });
    const idle = await openPausedClients(
      { host: '127.0.0.1', port: h.port, path: '/live', protocol: SUBPROTOCOL },
      600,
      JSON.stringify({ type: 'hello', device: 'videoproc', mounts: 0 }),
      ['127.0.0.2', '127.0.0.3'],
    );
    try {
      await until(() => h.live.sessions().filter((s) => s.state === 'live').length === 600, 10_000);
      const { client } = await h.join();
      h.bridge.setStatus({ [H]: 1 });
      // The event loop is busy elsewhere while the change waits for its round.
      const busyUntil = performance.now() + 5;
      while (performance.now() < busyUntil);
      h.bridge.setStatus({ [H]: 2 });
      expect(await client.next((f) => f.type === 'device')).toEqual({ type: 'device', status: 'lagging' });
      // Sent while the round is still going out to the 601 pages, 16 a turn.
      client.set(1, 'gain', 1, 0);
      expect(await client.ack(1)).toMatchObject({
        status: 'rejected',
        reason: 'guard',
        message: 'the server is catching up with the device: wait for resync',
      });
      const resync = await client.next<ResyncFrame>((f) => f.type === 'resync', 10_000);
      expect(resync.device).toBe('online');
      expect(resync.fields[H]).toEqual({ value: 2, rev: 2 });
      client.set(2, 'gain', 1, 0);
      expect(await client.ack(2)).toMatchObject({ status: 'accepted' });
    } finally {
      for (const c of idle) c.destroy();
    }
  });
});
