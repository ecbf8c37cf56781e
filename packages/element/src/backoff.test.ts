import { expect } from '@open-wc/testing';
import { Backoff } from './backoff.js';

describe('Backoff', () => {
  it('draws each delay uniformly from [0, min(max, initial * factor^n)) — full jitter', () => {
    const seen: number[][] = [[], [], [], [], []];
    for (let trial = 0; trial < 200; trial++) {
      const b = new Backoff({ initial: 100, max: 1000 });
      for (let n = 0; n < 5; n++) seen[n]!.push(b.next());
    }
    const ceilings = [100, 200, 400, 800, 1000];
    seen.forEach((delays, n) => {
      expect(Math.min(...delays)).to.be.at.least(0);
      expect(Math.max(...delays)).to.be.below(ceilings[n]!);
      // Spread over the whole window, not clustered at its top.
      expect(Math.min(...delays)).to.be.below(ceilings[n]! * 0.2);
      expect(Math.max(...delays)).to.be.above(ceilings[n]! * 0.8);
    });
  });

  it('is bounded by max and starts over after reset', () => {
    const b = new Backoff({ initial: 500, max: 2000, random: () => 0.999999 });
    expect([b.next(), b.next(), b.next(), b.next()]).to.deep.equal([499, 999, 1999, 1999]);
    expect(b.attempts).to.equal(4);
    b.reset();
    expect(b.next()).to.equal(499);
  });

  it('uses documented defaults (500 ms, 15 s, ×2) and accepts 0 for initial', () => {
    const b = new Backoff({ random: () => 1 });
    expect([b.next(), b.next(), b.next()]).to.deep.equal([500, 1000, 2000]);
    for (let i = 0; i < 10; i++) b.next();
    expect(b.next()).to.equal(15_000);
    expect(new Backoff({ initial: 0, random: () => 1 }).next()).to.equal(0);
  });

  it('throws a TypeError naming the options for contradictory settings', () => {
    expect(() => new Backoff({ initial: 1000, max: 10 })).to.throw(TypeError, /"initial" <= "max"/);
    expect(() => new Backoff({ factor: 0.5 })).to.throw(TypeError, /"factor"/);
  });
});
