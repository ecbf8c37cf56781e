import { describe, expect, it } from 'vitest';
import { MAX_OWN_IN_FLIGHT, ORIGIN_PROPERTY, OwnPublishes } from './own-publishes.js';

const T = 'dev/set/phase';

function setup(tagged = false, timeoutMs = 5000) {
  let clock = 0;
  const own = new OwnPublishes({ originId: 'me', tagged, timeoutMs, now: () => clock });
  return {
    own,
    advance(ms: number) {
      clock += ms;
    },
    back: (payload: string, topic = T, props?: Record<string, string | string[]>) =>
      own.classify(topic, Buffer.from(payload), props),
  };
}

describe('own publishes: first in, first out (MQTT 3.1.1)', () => {
  it('a write of ours that comes back is ours, once; the same message again is from elsewhere', () => {
    const { own, back } = setup();
    own.sent(T, 'genlock 1 2');
    expect(own.pending).toBe(1);
    expect(back('genlock 1 2')).toBe('own');
    expect(own.pending).toBe(0);
    expect(back('genlock 1 2')).toBe('elsewhere');
    expect(own.seen).toBe(1);
  });

  it('matches topic and payload: another payload, or ours on another topic, is from elsewhere', () => {
    const { own, back } = setup();
    own.sent(T, 'genlock 1 2');
    expect(back('genlock 1 3')).toBe('elsewhere');
    expect(back('genlock 1 2', 'dev/set/other')).toBe('elsewhere');
    expect(own.pending).toBe(1);
    expect(back('genlock 1 2')).toBe('own');
  });

  it('several writes in flight come back in any interleaving with foreign ones; each is taken once', () => {
    const { own, back } = setup();
    own.sent(T, 'a');
    own.sent(T, 'b');
    own.sent(T, Buffer.from('a'));
    expect(back('x')).toBe('elsewhere');
    expect(back('a')).toBe('own');
    expect(back('b')).toBe('own');
    expect(back('a')).toBe('own');
    expect(back('a')).toBe('elsewhere');
  });

  it('the documented limit: an identical foreign payload while ours is in flight is taken for ours', () => {
    const { own, back } = setup();
    own.sent(T, 'genlock 1 2');
    // Another process wrote exactly the same, and its message arrives first: it is taken for ours…
    expect(back('genlock 1 2')).toBe('own');
    // …and ours, arriving after it, for the foreign one (the safe side: a stale revision).
    expect(back('genlock 1 2')).toBe('elsewhere');
  });

  it('a write that does not come back within timeoutMs is forgotten and counted; later it counts as from elsewhere', () => {
    const { own, back, advance } = setup(false, 100);
    own.sent(T, 'a');
    advance(101);
    expect(own.pending).toBe(0);
    expect(own.unreturned).toBe(1);
    expect(back('a')).toBe('elsewhere');
  });

  it(`remembers at most ${MAX_OWN_IN_FLIGHT} writes: the oldest is forgotten first`, () => {
    const { own, back } = setup();
    for (let i = 0; i <= MAX_OWN_IN_FLIGHT; i++) own.sent(T, `v ${i}`);
    expect(own.pending).toBe(MAX_OWN_IN_FLIGHT);
    expect(own.unreturned).toBe(1);
    expect(back('v 0')).toBe('elsewhere');
    expect(back(`v ${MAX_OWN_IN_FLIGHT}`)).toBe('own');
  });

  it('clear() forgets every write in flight (a new connection)', () => {
    const { own, back } = setup();
    own.sent(T, 'a');
    own.clear();
    expect(back('a')).toBe('elsewhere');
  });

  it('publishes without properties when untagged', () => {
    expect(setup(false).own.publishOptions).toEqual({});
  });
});

describe('own publishes: the origin property (MQTT 5)', () => {
  it('publishes with the user property carrying its id', () => {
    expect(setup(true).own.publishOptions).toEqual({ properties: { userProperties: { [ORIGIN_PROPERTY]: 'me' } } });
  });

  it('our id is ours even with no write remembered (it came back late); it takes the remembered one', () => {
    const { own, back } = setup(true);
    expect(back('genlock 1 2', T, { [ORIGIN_PROPERTY]: 'me' })).toBe('own');
    own.sent(T, 'genlock 1 2');
    expect(back('genlock 1 2', T, { [ORIGIN_PROPERTY]: ['other', 'me'] })).toBe('own');
    expect(own.pending).toBe(0);
  });

  it("another process's id is from elsewhere, even with our identical payload in flight (the FIFO's limit gone)", () => {
    const { own, back } = setup(true);
    own.sent(T, 'genlock 1 2');
    expect(back('genlock 1 2', T, { [ORIGIN_PROPERTY]: 'other' })).toBe('elsewhere');
    // Ours is still awaited, and recognised when it comes.
    expect(own.pending).toBe(1);
    expect(back('genlock 1 2', T, { [ORIGIN_PROPERTY]: 'me' })).toBe('own');
  });

  it('a message without the property (a plain MQTT client, or a broker that dropped it) falls back to first in, first out', () => {
    const { own, back } = setup(true);
    own.sent(T, 'genlock 1 2');
    expect(back('genlock 9 9', T, { unrelated: 'x' })).toBe('elsewhere');
    expect(back('genlock 1 2', T, {})).toBe('own');
  });
});
