/**
 * The drain of a rolling restart: waiting, within a bound, for the writes in flight (handed to a
 * bridge, awaiting its outcome, e.g. the broker's PUBACK) to end, so that each gets its real ack
 * before the sessions close. `LiveDeviceServer.drain()` runs it; what pages see is docs/protocol.md,
 * *Shutdown and drain*.
 * @module
 */
import { MAX_TIMER_MS, checkNumber } from './option-checks.js';

/** Options of `LiveDeviceServer.drain()`. */
export interface DrainOptions {
  /**
   * Milliseconds to wait for the writes in flight to end; those still in flight then are answered
   * `unknown` (they were published, their acknowledgement had not come). `0` waits for none.
   * Defaults to the server's `drainTimeoutMs` (`5000`).
   */
  timeoutMs?: number;
  /**
   * Milliseconds the drain is only announced first: `health()` says `draining` while everything
   * else is served as before, so that the balancer takes the server out before its pages are
   * closed. Defaults to the server's `drainDelayMs` (`0`).
   */
  delayMs?: number;
}

/** What `LiveDeviceServer.drain()` resolves with. */
export interface DrainReport {
  /** Writes in flight when the drain began. */
  writesInFlight: number;
  /** Of the writes in flight, those still unfinished when the bound passed, answered `unknown`. */
  answeredUnknown: number;
  /** `set`s that arrived during the drain: each refused (`offline`; `invalid` if unreadable), none published. */
  setsRefused: number;
}

/** Checks `DrainOptions.timeoutMs` and `delayMs`. @internal */
export function checkDrainTimeoutMs(name: string, value: unknown): number {
  return checkNumber(name, value, 0, MAX_TIMER_MS);
}

/**
 * The announcement before a drain (`drainDelayMs`): resolves after `delayMs`, or at once when
 * {@link Announcement.cut} is called (a second `drain()`, the CLI's second signal). @internal
 */
export class Announcement {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private end: (() => void) | undefined;

  /** Resolves after `delayMs` (at once for `0`), or when cut. Called once. */
  wait(delayMs: number): Promise<void> {
    if (delayMs === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.end = () => {
        clearTimeout(this.timer);
        this.end = undefined;
        resolve();
      };
      this.timer = setTimeout(this.end, delayMs);
    });
  }

  /** Ends the wait now, if one is under way. */
  cut(): void {
    this.end?.();
  }
}

/**
 * Waits until a count of writes in flight is zero, or a deadline passes, whichever comes first.
 * The count's owner calls {@link writeEnded} whenever a write ends. @internal
 */
export class WriteDrain {
  private deadline = Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private finish: ((allEnded: boolean) => void) | undefined;

  constructor(private readonly inFlight: () => number) {}

  /**
   * Resolves `true` once no write is in flight (at once if none is), or `false` when `timeoutMs`
   * has passed first. Called once.
   */
  wait(timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.finish = (allEnded) => {
        clearTimeout(this.timer);
        this.timer = undefined;
        this.finish = undefined;
        resolve(allEnded);
      };
      this.shorten(timeoutMs);
      this.writeEnded();
    });
  }

  /** A write ended: when it was the last one, the wait is over. */
  writeEnded(): void {
    if (this.finish && this.inFlight() === 0) this.finish(true);
  }

  /** Brings the deadline forward to `timeoutMs` from now, if that is sooner (a second signal). */
  shorten(timeoutMs: number): void {
    if (!this.finish) return;
    const deadline = performance.now() + timeoutMs;
    if (deadline >= this.deadline) return;
    this.deadline = deadline;
    clearTimeout(this.timer);
    if (timeoutMs === 0) {
      this.finish(this.inFlight() === 0);
      return;
    }
    this.timer = setTimeout(() => this.finish?.(this.inFlight() === 0), timeoutMs);
  }
}
