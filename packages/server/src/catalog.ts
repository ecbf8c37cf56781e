/**
 * A device catalog: devices that come and go at run time (discovery, docs/discovery.md), which a
 * server follows beside the devices it was created with (`createLiveDeviceServer({ catalogs })`).
 * The catalog owns its bridges: it creates them and closes them after it reported them removed or
 * replaced; the server only follows them.
 * @module
 */
import type { DeviceBridge } from './bridge.js';

/** Something a catalog reports. */
export type CatalogEvent =
  /**
   * A device appeared, or (same id as one already reported) its description changed and this new
   * bridge replaces the old one: its pages get a fresh `resync` with the new schema.
   */
  | { type: 'added'; bridge: DeviceBridge }
  /** A device went away: its pages get `device` `gone`, stay connected and read-only. */
  | { type: 'removed'; id: string };

/** Devices that come and go at run time. */
export interface DeviceCatalog {
  /** The devices known now. */
  devices(): readonly DeviceBridge[];
  /** Registers a listener. Returns the unsubscribe function. */
  subscribe(listener: (event: CatalogEvent) => void): () => void;
  /**
   * Resolves `true` once the catalog's first view is complete (the retained configs delivered),
   * `false` when its own bound passed first. Never rejects. Until then a `hello` for an unknown
   * device id waits (at most the server's `readyTimeoutMs`) rather than being refused with 4404.
   */
  ready(): Promise<boolean>;
}
