/**
 * Faults beyond a page's own link: the broker killed (SIGKILL) and restarted, the server process
 * killed and restarted, and a device that stops publishing without a Last Will.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topicsOf } from '../src/chaos-device.js';
import { Link } from '../src/link.js';
import { formatReport } from '../src/report.js';
import { type ChaosResult, runChaos } from '../src/run.js';
import { type Stack, startStack } from '../src/stack.js';

describe('broker and server processes killed mid-run (Mosquitto, SIGKILL)', () => {
  let result: ChaosResult;
  let report: string;
  beforeAll(async () => {
    result = await runChaos({
      trials: 150,
      seed: 11,
      clients: 24,
      devices: 4,
      broker: 'mosquitto',
      brokerRestarts: 1,
      serverRestarts: 1,
      linkFaults: 0,
    });
    report = formatReport(result);
  }, 120_000);

  it('the broker: pages are told offline, come back with a resync, no accepted write lost, none published late', () => {
    const killed = result.records.outages.filter((o) => o.kind === 'broker-killed');
    expect(killed).toHaveLength(1);
    expect(killed[0]?.back).toBeGreaterThan(killed[0]?.start ?? Infinity);
    // "not-told-offline", "no-resync-after-return", "accepted-not-published", "published-after-reconnect"
    // would all be violations.
    expect(result.check.violations, report).toEqual([]);
    expect(result.check.counts.acks.accepted).toBeGreaterThan(0);
  });

  it('the server: clients reconnect to a new epoch; no revision from the old one gets a stale write through', () => {
    expect(result.records.servers).toHaveLength(2);
    expect(result.check.counts.epochs).toBe(2);
    // Connections of each process saw exactly that process's epoch ("epoch" violations otherwise),
    // and replays of old-epoch revisions were answered like any other hostile write.
    expect(result.check.violations.filter((v) => v.kind === 'epoch')).toEqual([]);
    expect(result.check.counts.oldEpochSets.sets).toBeGreaterThan(0);
    expect(report.split('\n').at(-1)).toBe('violations: 0');
  });
});

describe('a device that stops publishing without a Last Will', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ devices: ['dev1'], server: { echoTimeoutMs: 300 } });
  });
  afterAll(async () => {
    await stack.close();
  });

  async function page(): Promise<Link> {
    const link = new Link(stack.url);
    expect(await link.opened).toBe(true);
    link.hello('dev1', 0);
    expect(await link.waitLive(5000)).toBe(true);
    return link;
  }

  it('hung but connected: the page still sees it online; writes are accepted and published, and never confirmed', async () => {
    const link = await page();
    const t = topicsOf('dev1');
    stack.devices.silence('dev1');
    const before = stack.observer.messages.length;
    const shown = link.fields.get('c');
    const id = link.set('c', 1_000_001, shown?.rev ?? 0) as number;
    expect(await link.waitAcks([id], 3000)).toBe(true);
    // The SDK cannot know: the broker took the write (PUBACK), so the ack is `accepted`.
    expect(link.acks.get(id)).toEqual({ status: 'accepted' });
    expect((await stack.observer.waitFor((m) => m.topic === t.set.c, before))?.payload).toBe('c 1000001');
    // No echo, so no update: the page keeps showing the device's last reported value, online.
    expect(await link.waitFor((f) => f.type === 'update', 800)).toBe(false);
    expect(link.fields.get('c')).toEqual(shown);
    expect(link.online).toBe(true);
    // Past the echo timeout the write no longer counts as awaiting its echo; another write from
    // the same base is still accepted (nothing changed as far as anyone can tell).
    const again = link.set('c', 1_000_002, link.fields.get('c')?.rev ?? 0) as number;
    expect(await link.waitAcks([again], 3000)).toBe(true);
    expect(link.acks.get(again)).toEqual({ status: 'accepted' });
    stack.devices.silence('dev1', false);
    link.close();
  });

  it('gone with a clean DISCONNECT (no will published): availability stays "1", the page is never told', async () => {
    const link = await page();
    await stack.devices.disconnectQuietly('dev1');
    const before = stack.observer.messages.length;
    expect(await link.waitFor((f) => f.type === 'device', 800)).toBe(false);
    expect(stack.observer.messages.slice(before).some((m) => m.topic === topicsOf('dev1').online)).toBe(false);
    const id = link.set('d', 1_000_003, link.fields.get('d')?.rev ?? 0) as number;
    expect(await link.waitAcks([id], 3000)).toBe(true);
    expect(link.acks.get(id)).toEqual({ status: 'accepted' });
    link.close();
  });
});
