/**
 * The flood of issue 11 (docs/protocol.md rule 11), end to end: Mosquitto, a publisher process at
 * 2,000 statuses a second on one topic, 1,000 pages that never read (from 127.0.0.2–127.0.0.5) and
 * one that reads, pings and writes. Before ingress coalescing, such a page's newest value was
 * seconds old while it still said Live, its pings and writes went unanswered for as long, and the
 * broker link dropped. The ceilings are generous (seconds, where the server takes tens of
 * milliseconds) so that a loaded machine does not make the test flaky.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Mosquitto, runIngressFlood, runMosquittoTests, startMosquitto } from '@live-device-form/testkit';

/** Milliseconds nothing the reading page waits for may take. */
const CEILING_MS = 5000;

describe.runIf(runMosquittoTests)('ingress flood: 2,000 statuses a second, 1,000 pages that do not read', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(() => broker?.close());

  it(
    'the reading page stays close to the broker, its pings are answered and its writes acked',
    { timeout: 60_000 },
    async () => {
      const report = await runIngressFlood({ brokerUrl: broker.url, rate: 2000, idle: 1000, durationMs: 8000 });
      const context = JSON.stringify(report);
      expect(report.published, context).toBeGreaterThan(8000);
      expect(report.updates, context).toBeGreaterThan(0);
      expect(report.lag.max, context).toBeLessThan(CEILING_MS);
      expect(report.staleness.max, context).toBeLessThan(CEILING_MS);
      expect(report.lostPings, context).toBe(0);
      expect(report.pong.max, context).toBeLessThan(CEILING_MS);
      expect(report.lostAcks, context).toBe(0);
      expect(report.ack.max, context).toBeLessThan(CEILING_MS);
      expect(report.linkDrops, context).toBe(0);
      expect(report.idleOpen, context).toBe(1000);
    },
  );
});
