import { describe, expect, it } from 'vitest';
import { MemoryBridge } from './memory-bridge.js';
import { recordingLogger } from './logger.js';
import { DeviceStore, type StoreEvent } from './store.js';
import { SCHEMA, VALUES } from '@live-device-form/testkit';

const H = 'genlock_phase_h';

function setup(options: { echoTimeoutMs?: number; historyLimit?: number; firstRevision?: number } = {}) {
  let clock = 0;
  const bridge = new MemoryBridge({ id: 'videoproc', schema: SCHEMA, values: { ...VALUES }, echo: false });
  const log = recordingLogger();
  const store = new DeviceStore(bridge, { ...options, now: () => clock, logger: log });
  const events: StoreEvent[] = [];
  store.subscribe((e) => events.push(e));
  return {
    bridge,
    store,
    events,
    log,
    advance(ms: number) {
      clock += ms;
    },
    /** Session `s` writes `value` (as the session does: registered when handed to the bridge). */
    write(s: string, value: number, field = H) {
      return store.registerWrite(s, field, value);
    },
  };
}

describe('revisions', () => {
  it('starts every field at revision 0 with the bridge snapshot', () => {
    const { store } = setup();
    expect(store.state(H)).toEqual({ value: -25, rev: 0 });
    expect(store.snapshot().genlock_phase_v).toEqual({ value: 10, rev: 0 });
    expect(store.state('nope')).toBeUndefined();
  });

  it('gives the next revision to each changed field; unchanged fields keep theirs', () => {
    const { store, bridge, events } = setup();
    bridge.setStatus({ genlock_phase_h: -20, genlock_phase_v: 10 });
    expect(store.state(H)).toEqual({ value: -20, rev: 1 });
    expect(store.state('genlock_phase_v')).toEqual({ value: 10, rev: 0 });
    bridge.setStatus({ gain: 1.5, mute: true });
    expect(store.state('gain')?.rev).toBe(2);
    expect(store.state('mute')?.rev).toBe(3);
    expect(events).toEqual([
      { type: 'change', field: H, value: -20, rev: 1, echoOf: undefined },
      { type: 'change', field: 'gain', value: 1.5, rev: 2, echoOf: undefined },
      { type: 'change', field: 'mute', value: true, rev: 3, echoOf: undefined },
    ]);
  });

  it('counts from firstRevision; a base below it comes from an earlier run and is stale', () => {
    // A restarted server's counter starts above anything its predecessor reached
    // (docs/protocol.md rule 3), so an old page's revision can never collide with a new one.
    const { store, bridge } = setup({ firstRevision: 1000 });
    expect(store.state(H)).toEqual({ value: -25, rev: 1000 });
    expect(store.isStale('A', H, 1000)).toBe(false);
    // The field never changed in this run, yet a base from the earlier run is refused.
    for (const old of [0, 1, 999]) expect(store.isStale('A', H, old)).toBe(true);
    bridge.setStatus({ [H]: -20 });
    expect(store.state(H)).toEqual({ value: -20, rev: 1001 });
    expect(store.isStale('A', H, 1001)).toBe(false);
  });

  it('ignores status values of unknown fields', () => {
    const { store, bridge, events } = setup();
    bridge.setStatus({ bogus: 1 });
    expect(events).toEqual([]);
    expect(store.state('bogus')).toBeUndefined();
  });
});

describe('staleness', () => {
  it('a slider dragged at 20 writes/s with echoes is never stale', () => {
    const { store, bridge, advance, write } = setup();
    let now = 0;
    // The page's view lags: over a link with ~60 ms round trip, a write is judged against changes
    // the page had not seen when it sent it — its own echoes among them.
    const seen: { at: number; rev: number }[] = [{ at: 0, rev: 0 }];
    store.subscribe((e) => {
      if (e.type === 'change') seen.push({ at: now, rev: e.rev });
    });
    const baseSeenByPage = () => seen.filter((c) => c.at <= now - 60).at(-1)?.rev ?? 0;
    const inFlight: { at: number; value: number }[] = [];
    // A write every 50 ms, echoed 120 ms later: two or three writes always await their echo.
    for (let i = 1; i <= 60; i++) {
      const base = baseSeenByPage();
      expect(store.isStale('A', H, base), `write ${i} at base ${base}, current ${store.state(H)?.rev}`).toBe(false);
      write('A', i);
      inFlight.push({ at: now + 120, value: i });
      for (let t = 0; t < 50; t += 10) {
        advance(10);
        now += 10;
        while (inFlight[0] && inFlight[0].at <= now) bridge.setStatus({ [H]: inFlight.shift()!.value });
      }
    }
    expect(store.state(H)?.rev).toBeGreaterThan(50);
    // The same lag with a change nobody wrote in between is refused.
    bridge.setStatus({ [H]: -500 });
    expect(store.isStale('A', H, baseSeenByPage())).toBe(true);
  });

  it('an external change makes a write from the older revision stale', () => {
    const { store, bridge } = setup();
    bridge.setStatus({ [H]: 0 }); // rev 1
    bridge.setStatus({ [H]: 7 }); // rev 2, nobody wrote 7
    expect(store.isStale('A', H, 1)).toBe(true);
    expect(store.isStale('A', H, 2)).toBe(false);
  });

  it("another session's echo is stale for everyone else, not for the writer", () => {
    const { store, bridge, write } = setup();
    write('B', 5);
    bridge.setStatus({ [H]: 5 });
    expect(store.isStale('B', H, 0)).toBe(false);
    expect(store.isStale('A', H, 0)).toBe(true);
  });

  it("another session's write on its way to the device is stale for everyone else, until it ends", () => {
    const { store, write, advance } = setup({ echoTimeoutMs: 2000 });
    const entry = write('B', 5); // handed to the bridge, no echo yet: no new revision
    expect(store.state(H)?.rev).toBe(0);
    expect(store.isStale('A', H, 0)).toBe(true); // A never saw B's value
    expect(store.isStale('B', H, 0)).toBe(false); // B's own next write (a slider) goes on
    store.endWrite(entry, 'unknown'); // never re-sent: nothing is on its way any more
    expect(store.isStale('A', H, 0)).toBe(false);
    write('B', 6);
    advance(2001); // expired: the device will not echo it
    expect(store.isStale('A', H, 0)).toBe(false);
    expect(store.isStale('A', 'genlock_phase_v', 0)).toBe(false); // per field
  });

  it('a revision from the future is stale', () => {
    const { store } = setup();
    expect(store.isStale('A', H, 1)).toBe(true);
    expect(store.isStale('A', 'unknown_field', 0)).toBe(true);
  });

  it('a clamped echo counts as external', () => {
    const { store, bridge, write } = setup();
    write('A', 600);
    bridge.setStatus({ [H]: 511 }); // the device clamped
    expect(store.isStale('A', H, 0)).toBe(true);
  });

  it('a pending write expires after echoTimeoutMs; a late equal value is external', () => {
    const late = setup({ echoTimeoutMs: 2000 });
    late.write('A', 7);
    late.advance(2001);
    late.bridge.setStatus({ [H]: 7 });
    expect(late.store.isStale('A', H, 0)).toBe(true);

    const inTime = setup({ echoTimeoutMs: 2000 });
    inTime.write('A', 7);
    inTime.advance(1999);
    inTime.bridge.setStatus({ [H]: 7 });
    expect(inTime.store.isStale('A', H, 0)).toBe(false);
  });

  it('matches the oldest equal pending write first and consumes that session’s older entries and every equal one', () => {
    const { store, bridge, write, events } = setup();
    write('A', 1);
    write('A', 2);
    write('B', 3);
    write('A', 3);
    bridge.setStatus({ [H]: 3 }); // oldest 3 is B's
    expect(events.at(-1)).toMatchObject({ echoOf: 'B' });
    expect(store.pendingCount(H)).toBe(2); // A's 1 and 2 stay; A's 3 is on the device too
    bridge.setStatus({ [H]: 2 }); // the device coalesced: A's 2 consumes A's 1 as well
    expect(events.at(-1)).toMatchObject({ echoOf: 'A' });
    expect(store.pendingCount(H)).toBe(0);
  });

  it('a write that ended offline is forgotten: no echo can come', () => {
    const { store, bridge, write } = setup();
    const entry = write('A', 9);
    store.endWrite(entry, 'offline');
    bridge.setStatus({ [H]: 9 });
    expect(store.isStale('A', H, 0)).toBe(true);
  });

  it('a base older than the retained history is stale, the safe side', () => {
    const { store, bridge, write } = setup({ historyLimit: 4 });
    for (let i = 1; i <= 6; i++) {
      write('A', i);
      bridge.setStatus({ [H]: i }); // all A's own echoes, revs 1..6
    }
    expect(store.isStale('A', H, 2)).toBe(false); // history holds revs 3..6
    expect(store.isStale('A', H, 1)).toBe(true); // rev 2 was forgotten
  });
});

describe('the write path', () => {
  const V = 'genlock_phase_v';
  function composite() {
    const bridge = new MemoryBridge({
      id: 'videoproc',
      schema: SCHEMA,
      values: { ...VALUES },
      echo: false,
      composite: [[H, V]],
    });
    const log = recordingLogger();
    return { bridge, log, store: new DeviceStore(bridge, { logger: log }) };
  }

  it('awaits the echo from the moment the bridge has the write, and fills a composite with the freshest value', async () => {
    const { bridge, store } = composite();
    bridge.writeBehaviour = 'hang';
    const first = store.write('B', V, 42);
    expect(store.pendingCount(V)).toBe(1);
    bridge.writeBehaviour = 'accepted';
    expect(await store.write('A', H, 3)).toBe('accepted');
    expect(bridge.writes.at(-1)?.payload).toEqual({ [H]: 3, [V]: 42 }); // B's write, not the device's 10
    expect(store.pendingCount(H)).toBe(1);
    bridge.release('accepted');
    expect(await first).toBe('accepted');
    expect(store.pendingCount(V)).toBe(1); // accepted: still awaits its echo
  });

  it('a write that ends unknown or offline no longer awaits its echo', async () => {
    const { bridge, store } = composite();
    bridge.writeBehaviour = 'unknown';
    expect(await store.write('A', H, 1)).toBe('unknown');
    expect(store.pendingCount(H)).toBe(0);
    bridge.writeBehaviour = 'offline';
    expect(await store.write('A', H, 2)).toBe('offline');
    expect(store.pendingCount(H)).toBe(0);
    expect(store.freshest(V)).toBe(10);
  });

  it('a bridge that throws or resolves something else is answered unknown and logged; write never rejects', async () => {
    const { bridge, store, log } = composite();
    bridge.write = () => {
      throw new Error('driver bug');
    };
    expect(await store.write('A', H, 1)).toBe('unknown');
    bridge.write = () => Promise.resolve('maybe' as never);
    expect(await store.write('A', H, 2)).toBe('unknown');
    expect(store.pendingCount(H)).toBe(0);
    expect(log.entries.filter((e) => e.level === 'error').map((e) => e.msg)).toEqual([
      'bridge.write threw; reported unknown',
      'bridge.write resolved an unknown outcome; reported unknown',
    ]);
  });
});

describe('availability', () => {
  it('a reset sets every value to null with new revisions, making older bases stale', () => {
    const { store, bridge, events } = setup();
    bridge.setOnline(false, { reset: true });
    expect(store.online).toBe(false);
    expect(store.state(H)?.value).toBeNull();
    expect(store.state(H)?.rev).toBeGreaterThan(0);
    expect(store.isStale('A', H, 0)).toBe(true);
    expect(events.filter((e) => e.type === 'change')).toHaveLength(SCHEMA.length);
    expect(events.at(-1)).toEqual({ type: 'availability', online: false });
    bridge.setOnline(true);
    expect(events.at(-1)).toEqual({ type: 'availability', online: true });
  });

  it('does not emit availability when nothing changed', () => {
    const { bridge, events } = setup();
    bridge.setOnline(true);
    expect(events).toEqual([]);
  });
});

describe('freshest (composite payloads)', () => {
  it('is the newest write awaiting its echo, else the current value', () => {
    const { store, bridge, write, advance } = setup({ echoTimeoutMs: 1000 });
    expect(store.freshest('genlock_phase_v')).toBe(10);
    write('A', 3, 'genlock_phase_v');
    write('B', 4, 'genlock_phase_v');
    expect(store.freshest('genlock_phase_v')).toBe(4);
    bridge.setStatus({ genlock_phase_v: 4 });
    expect(store.freshest('genlock_phase_v')).toBe(3); // A's 3 still awaits its echo
    advance(1001);
    expect(store.freshest('genlock_phase_v')).toBe(4);
  });
});

describe('writes from elsewhere (another server process or MQTT client)', () => {
  it('give each named field the next revision, value unchanged, as an external change', () => {
    const { store, bridge, events } = setup();
    bridge.writeElsewhere([H, 'genlock_phase_v']);
    expect(store.state(H)).toEqual({ value: -25, rev: 1 });
    expect(store.state('genlock_phase_v')).toEqual({ value: 10, rev: 2 });
    expect(events).toEqual([
      { type: 'change', field: H, value: -25, rev: 1, echoOf: undefined },
      { type: 'change', field: 'genlock_phase_v', value: 10, rev: 2, echoOf: undefined },
    ]);
  });

  it('make a write from an older revision stale for every session, as another session’s write would', () => {
    const { store, bridge } = setup();
    bridge.writeElsewhere([H]);
    expect(store.isStale('A', H, 0)).toBe(true);
    expect(store.isStale('B', H, 0)).toBe(true);
    // A page that has seen the new revision may write.
    expect(store.isStale('A', H, 1)).toBe(false);
    // Other fields are untouched.
    expect(store.isStale('A', 'genlock_phase_v', 0)).toBe(false);
  });

  it("consume no write awaiting its echo: the device's status still attributes it", () => {
    const { store, bridge, write } = setup();
    write('A', 5);
    bridge.writeElsewhere([H]); // rev 1
    bridge.setStatus({ [H]: 5 }); // rev 2: A's echo
    expect(store.isStale('A', H, 0)).toBe(true); // the write from elsewhere came after A's base
    expect(store.isStale('A', H, 1)).toBe(false);
    expect(store.isStale('B', H, 1)).toBe(true);
  });

  it('the value comes with the device’s status: an external change with its own revision', () => {
    const { store, bridge, events } = setup();
    bridge.writeElsewhere([H]);
    bridge.setStatus({ [H]: 99 });
    expect(store.state(H)).toEqual({ value: 99, rev: 2 });
    expect(events.map((e) => e.type === 'change' && [e.value, e.rev, e.echoOf])).toEqual([
      [-25, 1, undefined],
      [99, 2, undefined],
    ]);
  });

  it('ignore unknown fields (logged) and name each field once', () => {
    const { store, bridge, events, log } = setup();
    bridge.writeElsewhere(['nope', H, H]);
    expect(store.revision).toBe(1);
    expect(events).toHaveLength(1);
    expect(log.entries.some((e) => e.msg === 'write from elsewhere to an unknown field ignored')).toBe(true);
  });
});

describe('robustness', () => {
  it('a throwing listener is logged and does not stop the others', () => {
    const { store, bridge, log } = setup();
    const seen: number[] = [];
    store.subscribe(() => {
      throw new Error('boom');
    });
    store.subscribe((e) => {
      if (e.type === 'change') seen.push(e.rev);
    });
    bridge.setStatus({ [H]: 1 });
    expect(seen).toEqual([1]);
    expect(log.entries.some((e) => e.level === 'error' && e.msg === 'store listener threw')).toBe(true);
  });

  it('close() stops listening to the bridge', () => {
    const { store, bridge, events } = setup();
    store.close();
    store.close();
    bridge.setStatus({ [H]: 1 });
    expect(events).toEqual([]);
    expect(store.state(H)?.value).toBe(-25);
  });
});
