/**
 * Reconnect delays: exponential growth, bounded, with full jitter.
 * @module
 */

/** How reconnect delays grow. Every field is optional; defaults are given per field. */
export interface BackoffOptions {
  /** Upper bound of the first delay, in milliseconds. Defaults to `500`. */
  initial?: number;
  /** Largest delay, in milliseconds. Defaults to `15000`. */
  max?: number;
  /** Growth of the upper bound per failed attempt. Defaults to `2`. */
  factor?: number;
  /** Source of randomness in [0, 1). Defaults to `Math.random`. */
  random?: () => number;
}

const DEFAULTS: Readonly<Required<BackoffOptions>> = Object.freeze({
  initial: 500,
  max: 15_000,
  factor: 2,
  random: Math.random,
});

/**
 * Exponential backoff with full jitter: the n-th delay is uniform in
 * `[0, min(max, initial * factor ** n))`. Spreading retries over the whole window keeps a server
 * that just restarted from being hit by every page at the same instant.
 *
 * @example
 * const backoff = new Backoff({ initial: 250, max: 10_000 });
 * setTimeout(reconnect, backoff.next());
 * // once connected again:
 * backoff.reset();
 */
export class Backoff {
  private readonly o: Required<BackoffOptions>;
  private n = 0;

  constructor(options: BackoffOptions = {}) {
    const o = { ...DEFAULTS };
    for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
    if (!(o.initial >= 0) || !(o.max >= o.initial) || !(o.factor >= 1)) {
      throw new TypeError('Backoff: need 0 <= "initial" <= "max" and "factor" >= 1');
    }
    this.o = o;
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.n;
  }

  /** The upper bound of the next delay. */
  get ceiling(): number {
    return Math.min(this.o.max, this.o.initial * this.o.factor ** this.n);
  }

  /** The next delay in milliseconds; each call widens the window for the one after. */
  next(): number {
    const delay = Math.floor(this.o.random() * this.ceiling);
    this.n++;
    return delay;
  }

  /** Starts over from the first delay (after a successful connection). */
  reset(): void {
    this.n = 0;
  }
}
