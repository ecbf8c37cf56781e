import { afterEach, describe, expect, it } from 'vitest';
import type { UpdateFrame } from '@live-device-form/protocol';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
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
  /** Sends that asked for no callback (the outbox asks only when bytes may be left waiting). */
  uncalled = 0;
  send(data: string | Buffer, _options: unknown, cb?: (err?: Error) => void): void {
    this.sent.push(data.toString());
    if (cb) this.callbacks.push(cb);
    else this.uncalled++;
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

/**
 * A frame big enough to leave more than LIMIT bytes waiting on its own: the tests below send it,
 * then say the buffer is over the limit (a smaller frame sent to an empty buffer could not be).
 */
const FILL = 'x'.repeat(LIMIT + 1);

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
    outbox.send(FILL);
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    outbox.resync();
    expect(outbox.resyncPending).toBe(true);
    expect(outbox.queuedUpdates).toBe(0);
    outbox.update('b', update('b', 1));
    outbox.offline('device offline'); // the pending resync will carry it
    ws.drain();
    // Built when it went, with the values of that moment: b's new value travels in it.
    expect(ws.sent).toEqual([FILL, 'resync 1']);
    expect(owner.resyncs).toBe(1);
    expect(outbox.queuedUpdates).toBe(0);
    expect(outbox.resyncPending).toBe(false);
  });

  it('device offline drops the held updates and goes at once', () => {
    const { ws, outbox } = setup();
    outbox.send(FILL);
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    outbox.offline('device offline');
    expect(outbox.queuedUpdates).toBe(0);
    ws.drain();
    expect(ws.sent).toEqual([FILL, 'device offline']);
  });

  it('holds everything while the session is not live, and sends nothing on a closed socket', () => {
    const { ws, owner, outbox } = setup();
    outbox.send(FILL);
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    owner.live = false;
    ws.drain();
    expect(ws.sent).toEqual([FILL]);
    ws.readyState = 3;
    expect(outbox.send('ack')).toBe(false);
    outbox.clear();
    expect(outbox.queuedUpdates).toBe(0);
  });

  it('asks for a write notice only when bytes may be left waiting (BENCHMARKS.md, What changed in this round)', () => {
    const { ws, outbox } = setup();
    // A reader that keeps up: every frame goes straight out, none with a callback.
    outbox.update('a', update('a', 1));
    outbox.send('ack');
    outbox.resync();
    expect(ws.uncalled).toBe(3);
    // A frame that alone could leave more than the limit waiting carries one.
    outbox.send(FILL);
    expect(ws.uncalled).toBe(3);
    // Bytes already waiting: the newest frame carries one, so held frames go when it is written.
    ws.bufferedAmount = 10;
    outbox.update('a', update('a', 2));
    expect(ws.uncalled).toBe(3);
    ws.drain();
    outbox.update('a', update('a', 3));
    expect(ws.uncalled).toBe(4);
    expect(ws.sent).toEqual(['a=1', 'ack', 'resync 1', FILL, 'a=2', 'a=3']);
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
    outbox.send(FILL);
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1)); // held from t = 0
    clock.t = 100;
    outbox.update('a', update('a', 2)); // 100 ms: not beyond the limit yet
    expect(outbox.queuedUpdates).toBe(1);
    expect(outbox.resyncPending).toBe(false);
    clock.t = 101;
    outbox.update('b', update('b', 1));
    expect(ws.sent).toEqual([FILL, LAGGING]);
    expect(outbox.queuedUpdates).toBe(0);
    expect(outbox.resyncPending).toBe(true); // sets are refused guard meanwhile
    outbox.update('a', update('a', 3)); // the resync will carry it
    ws.drain();
    expect(ws.sent).toEqual([FILL, LAGGING, 'resync 1']);
    expect(owner.resyncs).toBe(1);
    expect(outbox.resyncPending).toBe(false);
  });

  it('the clock restarts once every held update went out', () => {
    const { ws, clock, outbox } = setup(100);
    outbox.send(FILL);
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    ws.drain();
    clock.t = 500;
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 2)); // held from t = 500, not from t = 0
    clock.t = 550;
    outbox.update('a', update('a', 3));
    expect(outbox.resyncPending).toBe(false);
    expect(ws.sent).toEqual([FILL, 'a=1']);
  });

  it('the device lagging: the frame goes at once, held updates still follow; not before a due resync', () => {
    const { ws, outbox } = setup();
    outbox.send(FILL);
    ws.bufferedAmount = LIMIT + 1;
    outbox.update('a', update('a', 1));
    outbox.lagging();
    expect(ws.sent).toEqual([FILL, LAGGING]);
    ws.drain();
    expect(ws.sent).toEqual([FILL, LAGGING, 'a=1']);
    ws.bufferedAmount = LIMIT + 1;
    outbox.resync(); // due: the buffer is full
    outbox.lagging();
    expect(ws.sent).toEqual([FILL, LAGGING, 'a=1']);
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

describe('outbox on a real socket: held frames go once the reader catches up', () => {
  /** A `ws` server socket and its client on loopback; the client is paused (it stops reading). */
  async function socketPair() {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await once(wss, 'listening');
    const serverSide = once(wss, 'connection') as Promise<[WebSocket]>;
    const client = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, { perMessageDeflate: false });
    await once(client, 'open');
    const [server] = await serverSide;
    pairs.push({ wss, client });
    return { server, client };
  }
  const pairs: { wss: WebSocketServer; client: WebSocket }[] = [];
  afterEach(async () => {
    for (const { wss, client } of pairs.splice(0)) {
      client.terminate();
      for (const s of wss.clients) s.terminate();
      await new Promise((resolve) => wss.close(resolve));
    }
  });

  /** Each send: whether it asked for a notice, and the bytes waiting before and after it. */
  interface SendRecord {
    notice: boolean;
    before: number;
    after: number;
  }

  /**
   * Updates of one field (`frameBytes` each) to a paused client until the outbox holds one back;
   * then the device goes quiet and the client reads again. Resolves with the sends, once the
   * client has the last value.
   */
  async function fillThenCatchUp(limit: number, frameBytes: number): Promise<SendRecord[]> {
    const { server, client } = await socketPair();
    const sends: SendRecord[] = [];
    const send = server.send.bind(server);
    server.send = ((data: Buffer, options: object, cb?: (err?: Error) => void) => {
      const before = server.bufferedAmount;
      send(data, options, cb);
      sends.push({ notice: cb !== undefined, before, after: server.bufferedAmount });
    }) as typeof server.send;
    const outbox = new Outbox(server, limit, recordingLogger(), {
      id: 's1',
      canFlush: () => true,
      resyncFrame: () => 'resync',
      terminate: () => server.terminate(),
      terminateOnThrow: (_what, fn) => fn(),
    });
    const frame = (i: number) => Buffer.from(`${i}:`.padEnd(frameBytes, '.'));
    client.pause();
    let i = 0;
    while (outbox.queuedUpdates === 0) {
      if (i > 200_000) throw new Error('the socket never held an update back');
      outbox.update('f', frame(++i));
      // Let the socket's callbacks run now and then, as they would between statuses.
      if (i % 64 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    const last = frame(i).toString();
    let timer: NodeJS.Timeout | undefined;
    const got = new Promise<void>((resolve, reject) => {
      client.on('message', (data) => {
        if (String(data) === last) resolve();
      });
      timer = setTimeout(() => reject(new Error('the held update never went out')), 10_000);
    });
    client.resume();
    // No update comes after this: only the socket's own notice can send the held one.
    await got.finally(() => clearTimeout(timer));
    expect(outbox.queuedUpdates).toBe(0);
    return sends;
  }

  it('the frame that first left bytes waiting went without a callback, and the held update still goes', async () => {
    const sends = await fillThenCatchUp(64 * 1024, 1000);
    const first = sends.find((s) => s.after > 0);
    expect(first).toMatchObject({ notice: false, before: 0 });
    // Every frame sent while bytes were waiting asked for its notice.
    expect(sends.filter((s) => s.before > 0).every((s) => s.notice)).toBe(true);
  });

  it('a frame that alone can pass the limit asks for its notice: held updates go with nothing else sent', async () => {
    const sends = await fillThenCatchUp(0, 1000);
    expect(sends.every((s) => s.notice)).toBe(true);
  });
});
