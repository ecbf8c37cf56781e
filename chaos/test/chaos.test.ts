/**
 * The CI slice of the chaos run (the full run: `pnpm run chaos --trials 10000`, docs/reliability.md):
 * a couple of hundred trials against the real SDK, and the same schedule with the protections off,
 * which the checker must catch.
 */
import { describe, expect, it } from 'vitest';
import { formatReport } from '../src/report.js';
import { runChaos } from '../src/run.js';

describe('chaos (CI slice)', () => {
  it('200 trials with hostile clients, device drop-offs and a broker link fault: no violation', async () => {
    const result = await runChaos({ trials: 200, seed: 7, clients: 40, devices: 6, linkFaults: 1 });
    const report = formatReport(result);
    expect(result.check.violations, report).toEqual([]);
    const c = result.check.counts;
    const trials = Object.values(result.clients.trials).reduce((x, y) => x + y, 0);
    expect(trials).toBe(200);
    // The run really did what it says: hostile replays reached the server and were refused.
    expect(c.acks.rejected.guard ?? 0).toBeGreaterThan(100);
    expect(c.acks.rejected.stale ?? 0).toBeGreaterThan(100);
    expect(c.acks.accepted).toBeGreaterThan(100);
    expect(c.publishes).toBeGreaterThanOrEqual(c.acks.accepted);
    expect(result.clients.trials.blackHole).toBeGreaterThan(0);
    expect(result.clients.trials.cut).toBeGreaterThan(0);
    expect(report.split('\n').at(-1)).toBe('violations: 0');
  });

  it('the same chaos with the protections off (setProtection guardMs 0, checkRevisions false) ends in violations', async () => {
    const result = await runChaos({ trials: 60, seed: 7, clients: 20, devices: 4, unsafe: true, linkFaults: 0 });
    const kinds = new Set(result.check.violations.map((v) => v.kind));
    expect(result.check.violations.length).toBeGreaterThan(0);
    expect(kinds.has('stale-write')).toBe(true);
    expect(formatReport(result).split('\n').at(-1)).toMatch(/^violations: [1-9]\d*$/);
  });
});
