/**
 * The restart-replay pages: one protocol client per device (labels `r0`, `r1`, …) that holds the
 * values and revisions of a resync it got right after a server process started, and replays writes
 * from them after the next restart, once the new process has resynced it (past the guard, not
 * inside it). This is the reported scenario of issue 11: a page holds H = -25 at rev 1; the server
 * restarts; the device moves to -30 while it is down; the new process gives -30 rev 1 too; a
 * `set {value: -20, rev: 1}` after the new resync must not be published.
 *
 * A new process's revisions are small right after it starts only if it counts from 0 (its
 * retained statuses get revisions `firstRevision + 1`, `+ 2`, …); the pages therefore take the
 * revisions they hold from a resync right after the previous process became ready, and replay
 * right after the new process's resync, so that an unprotected server really sees colliding
 * revisions. Half of the reconnects keep the page (honest `mounts`: the guard, the resync, then
 * the writes), half are a reload restoring its form from storage (`mounts` 0 and the writes right
 * behind `hello`: the server resyncs the page at once and judges them after that resync, while
 * the page has not seen it yet, so the records show the write could only be based on the old
 * revision). Each replay claims the epoch its revision came from (docs/protocol.md rule 3 refuses it)
 * or, for a share of them, forges the new process's epoch while keeping the old revision (a client
 * that ignores the epoch: only the non-repeating counter stops those).
 *
 * Everything a page decides is drawn from its own seeded stream.
 * @module
 */
import { FIELDS, REPLAY_PAGE_INDEX_BASE, clientValue, replayPageLabel } from './chaos-device.js';
import type { ClientStats } from './client.js';
import { Link, type Shown } from './link.js';
import type { Rng } from './prng.js';
import type { ClientProxy } from './proxy.js';

/** Options of {@link ReplayPages}. */
export interface ReplayPagesOptions {
  proxy: ClientProxy;
  devices: readonly string[];
  rng: Rng;
  stats: ClientStats;
  /** Share of the replays that forge the new epoch (keeping the old revision). `1`: all of them. */
  forgeShare: number;
  /** How long a page waits for its resync, and for its acks, ms. Defaults to `10000`. */
  timeoutMs?: number;
}

/** What a page holds: the fields of one resync, and its epoch. */
interface Held {
  epoch: string;
  fields: Map<string, Shown>;
}

/** Connection attempts per page and restart (the new process is ready when they start). */
const ATTEMPTS = 5;

class ReplayPage {
  readonly label: string;
  private link: Link | undefined;
  /** Sockets of this page that received a resync (the honest `hello.mounts`). */
  private mounts = 0;
  private n = 0;
  private seq = 0;
  private held: Held | undefined;

  constructor(
    readonly index: number,
    readonly device: string,
    private readonly rng: Rng,
    private readonly options: ReplayPagesOptions,
  ) {
    this.label = replayPageLabel(index);
  }

  /** Opens a socket to the server (a few attempts); `undefined` if none opened. */
  private async openLink(): Promise<Link | undefined> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const link = new Link(this.options.proxy.url(this.label, ++this.n));
      this.link = link;
      if (await link.opened) return link;
    }
    return undefined;
  }

  /** Resolves with what the socket's resync showed (captured as it arrives), `undefined` on close or timeout. */
  private async resynced(link: Link): Promise<Held | undefined> {
    let shown: Held | undefined;
    const capture = (): boolean => {
      shown = { epoch: link.epoch ?? 'none', fields: new Map(link.fields) };
      return true;
    };
    if (link.resyncs > 0) capture();
    else if (!(await link.waitFor((f) => f.type === 'resync' && capture(), this.options.timeoutMs ?? 10_000)))
      return undefined;
    this.mounts++;
    return shown;
  }

  /** First connection, to the first server process: only takes the values to hold. */
  async open(): Promise<void> {
    const link = await this.openLink();
    if (!link) return;
    link.hello(this.device, this.mounts);
    this.held = await this.resynced(link);
  }

  /**
   * After a restart, once the new process (epoch `epoch`) is ready: reconnects and writes a fresh
   * value to every field it held, from the revision it held. Half the time as a kept page (honest
   * `mounts`: past the guard, once its resync arrived), half as a reloaded page restoring its form
   * (`mounts` 0, the writes right behind `hello`: the server resyncs it at once and judges them
   * after that resync, before the page has seen it). Then holds the new resync.
   */
  async replay(epoch: string): Promise<void> {
    const { stats, forgeShare } = this.options;
    this.link?.terminate();
    const link = await this.openLink();
    if (!link) return;
    const held = this.held;
    this.held = undefined;
    const ids: number[] = [];
    const send = (): void => {
      if (!held || held.epoch === epoch) return;
      for (const field of FIELDS) {
        const old = held.fields.get(field);
        if (!old || old.value === null) continue;
        // A forger claims the new epoch (as a page that ignores the field would, at worst: it
        // could learn it from any other socket).
        const forge = this.rng.float() < forgeShare;
        const value = clientValue(REPLAY_PAGE_INDEX_BASE + this.index, this.seq++);
        const id = link.set(field, value, old.rev, forge ? epoch : held.epoch);
        if (id === undefined) continue;
        ids.push(id);
        stats.setsSent++;
        stats.restartReplays++;
        if (forge) stats.restartReplaysForged++;
      }
    };
    const reload = this.rng.chance(0.5);
    link.hello(this.device, reload ? 0 : this.mounts);
    if (reload) send();
    const shown = await this.resynced(link);
    if (!shown) return;
    if (!reload) send();
    this.held = shown;
    if (ids.length > 0) await link.waitAcks(ids, this.options.timeoutMs ?? 10_000);
  }

  /** Closes the page's socket (the end of the run). */
  async close(): Promise<void> {
    const link = this.link;
    this.link = undefined;
    if (!link) return;
    link.close();
    // A socket that cannot finish its closing handshake is dropped, as the clients do.
    await Promise.race([link.closed, new Promise((r) => setTimeout(r, 2000))]);
    link.terminate();
  }
}

/**
 * The run's restart-replay pages: {@link open} them once the first server process is ready; call
 * {@link replay} once each new process is ready; {@link close} at the end.
 */
export class ReplayPages {
  private readonly pages: ReplayPage[];

  constructor(options: ReplayPagesOptions) {
    this.pages = options.devices.map(
      (device, i) => new ReplayPage(i, device, options.rng.fork(`replay-page:${i}`), options),
    );
  }

  /** The first connection of every page: the values each one holds until the first restart. */
  async open(): Promise<void> {
    await Promise.all(this.pages.map((p) => p.open()));
  }

  /** After a restart to epoch `epoch`: every page reconnects and replays what it held (see {@link ReplayPage.replay}). */
  async replay(epoch: string): Promise<void> {
    await Promise.all(this.pages.map((p) => p.replay(epoch)));
  }

  async close(): Promise<void> {
    await Promise.all(this.pages.map((p) => p.close()));
  }
}
