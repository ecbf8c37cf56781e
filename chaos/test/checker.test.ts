/**
 * The checker on hand-made records: a clean exchange passes, and each promise, broken on purpose,
 * is reported as the violation it is — so a run that ends with `violations: 0` means something.
 */
import { describe, expect, it } from 'vitest';
import { topicsOf } from '../src/chaos-device.js';
import { type CheckResult, checkRun } from '../src/checker.js';
import type { BrokerMessage, ConnectionRecord, FrameRecord, RunRecords } from '../src/records.js';

const T = topicsOf('dev1');
const EPOCH = 'epoch-1';
const CONFIG = { windowMs: 50, echoTimeoutMs: 2000 };

let ids = 0;
function conn(client: string, frames: FrameRecord[], extra: Partial<ConnectionRecord> = {}): ConnectionRecord {
  return {
    id: ++ids,
    client,
    n: 1,
    serverGeneration: 1,
    openedAt: frames[0]?.t ?? 0,
    httpStatus: 101,
    frames,
    polite: false,
    ...extra,
  };
}
const up = (t: number, msg: Record<string, unknown>): FrameRecord => ({ t, dir: 'c2s', msg });
const down = (t: number, msg: Record<string, unknown>): FrameRecord => ({ t, dir: 's2c', msg });
const mqtt = (t: number, topic: string, payload: string): BrokerMessage => ({ t, topic, payload, retained: false });

const hello = (t: number): FrameRecord => up(t, { type: 'hello', device: 'dev1', mounts: 0 });
const resync = (
  t: number,
  fields = { a: [-1, 1], b: [-2, 2], c: [-3, 3], d: [-4, 4] },
  device = 'online',
): FrameRecord =>
  down(t, {
    type: 'resync',
    epoch: EPOCH,
    device,
    fields: Object.fromEntries(Object.entries(fields).map(([k, [value, rev]]) => [k, { value, rev }])),
  });
const set = (t: number, id: number, field: string, value: number, rev: number): FrameRecord =>
  up(t, { type: 'set', id, field, value, rev, epoch: EPOCH });
const ack = (t: number, id: number, status = 'accepted', extra: Record<string, unknown> = {}): FrameRecord =>
  down(t, { type: 'ack', id, status, ...extra });
const update = (t: number, field: string, value: number, rev: number): FrameRecord =>
  down(t, { type: 'update', field, value, rev });

/** The device's state before anything happens, as the checker's subscription sees it first. */
const initial = (): BrokerMessage[] => [
  mqtt(0, T.status.pair, '-1 -2'),
  mqtt(0, T.status.c, '-3'),
  mqtt(0, T.status.d, '{"d":-4}'),
  mqtt(0, T.online, '1'),
];

function run(connections: ConnectionRecord[], broker: BrokerMessage[], extra: Partial<RunRecords> = {}): CheckResult {
  return checkRun(
    {
      connections,
      broker: [...initial(), ...broker].sort((x, y) => x.t - y.t),
      outages: [],
      servers: [{ generation: 1, startedAt: 0 }],
      endedAt: 100_000,
      ...extra,
    },
    CONFIG,
  );
}
const kinds = (r: CheckResult): string[] => r.violations.map((v) => v.kind);

/** One client writing c=1000000 from the revision it was shown: published, acked, echoed. */
function cleanWrite(): { connections: ConnectionRecord[]; broker: BrokerMessage[] } {
  return {
    connections: [
      conn('p0', [hello(10), resync(11), set(100, 1, 'c', 1_000_000, 3), ack(120, 1), update(131, 'c', 1_000_000, 5)]),
    ],
    broker: [mqtt(110, T.set.c, 'c 1000000'), mqtt(130, T.status.c, '1000000')],
  };
}

describe('the checker on a clean exchange', () => {
  it('finds nothing wrong with a fresh write that was published once, acked once and echoed', () => {
    const { connections, broker } = cleanWrite();
    const r = run(connections, broker);
    expect(r.violations).toEqual([]);
    expect(r.counts.setsReceived).toBe(1);
    expect(r.counts.acks.accepted).toBe(1);
    expect(r.counts.publishes).toBe(1);
  });
});

describe('(1) stale values', () => {
  it('a write based on a value the device had changed, which the server had already shown a page, is a violation', () => {
    const r = run(
      [
        conn('p0', [hello(10), resync(11), set(500, 1, 'c', 1_000_000, 3), ack(520, 1)]),
        // Another page was told about the device's change before p0's set arrived.
        conn('p1', [hello(10), resync(12), update(210, 'c', -9, 5)]),
      ],
      [mqtt(200, T.status.c, '-9'), mqtt(510, T.set.c, 'c 1000000')],
    );
    expect(kinds(r)).toEqual(['stale-write']);
    expect(r.violations[0]?.message).toContain('the server had already sent it to a page');
  });

  it('the same change still in flight to the SDK (no page told yet) is a near-miss, not hidden', () => {
    const r = run(
      [conn('p0', [hello(10), resync(11), set(500, 1, 'c', 1_000_000, 3), ack(520, 1), update(530, 'c', -9, 5)])],
      [mqtt(400, T.status.c, '-9'), mqtt(510, T.set.c, 'c 1000000')],
    );
    expect(r.violations).toEqual([]);
    expect(r.nearMisses).toMatchObject([{ kind: 'stale-write', lagMs: 110, afterSet: false, inFlight: true }]);
  });

  it("the writer's own echo in between is not a change against it", () => {
    const r = run(
      [
        conn('p0', [
          hello(10),
          resync(11),
          set(100, 1, 'c', 1_000_000, 3),
          ack(120, 1),
          update(131, 'c', 1_000_000, 5),
          // From the old revision again: only its own echo happened since.
          set(300, 2, 'c', 1_000_001, 3),
          ack(320, 2),
        ]),
      ],
      [mqtt(110, T.set.c, 'c 1000000'), mqtt(130, T.status.c, '1000000'), mqtt(310, T.set.c, 'c 1000001')],
    );
    expect(r.violations).toEqual([]);
  });

  it('a composite payload restoring a value the device had left is a violation', () => {
    const r = run(
      [
        conn('p0', [hello(10), resync(11), set(500, 1, 'a', 1_000_000, 1), ack(520, 1)]),
        conn('p1', [hello(10), resync(12), update(210, 'b', -9, 5)]),
      ],
      // b went -2 → -9 and the SDK had shown -9; the publish still carries b=-2.
      [mqtt(200, T.status.pair, '-1 -9'), mqtt(510, T.set.pair, 'pair 1000000 -2')],
    );
    expect(kinds(r)).toEqual(['stale-composite']);
  });

  it('a composite payload carrying a write that never reached the broker is a violation', () => {
    const r = run(
      [
        conn('p0', [
          hello(10),
          resync(11),
          set(100, 1, 'b', 1_000_000, 2),
          ack(3000, 1, 'unknown'),
          set(3500, 2, 'a', 1_000_001, 1),
          ack(3520, 2),
        ]),
      ],
      [mqtt(3510, T.set.pair, 'pair 1000001 1000000')],
    );
    expect(kinds(r)).toEqual(['unpublished-composite']);
    expect(r.violations[0]?.message).toContain('unknown');
  });
});

describe('(2) one ack per set', () => {
  it('a set without an ack on a connection that stayed open is a violation', () => {
    const r = run([conn('p0', [hello(10), resync(11), set(100, 1, 'c', 1_000_000, 3)])], []);
    expect(kinds(r)).toEqual(['missing-ack']);
  });

  it('a second ack, and an ack for a set never received, are violations', () => {
    const { connections, broker } = cleanWrite();
    connections[0]?.frames.push(ack(140, 1), ack(150, 7, 'rejected', { reason: 'stale' }));
    expect(kinds(run(connections, broker))).toEqual(['duplicate-ack', 'unexpected-ack']);
  });

  it('a set whose connection ended before its ack is counted as not observable, not hidden', () => {
    const r = run(
      [conn('p0', [hello(10), resync(11), set(100, 1, 'c', 1_000_000, 3)], { serverEndedAt: 105 })],
      [mqtt(110, T.set.c, 'c 1000000')],
    );
    expect(r.violations).toEqual([]);
    expect(r.counts.ackNotObservable.closed).toBe(1);
  });
});

describe('(3) publishes and acks match one to one', () => {
  it('a publish no set explains, and an accepted write never published, are violations', () => {
    const { connections } = cleanWrite();
    expect(kinds(run(connections, [mqtt(130, T.status.c, '1000000')]))).toEqual(['accepted-not-published']);
    expect(
      kinds(
        run(connections, [
          mqtt(110, T.set.c, 'c 1000000'),
          mqtt(111, T.set.c, 'c 1000000'),
          mqtt(130, T.status.c, '1000000'),
        ]),
      ),
    ).toEqual(['unmatched-publish']);
  });

  it('a refused write that was published anyway is a violation', () => {
    const r = run(
      [
        conn('p0', [
          hello(10),
          resync(11),
          set(100, 1, 'c', 1_000_000, 3),
          ack(101, 1, 'rejected', { reason: 'guard' }),
        ]),
      ],
      [mqtt(110, T.set.c, 'c 1000000')],
    );
    expect(kinds(r)).toEqual(['unmatched-publish']);
  });
});

describe('(4) never while offline, after a broker reconnect, or after the session', () => {
  it('a publish after the device said offline, which the server had told a page, is a violation', () => {
    const r = run(
      [
        conn('p0', [hello(10), resync(11), set(500, 1, 'c', 1_000_000, 3), ack(520, 1)]),
        conn('p1', [hello(10), resync(12), down(210, { type: 'device', status: 'offline' })]),
      ],
      [mqtt(200, T.online, '0'), mqtt(510, T.set.c, 'c 1000000')],
    );
    expect(kinds(r)).toContain('published-offline');
  });

  it('a write received before a broker outage and published after the reconnect is a violation', () => {
    const { connections, broker } = cleanWrite();
    const late = broker.map((m) => (m.topic === T.set.c ? { ...m, t: 900 } : m));
    const r = run(connections, late, { outages: [{ kind: 'link-cut', start: 105, back: 800, noticeWithinMs: 1000 }] });
    expect(kinds(r)).toContain('published-after-reconnect');
  });

  it('the gate shows which broker connection carried a publish: one opened after the set arrived is a late publish', () => {
    const { connections, broker } = cleanWrite();
    const link = (via: number) => ({
      connections: [
        { id: 1, openedAt: 0, closedAt: 105 },
        { id: 2, openedAt: 400 },
      ],
      publishes: [{ t: 109, conn: via, topic: T.set.c, payload: 'c 1000000' }],
    });
    expect(run(connections, broker, { sdkLink: link(1) }).violations).toEqual([]);
    expect(kinds(run(connections, broker, { sdkLink: link(2) }))).toEqual(['published-after-reconnect']);
    // A publish the gate never forwarded did not come from the SDK.
    expect(kinds(run(connections, broker, { sdkLink: { connections: [], publishes: [] } }))).toEqual([
      'checker-anomaly',
    ]);
  });

  it('a set that reached the server after it had ended the session must never be published', () => {
    const r = run(
      [conn('p0', [hello(10), resync(11), set(100, 1, 'c', 1_000_000, 3)], { serverEndedAt: 90 })],
      [mqtt(110, T.set.c, 'c 1000000')],
    );
    expect(kinds(r)).toContain('published-after-session');
  });

  it('a write held back and published seconds later is a violation', () => {
    const { connections } = cleanWrite();
    expect(kinds(run(connections, [mqtt(9000, T.set.c, 'c 1000000')]))).toContain('published-late');
  });
});

describe('pages are told, epochs are kept apart, elements keep their contract', () => {
  it('a live page never told that the device went offline is a violation', () => {
    const r = run([conn('p0', [hello(10), resync(11)])], [mqtt(200, T.online, '0'), mqtt(5000, T.online, '1')]);
    expect(kinds(r)).toEqual(['not-told-offline']);
  });

  it('two server processes showing the same epoch is a violation', () => {
    const a = conn('p0', [hello(10), resync(11)], { serverGeneration: 1 });
    const b = conn('p1', [hello(10), resync(11)], { serverGeneration: 2 });
    expect(kinds(run([a, b], []))).toEqual(['epoch']);
  });

  it('an element that writes before its resync, or from a revision its socket never showed, breaks its contract', () => {
    const early = conn(
      'b0',
      [hello(10), set(12, 1, 'c', 900_000_000 + 1_000_000, 3), ack(13, 1, 'rejected', { reason: 'guard' }), resync(14)],
      { polite: true },
    );
    const foreign = conn(
      'b1',
      [
        hello(10),
        resync(11),
        set(20, 1, 'c', 901_000_000 + 1_000_000, 99),
        ack(21, 1, 'rejected', { reason: 'stale' }),
      ],
      { polite: true },
    );
    expect(kinds(run([early, foreign], []))).toEqual(['element-contract', 'element-contract']);
  });

  it('anything published outside the devices’ topics is a violation', () => {
    expect(kinds(run([], [mqtt(5, '$SYS/x/../ldf-chaos/dev1/set/c', 'c 1')]))).toEqual(['foreign-topic']);
  });
});

describe('writes from an earlier epoch (docs/protocol.md rule 3)', () => {
  // The reported scenario: p0 holds c = -3 at rev 3 in epoch-1; the server restarts; the device
  // moves to -9 while it is down; the new process (epoch-2) gives -9 rev 3 too.
  const OLD = 'epoch-1';
  const NEW = 'epoch-2';
  const resyncIn = (t: number, epoch: string, c: [number, number]): FrameRecord =>
    down(t, {
      type: 'resync',
      epoch,
      device: 'online',
      fields: {
        a: { value: -1, rev: 1 },
        b: { value: -2, rev: 2 },
        c: { value: c[0], rev: c[1] },
        d: { value: -4, rev: 4 },
      },
    });
  const setIn = (t: number, id: number, value: number, rev: number, epoch: string): FrameRecord =>
    up(t, { type: 'set', id, field: 'c', value, rev, epoch });
  const servers = [
    { generation: 1, startedAt: 0, killedAt: 200 },
    { generation: 2, startedAt: 350 },
  ];
  /** The client's connection to the first process, killed with it. */
  const before = (client: string): ConnectionRecord =>
    conn(client, [hello(10), resyncIn(11, OLD, [-3, 3])], { serverKilled: true, serverEndedAt: 200 });
  const after = (client: string, frames: FrameRecord[]): ConnectionRecord =>
    conn(client, [hello(400), ...frames], { n: 2, serverGeneration: 2, openedAt: 399 });
  const moved = mqtt(250, T.status.c, '-9');

  it('an accepted write from a revision only an earlier epoch had shown is an old-epoch-write, whatever epoch it claims', () => {
    // A reloaded page: the writes right behind hello, before its resync came back; one claims the
    // old epoch, one forges the new one. Both accepted and published (a server without the rules).
    const r = run(
      [
        before('p0'),
        after('p0', [
          setIn(401, 1, 1_000_000, 3, NEW),
          setIn(402, 2, 1_000_001, 3, OLD),
          resyncIn(403, NEW, [-9, 3]),
          ack(404, 1),
          ack(405, 2),
        ]),
      ],
      [moved, mqtt(410, T.set.c, 'c 1000000'), mqtt(411, T.set.c, 'c 1000001')],
      { servers },
    );
    expect(kinds(r)).toEqual(['old-epoch-write', 'old-epoch-write']);
    expect(r.violations[0]?.message).toContain('claiming the current epoch');
    expect(r.violations[1]?.message).toContain('claiming epoch epoch-1 (the old one)');
    expect(r.counts.oldEpochSets).toMatchObject({ sets: 2, claimingCurrentEpoch: 1, outcomes: { accepted: 2 } });
  });

  it('an accepted write at a revision the new epoch showed again is a repeated-revision: no one can tell which it meant', () => {
    const r = run(
      [before('p0'), after('p0', [resyncIn(401, NEW, [-9, 3]), setIn(450, 1, 1_000_000, 3, NEW), ack(460, 1)])],
      [moved, mqtt(455, T.set.c, 'c 1000000')],
      { servers },
    );
    expect(kinds(r)).toEqual(['repeated-revision']);
    expect(r.counts.oldEpochSets).toMatchObject({ sets: 1, repeatedRevision: 1 });
  });

  it('refused, they are counted by answer, the restart-replay pages apart; nothing is violated', () => {
    const r = run(
      [
        before('r0'),
        after('r0', [
          setIn(401, 1, 801_000_000, 3, OLD),
          setIn(402, 2, 801_000_001, 3, NEW),
          resyncIn(403, NEW, [-9, 1_000_003]),
          ack(404, 1, 'rejected', { reason: 'stale', field: 'c', value: -9, rev: 1_000_003 }),
          ack(405, 2, 'rejected', { reason: 'stale', field: 'c', value: -9, rev: 1_000_003 }),
        ]),
      ],
      [moved],
      { servers },
    );
    expect(r.violations).toEqual([]);
    const expected = { sets: 2, claimingCurrentEpoch: 1, repeatedRevision: 0, outcomes: { 'rejected/stale': 2 } };
    expect(r.counts.oldEpochSets).toEqual(expected);
    expect(r.counts.restartReplaySets).toEqual(expected);
  });
});
