/**
 * The connection against the real server SDK, through a loopback proxy that cuts, refuses and
 * black-holes the link.
 */
import { expect } from '@open-wc/testing';
import type { Clock } from '../src/connection.js';
import { systemClock } from '../src/connection.js';
import { FAST, cmd, control, inState, makeEnv, mount, next, sent, sentSets, typeInto } from './helpers.js';

/** The real clock, counting the timers still pending. */
class TrackingClock implements Clock {
  readonly live = new Set<unknown>();
  now(): number {
    return systemClock.now();
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const h = systemClock.setTimeout(() => {
      this.live.delete(h);
      fn();
    }, ms);
    this.live.add(h);
    return h;
  }
  clearTimeout(h: unknown): void {
    this.live.delete(h);
    systemClock.clearTimeout(h);
  }
}

describe('reconnecting (real server, loopback proxy)', () => {
  it('hello carries mounts 0 on the first connection, then 1 and 2 on later connections', async () => {
    const env = await makeEnv();
    const el = mount(env);
    const first = next(el, 'ldf-resync');
    await inState(el, 'live');
    expect((await first).mounts).to.equal(0);
    for (const mounts of [1, 2]) {
      const resynced = next(el, 'ldf-resync');
      await cmd(env, 'net', { action: 'cut' });
      expect((await resynced).mounts).to.equal(mounts);
      await inState(el, 'live');
    }
    const hellos = (await sent(env)).filter((s) => s.frame?.type === 'hello').map((s) => s.frame);
    expect(hellos).to.deep.equal([0, 1, 2].map((mounts) => ({ type: 'hello', device: env.device, mounts })));
  });

  it('makes the first attempt after a live connection at once; failed attempts after it back off', async () => {
    const env = await makeEnv({ guardMs: 0 });
    // A 30 s backoff window with random() = 1: any attempt that waited for the backoff would time this test out.
    const el = mount(env, { options: { ...FAST, backoff: { initialMs: 30_000, maxMs: 30_000, random: () => 1 } } });
    await inState(el, 'live');
    await cmd(env, 'net', { action: 'cut' });
    await inState(el, 'live', 5000);
    expect((await cmd<{ connections: number }>(env, 'info')).connections).to.equal(2);

    // Now the network refuses: the immediate attempt fails, and the next one waits the backoff.
    const backingOff = next(el, 'ldf-state', (d) => d.state === 'reconnecting' && d.retryIn > 0);
    await cmd(env, 'net', { action: 'refuse' });
    const waiting = await backingOff;
    expect(waiting.retryIn).to.be.within(29_000, 30_000);
    await el.updateComplete;
    expect(el.shadowRoot!.querySelector('[part~=status]')!.textContent!.replace(/\s+/g, ' ').trim()).to.equal(
      'Reconnecting in 30 s',
    );

    // The browser coming back online cuts the wait short.
    await cmd(env, 'net', { action: 'pass' });
    window.dispatchEvent(new Event('online'));
    await inState(el, 'live', 5000);
  });

  it('stops for good after a fatal close code (4404 unknown device) and shows the error', async () => {
    const env = await makeEnv();
    const el = mount({ ...env, device: 'no-such-device' });
    const error = await next(el, 'ldf-error');
    expect(error).to.include({ code: 4404, reason: 'unknown-device' });
    await inState(el, 'failed');
    expect(el.getAttribute('state')).to.equal('failed');
    expect(el.shadowRoot!.querySelector('[role=status]')!.textContent).to.match(/^Unknown device/);
    // With a 50–200 ms backoff a retry would have happened by now; give it three times that.
    await new Promise((r) => setTimeout(r, 600));
    expect((await cmd<{ connections: number }>(env, 'info')).connections).to.equal(1);
    expect(el.state).to.equal('failed');
  });

  it('stops after 4401 (bad token) and starts again with reconnect() once the token is fixed', async () => {
    const env = await makeEnv({ token: 'right' });
    const el = document.createElement('live-device-form');
    el.connectionOptions = FAST;
    el.token = 'wrong';
    el.src = env.src;
    el.device = env.device;
    document.body.append(el);
    try {
      expect(await next(el, 'ldf-error')).to.include({ code: 4401, reason: 'unauthorized' });
      el.token = 'right';
      el.reconnect();
      await inState(el, 'live');
      const hellos = (await sent(env)).filter((s) => s.frame?.type === 'hello').map((s) => s.frame);
      expect(hellos).to.deep.equal([
        { type: 'hello', device: env.device, mounts: 0, token: 'wrong' },
        { type: 'hello', device: env.device, mounts: 0, token: 'right' },
      ]);
    } finally {
      el.remove();
    }
  });

  it('stops after 4403 when the server’s authorize refuses the user', async () => {
    const env = await makeEnv({ deny: true });
    const el = mount(env);
    expect(await next(el, 'ldf-error')).to.include({ code: 4403, reason: 'forbidden' });
    expect(el.state).to.equal('failed');
    expect(el.error?.reason).to.equal('forbidden');
  });

  it('retries after the server shuts down (1001) and resyncs from the new server', async () => {
    const env = await makeEnv();
    const el = mount(env);
    const firstEpoch = (await next(el, 'ldf-resync')).epoch;
    const again = next(el, 'ldf-resync');
    await cmd(env, 'shutdown');
    const second = await again;
    expect(second.epoch).to.not.equal(firstEpoch);
    expect(second.mounts).to.equal(1);
    // Every set carries the epoch of the resync its revision came from (docs/protocol.md rule 3).
    await inState(el, 'live');
    const accepted = next(el, 'ldf-ack');
    typeInto(control(el, '#ldf-genlock_phase_h'), '-21');
    expect(await accepted).to.include({ status: 'accepted' });
    const sets = await sentSets(env);
    expect(sets.map((f) => [f.value, f.epoch])).to.deep.equal([[-21, second.epoch]]);
  });

  it('notices a dead link that never closes (black hole) by the heartbeat, and reconnects', async () => {
    const env = await makeEnv();
    const el = mount(env, {
      options: {
        pingIntervalMs: 300,
        pingTimeoutMs: 300,
        connectTimeoutMs: 1000,
        backoff: { initialMs: 50, maxMs: 200 },
      },
    });
    await inState(el, 'live');
    await cmd(env, 'net', { action: 'blackHole' });
    const t0 = performance.now();
    await inState(el, 'reconnecting');
    expect(performance.now() - t0).to.be.below(1500);
    // The server never saw the socket close: only the element's heartbeat noticed.
    expect((await cmd<{ sessions: unknown[] }>(env, 'info')).sessions.length).to.be.at.least(1);
    await cmd(env, 'net', { action: 'pass' });
    await inState(el, 'live', 8000);
  });

  it('refuses unusable connectionOptions with a TypeError (code bad-option) and keeps its connection', async () => {
    const env = await makeEnv();
    const el = mount(env);
    await inState(el, 'live');
    expect(() => (el.connectionOptions = { ...FAST, pingTimeoutMs: 0 }))
      .to.throw(TypeError, /"pingTimeoutMs"/)
      .with.property('code', 'bad-option');
    expect(el.connectionOptions).to.deep.equal(FAST);
    await el.updateComplete;
    expect(el.state).to.equal('live');
    expect((await cmd<{ connections: number }>(env, 'info')).connections).to.equal(1);
  });

  it('stops with ldf-error code 0, reason bad-src for a src that is no WebSocket URL', async () => {
    const el = document.createElement('live-device-form');
    el.connectionOptions = FAST;
    el.device = 'videoproc';
    el.src = 'ftp://example.com/live';
    const error = next(el, 'ldf-error');
    document.body.append(el);
    try {
      expect(await error).to.deep.equal({
        code: 0,
        reason: 'bad-src',
        message: 'src must be a ws: or wss: URL or a path, not "ftp://example.com/live"',
      });
      expect(el.state).to.equal('failed');
    } finally {
      el.remove();
    }
  });

  it('removing the element closes its socket and clears every timer', async () => {
    const env = await makeEnv();
    const clock = new TrackingClock();
    const el = mount(env, { options: { ...FAST, clock } });
    await inState(el, 'live');
    expect(clock.live.size).to.be.greaterThan(0); // the heartbeat
    el.remove();
    expect(el.state).to.equal('closed');
    expect(clock.live.size).to.equal(0);
    await cmd(env, 'wait', { open: 0 });
    const closes = (await sent(env)).filter((s) => s.close !== undefined);
    expect(closes).to.deep.equal([{ conn: 0, close: 1000 }]);
  });

  it('a removed element that is put back reconnects with the next mount count', async () => {
    const env = await makeEnv();
    const el = mount(env);
    await inState(el, 'live');
    el.remove();
    document.body.append(el);
    const again = await next(el, 'ldf-resync');
    expect(again.mounts).to.equal(1);
    await inState(el, 'live');
  });

  it('connects when src and device are set after it is in the page, without an update scheduled from inside an update', async () => {
    const env = await makeEnv();
    // Lit's dev mode warns once per page: forget an earlier warning, and record this test's.
    const issued = (globalThis as { litIssuedWarnings?: Set<string | undefined> }).litIssuedWarnings;
    for (const w of [...(issued ?? [])]) if (w?.includes('change-in-update')) issued!.delete(w);
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      warnings.push(args.join(' '));
      warn.apply(console, args);
    };
    const el = document.createElement('live-device-form');
    try {
      el.connectionOptions = FAST;
      document.body.append(el);
      expect(await el.updateComplete).to.equal(true);
      expect(el.getAttribute('state')).to.equal('closed');
      el.src = env.src;
      el.device = env.device;
      // One update connects and renders the new state; no second update was requested during it.
      expect(await el.updateComplete).to.equal(true);
      expect(el.getAttribute('state')).to.equal('connecting');
      await inState(el, 'live');
      el.src = '';
      expect(await el.updateComplete).to.equal(true);
      expect(el.getAttribute('state')).to.equal('closed');
      expect(el.shadowRoot!.querySelector('[part="status-text"]')!.textContent).to.equal('Not connected');
    } finally {
      el.remove();
      console.warn = warn;
    }
    expect(warnings.filter((w) => w.includes('change-in-update'))).to.deep.equal([]);
  });
});
