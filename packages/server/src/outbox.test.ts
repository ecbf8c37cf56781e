import { afterEach, describe, expect, it } from 'vitest';
import type { UpdateFrame } from '@live-device-form/protocol';
import type { WebSocket } from 'ws';
import { recordingLogger } from './logger.js';
import { Outbox } from './outbox.js';
import { startServer, stopAll } from '@live-device-form/testkit';

afterEach(stopAll);

const LIMIT = 1000;

/** A socket whose send buffer the test fills and drains by hand. */
class FakeSocket {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  private readonly callbacks: ((err?: Error) => void)[] = [];
  send(data: string | Buffer, _options: unknown, cb: (err?: Error) => void): void {
    this.sent.push(data.toString());
    this.callbacks.push(cb);
  }
  /** The kernel took every byte: each send's callback runs. */
  drain(): void {
    this.bufferedAmount = 0;
    for (const cb of this.callbacks.splice(0)) cb();
  }
}

function setup(lagLimitMs = Infinity) {
  const ws = new FakeSocket();
  const log = recordingLogger();
  const owner = { live: true, resyncs: 0, terminated: 0 };
  const clock = { t: 0 };
  const outbox = new Outbox(
    ws as unknown as WebSocket,
    LIMIT,
    log,
    {
      id: 's1',
      canFlush: () => owner.live,
      resyncFrame: () => `resync ${++owner.resyncs}`,
      terminate: () => {
        owner.terminated++;
      },
      terminateOnThrow: (_what, fn) => fn(),
    },
    { limitMs: lagLimitMs, now: () => clock.t },
  );
  return { ws, log, owner, clock, outbox };
}

const LAGGING = '{"type":"device","status":"lagging"}';

const update = (field: string, value: number): Buffer => Buffer.from(`${field}=${value}`);

describe('outbox', () => {
  it('sends at once while the socket keeps up', () => {
    const { ws, outbox } = setup();
    outbox.update('a', update('a', 1));
    outbox.resync();
    outbox.update('a', update('a', 2));
    expect(ws.sent).toEqual(['a=1', 'resync 1', 'a=2']);
    expect(outbox.queuedUpdates).toBe(0);
  });

  it('a slow reader gets the latest update of each field, in the order the fields last changed', () => {
    const { ws, outbox } = setup();
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    outbox.update('b', update('b', 1));
    outbox.update('a', update('a', 2));
    expect(ws.sent).toEqual([]);
    expect(outbox.queuedUpdates).toBe(2);
    outbox.send('ack'); // acks go whatever the backlog
    expect(ws.sent).toEqual(['ack']);
    ws.drain();
    expect(ws.sent).toEqual(['ack', 'b=1', 'a=2']);
    expect(outbox.queuedUpdates).toBe(0);
  });

  it('a due resync replaces every held update, goes when the buffer drains, and says offline itself', () => {
    const { ws, owner, outbox } = setup();
    outbox.send('x');
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    outbox.resync();
    expect(outbox.resyncPending).toBe(true);
    expect(outbox.queuedUpdates).toBe(0);
    outbox.update('b', update('b', 1));
    outbox.offline('device offline'); // the pending resync will carry it
    ws.drain();
    // Built when it went, with the values of that moment: b's new value travels in it.
    expect(ws.sent).toEqual(['x', 'resync 1']);
    expect(owner.resyncs).toBe(1);
    expect(outbox.queuedUpdates).toBe(0);
    expect(outbox.resyncPending).toBe(false);
  });

  it('device offline drops the held updates and goes at once', () => {
    const { ws, outbox } = setup();
    outbox.send('x');
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    outbox.offline('device offline');
    expect(outbox.queuedUpdates).toBe(0);
    ws.drain();
    expect(ws.sent).toEqual(['x', 'device offline']);
  });

  it('holds everything while the session is not live, and sends nothing on a closed socket', () => {
    const { ws, owner, outbox } = setup();
    outbox.send('x');
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    owner.live = false;
    ws.drain();
    expect(ws.sent).toEqual(['x']);
    ws.readyState = 3;
    expect(outbox.send('ack')).toBe(false);
    outbox.clear();
    expect(outbox.queuedUpdates).toBe(0);
  });

  it('cuts off a client whose backlog grows beyond the limit plus 1 MiB', () => {
    const { ws, owner, log, outbox } = setup();
    ws.bufferedAmount = LIMIT + 1024 * 1024 + 1;
    expect(outbox.send('ack')).toBe(true);
    expect(owner.terminated).toBe(1);
    expect(log.entries.some((e) => e.level === 'warn' && e.msg === 'client does not read: socket terminated')).toBe(
      true,
    );
  });
});

describe('outbox: lagging (docs/protocol.md rule 11)', () => {
  it('an update held back longer than the lag limit: device lagging, held updates dropped, a resync when it reads', () => {
    const { ws, owner, clock, outbox } = setup(100);
    outbox.send('x');
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1)); // held from t = 0
    clock.t = 100;
    outbox.update('a', update('a', 2)); // 100 ms: not beyond the limit yet
    expect(outbox.queuedUpdates).toBe(1);
    expect(outbox.resyncPending).toBe(false);
    clock.t = 101;
    outbox.update('b', update('b', 1));
    expect(ws.sent).toEqual(['x', LAGGING]);
    expect(outbox.queuedUpdates).toBe(0);
    expect(outbox.resyncPending).toBe(true); // sets are refused guard meanwhile
    outbox.update('a', update('a', 3)); // the resync will carry it
    ws.drain();
    expect(ws.sent).toEqual(['x', LAGGING, 'resync 1']);
    expect(owner.resyncs).toBe(1);
    expect(outbox.resyncPending).toBe(false);
  });

  it('the clock restarts once every held update went out', () => {
    const { ws, clock, outbox } = setup(100);
    outbox.send('x');
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    ws.drain();
    clock.t = 500;
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 2)); // held from t = 500, not from t = 0
    clock.t = 550;
    outbox.update('a', update('a', 3));
    expect(outbox.resyncPending).toBe(false);
    expect(ws.sent).toEqual(['x', 'a=1']);
  });

  it('the device lagging: the frame goes at once, held updates still follow; not before a due resync', () => {
    const { ws, outbox } = setup();
    outbox.send('x');
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    outbox.lagging();
    expect(ws.sent).toEqual(['x', LAGGING]);
    ws.drain();
    expect(ws.sent).toEqual(['x', LAGGING, 'a=1']);
    ws.bufferedAmount = LIMIT + 1;
    outbox.resync(); // due: the buffer is full
    outbox.lagging();
    expect(ws.sent).toEqual(['x', LAGGING, 'a=1']);
  });
});

describe('slow readers', () => {
  it('a client that never reads does not grow server memory: latest value per field only', async () => {
    const limit = 64 * 1024;
    // This is about coalescing, not lagging (rule 11): no lag limit in reach.
    const h = await startServer({ sendBufferLimit: limit, lagLimitMs: 600_000 });
    const { client } = await h.join();
    (client.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const text = (i: number) => `${i}`.padEnd(1000, '.');
    const fields = ['name', 'gain'];
    let i = 0;
    // The fan-out sends once per turn of the event loop (rule 11): one status per turn.
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    // Fill the kernel buffers until the session has to hold updates back...
    while (h.live.sessions()[0]!.queuedUpdates === 0 && i < 200_000) {
      h.bridge.setStatus({ name: text(++i) });
      await turn();
    }
    expect(h.live.sessions()[0]!.queuedUpdates).toBeGreaterThan(0);
    // ...then push thousands more: the backlog stays bounded.
    for (let k = 0; k < 5000; k++) {
      h.bridge.setStatus({ name: text(++i), gain: (k % 40) / 2 - 10 });
      if (k % 10 === 0) await turn();
    }
    await turn();
    const s = h.live.sessions()[0]!;
    expect(s.queuedUpdates).toBeLessThanOrEqual(fields.length);
    expect(s.bufferedAmount).toBeLessThan(limit + 2048);
    // Reading again, the client ends with the latest values.
    (client.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await client.next(
      (f) => f.type === 'update' && (f as UpdateFrame).field === 'name' && (f as UpdateFrame).value === text(i),
      10_000,
    );
    expect(h.live.sessions()[0]!.queuedUpdates).toBe(0);
  });
});
