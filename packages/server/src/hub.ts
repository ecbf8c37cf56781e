/**
 * One device as the server serves it: its bridge, its store, and the sessions watching it. The store
 * applies every status at once (so a `set` is always judged against the device's latest state);
 * the hub's {@link Fanout} sends the changes on, coalesced and in slices (docs/protocol.md rule 11).
 * @module
 */
import type { DeviceBridge } from './bridge.js';
import { DEFAULTS } from './options.js';
import { Fanout, type FanoutMember, IngressState } from './fanout.js';
import type { Logger } from './logger.js';
import type { DeviceStore, StoreEvent } from './store.js';

/** What a hub needs from a session. @internal */
export type HubMember = FanoutMember;

/** How a hub fans out; see the options of the same names. @internal */
export interface HubLimits {
  lagLimitMs: number;
  fanoutSliceMs: number;
}

/** @internal */
export class DeviceHub {
  private readonly fanout: Fanout;
  private readonly unsubscribe: () => void;

  constructor(
    readonly bridge: DeviceBridge,
    readonly store: DeviceStore,
    private readonly log: Logger,
    limits: HubLimits = { lagLimitMs: DEFAULTS.lagLimitMs, fanoutSliceMs: DEFAULTS.fanoutSliceMs },
  ) {
    this.fanout = new Fanout({ lagLimitMs: limits.lagLimitMs, sliceMs: limits.fanoutSliceMs, log, device: store.id });
    this.unsubscribe = store.subscribe((event) => this.onStoreEvent(event));
  }

  /** Whether the fan-out is more than `lagLimitMs` behind the broker: pages were told, sets are refused `guard`. */
  get lagging(): boolean {
    return this.fanout.state === IngressState.Lagging;
  }

  join(member: HubMember): void {
    this.fanout.join(member);
  }

  leave(member: HubMember): void {
    this.fanout.leave(member);
  }

  /** Stops the fan-out and the store. The bridge belongs to the caller and stays open. */
  close(): void {
    this.unsubscribe();
    this.fanout.close();
    this.store.close();
  }

  private onStoreEvent(event: StoreEvent): void {
    switch (event.type) {
      case 'change':
        this.fanout.change(event.field, event.value, event.rev);
        break;
      case 'availability':
        this.fanout.availability(event.online);
        break;
      default: {
        const never: never = event;
        this.log.warn(
          { device: this.store.id, event: String((never as { type?: unknown }).type) },
          'unknown store event',
        );
      }
    }
  }
}
