import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay } from './backoff.js';

describe('Backoff', () => {
  it('draws each delay uniformly from [0, min(maxMs, initialMs * factor^n)) — full jitter', () => {
    const seen: number[][] = [[], [], [], [], []];
    for (let trial = 0; trial < 200; trial++) {
      const b = new Backoff({ initialMs: 100, maxMs: 1000 });
      for (let n = 0; n < 5; n++) seen[n]!.push(b.next());
    }
    const ceilings = [100, 200, 400, 800, 1000];
    seen.forEach((delays, n) => {
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...delays)).toBeLessThan(ceilings[n]!);
      // Spread over the whole window, not clustered at its top.
      expect(Math.min(...delays)).toBeLessThan(ceilings[n]! * 0.2);
      expect(Math.max(...delays)).toBeGreaterThan(ceilings[n]! * 0.8);
    });
  });

  it('is bounded by maxMs and starts over after reset', () => {
    const b = new Backoff({ initialMs: 500, maxMs: 2000, random: () => 0.999999 });
    expect([b.next(), b.next(), b.next(), b.next()]).toEqual([499, 999, 1999, 1999]);
    expect(b.attempts).toBe(4);
    expect(b.ceiling).toBe(2000);
    b.reset();
    expect(b.ceiling).toBe(500);
    expect(b.next()).toBe(499);
  });

  it('uses documented defaults (500 ms, 15 s, ×2), keeps them for options given as undefined, and accepts 0 for initialMs', () => {
    const b = new Backoff({ initialMs: undefined, random: () => 1 });
    expect([b.next(), b.next(), b.next()]).toEqual([500, 1000, 2000]);
    for (let i = 0; i < 10; i++) b.next();
    expect(b.next()).toBe(15_000);
    const zero = new Backoff({ initialMs: 0, random: () => 1 });
    expect(zero.next()).toBe(0);
    // Long past the point where factor ** attempts overflows: still 0, never NaN.
    for (let i = 0; i < 1100; i++) zero.next();
    expect(zero.next()).toBe(0);
  });

  it('throws a TypeError with code bad-option naming the options for contradictory settings', () => {
    expect(() => new Backoff({ initialMs: 1000, maxMs: 10 })).toThrow(/"initialMs" <= "maxMs"/);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(TypeError);
    expect(() => new Backoff({ factor: 0.5 })).toThrow(expect.objectContaining({ code: 'bad-option' }));
  });
});

describe('backoffDelay', () => {
  it('gives the same delays as Backoff.next, by attempt number, without a counter', () => {
    const options = { initialMs: 1000, maxMs: 30_000, random: () => 1 };
    expect([0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, options))).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    const b = new Backoff(options);
    expect([0, 1, 2, 3, 4, 5, 6].map(() => b.next())).toEqual(
      [0, 1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, options)),
    );
  });

  it('treats an initialMs above maxMs as maxMs instead of throwing', () => {
    expect(backoffDelay(0, { initialMs: 5000, maxMs: 1000, random: () => 0.5 })).toBe(500);
  });
});
