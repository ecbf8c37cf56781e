/** Unit tests of the availability combiner: one module, no broker (the bridge's tests use a real one). */
import { describe, expect, it } from 'vitest';
import { Availability } from './availability.js';
import type { AvailabilityDescription } from './device/types.js';

const b = (text: string): Buffer => Buffer.from(text);

/** A Zigbee2MQTT device: its own availability (JSON or plain) and the bridge's state. */
const z2m = (mode?: 'all' | 'any' | 'latest'): Availability =>
  new Availability({
    topics: [
      { topic: 'z2m/lamp/availability', json: '/state' },
      { topic: 'z2m/bridge/state', json: '/state' },
    ],
    ...(mode === undefined ? {} : { mode }),
  });

describe('availability: one topic', () => {
  it('is unknown, so offline, until its first message, then follows it', () => {
    const a = new Availability({ topic: 'd/online', online: '1', offline: '0' });
    expect(a.topics).toEqual(['d/online']);
    expect(a.stateOf('d/online')).toBe('unknown');
    expect(a.online).toBe(false);
    expect(a.receive('d/online', b('1'))).toEqual({ state: 'online' });
    expect(a.online).toBe(true);
    expect(a.receive('d/online', b('0'))).toEqual({ state: 'offline' });
    expect(a.online).toBe(false);
  });

  it('counts an unexpected payload as offline and says why', () => {
    const a = new Availability({ topic: 'd/online' });
    a.receive('d/online', b('online'));
    expect(a.receive('d/online', b('maybe'))).toEqual({
      state: 'offline',
      problem: '"maybe" is neither "online" nor "offline"',
    });
    expect(a.online).toBe(false);
  });

  it('ignores a topic that is not its own', () => {
    const a = new Availability({ topic: 'd/online' });
    expect(a.receive('d/other', b('online'))).toBeUndefined();
    expect(a.has('d/other')).toBe(false);
    expect(a.online).toBe(false);
  });

  it('without a description the device is always available', () => {
    const a = new Availability(undefined);
    expect(a.topics).toEqual([]);
    expect(a.online).toBe(true);
    a.reset();
    expect(a.online).toBe(true);
  });
});

describe('availability: modes', () => {
  it('all (the default): online only while every topic says online', () => {
    const a = z2m();
    expect(a.mode).toBe('all');
    a.receive('z2m/lamp/availability', b('{"state":"online"}'));
    expect(a.online).toBe(false); // the bridge has said nothing yet
    a.receive('z2m/bridge/state', b('online'));
    expect(a.online).toBe(true);
    // The bridge goes away: the device is offline although its own topic still says online.
    a.receive('z2m/bridge/state', b('{"state":"offline"}'));
    expect(a.stateOf('z2m/lamp/availability')).toBe('online');
    expect(a.online).toBe(false);
  });

  it('any: online while at least one topic says online', () => {
    const a = z2m('any');
    expect(a.online).toBe(false);
    a.receive('z2m/bridge/state', b('offline'));
    expect(a.online).toBe(false);
    a.receive('z2m/lamp/availability', b('online'));
    expect(a.online).toBe(true);
    a.receive('z2m/lamp/availability', b('offline'));
    expect(a.online).toBe(false);
  });

  it('latest: what the last message on any topic said', () => {
    const a = z2m('latest');
    expect(a.online).toBe(false);
    a.receive('z2m/lamp/availability', b('online'));
    expect(a.online).toBe(true);
    a.receive('z2m/bridge/state', b('offline'));
    expect(a.online).toBe(false);
    // Not "all": the other topic's offline does not hold it back.
    a.receive('z2m/lamp/availability', b('online'));
    expect(a.online).toBe(true);
    // An unexpected payload is the latest word too: offline.
    a.receive('z2m/bridge/state', b('{"state":"restarting"}'));
    expect(a.online).toBe(false);
  });

  it('an oversized payload counts as offline for its topic (and as the latest message)', () => {
    for (const mode of ['all', 'latest'] as const) {
      const a = z2m(mode);
      a.receive('z2m/lamp/availability', b('online'));
      a.receive('z2m/bridge/state', b('online'));
      expect(a.online).toBe(true);
      a.markOffline('z2m/bridge/state');
      expect(a.stateOf('z2m/bridge/state')).toBe('offline');
      expect(a.online).toBe(false);
    }
  });

  it('reset forgets every topic: unknown again, so offline until they speak again', () => {
    for (const mode of ['all', 'any', 'latest'] as const) {
      const a = z2m(mode);
      a.receive('z2m/lamp/availability', b('online'));
      a.receive('z2m/bridge/state', b('online'));
      expect(a.online).toBe(true);
      a.reset();
      expect(a.stateOf('z2m/lamp/availability')).toBe('unknown');
      expect(a.stateOf('z2m/bridge/state')).toBe('unknown');
      expect(a.online).toBe(false);
      a.receive('z2m/lamp/availability', b('online'));
      expect(a.online).toBe(mode !== 'all');
    }
  });
});

describe('availability: payloads', () => {
  const one = (d: Omit<AvailabilityDescription, 'topic'>): Availability => new Availability({ topic: 't', ...d });

  it('json: the token at the pointer; a payload that is not JSON is compared as it is', () => {
    const a = one({ json: '/state' });
    expect(a.receive('t', b('{"state":"online","reason":"x"}'))).toEqual({ state: 'online' });
    expect(a.receive('t', b('offline'))).toEqual({ state: 'offline' });
    expect(a.receive('t', b('online'))).toEqual({ state: 'online' });
    // A JSON scalar has nothing at a pointer: a plain payload too.
    const digits = one({ json: '/state', online: '1', offline: '0' });
    expect(digits.receive('t', b('1'))).toEqual({ state: 'online' });
    expect(digits.receive('t', b('{"state":0}'))).toEqual({ state: 'offline' });
    expect(one({ json: '/up', online: 'true', offline: 'false' }).receive('t', b('{"up":true}'))).toEqual({
      state: 'online',
    });
  });

  it('json: an object without a string at the pointer is unexpected, so offline', () => {
    const a = one({ json: '/state' });
    a.receive('t', b('online'));
    expect(a.receive('t', b('{"status":"online"}'))).toEqual({ state: 'offline', problem: 'no string at /state' });
    expect(a.receive('t', b('{"state":{"online":true}}'))).toEqual({
      state: 'offline',
      problem: 'no string at /state',
    });
    expect(a.receive('t', b('["online"]'))).toEqual({ state: 'offline', problem: 'no string at /state' });
    // Nested pointers and escapes (RFC 6901).
    expect(one({ json: '/a~1b/0' }).receive('t', b('{"a/b":["online"]}'))).toEqual({ state: 'online' });
    // Prototype keys are never followed: JSON.parse makes them own keys, the pointer refuses them.
    expect(() => one({ json: '/__proto__' })).toThrow(TypeError);
  });

  it('without json, a JSON payload is compared as it is', () => {
    const a = one({});
    expect(a.receive('t', b('{"state":"online"}'))).toEqual({
      state: 'offline',
      problem: '"{\\"state\\":\\"online\\"}" is neither "online" nor "offline"',
    });
  });

  it('decode: its token is compared; nothing, a non-string or a throw is offline', () => {
    const seen: string[] = [];
    const a = one({
      online: 'ON',
      offline: 'OFF',
      decode: (p) => {
        const text = p.toString();
        seen.push(text);
        if (text === 'boom') throw new Error('bad template');
        if (text === 'none') return undefined;
        if (text === 'null') return null;
        if (text === 'num') return 1 as unknown as string;
        return text.toUpperCase();
      },
    });
    expect(a.receive('t', b('on'))).toEqual({ state: 'online' });
    expect(a.receive('t', b('boom'))).toEqual({ state: 'offline', problem: 'decode threw: bad template' });
    a.receive('t', b('on'));
    expect(a.receive('t', b('none'))).toEqual({ state: 'offline', problem: 'decode returned nothing' });
    a.receive('t', b('on'));
    expect(a.receive('t', b('null'))).toEqual({ state: 'offline', problem: 'decode returned nothing' });
    a.receive('t', b('on'));
    expect(a.receive('t', b('num'))).toEqual({ state: 'offline', problem: 'decode returned a number, not a string' });
    expect(a.receive('t', b('off'))).toEqual({ state: 'offline' });
    expect(seen).toEqual(['on', 'boom', 'on', 'none', 'on', 'null', 'on', 'num', 'off']);
  });

  it('a long unexpected payload is cut in the problem', () => {
    const r = one({}).receive('t', b('x'.repeat(1000)));
    expect(r?.problem).toBe(`"${'x'.repeat(64)}…" is neither "online" nor "offline"`);
  });
});
