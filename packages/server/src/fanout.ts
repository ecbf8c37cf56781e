/**
 * The fan-out of one device's changes to its sessions, coalesced (docs/protocol.md rule 11). The
 * store applies every status at once; the fan-out only remembers, per field, the latest change not
 * yet sent. Rounds hand each changed field's latest `update` (encoded once, the same bytes for
 * everyone; see `updateFrame`) to every member, in slices of at most `sliceMs` with `setImmediate`
 * between them, so pings, acks, new connections and the broker link are served while a round
 * runs. However fast statuses come, a session gets at most one `update` per field per round: the
 * work follows the number of sessions, not the number of messages.
 *
 * **Leading edge.** A change that finds the fan-out quiet — no round running or due, nothing
 * waiting, and no change for at least {@link QUIET_FACTOR} times as long as the last round took —
 * starts its round at once, in the store's own call, instead of after the event loop's pending I/O:
 * an occasional status reaches the pages without a trip through the event loop. The fan-out then
 * counts as busy until the next turn (`setImmediate`), so every change until then waits for the
 * round that follows and is coalesced as before. A burst after a quiet spell so costs one round
 * more (its first change alone), and the quiet spell it needs keeps that extra work to a tenth of
 * the fan-out's time at most: a flood, whose statuses come closer together, never takes it.
 *
 * When the oldest change not yet handed to every member is older than `lagLimitMs`, the device is
 * **lagging**: members are told (`onLagging`), sets are refused `guard`, and once every change has
 * gone out members are told it caught up (`onCaughtUp`: a fresh resync).
 *
 * Profiled before this existed (1,000 non-reading sockets, 2,000 statuses a second): three
 * quarters of the time went to `writev`, one syscall per message per socket; JSON encoding, the
 * MQTT parser and the outbox were a few percent together. So the cure is fewer sends, not cheaper ones.
 * @module
 */
import { encodeUpdate, type FieldValue } from '@live-device-form/protocol';
import type { Logger } from './logger.js';

/** What the fan-out needs from a session. @internal */
export interface FanoutMember {
  /**
   * A field changed; `data` is the encoded `update` frame, shared by every member, `rev` its
   * revision (a member whose resync already carried that revision may skip it).
   */
  onChange(field: string, data: string | Buffer, rev: number): void;
  /** The device became writable or stopped being writable. */
  onAvailability(online: boolean): void;
  /** The fan-out is more than `lagLimitMs` behind the broker. */
  onLagging(): void;
  /** Every change has gone out again after `onLagging`: the member should resync. */
  onCaughtUp(): void;
}

/** How far the fan-out is behind the changes the store applied. */
export const IngressState = {
  /** Every change has been handed to every member. */
  CaughtUp: 'caught-up',
  /** Changes wait for, or are in, a round; the oldest for less than `lagLimitMs`. */
  Behind: 'behind',
  /** The oldest change waiting is older than `lagLimitMs`: members were told, sets are refused `guard`. */
  Lagging: 'lagging',
} as const;
export type IngressState = (typeof IngressState)[keyof typeof IngressState];

/** Options of a {@link Fanout}. */
export interface FanoutOptions {
  /** Milliseconds the oldest change may wait to be sent before the device counts as lagging. */
  lagLimitMs: number;
  /** Milliseconds a round may run before it yields to the event loop. */
  sliceMs: number;
  /** Where a lagging device and broken members are logged. */
  log: Logger;
  /** The device id, for the log. */
  device: string;
  /** Clock in milliseconds (monotonic). Defaults to `performance.now`. */
  now?: () => number;
  /** Runs `fn` after the event loop's pending I/O. Defaults to `setImmediate`. */
  defer?: (fn: () => void) => void;
}

/** One field's `update`, encoded once for every member. */
interface Frame {
  readonly field: string;
  readonly data: string | Buffer;
  readonly rev: number;
}

/** The latest change of a field not yet in a round. */
interface Change {
  readonly field: string;
  readonly value: FieldValue;
  readonly rev: number;
}

/** One round: the frames it carries, the members it hands them to, how far it got. */
interface Round {
  readonly frames: readonly Frame[];
  readonly members: readonly FanoutMember[];
  /** When the oldest change it carries was applied. */
  readonly since: number;
  /** When its first slice began. */
  readonly started: number;
  next: number;
}

/**
 * A field's `update` frame, for `members` sockets: as bytes when several send it (encoded once, the
 * same bytes for each), as text for one (it sends the text as it is; making bytes of it first would
 * only add to that page's latency).
 */
function updateFrame(field: string, value: FieldValue, rev: number, members: number): Frame {
  const text = encodeUpdate(field, value, rev);
  return { field, data: members > 1 ? Buffer.from(text) : text, rev };
}

/**
 * A change goes out at once (the leading edge) only after the device was quiet for this many times
 * as long as its last round took, so that the round more it may cost stays within a tenth of the
 * fan-out's time.
 */
export const QUIET_FACTOR = 10;

/** Members handed a round's frames between two looks at the clock. */
const CLOCK_EVERY = 16;

/** @internal */
export class Fanout {
  private readonly members = new Set<FanoutMember>();
  /**
   * `members` as an array, made again only after a join or a leave: rounds share it (none changes
   * it), so a round does not copy the member set.
   */
  private list: readonly FanoutMember[] | undefined;
  /** The latest change of each field not yet in a round, in the order the fields last changed. */
  private readonly dirty = new Map<string, Change>();
  /** When the oldest change in `dirty` was applied. */
  private dirtySince: number | undefined;
  /** When the latest change came (for the leading edge's quiet spell). */
  private lastChange = -Infinity;
  /** How long the last round took, first slice to last, yields included. */
  private lastRoundMs = 0;
  private round: Round | undefined;
  private scheduled = false;
  private closed = false;
  private ingress: IngressState = IngressState.CaughtUp;
  private readonly now: () => number;
  private readonly defer: (fn: () => void) => void;
  private readonly run = (): void => this.work();

  constructor(private readonly options: FanoutOptions) {
    this.now = options.now ?? (() => performance.now());
    this.defer = options.defer ?? ((fn) => void setImmediate(fn));
  }

  /** How far behind the fan-out is. */
  get state(): IngressState {
    return this.ingress;
  }

  /** Milliseconds the oldest change not yet handed to every member has waited (0 when caught up). */
  lag(now = this.now()): number {
    const since = Math.min(this.round?.since ?? Infinity, this.dirtySince ?? Infinity);
    return since === Infinity ? 0 : now - since;
  }

  join(member: FanoutMember): void {
    this.members.add(member);
    this.list = undefined;
  }

  leave(member: FanoutMember): void {
    this.members.delete(member);
    this.list = undefined;
  }

  /**
   * A field changed in the store: it goes out in the next round, as its latest value then. After a
   * quiet spell that round starts now (the leading edge, see the module comment).
   */
  change(field: string, value: FieldValue, rev: number): void {
    if (this.closed || this.members.size === 0) return;
    const now = this.now();
    const quietMs = now - this.lastChange;
    this.lastChange = now;
    if (
      !this.scheduled &&
      this.round === undefined &&
      this.dirty.size === 0 &&
      quietMs >= QUIET_FACTOR * this.lastRoundMs
    ) {
      const members = (this.list ??= [...this.members]);
      const frames = [updateFrame(field, value, rev, members.length)];
      this.round = { frames, members, since: now, started: now, next: 0 };
      this.slice(now);
      // Until the next turn the fan-out is busy: what changes meanwhile waits for that round.
      this.schedule();
      return;
    }
    this.dirty.delete(field); // re-inserted at the end: the newest change goes last
    this.dirty.set(field, { field, value, rev });
    this.dirtySince ??= now;
    this.settle(now);
    this.schedule();
  }

  /** The device became writable or not: told to every member at once (it is rare, and orders what follows). */
  availability(online: boolean): void {
    this.each(this.members, (m) => m.onAvailability(online));
  }

  /** Stops: no more rounds, no members. */
  close(): void {
    this.closed = true;
    this.members.clear();
    this.list = undefined;
    this.dirty.clear();
    this.round = undefined;
  }

  private schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    this.defer(this.run);
  }

  /** The deferred turn: the next slice. */
  private work(): void {
    this.scheduled = false;
    if (this.closed) return;
    this.slice(this.now());
  }

  /**
   * One slice: starts a round if none runs, hands its frames to members until the slice is used up.
   * The loops index arrays rather than iterate and destructure: a device that changes now and then
   * runs this too rarely for V8 to optimise it, and unoptimised iteration costs microseconds.
   */
  private slice(start: number): void {
    let round = this.round;
    if (!round) {
      if (this.dirty.size === 0) return this.settle(start);
      round = this.startRound(start);
    }
    const { frames, members } = round;
    while (round.next < members.length) {
      const member = members[round.next++] as FanoutMember;
      // Left since the round started: its socket is gone or going.
      if (this.members.has(member)) {
        try {
          for (let i = 0; i < frames.length; i++) {
            const frame = frames[i] as Frame;
            member.onChange(frame.field, frame.data, frame.rev);
          }
        } catch (err) {
          // One broken session must not keep the others from their updates.
          this.options.log.error({ device: this.options.device, err }, 'session failed to take an update');
        }
      }
      if (round.next % CLOCK_EVERY === 0 && this.now() - start >= this.options.sliceMs) break;
    }
    const end = this.now();
    if (round.next >= members.length) {
      this.round = undefined;
      this.lastRoundMs = end - round.started;
    }
    this.settle(end);
    if (this.round || this.dirty.size > 0) this.schedule();
  }

  private startRound(now: number): Round {
    const members = (this.list ??= [...this.members]);
    const frames: Frame[] = [];
    for (const { field, value, rev } of this.dirty.values())
      frames.push(updateFrame(field, value, rev, members.length));
    const round: Round = { frames, members, since: this.dirtySince ?? now, started: now, next: 0 };
    this.dirty.clear();
    this.dirtySince = undefined;
    this.round = round;
    return round;
  }

  /**
   * Moves between the states. Lagging begins when the oldest change waiting passes `lagLimitMs`; it
   * ends between rounds once what waits is younger than half that (so a fan-out that runs close to
   * the limit does not resync every page over and over), with a resync that carries it all.
   */
  private settle(now: number): void {
    const lag = this.lag(now);
    const waiting = this.round !== undefined || this.dirty.size > 0;
    const { lagLimitMs, log, device } = this.options;
    switch (this.ingress) {
      case IngressState.CaughtUp:
      case IngressState.Behind:
        if (lag > lagLimitMs) {
          this.ingress = IngressState.Lagging;
          log.warn(
            { device, lagMs: Math.round(lag), members: this.members.size },
            'fan-out lagging behind the broker; pages told, writes refused until it catches up',
          );
          this.each(this.members, (m) => m.onLagging());
        } else this.ingress = waiting ? IngressState.Behind : IngressState.CaughtUp;
        break;
      case IngressState.Lagging:
        if (this.round !== undefined || lag > lagLimitMs / 2) break;
        this.ingress = waiting ? IngressState.Behind : IngressState.CaughtUp;
        log.info({ device }, 'fan-out caught up; pages resynced');
        // Their resyncs carry every change applied so far, those still waiting included.
        this.each(this.members, (m) => m.onCaughtUp());
        break;
      default: {
        const never: never = this.ingress;
        void never;
      }
    }
  }

  private each(members: Iterable<FanoutMember>, fn: (member: FanoutMember) => void): void {
    for (const member of [...members]) {
      try {
        fn(member);
      } catch (err) {
        this.options.log.error({ device: this.options.device, err }, 'session failed to take a device event');
      }
    }
  }
}
