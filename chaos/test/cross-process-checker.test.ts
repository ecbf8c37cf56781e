/**
 * The checker's cross-process judgement (`checker/cross-process.ts`) on hand-made records: two
 * pages on two server processes, one field, each process with its own epoch and revisions. A write
 * from the other process that had reached the broker's subscribers (and so this process, which was
 * subscribed) well before the set is a violation; one inside the broker round trip is a near-miss;
 * one the process could not have had (it was not subscribed yet), or from the same process, is
 * neither.
 */
import { describe, expect, it } from 'vitest';
import { topicsOf } from '../src/chaos-device.js';
import { type CheckResult, checkRun } from '../src/checker.js';
import type { BrokerMessage, ConnectionRecord, FrameRecord, SdkLinkRecords } from '../src/records.js';

const T = topicsOf('dev1');
const W = 100;

const up = (t: number, msg: Record<string, unknown>): FrameRecord => ({ t, dir: 'c2s', msg });
const down = (t: number, msg: Record<string, unknown>): FrameRecord => ({ t, dir: 's2c', msg });
const mqtt = (t: number, topic: string, payload: string): BrokerMessage => ({ t, topic, payload, retained: false });

/** A page on process life `life` (epoch `E<life>`), shown `c` at revision `rev`, that writes `value` at `tSet`. */
function page(
  id: number,
  client: string,
  life: number,
  rev: number,
  tSet: number,
  value: number,
  answer: Record<string, unknown> = { status: 'accepted' },
): ConnectionRecord {
  const epoch = `E${life}`;
  const fields = { a: { value: -1, rev }, b: { value: -2, rev }, c: { value: -3, rev }, d: { value: -4, rev } };
  return {
    id,
    client,
    n: 1,
    serverGeneration: life,
    openedAt: 10,
    httpStatus: 101,
    polite: false,
    frames: [
      up(10, { type: 'hello', device: 'dev1', mounts: 0 }),
      down(11, { type: 'resync', epoch, device: 'online', fields }),
      up(tSet, { type: 'set', id: 1, field: 'c', value, rev, epoch }),
      down(tSet + 20, { type: 'ack', id: 1, ...answer }),
    ],
  };
}

/** The gate's records: one connection per process life, with when its SUBACK passed. */
function gate(
  subscribedAt: { life1: number; life2: number },
  publishes: SdkLinkRecords['publishes'],
  life2Id = 'ldf-chaos-L2-dev1',
): SdkLinkRecords {
  return {
    connections: [
      { id: 1, openedAt: 1, clientId: 'ldf-chaos-L1-dev1', subscribedAt: subscribedAt.life1 },
      { id: 2, openedAt: 1, clientId: life2Id, subscribedAt: subscribedAt.life2 },
    ],
    publishes,
  };
}

/**
 * p0 on life 1 writes c=1000000 (published at 310); p1 on life 2, from its own revision of c shown
 * at 11, writes c=2000000 at `tSet` (published 10 ms later). The device echoes late (at 2000).
 */
function race(options: {
  tSet: number;
  subscribedAt?: { life1: number; life2: number };
  answer?: Record<string, unknown>;
  p0Life?: number;
}): CheckResult {
  const { tSet, answer, p0Life = 1 } = options;
  const published = answer === undefined || answer.status !== 'rejected';
  const p0Conn = p0Life === 1 ? 1 : 2;
  return checkRun(
    {
      connections: [page(1, 'p0', p0Life, 3, 300, 1_000_000), page(2, 'p1', 2, 7, tSet, 2_000_000, answer)],
      broker: [
        mqtt(0, T.status.pair, '-1 -2'),
        mqtt(0, T.status.c, '-3'),
        mqtt(0, T.status.d, '{"d":-4}'),
        mqtt(0, T.online, '1'),
        mqtt(310, T.set.c, 'c 1000000'),
        ...(published ? [mqtt(tSet + 10, T.set.c, 'c 2000000')] : []),
        mqtt(2000, T.status.c, published ? '2000000' : '1000000'),
      ].sort((x, y) => x.t - y.t),
      sdkLink: gate(options.subscribedAt ?? { life1: 5, life2: 5 }, [
        { t: 309, conn: p0Conn, topic: T.set.c, payload: 'c 1000000' },
        ...(published ? [{ t: tSet + 9, conn: 2, topic: T.set.c, payload: 'c 2000000' }] : []),
      ]),
      outages: [],
      servers: [
        { generation: 1, startedAt: 0 },
        { generation: 2, startedAt: 0 },
      ],
      endedAt: 100_000,
    },
    { windowMs: 50, echoTimeoutMs: 2000, crossWindowMs: W },
  );
}

describe('the checker across server processes', () => {
  it("a set accepted well after the other process's write had reached the broker's subscribers is a stale-cross-process violation", () => {
    const r = race({ tSet: 600 });
    expect(r.violations.map((v) => v.kind)).toEqual(['stale-cross-process']);
    expect(r.violations[0]?.message).toContain('290 ms before the set reached its process');
    expect(r.counts.crossProcess.judged).toBe(2);
  });

  it('the same set inside the broker round trip (the other write < W before it) is a near-miss, not a violation', () => {
    const r = race({ tSet: 350 });
    expect(r.violations).toEqual([]);
    expect(r.nearMisses.filter((x) => x.kind === 'stale-cross-process')).toMatchObject([{ lagMs: 40 }]);
    expect(r.counts.crossProcess.nearMisses).toBe(1);
  });

  it('nothing is held against a process whose broker connection was not subscribed yet when the other write went by', () => {
    const r = race({ tSet: 600, subscribedAt: { life1: 5, life2: 500 } });
    expect(r.violations).toEqual([]);
  });

  it("a write from the same process life is left to the single-process checks (here: the writer's own session's rule)", () => {
    const r = race({ tSet: 600, p0Life: 2 });
    expect(r.violations.map((v) => v.kind)).not.toContain('stale-cross-process');
  });

  it('a set the process refused stale after such a write counts as a race the SDK caught', () => {
    const r = race({ tSet: 600, answer: { status: 'rejected', reason: 'stale', field: 'c', value: -3, rev: 9 } });
    expect(r.violations).toEqual([]);
    expect(r.counts.crossProcess.caught).toBe(1);
  });

  it('without the process lives in the MQTT client ids (a one-process run), nothing is judged across processes', () => {
    const r = checkRun(
      {
        connections: [page(1, 'p0', 1, 3, 100, 1_000_000), page(2, 'p1', 2, 7, 600, 2_000_000)],
        broker: [mqtt(0, T.status.c, '-3'), mqtt(0, T.online, '1'), mqtt(310, T.set.c, 'c 1000000')],
        outages: [],
        servers: [{ generation: 1, startedAt: 0 }],
        endedAt: 100_000,
      },
      { windowMs: 50, echoTimeoutMs: 2000, crossWindowMs: W },
    );
    expect(r.counts.crossProcess.judged).toBe(0);
    expect(r.violations.map((v) => v.kind)).not.toContain('stale-cross-process');
  });
});
