/**
 * One device as the server serves it: its bridge, its store, and the sessions watching it. The hub
 * encodes each change once and hands the same bytes to every session (fan-out to thousands of
 * sockets must not re-serialise per socket).
 * @module
 */
import { encodeFrame } from '@live-device-form/protocol';
import type { DeviceBridge } from './bridge.js';
import type { Logger } from './logger.js';
import type { DeviceStore, StoreEvent } from './store.js';

/** What a hub needs from a session. @internal */
export interface HubMember {
  /** A field changed; `data` is the encoded `update` frame, shared by every member. */
  onChange(field: string, data: Buffer): void;
  /** The device became writable or stopped being writable. */
  onAvailability(online: boolean): void;
}

/** @internal */
export class DeviceHub {
  private readonly members = new Set<HubMember>();
  private readonly unsubscribe: () => void;

  constructor(
    readonly bridge: DeviceBridge,
    readonly store: DeviceStore,
    private readonly log: Logger,
  ) {
    this.unsubscribe = store.subscribe((event) => this.fanOut(event));
  }

  join(member: HubMember): void {
    this.members.add(member);
  }

  leave(member: HubMember): void {
    this.members.delete(member);
  }

  /** Stops the fan-out and the store. The bridge belongs to the caller and stays open. */
  close(): void {
    this.unsubscribe();
    this.members.clear();
    this.store.close();
  }

  private fanOut(event: StoreEvent): void {
    if (this.members.size === 0) return;
    switch (event.type) {
      case 'change': {
        const data = Buffer.from(
          encodeFrame({ type: 'update', field: event.field, value: event.value, rev: event.rev }),
        );
        this.each((m) => m.onChange(event.field, data));
        break;
      }
      case 'availability':
        this.each((m) => m.onAvailability(event.online));
        break;
      default: {
        const never: never = event;
        void never;
      }
    }
  }

  private each(fn: (member: HubMember) => void): void {
    for (const member of this.members) {
      try {
        fn(member);
      } catch (err) {
        // One broken session must not keep the others from their updates.
        this.log.error({ device: this.store.id, err }, 'session failed to take a store event');
      }
    }
  }
}
