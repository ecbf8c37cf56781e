/**
 * "Cut this page's network for N seconds": the demo server remembers which sockets belong to which
 * page (the page id rides on the socket URL, `/live?page=ID`), destroys them on request and refuses
 * that page's upgrades until the time is up. Other pages are not touched.
 * @module
 */
import type { Duplex } from 'node:stream';

/** Longest cut a page may ask for, in seconds. */
export const MAX_CUT_SECONDS = 120;

/** A page id: what `crypto.randomUUID()` or a short random token looks like. */
export const PAGE_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Per-page sockets and cuts. */
export class PageNetwork {
  private readonly sockets = new Map<string, Set<Duplex>>();
  private readonly cutUntil = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Remembers a socket of a page until it closes. */
  track(page: string, socket: Duplex): void {
    let set = this.sockets.get(page);
    if (!set) this.sockets.set(page, (set = new Set()));
    set.add(socket);
    socket.once('close', () => {
      set.delete(socket);
      if (set.size === 0 && this.sockets.get(page) === set) this.sockets.delete(page);
    });
  }

  /** Whether the page's upgrades are refused right now. */
  isCut(page: string): boolean {
    const until = this.cutUntil.get(page);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.cutUntil.delete(page);
    return false;
  }

  /** Milliseconds left of the page's cut (0 when not cut). */
  remaining(page: string): number {
    return this.isCut(page) ? this.cutUntil.get(page)! - this.now() : 0;
  }

  /**
   * Destroys every socket of the page, without a closing handshake (as a dropped link looks), and
   * refuses its upgrades for `seconds`. Returns how many sockets were dropped. Throws a `TypeError`
   * for a bad page id or duration.
   */
  cut(page: string, seconds: number): number {
    if (!PAGE_ID_PATTERN.test(page)) throw new TypeError('"page" must be 1-64 letters, digits, "-" or "_"');
    if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0 || seconds > MAX_CUT_SECONDS) {
      throw new TypeError(`"seconds" must be a number above 0 and at most ${MAX_CUT_SECONDS}`);
    }
    this.cutUntil.set(page, this.now() + seconds * 1000);
    const set = this.sockets.get(page);
    if (!set) return 0;
    const n = set.size;
    for (const socket of [...set]) socket.destroy();
    return n;
  }

  /** Ends a cut early. */
  restore(page: string): void {
    this.cutUntil.delete(page);
  }

  /** How many sockets each page has open. */
  counts(): Record<string, number> {
    return Object.fromEntries([...this.sockets].map(([page, set]) => [page, set.size]));
  }
}
