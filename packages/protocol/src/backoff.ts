/**
 * Reconnect delays: exponential growth, bounded, with full jitter. The element waits them between
 * socket attempts, the server SDK's MQTT bridge between broker connections.
 * @module
 */

/** How reconnect delays grow. Every field is optional; defaults are given per field. */
export interface BackoffOptions {
  /** Upper bound of the first delay, in milliseconds. Defaults to `500`. */
  initialMs?: number;
  /** Largest delay, in milliseconds. Defaults to `15000`. */
  maxMs?: number;
  /** Growth of the upper bound per failed attempt. Defaults to `2`. */
  factor?: number;
  /** Source of randomness in [0, 1). Defaults to `Math.random`. */
  random?: () => number;
}

/** The defaults of {@link BackoffOptions}. */
export const BACKOFF_DEFAULTS: Readonly<Required<BackoffOptions>> = Object.freeze({
  initialMs: 500,
  maxMs: 15_000,
  factor: 2,
  random: Math.random,
});

/** The options over {@link BACKOFF_DEFAULTS}; an option given as `undefined` keeps its default. */
function resolve(options: BackoffOptions): Required<BackoffOptions> {
  const o = { ...BACKOFF_DEFAULTS };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  return o;
}

/** The upper bound of the delay before retry number `attempt`. */
function ceilingOf(attempt: number, { initialMs, maxMs, factor }: Required<BackoffOptions>): number {
  // With `initialMs` 0, `factor ** attempt` overflowing to Infinity would make it NaN.
  return initialMs > 0 ? Math.min(maxMs, initialMs * factor ** attempt) : 0;
}

/**
 * The delay before retry number `attempt` (0 for the first), in whole milliseconds: uniform in
 * `[0, min(maxMs, initialMs * factor ** attempt))`, full jitter. Spreading retries over the whole
 * window keeps a server that just restarted from being hit by every client at the same instant.
 * The options are not checked here (see {@link Backoff}); an `initialMs` above `maxMs` means `maxMs`.
 *
 * @example
 * setTimeout(reconnect, backoffDelay(failedAttempts++, { initialMs: 1000, maxMs: 30_000 }));
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const o = resolve(options);
  return Math.floor(o.random() * ceilingOf(attempt, o));
}

/**
 * {@link backoffDelay} with its own attempt counter: `next()` hands out the delays one after the
 * other, `reset()` starts over.
 *
 * @example
 * const backoff = new Backoff({ initialMs: 250, maxMs: 10_000 });
 * setTimeout(reconnect, backoff.next());
 * // once connected again:
 * backoff.reset();
 */
export class Backoff {
  readonly #options: Required<BackoffOptions>;
  #attempts = 0;

  /** Throws a `TypeError` with `code: 'bad-option'` unless `0 <= initialMs <= maxMs` and `factor >= 1`. */
  constructor(options: BackoffOptions = {}) {
    const o = resolve(options);
    if (!(o.initialMs >= 0) || !(o.maxMs >= o.initialMs) || !(o.factor >= 1)) {
      throw Object.assign(new TypeError('Backoff: need 0 <= "initialMs" <= "maxMs" and "factor" >= 1'), {
        code: 'bad-option',
      });
    }
    this.#options = o;
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.#attempts;
  }

  /** The upper bound of the next delay. */
  get ceiling(): number {
    return ceilingOf(this.#attempts, this.#options);
  }

  /** The next delay in milliseconds; each call widens the window for the one after. */
  next(): number {
    const o = this.#options;
    return Math.floor(o.random() * ceilingOf(this.#attempts++, o));
  }

  /** Starts over from the first delay (after a successful connection). */
  reset(): void {
    this.#attempts = 0;
  }
}
