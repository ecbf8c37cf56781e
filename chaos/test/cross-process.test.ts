/**
 * The CI slice of the cross-process chaos run (issue 15; the full run: `pnpm run chaos
 * --cross-process --trials 3000`, docs/reliability.md): 3 server processes behind a real HAProxy
 * on a real Mosquitto, hostile clients, duelling pages and a real element in Chromium, with a
 * process killed, a rolling restart and a broker restart — then the same duels with the action
 * topics withheld from the processes by a Mosquitto ACL, which the checker must catch.
 */
import { describe, expect, it } from 'vitest';
import { formatReport } from '../src/report.js';
import { runChaos } from '../src/run.js';

const CROSS = { processes: 3, broker: 'mosquitto', mqttVersion: 5 } as const;

describe('chaos across server processes (CI slice)', () => {
  it('3 processes behind HAProxy: kills, a rolling restart, a broker restart, duels and an element: no violation', async () => {
    const result = await runChaos({
      ...CROSS,
      trials: 350,
      seed: 11,
      clients: 24,
      devices: 4,
      browsers: 1,
      serverRestarts: 1,
      rollingRestarts: 1,
      brokerRestarts: 1,
      linkFaults: 1,
      duelPairs: 2,
      echoDelayMaxMs: 200,
    });
    const report = formatReport(result);
    expect(result.check.violations, report).toEqual([]);
    // Everything the slice promises happened.
    expect(result.faults, report).toMatchObject({ serverRestarts: 1, rollingRestarts: 1, brokerRestarts: 1 });
    expect(result.drainsMs).toHaveLength(3);
    // 3 processes, 1 started after the kill, 3 by the rolling restart: each with its own epoch
    // (the last ones may serve no page before the run ends).
    expect(result.records.servers).toHaveLength(3 + 1 + 3);
    expect(result.check.counts.epochs, report).toBeGreaterThanOrEqual(5);
    const c = result.check.counts;
    expect(c.crossProcess.judged, report).toBeGreaterThan(100);
    expect(result.duels?.acrossProcesses ?? 0, report).toBeGreaterThan(0);
    expect(c.acks.rejected.stale ?? 0).toBeGreaterThan(100);
    expect(report.split('\n').at(-1)).toBe('violations: 0');
  });

  it('with the action topics withheld from the processes (a Mosquitto ACL), the checker reports stale-cross-process writes', async () => {
    const result = await runChaos({
      ...CROSS,
      // Enough duels that one lands outside the checker's window every time: at 60 trials with 2
      // pairs it was about one violation a run, and some runs had none.
      trials: 240,
      seed: 1,
      clients: 8,
      devices: 4,
      linkFaults: 0,
      deviceEpisodes: false,
      withholdActions: true,
      duelPairs: 4,
      // Slow echoes: without the subscription a process learns of another's write only from them.
      echoDelayMaxMs: 600,
    });
    const report = formatReport(result);
    expect(
      result.check.violations.map((v) => v.kind),
      report,
    ).toContain('stale-cross-process');
    expect(report).toContain('ACTION TOPICS WITHHELD');
  });
});
