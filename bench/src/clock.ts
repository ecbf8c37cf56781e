/**
 * The shared clock of the latency figures: `performance.timeOrigin + performance.now()`, read the
 * same way in Node and in the page, in milliseconds since the Unix epoch with sub-millisecond
 * resolution. Both processes read the same machine clock; `calibrate` measures what is left of the
 * offset between them.
 * @module
 */

/** Now, on the shared clock (ms). */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

/** Offset of a remote clock (remote − local), from the round trip with the smallest delay. */
export interface ClockOffset {
  /** Add to a local reading to get the remote clock's. */
  offsetMs: number;
  /** Half the best round trip: the offset is known to within ± this. */
  uncertaintyMs: number;
}

/** Estimates the offset of `readRemote`'s clock over `rounds` round trips (NTP's rule: trust the fastest). */
export async function calibrate(readRemote: () => Promise<number>, rounds = 30): Promise<ClockOffset> {
  let best: ClockOffset = { offsetMs: 0, uncertaintyMs: Infinity };
  for (let i = 0; i < rounds; i++) {
    const t0 = now();
    const remote = await readRemote();
    const t1 = now();
    const half = (t1 - t0) / 2;
    if (half < best.uncertaintyMs) best = { offsetMs: remote - (t0 + half), uncertaintyMs: half };
  }
  return best;
}
