/**
 * The device registry: which device ids a server serves now, and how. Each id is `live` (a hub:
 * bridge, store, fan-out, and its readiness) or `gone` (a catalog removed it: a tombstone, so that
 * its pages stay connected and read-only, and pages that come back for it are told `device gone`
 * rather than refused). Fixed devices (`devices`) are live from the start and for good; catalog
 * devices (`catalogs`, docs/server.md *Devices that come and go*) are added, replaced and removed
 * at run time. The sessions bound to an id are its members: they follow it through every change.
 * @module
 */
import type { DeviceBridge } from './bridge.js';
import type { CatalogEvent, DeviceCatalog } from './catalog.js';
import { DeviceHub, type HubLimits, type HubMember } from './hub.js';
import type { Logger } from './logger.js';
import { bridgeProblem } from './options.js';
import { DeviceReadiness } from './readiness.js';
import { DeviceStore } from './store.js';

/** Where a device id is. */
export const DeviceEntryState = {
  /** Served: pages get resyncs and updates, sets are judged. */
  Live: 'live',
  /** Removed by its catalog: its pages are told `device gone`, sets are refused `offline`. */
  Gone: 'gone',
} as const;
export type DeviceEntryState = (typeof DeviceEntryState)[keyof typeof DeviceEntryState];

/** What a session bound to a device id is: `live` with its hub, or `gone`. @internal */
export type DeviceBinding = { state: 'live'; hub: DeviceHub } | { state: 'gone' };

/** What the registry needs from a session bound to a device id. @internal */
export interface DeviceMember extends HubMember {
  /**
   * The id is served by a new hub: its bridge was replaced (a new schema), or it came back after it
   * was gone. The member has joined the hub already; it owes its page a fresh resync.
   */
  onDeviceBound(hub: DeviceHub): void;
  /** The id went away: the member has left its hub; it tells its page `device gone`. */
  onDeviceGone(): void;
}

/** Where a fixed device came from: it cannot be replaced or removed. */
const FIXED = 'fixed';

/** One id and the sessions bound to it. */
class DeviceEntry {
  state: DeviceEntryState = DeviceEntryState.Live;
  /** Set while live. */
  hub: DeviceHub | undefined;
  /** Set while live. */
  readiness: DeviceReadiness | undefined;
  /** Who serves it: the fixed devices, or the catalog that added it (while live). */
  owner: DeviceCatalog | typeof FIXED | undefined;
  /** Whether the server's start waits for it (fixed, or added before every catalog was ready). */
  startup = false;
  /** The newest revision any of its stores gave: the next store starts above it (docs/protocol.md rule 3). */
  lastRevision = 0;
  readonly members = new Set<DeviceMember>();

  constructor(readonly id: string) {}
}

/** How the registry builds hubs; the server's options of the same names. @internal */
export interface RegistryOptions {
  readonly echoTimeoutMs: number;
  readonly firstRevision: number;
  readonly readyTimeoutMs: number;
  readonly limits: HubLimits;
  readonly logger: Logger;
  /** Gone ids remembered at most (those with sessions bound are kept beyond it). Defaults to {@link TOMBSTONE_LIMIT}. */
  readonly tombstoneLimit?: number;
}

/** Gone device ids remembered at most, besides those pages are still bound to. */
export const TOMBSTONE_LIMIT = 1024;

/** @internal */
export class DeviceRegistry {
  private readonly entries = new Map<string, DeviceEntry>();
  /** Callbacks waiting for an id not known yet (hellos that wait for a catalog). */
  private readonly waiting = new Map<string, Set<() => void>>();
  private readonly catalogReadiness: DeviceReadiness[] = [];
  private readonly unsubscribers: (() => void)[] = [];
  private readonly tombstoneLimit: number;
  private closed = false;

  constructor(
    fixed: readonly DeviceBridge[],
    private readonly options: RegistryOptions,
  ) {
    this.tombstoneLimit = options.tombstoneLimit ?? TOMBSTONE_LIMIT;
    for (const bridge of fixed) this.serve(new DeviceEntry(bridge.id), bridge, FIXED);
  }

  /** Whether the server follows any catalog (a hello for an unknown id then waits). */
  get followsCatalogs(): boolean {
    return this.catalogReadiness.length > 0;
  }

  /**
   * Follows a catalog: serves the devices it holds now, then every device it adds, replaces or
   * removes, until {@link close}. Its `ready()` is waited for, at most `readyTimeoutMs` from now.
   */
  follow(catalog: DeviceCatalog): void {
    const { logger, readyTimeoutMs } = this.options;
    const name = `catalog ${this.catalogReadiness.length + 1}`;
    this.catalogReadiness.push(
      new DeviceReadiness(
        { id: name, ready: () => catalog.ready() },
        readyTimeoutMs,
        logger,
        "catalog's first view not complete in time: serving what it has reported",
      ),
    );
    let devices: readonly DeviceBridge[];
    try {
      devices = catalog.devices();
      this.unsubscribers.push(catalog.subscribe((event) => this.onCatalogEvent(catalog, event)));
    } catch (err) {
      logger.error({ catalog: name, err }, 'catalog threw; its devices are not served');
      return;
    }
    for (const bridge of devices) this.add(bridge, catalog);
  }

  /** How an id is served now, or `undefined` when the registry does not know it. */
  lookup(id: string): DeviceBinding | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    return entry.state === DeviceEntryState.Live ? { state: 'live', hub: entry.hub as DeviceHub } : { state: 'gone' };
  }

  /** The hub serving an id, if it is live. */
  hub(id: string): DeviceHub | undefined {
    return this.entries.get(id)?.hub;
  }

  /** The readiness of a live id. */
  readiness(id: string): DeviceReadiness | undefined {
    return this.entries.get(id)?.readiness;
  }

  /** Binds a session to an id (joining its hub while live). Returns how it is served, or `undefined` if unknown. */
  join(id: string, member: DeviceMember): DeviceBinding | undefined {
    const entry = this.entries.get(id);
    if (!entry) return undefined;
    entry.members.add(member);
    entry.hub?.join(member);
    return this.lookup(id);
  }

  /** Unbinds a session (it closed). */
  leave(id: string, member: DeviceMember): void {
    const entry = this.entries.get(id);
    if (!entry) return;
    entry.members.delete(member);
    entry.hub?.leave(member);
  }

  /**
   * Calls `fn` once when `id` is known (live or gone; at once, in a microtask, if it is already).
   * Returns the function that cancels it.
   */
  whenKnown(id: string, fn: () => void): () => void {
    if (this.entries.has(id)) {
      queueMicrotask(fn);
      return () => {};
    }
    let set = this.waiting.get(id);
    if (!set) this.waiting.set(id, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0 && this.waiting.get(id) === set) this.waiting.delete(id);
    };
  }

  /** The readiness of every live device, fixed first, in the order they were added. */
  liveReadiness(): DeviceReadiness[] {
    const all: DeviceReadiness[] = [];
    for (const entry of this.entries.values()) if (entry.readiness) all.push(entry.readiness);
    return all;
  }

  /**
   * Whether the server is still starting: a catalog's `ready()` has not settled (nor its bound
   * passed), or a device known at the start (fixed, or added before every catalog was ready) is
   * still waited for. A device added later does not take a running server back to starting.
   */
  get starting(): boolean {
    if (this.catalogReadiness.some((r) => r.waiting)) return true;
    for (const entry of this.entries.values()) if (entry.startup && entry.readiness?.waiting) return true;
    return false;
  }

  /** Resolves once every catalog's `ready()` settled or its bound passed: whether all were ready. */
  async catalogsSettled(): Promise<boolean> {
    const all = await Promise.all(this.catalogReadiness.map((r) => r.settled));
    return all.every(Boolean);
  }

  /**
   * Serves a catalog's device: a new id, a replacement (same id, new bridge: a new schema), or the
   * return of a gone id. A device whose id is served by the fixed devices or another catalog is
   * refused, as is a bridge the server could not serve; both are logged as errors.
   */
  add(bridge: DeviceBridge, owner: DeviceCatalog): void {
    if (this.closed) return;
    const { logger } = this.options;
    const problem = bridgeProblem(bridge);
    if (problem !== undefined) {
      logger.error({ device: String(bridge?.id).slice(0, 128), problem }, 'catalog device refused');
      return;
    }
    const entry = this.entries.get(bridge.id);
    if (!entry) {
      this.serve(new DeviceEntry(bridge.id), bridge, owner);
      logger.info({ device: bridge.id }, 'device added');
      this.wake(bridge.id);
      return;
    }
    if (entry.state === DeviceEntryState.Live && entry.owner !== owner) {
      const by = entry.owner === FIXED ? 'a device of the "devices" option' : 'another catalog';
      logger.error({ device: bridge.id }, `catalog device refused: its id is served by ${by}`);
      return;
    }
    if (entry.hub?.bridge === bridge) return; // reported again as it is
    const old = entry.state === DeviceEntryState.Live ? { hub: entry.hub, readiness: entry.readiness } : undefined;
    if (old?.hub) entry.lastRevision = Math.max(entry.lastRevision, old.hub.store.revision);
    this.serve(entry, bridge, owner);
    logger.info({ device: bridge.id, sessions: entry.members.size }, old ? 'device replaced' : 'device back');
    const hub = entry.hub as DeviceHub;
    // The old hub's fan-out stops and its sessions move on before its readiness is let go: a
    // session that still waited for it waits for the new one instead.
    for (const member of entry.members) hub.join(member);
    old?.hub?.close();
    for (const member of [...entry.members]) this.tell(() => member.onDeviceBound(hub));
    old?.readiness?.close();
  }

  /** A catalog removed a device: its id is gone, its sessions told. Another owner's id is left alone. */
  remove(id: string, owner: DeviceCatalog): void {
    const entry = this.entries.get(id);
    if (!entry || entry.state !== DeviceEntryState.Live) return;
    if (entry.owner !== owner) {
      this.options.logger.warn(
        { device: String(id).slice(0, 128) },
        'catalog removed a device it does not serve: ignored',
      );
      return;
    }
    const { hub, readiness } = entry;
    entry.lastRevision = Math.max(entry.lastRevision, hub?.store.revision ?? 0);
    entry.state = DeviceEntryState.Gone;
    entry.hub = undefined;
    entry.readiness = undefined;
    entry.owner = undefined;
    entry.startup = false;
    // Last in the map's order: the oldest tombstones are forgotten first.
    this.entries.delete(id);
    this.entries.set(id, entry);
    this.options.logger.info({ device: id, sessions: entry.members.size }, 'device gone');
    hub?.close();
    for (const member of [...entry.members]) this.tell(() => member.onDeviceGone());
    readiness?.close();
    this.forgetTombstones();
  }

  /** Stops following the catalogs, closes every hub and ends every wait. Safe twice. */
  close(): void {
    this.closed = true;
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    for (const entry of this.entries.values()) {
      entry.hub?.close();
      entry.readiness?.close();
    }
    for (const r of this.catalogReadiness) r.close();
    this.waiting.clear();
  }

  /** Makes an entry live with a new hub for `bridge`, its revisions above any it had. */
  private serve(entry: DeviceEntry, bridge: DeviceBridge, owner: DeviceCatalog | typeof FIXED): void {
    const o = this.options;
    const firstRevision = entry.state === DeviceEntryState.Gone || entry.hub ? entry.lastRevision + 1 : o.firstRevision;
    const store = new DeviceStore(bridge, {
      echoTimeoutMs: o.echoTimeoutMs,
      firstRevision: Math.max(o.firstRevision, firstRevision),
      logger: o.logger,
    });
    entry.state = DeviceEntryState.Live;
    entry.hub = new DeviceHub(bridge, store, o.logger, o.limits);
    entry.readiness = new DeviceReadiness(bridge, o.readyTimeoutMs, o.logger);
    entry.owner = owner;
    entry.startup = owner === FIXED || this.catalogReadiness.some((r) => r.waiting);
    this.entries.set(entry.id, entry);
  }

  private onCatalogEvent(catalog: DeviceCatalog, event: CatalogEvent): void {
    try {
      switch (event?.type) {
        case 'added':
          this.add(event.bridge, catalog);
          break;
        case 'removed':
          this.remove(event.id, catalog);
          break;
        default:
          this.options.logger.warn(
            { event: String((event as { type?: unknown } | undefined)?.type) },
            'unknown catalog event ignored',
          );
      }
    } catch (err) {
      this.options.logger.error({ err }, 'catalog event could not be applied');
    }
  }

  /** Hellos waiting for `id` go on. */
  private wake(id: string): void {
    const set = this.waiting.get(id);
    if (!set) return;
    this.waiting.delete(id);
    for (const fn of set) this.tell(fn);
  }

  /** Calls a session back; a throw is a bug of ours, logged, and must not stop the others. */
  private tell(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.options.logger.error({ err }, 'a session threw while its device changed');
    }
  }

  /** Forgets the oldest tombstones beyond the limit; those with sessions bound stay. */
  private forgetTombstones(): void {
    let gone = 0;
    for (const entry of this.entries.values()) if (entry.state === DeviceEntryState.Gone) gone++;
    if (gone <= this.tombstoneLimit) return;
    for (const entry of this.entries.values()) {
      if (gone <= this.tombstoneLimit) return;
      if (entry.state !== DeviceEntryState.Gone || entry.members.size > 0) continue;
      this.entries.delete(entry.id);
      gone--;
    }
  }
}
