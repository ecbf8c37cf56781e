import { describe, expect, it } from 'vitest';
import { Fanout, type FanoutMember, IngressState } from './fanout.js';
import { recordingLogger } from './logger.js';

/** A member that records what it is told, as `field=value@rev`, `lagging`, `caught-up`, `online`/`offline`. */
function member(name = 'm', onChange?: () => void) {
  const seen: string[] = [];
  const m: FanoutMember & { seen: string[]; name: string } = {
    name,
    seen,
    onChange(_field, data, rev) {
      onChange?.();
      const f = JSON.parse(data.toString()) as { field: string; value: unknown; rev: number };
      expect(f.rev).toBe(rev);
      seen.push(`${f.field}=${String(f.value)}@${f.rev}`);
    },
    onAvailability: (online) => void seen.push(online ? 'online' : 'offline'),
    onLagging: () => void seen.push('lagging'),
    onCaughtUp: () => void seen.push('caught-up'),
  };
  return m;
}

/** A fan-out whose clock and `setImmediate` the test turns by hand. */
function setup(options: { lagLimitMs?: number; sliceMs?: number } = {}) {
  const clock = { t: 0 };
  const deferred: (() => void)[] = [];
  const log = recordingLogger();
  const fanout = new Fanout({
    lagLimitMs: options.lagLimitMs ?? 1000,
    sliceMs: options.sliceMs ?? 5,
    log,
    device: 'd',
    now: () => clock.t,
    defer: (fn) => void deferred.push(fn),
  });
  /** Runs one deferred slice; returns whether there was one. */
  const turn = (): boolean => {
    const fn = deferred.shift();
    fn?.();
    return fn !== undefined;
  };
  /** Runs slices until none is scheduled; returns how many ran. */
  const drain = (): number => {
    let n = 0;
    while (turn()) n++;
    return n;
  };
  return { clock, deferred, log, fanout, turn, drain };
}

describe('fan-out: coalescing', () => {
  it('sends each changed field once per round, its latest value, in the order fields last changed', () => {
    const { fanout, drain } = setup();
    const a = member('a');
    const b = member('b');
    fanout.join(a);
    fanout.join(b);
    for (let i = 1; i <= 1000; i++) fanout.change('h', i, i);
    fanout.change('v', 5, 1001);
    fanout.change('h', 7, 1002);
    // The first went at once (the leading edge); the rest wait for the next turn's round.
    expect(a.seen).toEqual(['h=1@1']);
    expect(fanout.state).toBe(IngressState.Behind);
    expect(drain()).toBe(1);
    expect(a.seen).toEqual(['h=1@1', 'v=5@1001', 'h=7@1002']);
    expect(b.seen).toEqual(a.seen);
    expect(fanout.state).toBe(IngressState.CaughtUp);
  });

  it('leading edge: an idle fan-out sends a change at once, and counts as busy until the next turn', () => {
    const { fanout, deferred, drain } = setup();
    const a = member('a');
    fanout.join(a);
    fanout.change('h', 1, 1);
    expect(a.seen).toEqual(['h=1@1']);
    // The turn that ends the window is due; until it runs, changes wait and coalesce.
    expect(deferred).toHaveLength(1);
    fanout.change('h', 2, 2);
    fanout.change('h', 3, 3);
    expect(a.seen).toEqual(['h=1@1']);
    expect(drain()).toBe(1); // that turn carries the round of what waited
    expect(a.seen).toEqual(['h=1@1', 'h=3@3']);
    // A quiet turn went by: idle again, the next change goes at once.
    fanout.change('v', 4, 4);
    expect(a.seen).toEqual(['h=1@1', 'h=3@3', 'v=4@4']);
    expect(drain()).toBe(1);
    expect(fanout.state).toBe(IngressState.CaughtUp);
  });

  it('leading edge: a change while a round is still going out waits for the next round', () => {
    const { fanout, clock, turn, drain } = setup({ sliceMs: 1 });
    const members = Array.from({ length: 20 }, (_, i) => member(`m${i}`, () => (clock.t += 1)));
    for (const m of members) fanout.join(m);
    fanout.change('h', 1, 1);
    // The first slice went out in the change's own call, 16 members; 4 wait for the next turn.
    expect(members.filter((m) => m.seen.length > 0)).toHaveLength(16);
    fanout.change('h', 2, 2);
    turn();
    expect(members.every((m) => m.seen.join() === 'h=1@1')).toBe(true);
    drain();
    expect(members.every((m) => m.seen.join() === 'h=1@1,h=2@2')).toBe(true);
  });

  it('leading edge: only after a quiet spell of ten times the last round, so a flood never takes it', () => {
    const { fanout, clock, drain } = setup();
    // Each member takes a millisecond: a round to the two takes 2 ms, the quiet spell is 20 ms.
    const a = member('a', () => (clock.t += 1));
    const b = member('b', () => (clock.t += 1));
    fanout.join(a);
    fanout.join(b);
    fanout.change('h', 1, 1); // at t = 0, nothing before: at once
    expect(a.seen).toEqual(['h=1@1']);
    drain();
    clock.t = 19; // 19 ms after the last change
    fanout.change('h', 2, 2);
    expect(a.seen).toEqual(['h=1@1']); // waits for the next turn, as without the leading edge
    drain();
    expect(a.seen).toEqual(['h=1@1', 'h=2@2']);
    clock.t = 39; // 20 ms after the last change
    fanout.change('h', 3, 3);
    expect(a.seen).toEqual(['h=1@1', 'h=2@2', 'h=3@3']);
    expect(b.seen).toEqual(a.seen);
  });

  it('schedules nothing without members', () => {
    const { fanout, deferred } = setup();
    fanout.change('h', 1, 1);
    expect(deferred).toHaveLength(0);
  });

  it('yields between slices; a member that left meanwhile is skipped, one that joined waits for the next round', () => {
    const { fanout, clock, turn, drain } = setup({ sliceMs: 1 });
    // Every member takes a millisecond: the clock is looked at every 16 members, so slices are of 16.
    const members = Array.from({ length: 40 }, (_, i) => member(`m${i}`, () => (clock.t += 1)));
    for (const m of members) fanout.join(m);
    fanout.change('h', 1, 1);
    // The first slice goes out at once (the leading edge), the next at the next turn.
    expect(members.filter((m) => m.seen.length > 0)).toHaveLength(16);
    expect(turn()).toBe(true);
    expect(members.filter((m) => m.seen.length > 0)).toHaveLength(32);
    fanout.leave(members[39]!);
    const late = member('late');
    fanout.join(late);
    expect(drain()).toBe(1);
    expect(members.slice(0, 39).every((m) => m.seen.join() === 'h=1@1')).toBe(true);
    expect(members[39]!.seen).toEqual([]);
    expect(late.seen).toEqual([]);
  });

  it('the rounds after a join or a leave go to the members then, leading edge or not', () => {
    const { fanout, drain } = setup();
    const a = member('a');
    const b = member('b');
    fanout.join(a);
    fanout.change('h', 1, 1); // leading edge, to a alone
    drain();
    fanout.join(b);
    fanout.change('h', 2, 2); // leading edge, to both
    fanout.change('h', 3, 3); // a round of its own, to both
    drain();
    fanout.leave(a);
    fanout.change('h', 4, 4); // to b alone
    fanout.change('h', 5, 5);
    drain();
    expect(a.seen).toEqual(['h=1@1', 'h=2@2', 'h=3@3']);
    expect(b.seen).toEqual(['h=2@2', 'h=3@3', 'h=4@4', 'h=5@5']);
    fanout.leave(b);
    fanout.join(a);
    fanout.change('h', 6, 6);
    drain();
    expect(a.seen.at(-1)).toBe('h=6@6');
    expect(b.seen.at(-1)).toBe('h=5@5');
  });

  it('a member that throws does not keep the others from their updates', () => {
    const { fanout, drain, log } = setup();
    const broken = member('broken', () => {
      throw new Error('boom');
    });
    const ok = member('ok');
    fanout.join(broken);
    fanout.join(ok);
    fanout.change('h', 1, 1);
    drain();
    expect(ok.seen).toEqual(['h=1@1']);
    expect(log.entries.some((e) => e.level === 'error' && e.msg === 'session failed to take an update')).toBe(true);
  });

  it('availability goes to every member at once, not in a round', () => {
    const { fanout, deferred } = setup();
    const a = member();
    fanout.join(a);
    fanout.availability(false);
    expect(a.seen).toEqual(['offline']);
    expect(deferred).toHaveLength(0);
  });
});

describe('fan-out: lagging', () => {
  it('a change waiting longer than lagLimitMs makes it lagging; caught up, every member is told once', () => {
    const { fanout, clock, turn, drain } = setup({ lagLimitMs: 100 });
    const a = member('a');
    fanout.join(a);
    fanout.change('h', 1, 1); // goes at once (the leading edge)
    fanout.change('h', 2, 2); // waits for the next turn
    expect(fanout.state).toBe(IngressState.Behind);
    clock.t = 101; // the event loop was busy elsewhere
    fanout.change('h', 3, 3);
    expect(fanout.state).toBe(IngressState.Lagging);
    expect(fanout.lag()).toBe(101);
    expect(a.seen).toEqual(['h=1@1', 'lagging']);
    turn();
    expect(a.seen).toEqual(['h=1@1', 'lagging', 'h=3@3', 'caught-up']);
    expect(fanout.state).toBe(IngressState.CaughtUp);
    expect(drain()).toBe(0);
  });

  it('stays lagging until what waits is younger than half the limit (no resync storm at the edge)', () => {
    const { fanout, clock, turn } = setup({ lagLimitMs: 100, sliceMs: 1000 });
    const a = member('a');
    fanout.join(a);
    fanout.change('h', 0, 0); // goes at once (the leading edge)
    a.seen.length = 0;
    fanout.change('h', 1, 1);
    clock.t = 150;
    fanout.change('h', 2, 2);
    expect(fanout.state).toBe(IngressState.Lagging);
    // A round goes out, but another change has waited 60 ms meanwhile: still lagging.
    const onChange = a.onChange.bind(a);
    a.onChange = (...args) => {
      onChange(...args);
      if (clock.t === 150) {
        clock.t = 210;
        fanout.change('v', 3, 3);
        clock.t = 270;
      }
    };
    turn();
    expect(fanout.state).toBe(IngressState.Lagging);
    expect(a.seen).toEqual(['lagging', 'h=2@2']);
    clock.t = 280;
    turn();
    expect(a.seen).toEqual(['lagging', 'h=2@2', 'v=3@3', 'caught-up']);
    expect(fanout.state).toBe(IngressState.CaughtUp);
  });

  it('is not lagging while it keeps up, however many changes come', () => {
    const { fanout, clock, drain } = setup({ lagLimitMs: 100 });
    const a = member('a');
    fanout.join(a);
    for (let i = 1; i <= 100; i++) {
      fanout.change('h', i, i);
      clock.t += 30;
      drain();
    }
    expect(a.seen).not.toContain('lagging');
    expect(a.seen).toHaveLength(100);
  });
});
