/**
 * Records a bridge's events so tests can await them instead of sleeping.
 * @module
 */
import type { BridgeEvent, DeviceBridge } from '@live-device-form/server';

/** What {@link recordEvents} returns. */
export interface EventRecorder {
  /** Every event, in order. */
  readonly events: BridgeEvent[];
  /**
   * Resolves with the first event not yet taken by an earlier `next` that matches, recorded
   * already or to come, and takes it. So `next(online)`, `next(offline)`, `next(online)` see three
   * different events even when they all happened before the calls.
   */
  next(match: (e: BridgeEvent) => boolean, what?: string, timeoutMs?: number): Promise<BridgeEvent>;
  /** The number of events so far, to slice `events` later. */
  mark(): number;
  stop(): void;
}

/** Matches `availability` events with this `online` (and `reset`, when given). */
export const availability =
  (online: boolean, reset?: boolean) =>
  (e: BridgeEvent): boolean =>
    e.type === 'availability' && e.online === online && (reset === undefined || (e.reset === true) === reset);

/** Matches `status` events carrying these values. */
export const status =
  (values: Record<string, unknown>) =>
  (e: BridgeEvent): boolean =>
    e.type === 'status' && Object.entries(values).every(([k, v]) => Object.is(e.values[k], v));

/** Starts recording `bridge`'s events. */
export function recordEvents(bridge: DeviceBridge): EventRecorder {
  const events: BridgeEvent[] = [];
  const unread: BridgeEvent[] = [];
  let waiters: { match: (e: BridgeEvent) => boolean; resolve: (e: BridgeEvent) => void }[] = [];
  const stop = bridge.subscribe((e) => {
    events.push(e);
    const w = waiters.find((x) => x.match(e));
    if (w) {
      waiters = waiters.filter((x) => x !== w);
      w.resolve(e);
    } else unread.push(e);
  });
  return {
    events,
    mark: () => events.length,
    next(match, what = 'a matching event', timeoutMs = 10_000) {
      const i = unread.findIndex(match);
      if (i >= 0) return Promise.resolve(unread.splice(i, 1)[0] as BridgeEvent);
      return new Promise((resolve, reject) => {
        const done = (e: BridgeEvent): void => {
          clearTimeout(timer);
          resolve(e);
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          reject(new Error(`bridge: no ${what} within ${timeoutMs} ms; saw ${JSON.stringify(events)}`));
        }, timeoutMs);
        waiters.push({ match, resolve: done });
      });
    },
    stop,
  };
}

/**
 * Resolves when `bridge` is online: at once if it is, else at its first `availability` event that
 * says so (for an MQTT bridge: connected, and the retained availability and state have arrived).
 */
export function whenOnline(bridge: DeviceBridge, timeoutMs = 10_000): Promise<void> {
  if (bridge.online) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`bridge ${bridge.id}: not online within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = bridge.subscribe((e) => {
      if (e.type === 'availability' && e.online) {
        clearTimeout(timer);
        off();
        resolve();
      }
    });
  });
}
