/**
 * The checker's types: what it is configured with and what it returns (public, re-exported by
 * `../checker.ts`), and the records its phases build from the run's records and hand on.
 * @module
 */
import type { ChaosField, ChaosGroup } from '../chaos-device.js';
import type { ConnectionRecord } from '../records.js';

/** What the checker needs to know about the run's settings. */
export interface CheckerConfig {
  /** The in-flight window W, ms. */
  windowMs: number;
  /** The server's `echoTimeoutMs` (a write counts as awaiting its echo that long). */
  echoTimeoutMs: number;
  /** A set whose connection stayed open this long without an ack is a missing ack, ms. Defaults to `5000`. */
  ackDeadlineMs?: number;
  /** How long after a broker outage ended pages must have had their fresh resync, ms. Defaults to `8000`. */
  resyncDeadlineMs?: number;
  /** A publish this long after its set reached the server was held back: a violation, ms. Defaults to `5000`. */
  lateMs?: number;
  /**
   * The cross-process window (`checker/cross-process.ts`): one broker round trip plus the receiving
   * process's scheduling, ms. Defaults to `windowMs`.
   */
  crossWindowMs?: number;
}

export type ViolationKind =
  | 'stale-write'
  | 'stale-composite'
  | 'stale-cross-process'
  | 'unpublished-composite'
  | 'missing-ack'
  | 'duplicate-ack'
  | 'unexpected-ack'
  | 'unmatched-publish'
  | 'accepted-not-published'
  | 'published-offline'
  | 'published-after-reconnect'
  | 'published-after-session'
  | 'published-late'
  | 'malformed-publish'
  | 'foreign-topic'
  | 'not-told-offline'
  | 'no-resync-after-return'
  | 'epoch'
  | 'old-epoch-write'
  | 'repeated-revision'
  | 'element-contract'
  | 'run-stalled'
  | 'checker-anomaly';

export interface Violation {
  kind: ViolationKind;
  message: string;
  /** When (run time, ms), for reading the records. */
  t?: number;
  client?: string;
  conn?: number;
}

/** An in-flight race, reported separately from violations. */
export interface NearMiss {
  kind: 'stale-write' | 'stale-composite' | 'stale-cross-process' | 'published-offline' | 'published-after-session';
  /** How long before the publish the offending change reached the broker (negative: after the set reached the server). */
  lagMs: number;
  /** Whether the change reached the broker after the set reached the server (the decision could not know it). */
  afterSet: boolean;
  /**
   * Whether the change was still in flight to the SDK when the set reached it: the server had not
   * yet sent any page an update (or `device offline`) for it.
   */
  inFlight: boolean;
  /** Which publish (for reading the records). */
  where?: string;
}

/** Figures the report prints. */
export interface CheckCounts {
  connections: number;
  upgraded: number;
  clients: number;
  setsReceived: number;
  acks: { accepted: number; unknown: number; rejected: Record<string, number> };
  /** Sets whose connection ended (or whose server process was killed) before their ack could be seen. */
  ackNotObservable: { closed: number; serverKilled: number };
  publishes: number;
  statusMessages: number;
  statusChanges: number;
  deviceOfflineMessages: number;
  outages: number;
  serverProcesses: number;
  epochs: number;
  /** Published sets whose basis was shown in an earlier epoch (must be 0 or fresh). */
  crossEpochSets: number;
  /** Sets from a revision the client had been shown in an earlier epoch (any client). */
  oldEpochSets: OldEpochCounts;
  /** The same, of the restart-replay pages only (clients `r0`, `r1`, …). */
  restartReplaySets: OldEpochCounts;
  /** `error` frames the server sent, by their code. */
  errorsFromServer: Record<string, number>;
  /**
   * Writes across server processes (`checker/cross-process.ts`): published sets judged (their
   * process's broker connection known to be subscribed), near-misses inside the window, and sets
   * refused `stale` that another process's delivered write made stale (races the SDK caught).
   */
  crossProcess: { judged: number; nearMisses: number; caught: number };
  /** Broker status change → first `update` frame with that value on any connection, ms. */
  updateLatency: { n: number; p50: number; p99: number; max: number };
}

/** Sets based on a revision the client had been shown in an earlier epoch: how many, what they claimed, how answered. */
export interface OldEpochCounts {
  /** How many reached the server. */
  sets: number;
  /** Of those, how many claimed the epoch of the connection they came on (a forged epoch, as far as the checker can tell). */
  claimingCurrentEpoch: number;
  /** Of those, how many were at a revision the current epoch had shown the client too: the revisions repeated. */
  repeatedRevision: number;
  /** By answer: `accepted`, `unknown`, `rejected/<reason>`, `no ack seen`. Any `accepted`/`unknown` is an `old-epoch-write`. */
  outcomes: Record<string, number>;
}

export interface CheckResult {
  violations: Violation[];
  nearMisses: NearMiss[];
  counts: CheckCounts;
}

// ------------------------------------------------------------------ what the phases share

/** Where a phase reports a violation; violations keep the order in which the phases find them. */
export type Violate = (v: Violation) => void;

/** A `set` frame the proxy delivered to the server. */
export interface SetRec {
  conn: ConnectionRecord;
  client: string;
  device: string;
  t: number;
  id: number;
  field: ChaosField;
  value: number;
  rev: number;
  /** The epoch of the connection it came on (its resync's, else its server process's). */
  epoch: string | undefined;
  /** The epoch the set claimed (its `epoch` member), which the checker does not trust. */
  claimedEpoch: string | undefined;
  /**
   * Set when the client had been shown this field at this revision in an earlier epoch (on an
   * earlier connection): which epochs, and whether the current one had shown it the same
   * revision too before the set (then the revisions repeated and no one can tell which it meant).
   */
  oldBasis?: { epochs: readonly string[]; shownInCurrentEpoch: boolean };
  ackStatus: 'accepted' | 'unknown' | 'rejected' | 'none';
  reason?: string;
  noAck?: 'closed' | 'server-killed';
  publish?: Action;
}

/** An action message on a device's `set` topic: a publish. */
export interface Action {
  t: number;
  device: string;
  group: ChaosGroup;
  /** The raw payload. */
  payload: string;
  values: Partial<Record<ChaosField, number>>;
  set?: SetRec;
}

/** One status message's value for one field. */
export interface Status {
  t: number;
  value: number;
}

/** One availability message of a device. */
export interface Availability {
  t: number;
  online: boolean;
}
