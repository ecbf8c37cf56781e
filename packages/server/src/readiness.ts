/**
 * Readiness: whether a device's bridge holds the device's state yet. A session's first resync waits
 * for it (docs/protocol.md, Lifecycle: readiness), at most until the server's `readyTimeoutMs` has
 * passed since the server was created; then it goes out with what is known.
 * @module
 */
import type { Logger } from './logger.js';

/** Where a device's readiness is. */
export const ReadinessState = {
  /** The bridge is still gathering the device's state; first resyncs wait. */
  Waiting: 'waiting',
  /** The bridge said it holds the device's state. */
  Ready: 'ready',
  /** The bound passed (or the bridge gave up first): first resyncs go out with what is known. */
  TimedOut: 'timed-out',
} as const;
export type ReadinessState = (typeof ReadinessState)[keyof typeof ReadinessState];

/** What `LiveDeviceServer.ready()` resolves with. */
export interface ReadyReport {
  /** Whether every device's bridge was ready within `readyTimeoutMs`. */
  ready: boolean;
  /** The ids of the devices whose bridge was not (their first resyncs carry what was known). */
  notReady: string[];
}

/** What a readiness follows: a device's bridge, or a catalog (docs/server.md, *Devices that come and go*). @internal */
export interface ReadinessSource {
  /** The device id (for a catalog, a name for the log). */
  readonly id: string;
  /** As `DeviceBridge.ready`: resolves `true` when the state is in; absent means ready at once. */
  ready?(): Promise<boolean>;
}

/** What the log says of a source that was not ready within the bound. */
const NOT_READY_MESSAGE = 'device not ready in time: first resyncs carry what is known';

/** One device's (or one catalog's) readiness, as the server follows it. @internal */
export class DeviceReadiness {
  readonly id: string;
  /** Resolves `true` when the bridge became ready, `false` when the bound passed first. Never rejects. */
  readonly settled: Promise<boolean>;
  private state: ReadinessState = ReadinessState.Waiting;
  private readonly waiters = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private resolve: (ready: boolean) => void = () => {};

  /** Starts following `bridge.ready()`, bounded by `boundMs` from now; `notReadyMessage` is logged if the bound passes. */
  constructor(
    bridge: ReadinessSource,
    private readonly boundMs: number,
    private readonly log: Logger,
    private readonly notReadyMessage = NOT_READY_MESSAGE,
  ) {
    this.id = bridge.id;
    this.settled = new Promise<boolean>((resolve) => (this.resolve = resolve));
    let pending: Promise<boolean> | undefined;
    try {
      pending = bridge.ready?.();
    } catch (err) {
      log.error({ device: this.id, err }, 'bridge.ready threw; counted as not ready');
      this.end(ReadinessState.TimedOut);
      return;
    }
    if (pending === undefined) {
      this.end(ReadinessState.Ready);
      return;
    }
    if (boundMs === 0) {
      // Waiting is turned off: nothing to report, first resyncs go out at once.
      this.end(ReadinessState.TimedOut, false);
      return;
    }
    pending.then(
      (ready) => this.end(ready === true ? ReadinessState.Ready : ReadinessState.TimedOut),
      (err: unknown) => {
        log.error({ device: this.id, err }, 'bridge.ready rejected; counted as not ready');
        this.end(ReadinessState.TimedOut);
      },
    );
    // A bridge that says nothing within the bound must not hold its pages back any longer.
    this.timer = setTimeout(() => this.end(ReadinessState.TimedOut), this.boundMs);
    this.timer.unref?.();
  }

  /** Whether first resyncs still wait. */
  get waiting(): boolean {
    return this.state === ReadinessState.Waiting;
  }

  /** Whether the bridge said it was ready within the bound. */
  get ready(): boolean {
    return this.state === ReadinessState.Ready;
  }

  /** Calls `fn` once when the wait ends (ready or bound). Returns the function that cancels it. */
  whenSettled(fn: () => void): () => void {
    if (!this.waiting) {
      queueMicrotask(fn);
      return () => {};
    }
    this.waiters.add(fn);
    return () => this.waiters.delete(fn);
  }

  /** Stops waiting (the server is closing): what still waits is told the wait is over. Safe twice. */
  close(): void {
    this.end(ReadinessState.TimedOut, false);
  }

  private end(state: ReadinessState, report = true): void {
    if (this.state !== ReadinessState.Waiting) return;
    this.state = state;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (state === ReadinessState.TimedOut && report) {
      this.log.warn({ device: this.id, readyTimeoutMs: this.boundMs }, this.notReadyMessage);
    }
    this.resolve(state === ReadinessState.Ready);
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const fn of waiters) {
      try {
        fn();
      } catch (err) {
        this.log.error({ device: this.id, err }, 'a readiness waiter threw');
      }
    }
  }
}
