/**
 * Throttles token guessing (docs/protocol.md, close 4429): after `failures` bad or missing `hello`
 * tokens from one client address, every further `hello` from it is refused, its token not even
 * compared, for a lockout that doubles with each further failure up to `maxDelayMs`. A right
 * token, or `forgetAfterMs` without a failure, clears the address. Failures are logged once per
 * address and then as one summary line per interval, never one line each. Kept per server, shared
 * by its sessions, bounded to `maxAddresses` addresses.
 *
 * IPv6 clients are counted by their /64 prefix: one host usually holds a whole /64, and counting
 * each of its 2^64 addresses apart would let it guess without limit.
 * @module
 */
import { addressKey } from './forwarded.js';
import { formatInterval } from './log-throttle.js';
import type { Logger } from './logger.js';

/** Options of the token-guessing throttle (`tokenThrottle`). */
export interface TokenThrottleOptions {
  /** Bad or missing tokens an address may send before its hellos are refused. Defaults to `5`. */
  failures: number;
  /** Milliseconds of the first lockout; each further failure doubles it. Defaults to `1000`. */
  firstDelayMs: number;
  /** Longest lockout, in milliseconds. Defaults to `60000`. */
  maxDelayMs: number;
  /** Milliseconds without a failure after which an address's failures are forgotten. Defaults to `600000` (10 min). */
  forgetAfterMs: number;
  /** Addresses tracked at most; beyond, the one whose last failure is oldest is forgotten. Defaults to `10000`. */
  maxAddresses: number;
  /** Milliseconds between summary log lines of the failures and refusals of each address. Defaults to `10000`. */
  summaryIntervalMs: number;
}

/** The defaults of {@link TokenThrottleOptions}, each documented on its option. */
export const TOKEN_THROTTLE_DEFAULTS: Readonly<TokenThrottleOptions> = Object.freeze({
  failures: 5,
  firstDelayMs: 1000,
  maxDelayMs: 60_000,
  forgetAfterMs: 600_000,
  maxAddresses: 10_000,
  summaryIntervalMs: 10_000,
});

/** Summary lines per interval at most; the addresses beyond are added up in one more line. */
const MAX_SUMMARY_LINES = 20;

/** One address's record. */
interface AddressRecord {
  /** Failures since the address was last cleared. */
  failures: number;
  /** When the last failure came. */
  lastFailure: number;
  /** Until when hellos are refused unchecked (0: not locked). */
  lockedUntil: number;
}

/** What happened to an address within the current summary interval. */
interface Tally {
  failed: number;
  refused: number;
}

/** The token-guessing throttle of one server. @internal */
export class TokenThrottle {
  private readonly records = new Map<string, AddressRecord>();
  private readonly tallies = new Map<string, Tally>();
  /** Failures and refusals of addresses beyond `maxAddresses` tallies, added up. */
  private readonly overflow: Tally = { failed: 0, refused: 0 };
  private summaryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly options: Readonly<TokenThrottleOptions>,
    private readonly logger: Logger,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Addresses tracked now (bounded by `maxAddresses`). */
  get trackedAddresses(): number {
    return this.records.size;
  }

  /**
   * Milliseconds the address's hellos are still refused for (then the hello is refused without
   * its token being compared, and counted), or `0`: compare the token.
   */
  lockout(address: string): number {
    const key = addressKey(address);
    const record = this.current(key);
    const left = record ? record.lockedUntil - this.now() : 0;
    if (left <= 0) return 0;
    this.tally(key).refused++;
    return left;
  }

  /** A bad or missing token came from the address: counted, and past `failures` it is locked out. */
  failed(address: string, context: Record<string, unknown> = {}): void {
    const key = addressKey(address);
    const now = this.now();
    const record = this.current(key) ?? { failures: 0, lastFailure: now, lockedUntil: 0 };
    record.failures++;
    record.lastFailure = now;
    const { failures, firstDelayMs, maxDelayMs } = this.options;
    const over = record.failures - failures;
    if (over >= 0) record.lockedUntil = now + Math.min(maxDelayMs, firstDelayMs * 2 ** Math.min(over, 30));
    // Most recently failing last, so that the oldest goes first when the table is full.
    this.records.delete(key);
    this.records.set(key, record);
    if (this.records.size > this.options.maxAddresses) {
      this.records.delete(this.records.keys().next().value as string);
    }
    const tally = this.tallies.get(key);
    if (tally === undefined && this.tallies.size < this.options.maxAddresses) {
      // The first failure of an interval is told at once (a typo shows up while it is fresh).
      this.logger.warn(
        { ...context, address: key, failures: record.failures, lockedForMs: Math.max(0, record.lockedUntil - now) },
        'hello refused: bad token',
      );
    }
    this.tally(key).failed++;
  }

  /** A right token came from the address: its failures are forgotten. */
  succeeded(address: string): void {
    this.records.delete(addressKey(address));
  }

  /** Stops the summary timer, logging what is still untold. */
  close(): void {
    clearTimeout(this.summaryTimer);
    this.summaryTimer = undefined;
    this.summarise();
  }

  /** The address's record, unless it is absent or forgotten (no failure for `forgetAfterMs`). */
  private current(key: string): AddressRecord | undefined {
    const record = this.records.get(key);
    if (record && this.now() - record.lastFailure > this.options.forgetAfterMs) {
      this.records.delete(key);
      return undefined;
    }
    return record;
  }

  /** The address's tally for this interval (the shared overflow one when too many are tallied). */
  private tally(key: string): Tally {
    let tally = this.tallies.get(key);
    if (!tally) {
      if (this.tallies.size >= this.options.maxAddresses) tally = this.overflow;
      else {
        tally = { failed: 0, refused: 0 };
        this.tallies.set(key, tally);
      }
    }
    if (this.summaryTimer === undefined) {
      this.summaryTimer = setTimeout(() => {
        this.summaryTimer = undefined;
        this.summarise();
      }, this.options.summaryIntervalMs);
      this.summaryTimer.unref();
    }
    return tally;
  }

  /**
   * One line per address for the interval (the first failure alone was told already), the
   * busiest first; beyond {@link MAX_SUMMARY_LINES}, one line adds up the rest.
   */
  private summarise(): void {
    const interval = formatInterval(this.options.summaryIntervalMs);
    const rows = [...this.tallies]
      .filter(([, t]) => t.failed > 1 || t.refused > 0)
      .sort(([, a], [, b]) => b.failed + b.refused - (a.failed + a.refused));
    const rest: Tally = { ...this.overflow };
    for (const [, t] of rows.slice(MAX_SUMMARY_LINES)) {
      rest.failed += t.failed;
      rest.refused += t.refused;
    }
    for (const [key, t] of rows.slice(0, MAX_SUMMARY_LINES)) {
      const lockedForMs = Math.max(0, (this.records.get(key)?.lockedUntil ?? 0) - this.now());
      this.logger.warn(
        {
          address: key,
          failedTokens: t.failed,
          refusedHellos: t.refused,
          intervalMs: this.options.summaryIntervalMs,
          lockedForMs,
        },
        `${count(t.failed)} failed tokens and ${count(t.refused)} hellos refused unchecked from ${key} in the last ${interval}`,
      );
    }
    const others = Math.max(0, rows.length - MAX_SUMMARY_LINES);
    if (rest.failed + rest.refused > 0) {
      this.logger.warn(
        { failedTokens: rest.failed, refusedHellos: rest.refused, intervalMs: this.options.summaryIntervalMs },
        `${count(rest.failed)} failed tokens and ${count(rest.refused)} hellos refused unchecked from ${others > 0 ? `${count(others)} more addresses` : 'more addresses'} in the last ${interval}`,
      );
    }
    this.tallies.clear();
    this.overflow.failed = 0;
    this.overflow.refused = 0;
  }
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}
