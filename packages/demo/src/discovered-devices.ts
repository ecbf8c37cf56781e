/**
 * The devices the demo's discovery has found, as the page lists them: followed from the
 * discovery's `device-discovered`, `device-changed` and `device-removed` events
 * (docs/discovery.md), so the list is complete when the tracker is created with the discovery,
 * before its first settle.
 * @module
 */
import type { Discovery } from '@live-device-form/server';

/** One discovered device, as the page lists it. */
export interface DiscoveredDevice {
  /** What a page puts in `<live-device-form device="…">`. */
  id: string;
  /** The source that found it: `homeassistant`, `zigbee2mqtt`, … */
  source: string;
  /** How many fields it has. */
  fields: number;
  /** A name for its heading, when the demo knows the device (it simulates it); else absent. */
  name?: string;
}

/** The list, kept current. */
export interface DiscoveredDevices {
  /** The devices found now, in the order they were first found. */
  list(): DiscoveredDevice[];
  /** Listens to every change of the list. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Stops following the discovery. */
  close(): void;
}

/**
 * Follows `discovery`. `names` gives headings for the device ids the demo simulates.
 *
 * @example
 * const discovered = trackDiscovered(discovery, { 'cy-vp4-0042': 'CY-VP4 video processor' });
 * discovered.subscribe(() => console.log(discovered.list()));
 */
export function trackDiscovered(discovery: Discovery, names: Readonly<Record<string, string>> = {}): DiscoveredDevices {
  const devices = new Map<string, DiscoveredDevice>();
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of [...listeners]) {
      try {
        listener();
      } catch {
        /* a listener's failure is its own */
      }
    }
  };
  const upsert = ({ id, source, fields }: { id: string; source: string; fields: number }): void => {
    const name = Object.hasOwn(names, id) ? names[id] : undefined;
    devices.set(id, { id, source, fields, ...(name !== undefined ? { name } : {}) });
    changed();
  };
  const offs = [
    discovery.on('device-discovered', upsert),
    discovery.on('device-changed', upsert),
    discovery.on('device-removed', ({ id }) => {
      if (devices.delete(id)) changed();
    }),
  ];
  return {
    list: () => [...devices.values()].map((d) => ({ ...d })),
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      for (const off of offs) off();
      listeners.clear();
    },
  };
}
