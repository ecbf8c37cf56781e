import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PageNetwork } from './page-network.js';

describe('per-page network cuts', () => {
  it("destroys only that page's sockets and refuses it until the time is up", () => {
    let now = 0;
    const net = new PageNetwork(() => now);
    const a1 = new PassThrough();
    const a2 = new PassThrough();
    const b = new PassThrough();
    net.track('a', a1);
    net.track('a', a2);
    net.track('b', b);
    expect(net.cut('a', 2)).toBe(2);
    expect(a1.destroyed && a2.destroyed).toBe(true);
    expect(b.destroyed).toBe(false);
    expect(net.isCut('a')).toBe(true);
    expect(net.isCut('b')).toBe(false);
    now = 1999;
    expect(net.remaining('a')).toBe(1);
    now = 2000;
    expect(net.isCut('a')).toBe(false);
  });

  it('refuses bad page ids and durations', () => {
    const net = new PageNetwork();
    expect(() => net.cut('a/b', 1)).toThrow(TypeError);
    expect(() => net.cut('a', 0)).toThrow(/seconds/);
    expect(() => net.cut('a', Number.NaN)).toThrow(/seconds/);
    expect(() => net.cut('a', 1000)).toThrow(/at most/);
  });
});
