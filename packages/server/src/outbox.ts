/**
 * A session's outbox: every frame to one client goes through it. Acks, pongs, errors and `device`
 * frames go at once. Updates and resyncs go at once too, unless the socket has more than
 * `sendBufferLimit` bytes waiting to be sent (a slow reader, docs/protocol.md rule 10): then only
 * the latest update of each field is held back, in the order the fields last changed, and sent as
 * the buffer drains; a resync that is due replaces them all. A client whose backlog grows beyond
 * that limit plus 1 MiB anyway (it writes but never reads its acks) is cut off. A client that has
 * had an update held back for more than `lagLimitMs` is lagging (docs/protocol.md rule 11): it is
 * told (`device lagging`), and its held updates give way to a resync, sent as soon as it reads.
 * @module
 */
import type { WebSocket } from 'ws';
import { encodeFrame, MAX_SERVER_FRAME_BYTES } from '@live-device-form/protocol';
import type { Logger } from './logger.js';

/** `ws.send` options of every frame: the bytes are always UTF-8 JSON text. */
const TEXT = Object.freeze({ binary: false });

/** Longest header of an unmasked frame a server sends (RFC 6455 section 5.2: 2 + 8 bytes). */
const FRAME_HEADER_MAX = 10;

/** The `device lagging` frame (docs/protocol.md rule 11). */
const LAGGING = encodeFrame({ type: 'device', status: 'lagging' });

/** When a held-back update makes a client lagging. @internal */
export interface LagLimit {
  /** Milliseconds an update may be held back before the client counts as lagging. */
  readonly limitMs: number;
  /** Clock in milliseconds (monotonic). */
  readonly now: () => number;
}

/** No lag limit: held updates wait as long as the reader takes. */
const NO_LAG_LIMIT: LagLimit = Object.freeze({ limitMs: Infinity, now: () => performance.now() });

/** What an outbox needs from its session. @internal */
export interface OutboxOwner {
  /** The session id, for the log. */
  readonly id: string;
  /** Whether held-back frames may go now (the session is live). Asked before each one. */
  canFlush(): boolean;
  /** The `resync` frame, with the values of the moment it is sent. */
  resyncFrame(): string;
  /** Cuts the client off: it does not read. */
  terminate(): void;
  /** Runs `fn` from a socket callback; a throw must not reach the event loop. */
  terminateOnThrow(what: string, fn: () => void): void;
}

/** @internal */
export class Outbox {
  /** Slow reader: the latest `update` of each field held back, in the order they were last changed. */
  private readonly updates = new Map<string, string | Buffer>();
  /** A resync is due but the send buffer is full; it replaces every held update when it goes. */
  private resyncDue = false;
  /** When the oldest update held back now was held (`undefined` while none is). */
  private heldSince: number | undefined;

  constructor(
    private readonly ws: WebSocket,
    /** Bytes waiting to be sent beyond which updates and resyncs are held back. */
    private readonly sendBufferLimit: number,
    private readonly log: Logger,
    private readonly owner: OutboxOwner,
    private readonly lagLimit: LagLimit = NO_LAG_LIMIT,
  ) {}

  /** Field updates held back (at most one per field). */
  get queuedUpdates(): number {
    return this.updates.size;
  }

  /** Whether a resync is due and waits for the buffer to drain. Until it goes, the client has none. */
  get resyncPending(): boolean {
    return this.resyncDue;
  }

  /** Sends a frame at once if the socket is open. Returns whether it was handed to the socket. */
  send(data: string | Buffer): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    try {
      this.ws.send(data, TEXT, this.needsNotice(data) ? this.onSent : undefined);
    } catch (err) {
      this.log.warn({ session: this.owner.id, err }, 'send failed');
      return false;
    }
    // Updates and resyncs wait when the buffer is full; only acks, pongs and errors still go.
    // A client that keeps writing but never reads would grow those without bound: cut it off.
    if (this.ws.bufferedAmount > this.sendBufferLimit + MAX_SERVER_FRAME_BYTES) {
      this.log.warn(
        { session: this.owner.id, bufferedAmount: this.ws.bufferedAmount },
        'client does not read: socket terminated',
      );
      this.owner.terminate();
    }
    return true;
  }

  /** A field's `update`: sent at once, or held back as that field's latest while the reader is slow. */
  update(field: string, data: string | Buffer): void {
    // The resync that is due will carry it.
    if (this.resyncDue) return;
    if (this.updates.size > 0 || this.ws.bufferedAmount > this.sendBufferLimit) {
      const now = this.lagLimit.now();
      this.heldSince ??= now;
      if (now - this.heldSince > this.lagLimit.limitMs) return this.fallBehind(now);
      this.updates.delete(field); // re-inserted at the end: the newest change goes last
      this.updates.set(field, data);
      this.flush();
      return;
    }
    this.send(data);
  }

  /**
   * The device's fan-out is lagging (docs/protocol.md rule 11): `device lagging` goes at once, held
   * updates still follow. Not when a resync is due: nothing may precede a socket's first resync, and
   * a due resync says `lagging` itself while the device lags.
   */
  lagging(): void {
    if (this.resyncDue) return;
    this.send(LAGGING);
  }

  /** A `resync`: it supersedes every held update, and goes now or as soon as the buffer drains. */
  resync(): void {
    this.updates.clear();
    this.heldSince = undefined;
    if (this.ws.bufferedAmount > this.sendBufferLimit) {
      this.resyncDue = true;
      return;
    }
    this.resyncDue = false;
    this.send(this.owner.resyncFrame());
  }

  /**
   * The device went away: held updates are dropped and `frame` (`device offline`) goes at once.
   * Unless a resync is due: it has not gone yet, it will say offline itself, and nothing may
   * precede a socket's first resync.
   */
  offline(frame: string): void {
    if (this.resyncDue) return;
    this.updates.clear();
    this.heldSince = undefined;
    this.send(frame);
  }

  /** Drops everything held back (the session is over). */
  clear(): void {
    this.updates.clear();
    this.heldSince = undefined;
    this.resyncDue = false;
  }

  /**
   * This client has had an update held back for more than the lag limit: it is told, and instead
   * of catching up field by field it gets a resync as soon as its buffer drains (sets are refused
   * `guard` until then).
   */
  private fallBehind(now: number): void {
    this.log.info(
      {
        session: this.owner.id,
        heldMs: Math.round(now - (this.heldSince ?? now)),
        bufferedAmount: this.ws.bufferedAmount,
      },
      'client lagging: resync when it reads again',
    );
    this.updates.clear();
    this.heldSince = undefined;
    this.send(LAGGING);
    this.resyncDue = true;
  }

  /** Sends what the buffer has room for: a due resync first, else held updates, oldest first. */
  private flush(): void {
    while (
      this.owner.canFlush() &&
      this.ws.readyState === this.ws.OPEN &&
      this.ws.bufferedAmount <= this.sendBufferLimit
    ) {
      if (this.resyncDue) {
        this.resync();
        continue;
      }
      const next = this.updates.entries().next();
      if (next.done) return;
      this.updates.delete(next.value[0]);
      if (this.updates.size === 0) this.heldSince = undefined;
      this.send(next.value[1]);
    }
  }

  /**
   * Whether this frame's send must call {@link onSent} back when its bytes are written out. A write
   * callback takes Node's socket writes off their fast path (an after-write record and a
   * `process.nextTick` per frame; BENCHMARKS.md, "What changed in this round"), so a frame that goes
   * straight to the kernel, as nearly every frame to a reader that keeps up does, goes without one.
   *
   * Held frames are sent from the notice of the last frame written before them, so the last frame
   * of any backlog must carry one: a frame sent while bytes are already waiting does (it is the
   * newest of them, and Node calls writes back in order), and so does every frame while something
   * is held or a resync is due. A frame sent to an empty buffer can leave at most its own bytes
   * waiting: it needs a notice only if those alone could pass `sendBufferLimit` (a big resync, or
   * a small limit), or updates would be held with no notice to come.
   */
  private needsNotice(data: string | Buffer): boolean {
    if (this.ws.bufferedAmount > 0 || this.updates.size > 0 || this.resyncDue) return true;
    // Bytes on the wire: the payload (a string's UTF-8 is at most 3 bytes per UTF-16 unit) and a
    // frame header of at most 10 bytes.
    const wireBytes = (typeof data === 'string' ? data.length * 3 : data.length) + FRAME_HEADER_MAX;
    return wireBytes > this.sendBufferLimit;
  }

  /** The notice of a send that carried one: the frame is written out, held frames may go. */
  private readonly onSent = (err?: Error): void => {
    if (!err && (this.updates.size > 0 || this.resyncDue)) this.owner.terminateOnThrow('flush', () => this.flush());
  };
}
