/**
 * `MemoryBridge`: an in-memory {@link DeviceBridge} for tests and demos. It plays the device: tests
 * push status values and availability into it, and it records every write it receives, echoes
 * writes back as status (optionally clamped; an action's press is not echoed), and can make writes hang or end `unknown`/`offline`.
 * @module
 */
import type { FieldSchema, FieldValue, WritableValue } from '@live-device-form/protocol';
import { type BridgeEvent, type DeviceBridge, type FreshestValue, WriteOutcome } from './bridge.js';
import { withDefaults } from './option-checks.js';

/**
 * How the device echoes a write. `true`: the written values come back as a status. A function: the
 * device reports what the function returns for each written field (a clamping device, say).
 * `false`: no echo.
 */
export type EchoBehaviour = boolean | ((field: string, value: WritableValue) => FieldValue);

/**
 * How the next writes end: a {@link WriteOutcome}, or `'hang'` until {@link MemoryBridge.release}.
 * `accepted`, `unknown` and `hang` writes reach the device and are echoed (only the broker's
 * acknowledgement differs); `offline` writes reach nothing.
 */
export type WriteBehaviour = WriteOutcome | 'hang';

/** Options of a {@link MemoryBridge}. */
export interface MemoryBridgeOptions {
  /** The device id. */
  id: string;
  /** The fields, in display order. */
  schema: FieldSchema[];
  /** Initial values; fields left out are `null` (unknown). Defaults to none. */
  values?: Record<string, FieldValue>;
  /** Whether the device starts writable. Defaults to `true`. */
  online?: boolean;
  /**
   * Whether `ready()` resolves at once (the device's state is known from the start). `false` holds
   * it (and so the server's first resyncs) until {@link MemoryBridge.setReady}. Defaults to `true`.
   */
  ready?: boolean;
  /** How writes are echoed. Defaults to `true`. */
  echo?: EchoBehaviour;
  /** Milliseconds before an echo; `0` echoes after a microtask. Defaults to `0`. */
  echoDelayMs?: number;
  /**
   * Groups of fields carried by one payload (like `genlock {h} {v}`): a write to one of them is
   * recorded and echoed with the freshest value of the others. Defaults to none.
   */
  composite?: string[][];
  /** Refuses values the device cannot take, as {@link DeviceBridge.checkWrite}. Defaults to none. */
  checkWrite?: (field: string, value: WritableValue | null) => string | undefined;
}

/** The defaults of {@link MemoryBridgeOptions}, each documented on its option. */
export const MEMORY_BRIDGE_DEFAULTS = Object.freeze({
  online: true,
  ready: true,
  echo: true as EchoBehaviour,
  echoDelayMs: 0,
});

/** A write the bridge received. */
export interface MemoryWrite {
  field: string;
  /** `null`: an action's press. */
  value: WritableValue | null;
  /** Every field the payload carried: the written one and, for a composite, the freshest others. */
  payload: Record<string, FieldValue>;
  /** Whether the device was online when the write arrived (an offline write is not published). */
  published: boolean;
}

/**
 * An in-memory device. Writes resolve `accepted` and are echoed after a microtask unless told
 * otherwise; while offline they resolve `offline` and reach nothing.
 *
 * @example
 * const bridge = new MemoryBridge({
 *   id: 'videoproc',
 *   schema: [{ name: 'gain', label: 'Gain', type: 'integer', min: 0, max: 10, writable: true }],
 *   values: { gain: 3 },
 * });
 * bridge.setStatus({ gain: 5 });     // the device changed on its own
 * bridge.setOnline(false, { reset: true });
 * expect(bridge.writes).toEqual([]);  // nothing reached the device
 */
export class MemoryBridge implements DeviceBridge {
  readonly id: string;
  readonly schema: readonly FieldSchema[];
  /** Every write received, in order, published or not. */
  readonly writes: MemoryWrite[] = [];
  /** How writes are echoed; change it at any time. */
  echo: EchoBehaviour;
  /** Milliseconds before an echo; change it at any time. */
  echoDelayMs: number;
  /** How the next writes end; change it at any time. Defaults to `'accepted'`. */
  writeBehaviour: WriteBehaviour = WriteOutcome.Accepted;
  private readonly values = new Map<string, FieldValue>();
  private readonly listeners = new Set<(event: BridgeEvent) => void>();
  private readonly groups = new Map<string, string[]>();
  private readonly held: ((outcome: WriteOutcome) => void)[] = [];
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private isOnline: boolean;
  private closed = false;
  private readonly readyPromise: Promise<boolean>;
  private resolveReady: (ready: boolean) => void = () => {};
  private readonly check: MemoryBridgeOptions['checkWrite'];

  constructor(options: MemoryBridgeOptions) {
    const o = withDefaults(MEMORY_BRIDGE_DEFAULTS, options);
    this.id = o.id;
    this.schema = o.schema.map((f) => ({ ...f }));
    this.isOnline = o.online;
    this.echo = o.echo;
    this.echoDelayMs = o.echoDelayMs;
    // An action has no value (docs/protocol.md rule 12): the device never reports one.
    for (const f of o.schema) if (f.type !== 'action') this.values.set(f.name, o.values?.[f.name] ?? null);
    for (const group of o.composite ?? []) for (const name of group) this.groups.set(name, group);
    this.check = o.checkWrite;
    this.readyPromise = new Promise((resolve) => (this.resolveReady = resolve));
    if (o.ready) this.resolveReady(true);
  }

  /** Resolves `true` at once, or, with the option `ready: false`, at {@link setReady} (`false` at `close()`). */
  ready(): Promise<boolean> {
    return this.readyPromise;
  }

  /** The device's state is in: `ready()` resolves `true`. Does nothing the second time. */
  setReady(): void {
    this.resolveReady(true);
  }

  checkWrite(field: string, value: WritableValue | null): string | undefined {
    return this.check?.(field, value);
  }

  get online(): boolean {
    return this.isOnline;
  }

  snapshot(): Record<string, FieldValue> {
    return Object.fromEntries(this.values);
  }

  /** The device's current value of a field. */
  value(field: string): FieldValue {
    return this.values.get(field) ?? null;
  }

  subscribe(listener: (event: BridgeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The device reports values (a status message): stored and emitted as a `status` event. */
  setStatus(values: Record<string, FieldValue>): void {
    for (const [name, value] of Object.entries(values)) this.values.set(name, value);
    this.emit({ type: 'status', values: { ...values } });
  }

  /**
   * The device (or the broker link) goes away or comes back. With `reset`, every value is
   * forgotten (`null`), as after a lost broker link.
   */
  setOnline(online: boolean, options: { reset?: boolean } = {}): void {
    this.isOnline = online;
    if (options.reset) for (const name of this.values.keys()) this.values.set(name, null);
    this.emit(options.reset ? { type: 'availability', online, reset: true } : { type: 'availability', online });
  }

  /**
   * Another server process or MQTT client writes `fields` (the MQTT bridge sees it on the action
   * topic): emitted as a `written-elsewhere` event; the values stay until {@link setStatus}.
   */
  writeElsewhere(fields: readonly string[]): void {
    this.emit({ type: 'written-elsewhere', fields: [...fields] });
  }

  /** Ends every hanging write with `outcome`. Returns how many there were. */
  release(outcome: WriteOutcome = WriteOutcome.Accepted): number {
    const held = this.held.splice(0);
    for (const resolve of held) resolve(outcome);
    return held.length;
  }

  /** How many writes are hanging. */
  get hanging(): number {
    return this.held.length;
  }

  /** Records the write; echoes it unless it is an action's press (an action has no state to report). */
  write(field: string, value: WritableValue | null, freshest: FreshestValue): Promise<WriteOutcome> {
    const payload: Record<string, FieldValue> = {};
    for (const name of this.groups.get(field) ?? [field]) payload[name] = name === field ? value : freshest(name);
    const published = this.isOnline && !this.closed;
    this.writes.push({ field, value, payload, published });
    if (!published) return Promise.resolve(WriteOutcome.Offline);
    const behaviour = this.writeBehaviour;
    const action = this.schema.find((f) => f.name === field)?.type === 'action';
    if (behaviour !== WriteOutcome.Offline && !action) this.scheduleEcho(payload);
    if (behaviour === 'hang') return new Promise((resolve) => this.held.push(resolve));
    return Promise.resolve(behaviour);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.resolveReady(false);
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.release(WriteOutcome.Offline);
    this.listeners.clear();
  }

  private scheduleEcho(payload: Record<string, FieldValue>): void {
    const echo = this.echo;
    if (echo === false) return;
    const report = (): void => {
      if (this.closed || !this.isOnline) return;
      const values: Record<string, FieldValue> = {};
      for (const [name, v] of Object.entries(payload)) {
        values[name] = typeof echo === 'function' && v !== null ? echo(name, v) : v;
      }
      this.setStatus(values);
    };
    if (this.echoDelayMs <= 0) {
      queueMicrotask(report);
      return;
    }
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      report();
    }, this.echoDelayMs);
    this.timers.add(timer);
  }

  private emit(event: BridgeEvent): void {
    if (this.closed) return;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch {
        // A test double must not let one listener break another; the store logs its own errors.
      }
    }
  }
}
