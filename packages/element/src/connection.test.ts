import { expect } from '@open-wc/testing';
import type { AckFrame, ResyncFrame, SetFrame } from '@live-device-form/protocol';
import {
  type ConnectionHandlers,
  type ConnectionOptions,
  type ConnectionState,
  Connection,
  REFUSED_AFTER_FAILURES,
  resolveSocketUrl,
} from './connection.js';
import { FakeClock, socketFactory } from '../test/fakes.js';

const resync = (device: 'online' | 'offline' = 'online', value = -25, rev = 42): ResyncFrame => ({
  type: 'resync',
  epoch: 'e1',
  device,
  schema: [{ name: 'h', label: 'H', type: 'integer', min: -512, max: 511, writable: true }],
  fields: { h: { value, rev } },
});

function setup(options: ConnectionOptions = {}, handlers: Partial<ConnectionHandlers> = {}) {
  const clock = new FakeClock();
  const factory = socketFactory();
  const events = new EventTarget();
  const log = {
    states: [] as ConnectionState[],
    frames: [] as string[],
    acks: [] as [SetFrame, AckFrame][],
    unconfirmed: [] as SetFrame[],
  };
  const conn = new Connection(
    null,
    {
      endpoint: () => ({ url: 'ws://127.0.0.1:1/live', device: 'videoproc' }),
      onFrame: (f) => log.frames.push(f.type),
      onAck: (s, a) => log.acks.push([s, a]),
      onUnconfirmed: (sets) => log.unconfirmed.push(...sets),
      onState: (s) => log.states.push(s),
      ...handlers,
    },
    { clock, socket: factory.make, events, backoff: { initialMs: 1000, maxMs: 8000, random: () => 1 }, ...options },
  );
  /** Opens the latest socket and answers its hello with a resync. */
  const goLive = (device: 'online' | 'offline' = 'online') => {
    const ws = factory.last();
    ws.open();
    ws.receive(resync(device));
  };
  return { clock, factory, events, log, conn, goLive };
}

describe('Connection', () => {
  describe('hello and the mount counter', () => {
    it('sends hello with mounts 0 on the first socket, then 1 and 2 on later sockets', () => {
      const { conn, factory, clock, goLive } = setup({ pingIntervalMs: 1e9 });
      conn.attach();
      goLive();
      factory.last().serverClose(1006);
      goLive();
      clock.advance(60_000);
      factory.last().serverClose(1006);
      factory.last().open();
      expect(factory.sockets.map((s) => s.frames('hello')[0]?.mounts)).to.deep.equal([0, 1, 2]);
      expect(factory.sockets[0]!.frames('hello')[0]).to.deep.equal({ type: 'hello', device: 'videoproc', mounts: 0 });
      expect(factory.sockets[0]!.protocol).to.equal('ldf.v1');
    });

    it('does not count a socket that died before its resync', () => {
      const { conn, factory, clock, goLive } = setup();
      conn.attach();
      goLive();
      factory.last().serverClose(1006);
      factory.last().open(); // hello mounts 1, then dies inside the guard
      factory.last().serverClose(1006);
      clock.advance(clock.nextDelay!);
      factory.last().open();
      expect(factory.sockets.map((s) => s.frames('hello')[0]?.mounts)).to.deep.equal([0, 1, 1]);
    });

    it('sends the token from the provider, awaiting it when it is a promise', async () => {
      const { conn, factory } = setup({}, { token: () => Promise.resolve('s3cret') });
      conn.attach();
      expect(factory.sockets).to.have.length(0);
      await Promise.resolve();
      factory.last().open();
      expect(factory.last().frames('hello')[0]).to.deep.equal({
        type: 'hello',
        device: 'videoproc',
        mounts: 0,
        token: 's3cret',
      });
    });

    it('starts over with mounts 0 when the endpoint changes', () => {
      let device = 'a';
      const { conn, factory, goLive } = setup({}, { endpoint: () => ({ url: 'ws://x/live', device }) });
      conn.attach();
      goLive();
      device = 'b';
      conn.sync();
      factory.last().open();
      expect(factory.sockets[0]!.closedWith?.code).to.equal(1000);
      expect(factory.last().frames('hello')[0]).to.deep.equal({ type: 'hello', device: 'b', mounts: 0 });
    });
  });

  describe('states', () => {
    it('goes connecting → live → reconnecting → resyncing → live, and offline with the device', () => {
      const { conn, factory, log, goLive } = setup();
      conn.attach();
      expect(conn.state).to.equal('connecting');
      goLive();
      expect(conn.state).to.equal('live');
      factory.last().serverClose(1006);
      factory.last().open();
      expect(conn.state).to.equal('resyncing');
      factory.last().receive(resync('offline'));
      expect(conn.state).to.equal('offline');
      factory.last().receive(resync('online'));
      expect(conn.state).to.equal('live');
      factory.last().receive({ type: 'device', status: 'offline' });
      expect(conn.state).to.equal('offline');
      expect(log.states).to.deep.equal([
        'connecting',
        'live',
        'reconnecting',
        'reconnecting',
        'resyncing',
        'offline',
        'live',
        'offline',
      ]);
    });

    it('passes resync to the handler before it reports live', () => {
      const order: string[] = [];
      const { conn, goLive } = setup({}, { onFrame: (f) => order.push(f.type), onState: (s) => order.push(s) });
      conn.attach();
      goLive();
      expect(order).to.deep.equal(['connecting', 'resync', 'live']);
    });

    it('stays closed without an endpoint, and fails with code 0, reason bad-src for an unusable src', () => {
      const a = setup({}, { endpoint: () => null });
      a.conn.attach();
      expect(a.conn.state).to.equal('closed');
      expect(a.factory.sockets).to.have.length(0);
      const b = setup({}, { endpoint: () => ({ url: resolveSocketUrl('ftp://x/', 'http://h/'), device: 'd' }) });
      b.conn.attach();
      expect(b.conn.state).to.equal('failed');
      expect(b.conn.error).to.deep.equal({
        code: 0,
        reason: 'bad-src',
        message: 'src must be a ws: or wss: URL or a path, not "ftp://x/"',
      });
    });

    it('fails with reason bad-src when the socket cannot be created', () => {
      const { conn } = setup({
        socket: () => {
          throw new SyntaxError('The URL is invalid');
        },
      });
      conn.attach();
      expect(conn.state).to.equal('failed');
      expect(conn.error).to.deep.equal({ code: 0, reason: 'bad-src', message: 'The URL is invalid' });
    });
  });

  describe('reconnecting', () => {
    it('makes the first attempt after a live connection at once, and backs off after a failed one', () => {
      const { conn, factory, clock, goLive } = setup();
      conn.attach();
      goLive();
      factory.last().serverClose(1006);
      expect(factory.sockets).to.have.length(2); // immediately, no timer involved
      factory.last().serverClose(1006); // the immediate attempt fails
      expect(conn.state).to.equal('reconnecting');
      expect(factory.sockets).to.have.length(2);
      expect(clock.nextDelay).to.equal(1000); // random() = 1: the whole first window
      clock.advance(999);
      expect(factory.sockets).to.have.length(2);
      clock.advance(1);
      expect(factory.sockets).to.have.length(3);
    });

    it('widens the window exponentially up to max, with full jitter', () => {
      let r = 1;
      const { conn, factory, clock } = setup({ backoff: { initialMs: 1000, maxMs: 8000, random: () => r } });
      conn.attach();
      const delays: number[] = [];
      for (let i = 0; i < 6; i++) {
        factory.last().serverClose(1006);
        delays.push(clock.nextDelay!);
        clock.advance(clock.nextDelay!);
      }
      expect(delays).to.deep.equal([1000, 2000, 4000, 8000, 8000, 8000]);
      r = 0.25;
      factory.last().serverClose(1006);
      expect(clock.nextDelay).to.equal(2000);
    });

    it('does not reconnect in a tight loop when every socket dies right after its resync', () => {
      const { conn, factory, clock, goLive } = setup();
      conn.attach();
      goLive();
      factory.last().serverClose(1006);
      goLive();
      factory.last().serverClose(1006); // within a second of the immediate attempt
      expect(clock.nextDelay).to.equal(1000);
    });

    it('reports when the next attempt is due', () => {
      const { conn, factory, clock } = setup();
      conn.attach();
      factory.last().serverClose(1006);
      expect(conn.retryAt - clock.now()).to.equal(1000);
    });

    it('tries at once when the browser comes back online or the tab becomes visible', () => {
      const { conn, factory, events } = setup();
      conn.attach();
      factory.last().serverClose(1006);
      expect(factory.sockets).to.have.length(1);
      events.dispatchEvent(new Event('online'));
      expect(factory.sockets).to.have.length(2);
      factory.last().serverClose(1006);
      events.dispatchEvent(new Event('visibilitychange'));
      expect(factory.sockets).to.have.length(3);
    });

    const fatal = [
      [4400, 'bad-frame'],
      [4401, 'unauthorized'],
      [4403, 'forbidden'],
      [4404, 'unknown-device'],
    ] as const;
    for (const [code, reason] of fatal) {
      it(`stops for good after close code ${code}, with the server's error code (${reason}) and message`, () => {
        const { conn, factory, clock, events, goLive } = setup();
        conn.attach();
        goLive();
        factory.last().receive({ type: 'error', code: reason, message: 'no, because' });
        factory.last().serverClose(code, 'x');
        expect(conn.state).to.equal('failed');
        expect(conn.error).to.deep.equal({ code, reason, message: 'no, because' });
        expect(clock.pending).to.equal(0);
        events.dispatchEvent(new Event('online'));
        clock.advance(60_000);
        expect(factory.sockets).to.have.length(1);
      });

      it(`derives the reason ${reason} from close code ${code} when no error frame came`, () => {
        const { conn, factory } = setup();
        conn.attach();
        factory.last().open();
        factory.last().serverClose(code, 'closing reason');
        expect(conn.error).to.deep.equal({ code, reason, message: 'closing reason' });
      });
    }

    it("prefers the server's error frame code to the one derived from the close code", () => {
      const { conn, factory } = setup();
      conn.attach();
      factory.last().open();
      factory.last().receive({ type: 'error', code: 'unauthorized', message: 'bad token' });
      factory.last().serverClose(4400, '');
      expect(conn.error).to.deep.equal({ code: 4400, reason: 'unauthorized', message: 'bad token' });
    });

    it('forgets an error frame once its socket closed with a code that is retried', () => {
      const { conn, factory, clock } = setup();
      conn.attach();
      factory.last().open();
      factory.last().receive({ type: 'error', code: 'hello-timeout', message: 'no hello' });
      factory.last().serverClose(4408, '');
      clock.advance(clock.nextDelay!);
      factory.last().open();
      factory.last().serverClose(4404, 'gone');
      expect(conn.error).to.deep.equal({ code: 4404, reason: 'unknown-device', message: 'gone' });
    });

    for (const code of [1001, 1006, 1009, 4408, 4429]) {
      it(`retries after close code ${code}`, () => {
        const { conn, factory, goLive } = setup();
        conn.attach();
        goLive();
        factory.last().serverClose(code);
        expect(conn.state).to.equal('reconnecting');
        expect(factory.sockets).to.have.length(2);
      });
    }

    it('reconnect() starts over after failed, keeping the mount counter', () => {
      const { conn, factory, goLive } = setup();
      conn.attach();
      goLive();
      factory.last().serverClose(4401);
      conn.reconnect();
      factory.last().open();
      expect(factory.last().frames('hello')[0]?.mounts).to.equal(1);
    });

    it('drops the socket on a frame it cannot parse, and reconnects', () => {
      const { conn, factory, goLive } = setup();
      conn.attach();
      goLive();
      factory.last().receive('{"type":"update","field":"__proto__","value":1,"rev":1}');
      expect(factory.sockets[0]!.closedWith?.code).to.equal(4000);
      expect(factory.sockets).to.have.length(2);
      expect(conn.state).to.equal('reconnecting');
    });

    it('closes the socket on a bad frame whose message is longer than a close reason may be', () => {
      const { conn, factory, goLive } = setup();
      conn.attach();
      goLive();
      // The parser's message names the 64-character field: with the prefix, 153 bytes.
      const name = 'a'.repeat(64);
      const bad = {
        ...resync(),
        schema: [{ ...resync().schema[0]!, name }],
        fields: { [name]: { value: {}, rev: 1 } },
      };
      factory.last().receive(JSON.stringify(bad));
      const closed = factory.sockets[0]!.closedWith;
      expect(closed?.code).to.equal(4000);
      expect(new TextEncoder().encode(closed?.reason).length).to.be.within(100, 123);
      expect(closed?.reason).to.match(/^bad frame from server: /);
      expect(conn.state).to.equal('reconnecting');
    });

    it('gives up on a socket that does not open within connectTimeoutMs', () => {
      const { conn, factory, clock } = setup({ connectTimeoutMs: 3000 });
      conn.attach();
      clock.advance(2999);
      expect(factory.sockets).to.have.length(1);
      clock.advance(1);
      expect(factory.sockets[0]!.closedWith).to.not.equal(undefined);
      expect(conn.state).to.equal('reconnecting');
    });
  });

  describe('refused handshakes (REFUSED_AFTER_FAILURES)', () => {
    /** Fails the latest socket's handshake and lets the backoff run out. */
    const refuse = (factory: ReturnType<typeof socketFactory>, clock: FakeClock) => {
      factory.last().serverClose(1006);
      clock.advance(clock.nextDelay!);
    };

    it('reports refused after that many sockets in a row closed before opening, keeps retrying, and clears it at the next open', () => {
      const { conn, factory, clock } = setup();
      conn.attach();
      for (let i = 1; i < REFUSED_AFTER_FAILURES; i++) refuse(factory, clock);
      expect(conn.refused).to.equal(false);
      refuse(factory, clock);
      expect(conn.refused).to.equal(true);
      refuse(factory, clock);
      expect(conn.refused).to.equal(true);
      expect(conn.state).to.equal('connecting');
      expect(factory.sockets).to.have.length(REFUSED_AFTER_FAILURES + 2);
      factory.last().open();
      expect(conn.refused).to.equal(false);
    });

    it('reports the change with a state even when the state stays (connecting → connecting at the open)', () => {
      const reported: [ConnectionState, boolean][] = [];
      const s = setup({}, { onState: (state) => reported.push([state, s.conn.refused]) });
      s.conn.attach();
      for (let i = 0; i < REFUSED_AFTER_FAILURES; i++) refuse(s.factory, s.clock);
      expect(reported.at(-2)).to.deep.equal(['reconnecting', true]);
      reported.length = 0;
      s.factory.last().open();
      expect(reported).to.deep.equal([['connecting', false]]);
    });

    it('does not count a socket that opened and then closed, nor the connect timeout', () => {
      const { conn, factory, clock } = setup({ connectTimeoutMs: 3000 });
      conn.attach();
      for (let i = 1; i < REFUSED_AFTER_FAILURES; i++) refuse(factory, clock);
      clock.advance(3000); // the connect timeout: a black hole is not a refusal
      clock.advance(clock.nextDelay!);
      expect(conn.refused).to.equal(false);
      factory.last().open();
      factory.last().serverClose(1006); // opened, then closed: the count starts again
      clock.advance(clock.nextDelay ?? 0);
      for (let i = 1; i < REFUSED_AFTER_FAILURES; i++) refuse(factory, clock);
      expect(conn.refused).to.equal(false);
    });
  });

  describe('heartbeat', () => {
    it('pings every pingIntervalMs while pongs come back', () => {
      const { conn, factory, clock, goLive } = setup({ pingIntervalMs: 5000, pingTimeoutMs: 5000 });
      conn.attach();
      goLive();
      const ws = factory.last();
      for (let i = 1; i <= 3; i++) {
        clock.advance(5000);
        expect(ws.frames('ping')).to.have.length(i);
        ws.receive({ type: 'pong', id: ws.frames('ping')[i - 1]!.id });
      }
      expect(conn.state).to.equal('live');
    });

    it('treats a missing pong as a dead link: drops the socket and reconnects within interval + timeout', () => {
      const { conn, factory, clock, goLive } = setup({ pingIntervalMs: 5000, pingTimeoutMs: 5000 });
      conn.attach();
      goLive();
      clock.advance(9999);
      expect(conn.state).to.equal('live');
      clock.advance(1);
      expect(factory.sockets[0]!.closedWith?.reason).to.equal('heartbeat timeout');
      expect(conn.state).to.equal('reconnecting');
      expect(factory.sockets).to.have.length(2);
    });

    it('probes at once when the tab becomes visible again', () => {
      const { conn, factory, events, goLive } = setup();
      conn.attach();
      goLive();
      events.dispatchEvent(new Event('visibilitychange'));
      expect(factory.last().frames('ping')).to.have.length(1);
    });
  });

  describe('writes', () => {
    it('sends a set only while live, with increasing ids', () => {
      const { conn, factory } = setup();
      conn.attach();
      expect(conn.send('h', 1, 42)).to.equal(null);
      factory.last().open();
      expect(conn.send('h', 1, 42)).to.equal(null); // connecting: before resync
      factory.last().receive(resync());
      const a = conn.send('h', 1, 42);
      const b = conn.send('h', 2, 42);
      expect(a?.id).to.be.lessThan(b!.id);
      expect(factory.last().frames('set')).to.deep.equal([a, b]);
      factory.last().receive({ type: 'device', status: 'offline' });
      expect(conn.send('h', 3, 42)).to.equal(null);
    });

    it('never queues: nothing sent while disconnected goes out after the reconnect', () => {
      const { conn, factory, goLive } = setup();
      conn.attach();
      goLive();
      factory.last().serverClose(1006);
      expect(conn.send('h', 7, 42)).to.equal(null);
      factory.last().open();
      expect(conn.send('h', 7, 42)).to.equal(null); // resyncing
      factory.last().receive(resync());
      expect(factory.last().frames('set')).to.deep.equal([]);
    });

    it('reports sets unanswered when the socket died, and never re-sends them', () => {
      const { conn, factory, log, goLive } = setup();
      conn.attach();
      goLive();
      const a = conn.send('h', 1, 42)!;
      const b = conn.send('h', 2, 42)!;
      factory.last().receive({ type: 'ack', id: a.id, status: 'accepted' });
      factory.last().serverClose(1006);
      expect(log.acks.map(([s]) => s.id)).to.deep.equal([a.id]);
      expect(log.unconfirmed).to.deep.equal([b]);
      goLive();
      expect(factory.last().frames('set')).to.deep.equal([]);
    });

    it('a server that drained (1001) read no unanswered set: each is rejected offline, none unconfirmed', () => {
      const { conn, factory, log, goLive } = setup();
      conn.attach();
      goLive();
      const a = conn.send('h', 1, 42)!;
      const b = conn.send('h', 2, 42)!;
      factory.last().receive({ type: 'ack', id: a.id, status: 'accepted' });
      factory.last().serverClose(1001);
      expect(log.unconfirmed).to.deep.equal([]);
      expect(log.acks.map(([s, ack]) => [s.id, ack.status, ack.status === 'rejected' && ack.reason])).to.deep.equal([
        [a.id, 'accepted', false],
        [b.id, 'rejected', 'offline'],
      ]);
      goLive();
      expect(factory.last().frames('set')).to.deep.equal([]);
    });

    it('passes each ack with the set it answers, and ignores acks for ids it never sent', () => {
      const { conn, factory, log, goLive } = setup();
      conn.attach();
      goLive();
      const a = conn.send('h', 600, 42)!;
      factory.last().receive({ type: 'ack', id: 999, status: 'accepted' });
      factory.last().receive({ type: 'ack', id: a.id, status: 'rejected', reason: 'invalid' });
      expect(log.acks).to.deep.equal([[a, { type: 'ack', id: a.id, status: 'rejected', reason: 'invalid' }]]);
    });
  });

  describe('stop', () => {
    it('closes the socket, cancels every timer and listener, and reports unanswered sets', () => {
      const { conn, factory, clock, events, log, goLive } = setup();
      conn.attach();
      goLive();
      conn.send('h', 1, 42);
      expect(clock.pending).to.be.greaterThan(0);
      conn.hostDisconnected();
      expect(factory.last().closedWith?.code).to.equal(1000);
      expect(clock.pending).to.equal(0);
      expect(conn.state).to.equal('closed');
      expect(log.unconfirmed).to.have.length(1);
      events.dispatchEvent(new Event('online'));
      expect(factory.sockets).to.have.length(1);
    });

    it('clears a pending retry', () => {
      const { conn, factory, clock } = setup();
      conn.attach();
      factory.last().serverClose(1006);
      expect(clock.pending).to.equal(1);
      conn.stop();
      expect(clock.pending).to.equal(0);
      clock.advance(60_000);
      expect(factory.sockets).to.have.length(1);
    });

    it('ignores a token that arrives after stop', async () => {
      let resolve!: (t: string) => void;
      const { conn, factory } = setup({}, { token: () => new Promise<string>((r) => (resolve = r)) });
      conn.attach();
      conn.stop();
      resolve('late');
      await Promise.resolve();
      expect(factory.sockets).to.have.length(0);
    });
  });

  describe('resolveSocketUrl', () => {
    it('maps paths and http(s) URLs to ws(s), keeps ws URLs, refuses other schemes', () => {
      expect(resolveSocketUrl('/ldf', 'https://example.com/settings/')).to.equal('wss://example.com/ldf');
      expect(resolveSocketUrl('live', 'http://127.0.0.1:8000/a/b')).to.equal('ws://127.0.0.1:8000/a/live');
      expect(resolveSocketUrl('ws://h:1/x', 'https://example.com/')).to.equal('ws://h:1/x');
      expect(() => resolveSocketUrl('ftp://h/', 'https://example.com/')).to.throw(TypeError);
    });

    it('throws a TypeError with code bad-src, also for what is no URL at all', () => {
      for (const src of ['ftp://h/', 'http://[::1', 'javascript:alert(1)']) {
        let error: unknown;
        try {
          resolveSocketUrl(src, 'https://example.com/');
        } catch (e) {
          error = e;
        }
        expect(error, src).to.be.instanceOf(TypeError);
        expect((error as { code?: string }).code, src).to.equal('bad-src');
      }
    });
  });

  describe('options', () => {
    it('uses the documented defaults: ping every 5 s, pong within 5 s, open within 10 s', () => {
      const { conn, factory, clock } = setup({ pingIntervalMs: undefined, pingTimeoutMs: undefined });
      conn.attach();
      expect(clock.nextDelay).to.equal(10_000); // connectTimeoutMs
      factory.last().open();
      factory.last().receive(resync());
      expect(clock.nextDelay).to.equal(5000); // pingIntervalMs
      clock.advance(5000);
      expect(factory.last().frames('ping')).to.have.length(1);
      expect(clock.nextDelay).to.equal(5000); // pingTimeoutMs
    });

    it('never writes into the caller’s object', () => {
      const options = Object.freeze({ pingIntervalMs: 1000, backoff: Object.freeze({ initialMs: 100 }) });
      const handlers = { endpoint: () => null, onFrame() {}, onAck() {}, onUnconfirmed() {}, onState() {} };
      // A frozen object throws on any write (modules are strict).
      const conn = new Connection(null, handlers, options);
      conn.attach();
      expect(options).to.deep.equal({ pingIntervalMs: 1000, backoff: { initialMs: 100 } });
    });

    for (const [name, value] of [
      ['pingIntervalMs', 0],
      ['pingTimeoutMs', -1],
      ['connectTimeoutMs', 2 ** 31],
      ['pingIntervalMs', Number.NaN],
      ['connectTimeoutMs', '5000'],
    ] as const) {
      it(`throws a TypeError with code bad-option that names ${name} for ${String(value)}`, () => {
        let error: unknown;
        try {
          setup({ [name]: value } as ConnectionOptions);
        } catch (e) {
          error = e;
        }
        expect(error).to.be.instanceOf(TypeError);
        expect((error as { code?: string }).code).to.equal('bad-option');
        expect((error as Error).message).to.contain(`"${name}"`);
      });
    }

    it('throws a TypeError with code bad-option for a contradictory backoff', () => {
      expect(() => setup({ backoff: { initialMs: 2000, maxMs: 1000 } }))
        .to.throw(TypeError, /"initialMs" <= "maxMs"/)
        .with.property('code', 'bad-option');
    });
  });
});
