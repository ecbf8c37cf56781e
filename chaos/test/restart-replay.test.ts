/**
 * The restart-replay fault (issue 11): the server process killed and restarted while the devices
 * change, and pages that held values before the restart replay writes from their old revisions
 * after the new process's resync — claiming their old epoch, or forging the new one. With the
 * rules of docs/protocol.md rule 3 (the epoch check and the non-repeating counter) none gets
 * through; with both off (`unsafeEpochs`) the checker must catch the ones that do.
 */
import { describe, expect, it } from 'vitest';
import { formatReport } from '../src/report.js';
import { runChaos } from '../src/run.js';

const RUN = { trials: 150, seed: 5, clients: 24, devices: 8, serverRestarts: 2, linkFaults: 0 } as const;

describe('restart replays', () => {
  it('with the epoch check and the non-repeating counter: every replay refused stale, no violation', async () => {
    const result = await runChaos(RUN);
    const report = formatReport(result);
    expect(result.check.violations, report).toEqual([]);
    expect(result.records.servers).toHaveLength(3);
    const replays = result.check.counts.restartReplaySets;
    // Both kinds of replay reached the server: claiming the old epoch (the epoch check refuses
    // them) and forging the new one (only the counter refuses those).
    expect(result.clients.restartReplays).toBeGreaterThan(20);
    expect(result.clients.restartReplaysForged).toBeGreaterThan(0);
    expect(replays.sets).toBe(result.clients.restartReplays);
    expect(replays.claimingCurrentEpoch).toBe(result.clients.restartReplaysForged);
    expect(replays.claimingCurrentEpoch).toBeLessThan(replays.sets);
    expect(replays.outcomes.accepted ?? 0).toBe(0);
    expect(replays.outcomes.unknown ?? 0).toBe(0);
    expect(replays.outcomes['rejected/stale'] ?? 0).toBeGreaterThan(0);
    expect(report).toMatch(/^restart replays: \d+ sent/m);
    expect(report.split('\n').at(-1)).toBe('violations: 0');
  });

  it('with both rules off (firstRevision 0, every replay forging the new epoch): old-epoch writes get through and are violations', async () => {
    const result = await runChaos({ ...RUN, unsafeEpochs: true });
    const report = formatReport(result);
    const replays = result.check.counts.restartReplaySets;
    expect(replays.claimingCurrentEpoch).toBe(replays.sets);
    // The new processes' revisions repeated the old ones', and the replays collided with them.
    expect(replays.repeatedRevision + (replays.outcomes.accepted ?? 0), report).toBeGreaterThan(0);
    // How many replays collide exactly varies with timing (4 to 32 old-epoch writes in seven runs of
    // this setup); that revisions repeat across the restarts is certain with the counter off.
    const caught = result.check.violations.filter(
      (v) => v.kind === 'old-epoch-write' || v.kind === 'repeated-revision',
    );
    expect(caught.length, report).toBeGreaterThan(0);
    const oldEpochWrites = caught.filter((v) => v.kind === 'old-epoch-write');
    expect(
      oldEpochWrites.every((v) => /^r\d+$/.test(v.client ?? '')),
      report,
    ).toBe(true);
    expect(report.split('\n').at(-1)).toMatch(/^violations: [1-9]\d*$/);
  });
});
