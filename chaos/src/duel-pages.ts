/**
 * Duelling pages, for the cross-process run (issue 15): two pages on one device, through the
 * balancer, on two different server processes, edit one field from the same revision — the
 * first writes, and once its write is acked (published: the broker has it) and a random pause
 * has passed, the second writes from the revision it had *before* the first write (as a page
 * whose user kept dragging a slider would). The second write must be refused `stale` unless it
 * reached its process within one broker round trip of the first publish (docs/protocol.md,
 * *Several server processes*); the checker judges that from the records, not from these pages.
 *
 * They ride through every fault of the run and simply reconnect. Values are unique like every
 * client's (`clientValue`, indexes from {@link DUEL_PAGE_INDEX_BASE}).
 * @module
 */
import { type ChaosField, FIELDS, REPLAY_PAGE_INDEX_BASE, clientValue } from './chaos-device.js';
import { Link } from './link.js';
import type { Rng } from './prng.js';
import type { ClientProxy } from './proxy.js';

/** Client indexes of the duel pages start here (below the restart-replay pages'). */
export const DUEL_PAGE_INDEX_BASE = 700;

/** Most duelling pairs (their indexes must stay below {@link REPLAY_PAGE_INDEX_BASE}). */
export const MAX_DUEL_PAIRS = (REPLAY_PAGE_INDEX_BASE - DUEL_PAGE_INDEX_BASE) / 2;

/** What the duels did, as the pages saw it (the checker judges from the records). */
export interface DuelStats {
  /** Duels fought (both writes sent). */
  duels: number;
  /** Of those, with the two pages on two different server processes. */
  acrossProcesses: number;
  /** How the second write of a cross-process duel was answered: `accepted`, `rejected/stale`, … */
  second: Record<string, number>;
}

/** Options of {@link DuelPages}. */
export interface DuelPagesOptions {
  proxy: ClientProxy;
  /** Which server process holds a page's open connection (`Backends.backendOf`). */
  backendOf: (client: string) => number | undefined;
  devices: readonly string[];
  /** Pairs; at most {@link MAX_DUEL_PAIRS}. */
  pairs: number;
  rng: Rng;
  /** Longest pause between the first write's ack and the second write, ms. Defaults to `300`. */
  maxPauseMs?: number;
  /** Longest wait for the device's echo between duels, ms. Defaults to `600`. */
  settleMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** One page of a pair. */
class DuelPage {
  link: Link | undefined;
  private n = 0;
  private seq = 0;
  private mounts = 0;

  constructor(
    readonly label: string,
    private readonly index: number,
    private readonly device: string,
    private readonly proxy: ClientProxy,
  ) {}

  nextValue(): number {
    return clientValue(this.index, this.seq++);
  }

  /** A live link (reconnecting when it is not); `undefined` when none came up in time. */
  async live(): Promise<Link | undefined> {
    if (this.link?.isOpen && this.link.live) return this.link;
    return this.reconnect();
  }

  async reconnect(): Promise<Link | undefined> {
    if (this.link) {
      if (this.link.resyncs > 0) this.mounts++;
      this.link.terminate();
    }
    const link = new Link(this.proxy.url(this.label, ++this.n));
    this.link = link;
    if (!(await link.opened)) return undefined;
    link.hello(this.device, this.mounts);
    return (await link.waitLive(10_000)) ? link : undefined;
  }

  close(): void {
    this.link?.terminate();
  }
}

/** The duelling pairs of a run. */
export class DuelPages {
  readonly stats: DuelStats = { duels: 0, acrossProcesses: 0, second: {} };
  private readonly pages: [DuelPage, DuelPage][];

  constructor(private readonly options: DuelPagesOptions) {
    if (!Number.isInteger(options.pairs) || options.pairs < 0 || options.pairs > MAX_DUEL_PAIRS)
      throw new TypeError(`"duelPairs" must be a whole number from 0 to ${MAX_DUEL_PAIRS}, got ${options.pairs}`);
    this.pages = Array.from({ length: options.pairs }, (_, k) => {
      const device = options.devices[k % options.devices.length] as string;
      const page = (i: number): DuelPage =>
        new DuelPage(`x${2 * k + i}`, DUEL_PAGE_INDEX_BASE + 2 * k + i, device, options.proxy);
      return [page(0), page(1)];
    });
  }

  /** Duels until `stopped()`. */
  async run(stopped: () => boolean): Promise<void> {
    await Promise.all(this.pages.map((pair, k) => this.loop(pair, this.options.rng.fork(`duel:${k}`), stopped)));
  }

  private async loop([first, second]: [DuelPage, DuelPage], rng: Rng, stopped: () => boolean): Promise<void> {
    const { backendOf, maxPauseMs = 300, settleMs = 600 } = this.options;
    while (!stopped()) {
      const a = await first.live();
      let b = await second.live();
      if (!a || !b) {
        await sleep(rng.int(50, 200)); // the server is away: a backoff, not a synchronisation
        continue;
      }
      // On another process than the first page, if the balancer lets us (round robin: it does soon).
      for (let i = 0; i < 6 && b && backendOf(second.label) === backendOf(first.label); i++)
        b = await second.reconnect();
      if (!b || !a.live) continue;
      const across = backendOf(first.label) !== backendOf(second.label);
      const field: ChaosField = rng.pick(FIELDS);
      const basisA = a.fields.get(field);
      const basisB = b.fields.get(field);
      if (!basisA || !basisB || basisA.value === null || basisB.value === null) {
        await sleep(100);
        continue;
      }
      const idA = a.set(field, first.nextValue(), basisA.rev);
      if (idA === undefined || !(await a.waitAcks([idA], 4000)) || a.acks.get(idA)?.status !== 'accepted') continue;
      await sleep(rng.int(0, maxPauseMs));
      if (stopped()) return;
      // From the revision it had before the first write.
      const idB = b.set(field, second.nextValue(), basisB.rev);
      if (idB === undefined) continue;
      this.stats.duels++;
      if (across) this.stats.acrossProcesses++;
      const answered = await b.waitAcks([idB], 4000);
      if (across && answered) {
        const ack = b.acks.get(idB);
        const how = ack?.status === 'rejected' ? `rejected/${ack.reason ?? '?'}` : (ack?.status ?? '?');
        this.stats.second[how] = (this.stats.second[how] ?? 0) + 1;
      }
      await sleep(rng.int(settleMs / 2, settleMs)); // the device echoes; the next duel starts from there
    }
  }

  /** Closes every page's socket. */
  close(): void {
    for (const [x, y] of this.pages) {
      x.close();
      y.close();
    }
  }
}
