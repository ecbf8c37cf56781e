/**
 * `MemoryCatalog`: an in-memory {@link DeviceCatalog} for tests and demos. The test adds, replaces
 * and removes devices by hand, and says when its first view is complete.
 * @module
 */
import type { DeviceBridge } from './bridge.js';
import type { CatalogEvent, DeviceCatalog } from './catalog.js';

/** Options of a {@link MemoryCatalog}. */
export interface MemoryCatalogOptions {
  /** The devices it holds from the start. Defaults to none. */
  devices?: readonly DeviceBridge[];
  /** Whether `ready()` resolves at once; `false` holds it until {@link MemoryCatalog.setReady}. Defaults to `true`. */
  ready?: boolean;
}

/**
 * A catalog whose devices a test adds and removes. It does not own its bridges: the test closes them.
 *
 * @example
 * const catalog = new MemoryCatalog();
 * const live = createLiveDeviceServer({ devices: [], catalogs: [catalog] });
 * catalog.add(new MemoryBridge({ id: 'lamp', schema, values: { on: false } })); // pages of "lamp" get their resync
 * catalog.remove('lamp'); // … and `device gone`
 */
export class MemoryCatalog implements DeviceCatalog {
  private readonly held = new Map<string, DeviceBridge>();
  private readonly listeners = new Set<(event: CatalogEvent) => void>();
  private readonly whenReady: Promise<boolean>;
  private resolveReady: (ready: boolean) => void = () => {};

  constructor(options: MemoryCatalogOptions = {}) {
    for (const bridge of options.devices ?? []) this.held.set(bridge.id, bridge);
    this.whenReady = new Promise((resolve) => (this.resolveReady = resolve));
    if (options.ready ?? true) this.resolveReady(true);
  }

  devices(): readonly DeviceBridge[] {
    return [...this.held.values()];
  }

  subscribe(listener: (event: CatalogEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  ready(): Promise<boolean> {
    return this.whenReady;
  }

  /** Resolves `ready()` (with `false`: its own bound passed). */
  setReady(ready = true): void {
    this.resolveReady(ready);
  }

  /** Adds a device, or replaces the one with the same id. */
  add(bridge: DeviceBridge): void {
    this.held.set(bridge.id, bridge);
    this.emit({ type: 'added', bridge });
  }

  /** Removes a device. */
  remove(id: string): void {
    this.held.delete(id);
    this.emit({ type: 'removed', id });
  }

  /** How many listeners follow it (a server that closed has unsubscribed). */
  get listenerCount(): number {
    return this.listeners.size;
  }

  private emit(event: CatalogEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}
