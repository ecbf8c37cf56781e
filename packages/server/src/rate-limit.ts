/**
 * A token bucket: the write rate limits (per socket, per user, per device) and the flooding limit.
 * @module
 */

/** A bucket of `capacity` tokens that refills at `perSecond` tokens a second. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  /** Whether a token is there to take now (takes none). */
  available(): boolean {
    this.refill();
    return this.tokens >= 1;
  }

  /** Takes one token. Returns false, taking nothing, when the bucket is empty. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
  }
}
