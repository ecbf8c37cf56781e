/**
 * The worst browsers we could think of, as protocol clients (Node `ws`) through the chaos proxy.
 * Each one loops over trials: edit a little; lose the link (cut, cut with the server's side
 * lingering, or black-holed); while it is down the device changes; reconnect and at once replay
 * every old value and re-submit every input with its old revision (inside the guard); after the
 * resync write from old revisions again, sometimes replay everything again, and write fresh
 * values. Some also lie about their mount counter (`hello.mounts` 0 after a resync), so only the
 * revision check stands between their replays and the device.
 *
 * Everything a client decides is drawn from its own seeded stream.
 * @module
 */
import { type ChaosField, FIELDS, clientValue } from './chaos-device.js';
import type { DeviceSimulator } from './device-sim.js';
import { Link, type Shown } from './link.js';
import type { Rng } from './prng.js';
import type { ClientProxy } from './proxy.js';

/** How the trials are shared out among the clients, and how far the run has got. */
export class TrialBudget {
  private taken = 0;
  private completed = 0;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(readonly total: number) {}

  /** Claims one trial; `false` once all are claimed. */
  take(): boolean {
    if (this.taken >= this.total) return false;
    this.taken++;
    return true;
  }

  get exhausted(): boolean {
    return this.taken >= this.total;
  }

  /** Trials finished so far. */
  get done(): number {
    return this.completed;
  }

  complete(): void {
    this.completed++;
    this.waiters = this.waiters.filter((w) => {
      if (this.completed < w.n) return true;
      w.resolve();
      return false;
    });
  }

  /** Resolves once `n` trials are finished (or at once if they are). */
  reached(n: number): Promise<void> {
    if (this.completed >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }

  /** Resolves every waiter (the run is stopping). */
  release(): void {
    for (const w of this.waiters.splice(0)) w.resolve();
  }
}

/** What the clients did, as they saw it (the checker counts for itself from the proxy's records). */
export interface ClientStats {
  /** `set` frames handed to a socket, including those lost on a dead link. */
  setsSent: number;
  /** Sets sent on a link the proxy had already cut or black-holed (they never reach the server). */
  setsOnDeadLinks: number;
  /** Old writes re-sent after a reconnect (inside the guard, or after the resync). */
  replays: number;
  /** Inputs re-submitted with their old revision right after a reconnect ("form recovery"). */
  recoveries: number;
  /** Writes based on a revision from before the outage, sent after the resync. */
  oldRevisionWrites: number;
  /** Writes the restart-replay pages sent from a revision of an earlier server process (`replay-pages.ts`). */
  restartReplays: number;
  /** Of those, how many claimed the new process's epoch instead of their revision's (a forged epoch). */
  restartReplaysForged: number;
  /** Hellos that said `mounts: 0` although the client had been resynced before. */
  mountLies: number;
  /** Sockets opened after a client's first one. */
  reconnects: number;
  /** Connection attempts that failed (server down, refused). */
  connectFailures: number;
  /** Trials by how the link was lost. */
  trials: { cut: number; linger: number; blackHole: number; browser: number };
  /** Trials whose fault hit while writes were awaiting their acks. */
  faultsWithWritesInFlight: number;
  /** Values a page script forced into an element's inputs while its link was down. */
  browserForcedEdits: number;
  /** Of those, how many made the element emit a write (its contract says none). */
  browserWritesWhileDown: number;
  /** Milliseconds spent in each phase of the trials, summed over clients (where the time goes). */
  phaseMs: { edit: number; fault: number; deviceChange: number; outage: number; reconnect: number; after: number };
}

export function newClientStats(): ClientStats {
  return {
    setsSent: 0,
    setsOnDeadLinks: 0,
    replays: 0,
    recoveries: 0,
    oldRevisionWrites: 0,
    restartReplays: 0,
    restartReplaysForged: 0,
    mountLies: 0,
    reconnects: 0,
    connectFailures: 0,
    trials: { cut: 0, linger: 0, blackHole: 0, browser: 0 },
    faultsWithWritesInFlight: 0,
    browserForcedEdits: 0,
    browserWritesWhileDown: 0,
    phaseMs: { edit: 0, fault: 0, deviceChange: 0, outage: 0, reconnect: 0, after: 0 },
  };
}

/** Timing of the clients' schedule, ms. */
export interface ClientTiming {
  /** Longest extra time a link stays down after the device changed. */
  outageMaxMs: number;
  /** How long a client waits for an answer on a black-holed link before it gives up on it. */
  deadLinkMs: number;
  /** Longest time the server's side of a cut connection lingers. */
  lingerMaxMs: number;
  /** How long a client waits for its acks. */
  ackTimeoutMs: number;
  /** How long a client waits for a live resync (device online) before it reconnects. */
  liveTimeoutMs: number;
}

/** What every client shares. */
export interface ClientEnv {
  proxy: ClientProxy;
  devices: DeviceSimulator;
  budget: TrialBudget;
  stats: ClientStats;
  timing: ClientTiming;
  /** True once the run is stopping. */
  stopped(): boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A remembered write, for replays. */
interface OldWrite {
  field: ChaosField;
  value: number;
  rev: number;
  /** The epoch `rev` came from. */
  epoch: string | undefined;
}

const HISTORY = 6;

/** One hostile protocol client. */
export class HostileClient {
  readonly label: string;
  private link: Link | undefined;
  /** Sockets of this client that received a resync (the honest `hello.mounts`). */
  private mounts = 0;
  private n = 0;
  private seq = 0;
  private readonly history: OldWrite[] = [];
  /** What the inputs showed before the last outage: value and revision per field. */
  private lastShown = new Map<string, Shown>();
  /** The epoch of those revisions. */
  private lastEpoch: string | undefined;

  constructor(
    readonly index: number,
    readonly device: string,
    private readonly rng: Rng,
    private readonly env: ClientEnv,
  ) {
    this.label = `p${index}`;
  }

  /** Runs trials until the budget is exhausted or the run stops. */
  async run(): Promise<void> {
    while (!this.env.stopped() && !this.env.budget.exhausted) {
      const link = await this.ensureLive();
      if (!link) continue;
      const t0 = performance.now();
      await this.edit(link, this.rng.int(1, 3), true);
      this.env.stats.phaseMs.edit += performance.now() - t0;
      if (!link.live) continue;
      if (!this.env.budget.take()) break;
      await this.trial(link);
      this.env.budget.complete();
    }
    const link = this.link;
    this.link = undefined;
    if (link) {
      link.close();
      await Promise.race([link.closed, sleep(2000)]);
      link.terminate();
    }
  }

  private nextValue(): number {
    return clientValue(this.index, this.seq++);
  }

  private remember(field: ChaosField, value: number, rev: number, epoch: string | undefined): void {
    this.history.push({ field, value, rev, epoch });
    if (this.history.length > HISTORY) this.history.shift();
  }

  /** Sends a set based on `rev` of `epoch` (by default the link's own) and counts it. */
  private send(link: Link, field: string, value: unknown, rev: number, epoch?: string): number | undefined {
    const id = link.set(field, value, rev, epoch);
    if (id !== undefined) this.env.stats.setsSent++;
    return id;
  }

  /** Writes `k` fresh values (from the current revisions). Awaits their acks if `wait`. */
  private async edit(link: Link, k: number, wait: boolean): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < k; i++) {
      const field = this.rng.pick(FIELDS);
      const shown = link.fields.get(field);
      if (!shown || shown.value === null) continue;
      const value = this.nextValue();
      const id = this.send(link, field, value, shown.rev);
      if (id === undefined) break;
      ids.push(id);
      this.remember(field, value, shown.rev, link.epoch);
    }
    if (wait && ids.length > 0) await link.waitAcks(ids, this.env.timing.ackTimeoutMs);
    return ids;
  }

  /** A live socket: the current one, or a new one (with the hostile reconnect). `undefined` to retry. */
  private async ensureLive(): Promise<Link | undefined> {
    const current = this.link;
    if (current?.live) return current;
    if (current?.isOpen && (await current.waitLive(this.env.timing.liveTimeoutMs))) return current;
    if (current) {
      current.terminate();
      this.retire(current);
    }
    if (this.env.stopped()) return undefined;
    const link = new Link(this.env.proxy.url(this.label, ++this.n));
    if (!(await link.opened)) {
      this.env.stats.connectFailures++;
      // Retry schedule while the server is away (a backoff, not a synchronisation).
      await sleep(this.rng.int(20, 200));
      return undefined;
    }
    if (this.n > 1) this.env.stats.reconnects++;
    this.link = link;
    this.hostileHello(link);
    if (!(await link.waitLive(this.env.timing.liveTimeoutMs))) return undefined;
    return link;
  }

  private retire(link: Link): void {
    if (link.resyncs > 0) this.mounts++;
  }

  /** `hello`, then at once — inside the guard — every old value and every input again. */
  private hostileHello(link: Link): void {
    const lie = this.mounts > 0 && this.rng.chance(0.15);
    if (lie) this.env.stats.mountLies++;
    link.hello(this.device, lie ? 0 : this.mounts);
    if (this.n === 1) return;
    for (const w of this.history) {
      if (this.send(link, w.field, w.value, w.rev, w.epoch) !== undefined) this.env.stats.replays++;
    }
    for (const [field, shown] of this.lastShown) {
      if (shown.value === null) continue;
      if (this.send(link, field, shown.value, shown.rev, this.lastEpoch) !== undefined) this.env.stats.recoveries++;
    }
  }

  private async trial(link: Link): Promise<void> {
    const { proxy, devices, stats, timing } = this.env;
    this.lastShown = new Map(link.fields);
    this.lastEpoch = link.epoch;
    const kind = this.rng.pick(['cut', 'cut', 'linger', 'blackHole', 'blackHole'] as const);
    stats.trials[kind]++;
    // Sometimes the link goes while writes await their acks.
    if (this.rng.chance(0.3)) {
      if ((await this.edit(link, this.rng.int(1, 2), false)).length > 0) stats.faultsWithWritesInFlight++;
    }
    const n = this.n;
    const phase = this.env.stats.phaseMs;
    let t = performance.now();
    const lap = (key: keyof ClientStats['phaseMs']): void => {
      const now = performance.now();
      phase[key] += now - t;
      t = now;
    };
    if (kind === 'blackHole') {
      proxy.blackHole(this.label, n);
      // A half-dead socket: it takes the writes and nobody ever answers.
      const ids = await this.edit(link, this.rng.int(1, 3), false);
      stats.setsOnDeadLinks += ids.length;
      await link.waitAcks(ids.length > 0 ? ids : [-1], timing.deadLinkMs);
      link.terminate();
    } else {
      proxy.cut(this.label, kind === 'linger' ? this.rng.int(1, timing.lingerMaxMs) : 0, n);
      if (this.rng.chance(0.5)) stats.setsOnDeadLinks += (await this.edit(link, this.rng.int(1, 2), false)).length;
      await Promise.race([link.closed, sleep(2000)]);
      link.terminate();
    }
    this.retire(link);
    this.link = undefined;
    lap('fault');
    // The device changes while the link is down.
    await devices.change(this.device, this.rng.someOf(FIELDS));
    lap('deviceChange');
    await sleep(this.rng.int(0, timing.outageMaxMs));
    lap('outage');
    const next = await this.ensureLive();
    lap('reconnect');
    if (!next) return;
    const ids: number[] = [];
    // Writes based on revisions from before the outage.
    for (const field of this.rng.someOf(FIELDS)) {
      const old = this.lastShown.get(field);
      if (!old || old.value === null) continue;
      const value = this.nextValue();
      const id = this.send(next, field, value, old.rev, this.lastEpoch);
      if (id === undefined) continue;
      ids.push(id);
      stats.oldRevisionWrites++;
      this.remember(field, value, old.rev, this.lastEpoch);
    }
    // A late flush of every old value, after the guard.
    if (this.rng.chance(0.3)) {
      for (const w of this.history.slice()) {
        const id = this.send(next, w.field, w.value, w.rev, w.epoch);
        if (id === undefined) continue;
        ids.push(id);
        stats.replays++;
      }
    }
    ids.push(...(await this.edit(next, this.rng.int(1, 2), false)));
    if (ids.length > 0) await next.waitAcks(ids, timing.ackTimeoutMs);
    lap('after');
  }
}
