/**
 * One field's value, revision, recent change history and writes awaiting their echo: the data the
 * revision rule (docs/protocol.md rule 3) is decided on. The device-wide revision counter and the bridge
 * subscription live in `store.ts`; this file is the per-field bookkeeping, free of I/O and timers.
 * @module
 */
import type { FieldValue, WritableValue } from '@live-device-form/protocol';

/**
 * A write handed to the bridge and not yet matched by an echo. It stops awaiting when a change or a
 * status repeating the current value carries its value, when it ends `offline` or `unknown`, when
 * it expires (`echoTimeoutMs`), or when a broker reset clears every one.
 */
export interface WriteAwaitingEcho {
  /** The session that wrote it. */
  readonly sessionId: string;
  readonly field: string;
  readonly value: WritableValue;
  /** When it was handed to the bridge, on the store's clock. */
  readonly at: number;
}

/** One change of a field's value: its revision, and the session it echoes (`undefined`: external). */
interface Change {
  readonly rev: number;
  readonly echoOf: string | undefined;
}

/** Bounds of one field's bookkeeping. */
export interface RevisionLimits {
  /** Milliseconds a pending write may wait for its echo. */
  readonly echoTimeoutMs: number;
  /** Changes remembered for attribution. */
  readonly historyLimit: number;
  /** Pending writes remembered; the oldest is forgotten first. */
  readonly pendingLimit: number;
}

/**
 * The revision state of one field. See {@link DeviceStore} for the rule it implements.
 * @internal
 */
export class FieldRevisions {
  /** Current value; `null` while unknown. */
  value: FieldValue;
  /** Revision of the current value; the store's first revision until the first change this process saw. */
  rev: number;
  /**
   * Newest revision that fell out of `history`, at first the store's first revision: a base older
   * than it can no longer be judged (or comes from an earlier run of the server).
   */
  private forgottenRev: number;
  private readonly history: Change[] = [];
  /** Oldest first; entries are pushed in time order, so expiry only ever removes from the front. */
  private pending: WriteAwaitingEcho[] = [];

  /**
   * @param firstRevision The revision of the initial value; a base below it predates this store
   *   (an earlier run of the server) and is stale.
   */
  constructor(
    value: FieldValue,
    private readonly limits: RevisionLimits,
    firstRevision = 0,
  ) {
    this.value = value;
    this.rev = firstRevision;
    this.forgottenRev = firstRevision;
  }

  /** Registers a write handed to the bridge. */
  addPending(entry: WriteAwaitingEcho): void {
    this.pending.push(entry);
    // Memory stays bounded even if a device never echoes and the clock never advances.
    if (this.pending.length > this.limits.pendingLimit) this.pending.shift();
  }

  /**
   * Forgets a write whose echo must not be waited for: it ended `offline` (never published, no echo
   * will come) or `unknown` (never re-sent; if it did reach the device, its echo is external).
   */
  removePending(entry: WriteAwaitingEcho): void {
    const i = this.pending.indexOf(entry);
    if (i >= 0) this.pending.splice(i, 1);
  }

  /**
   * Records a new value with its revision and attributes it: the oldest unexpired pending write with
   * the same value makes it that session's echo; that entry, the session's older entries for this
   * field and every entry of the same value, whoever wrote it, are consumed. Otherwise the change is
   * external. Returns the echoing session id, or `undefined`.
   */
  change(value: FieldValue, rev: number, now: number): string | undefined {
    this.expire(now);
    let echoOf: string | undefined;
    const i = this.echoed(value);
    const match = i >= 0 ? this.pending[i] : undefined;
    if (match) {
      echoOf = match.sessionId;
      // The session's older writes to this field were superseded by this one (the device may
      // coalesce); other sessions' older entries stay, they may still be echoed. Every write of
      // this value is done, whoever sent it: the device has it (a duplicate left pending would
      // later restore this value over a newer one in a composite payload).
      this.pending = this.pending.filter((p, j) => p.value !== value && (j > i || (j < i && p.sessionId !== echoOf)));
    }
    this.value = value;
    this.record(rev, echoOf);
    return echoOf;
  }

  /**
   * A write from elsewhere (another server process, another MQTT client) was seen on the field's
   * action topic: an external change with a new revision, the value kept until the device reports
   * one. No pending write is consumed: the device has not said anything yet.
   */
  writtenElsewhere(rev: number): void {
    this.record(rev, undefined);
  }

  private record(rev: number, echoOf: string | undefined): void {
    this.rev = rev;
    this.history.push({ rev, echoOf });
    if (this.history.length > this.limits.historyLimit) {
      this.forgottenRev = this.history.shift()?.rev ?? this.forgottenRev;
    }
  }

  /**
   * A status repeating the current value: the echo of a write of that value, which changed nothing.
   * Consumes every pending write of that value, and the older ones of the session that wrote the oldest.
   */
  confirm(value: FieldValue, now: number): void {
    this.expire(now);
    const i = this.echoed(value);
    const match = i >= 0 ? this.pending[i] : undefined;
    if (!match) return;
    this.pending = this.pending.filter(
      (p, j) => p.value !== value && (j > i || (j < i && p.sessionId !== match.sessionId)),
    );
  }

  /** Forgets every pending write (the broker link was lost: they all ended `unknown`). */
  clearPending(): void {
    this.pending = [];
  }

  /** Whether a write by `sessionId` based on revision `base` is stale (see {@link DeviceStore}). */
  isStale(sessionId: string, base: number, now: number): boolean {
    if (base > this.rev) return true;
    // A forgotten change newer than the base might have been external: refuse, the safe side.
    if (base < this.forgottenRev) return true;
    // Another session's write is on its way to the device: its value is newer than anything this
    // session has seen, whatever its base (docs/protocol.md rule 3).
    this.expire(now);
    for (const p of this.pending) if (p.sessionId !== sessionId) return true;
    for (let i = this.history.length - 1; i >= 0; i--) {
      const change = this.history[i] as Change;
      if (change.rev <= base) break;
      if (change.echoOf !== sessionId) return true;
    }
    return false;
  }

  /** The newest write still awaiting its echo, else the current value (docs/protocol.md rule 4). */
  freshest(now: number): FieldValue {
    this.expire(now);
    const newest = this.pending[this.pending.length - 1];
    return newest ? newest.value : this.value;
  }

  /** How many writes await their echo (for tests and diagnostics). */
  pendingCount(now: number): number {
    this.expire(now);
    return this.pending.length;
  }

  /**
   * Where the oldest pending write of `value` is, or `-1`. Most statuses find nothing awaiting its
   * echo: they skip the search (and its closure), and never read `pending[-1]`, a slow named lookup.
   */
  private echoed(value: FieldValue): number {
    return value === null || this.pending.length === 0 ? -1 : this.pending.findIndex((p) => p.value === value);
  }

  private expire(now: number): void {
    let n = 0;
    while (n < this.pending.length && now - (this.pending[n] as WriteAwaitingEcho).at > this.limits.echoTimeoutMs) n++;
    if (n > 0) this.pending.splice(0, n);
  }
}
