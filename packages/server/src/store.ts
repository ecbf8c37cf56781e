/**
 * The store: one per device. It turns a bridge's status and availability events into field values
 * with revisions, attributes every change (a session's echo or external), answers the question
 * sessions ask before a write (is it stale?), and makes the write: registered as awaiting its
 * echo, handed to the bridge with the freshest values of the other fields of a composite payload,
 * and settled with its outcome.
 * @module
 */
import type { FieldSchema, FieldState, FieldValue, WritableValue } from '@live-device-form/protocol';
import { type BridgeEvent, type DeviceBridge, type FreshestValue, WriteOutcome } from './bridge.js';
import { type Logger, silentLogger } from './logger.js';
import { withDefaults } from './option-checks.js';
import { FieldRevisions, type WriteAwaitingEcho } from './revisions.js';

export type { WriteAwaitingEcho } from './revisions.js';

/** A field's value changed. `echoOf` is the session whose write it echoes, `undefined` if external. */
export interface StoreChange {
  type: 'change';
  field: string;
  value: FieldValue;
  rev: number;
  echoOf: string | undefined;
}

/** The device became writable (`online: true`) or stopped being writable. */
export interface StoreAvailability {
  type: 'availability';
  online: boolean;
}

/** What a store tells its listeners. */
export type StoreEvent = StoreChange | StoreAvailability;

/** Options of a {@link DeviceStore}. */
export interface DeviceStoreOptions {
  /** Milliseconds a write waits for its echo; a matching change after that counts as external. Defaults to `2000`. */
  echoTimeoutMs?: number;
  /** Changes remembered per field; a write based on an older revision is stale. Defaults to `64`. */
  historyLimit?: number;
  /** Writes awaiting their echo remembered per field. Defaults to `256`. */
  pendingLimit?: number;
  /**
   * The revision every field starts at; each change counts up from it, and a write based on a
   * lower revision is stale (it comes from an earlier run). The server passes one from the wall
   * clock so that revisions never repeat across restarts (docs/protocol.md rule 3). Defaults to `0`.
   */
  firstRevision?: number;
  /** Clock in milliseconds (monotonic). Defaults to `performance.now`. */
  now?: () => number;
  /** Where bad bridge events, listener errors and broken bridge writes are logged. Defaults to {@link silentLogger}. */
  logger?: Logger;
}

/** The defaults of {@link DeviceStoreOptions}, each documented on its option; merged once per store. */
export const DEVICE_STORE_DEFAULTS = Object.freeze({
  echoTimeoutMs: 2000,
  historyLimit: 64,
  pendingLimit: 256,
  firstRevision: 0,
  now: (): number => performance.now(),
  logger: silentLogger,
});

const OUTCOMES: ReadonlySet<unknown> = new Set(Object.values(WriteOutcome));

/**
 * Values and revisions of one device, built on its {@link DeviceBridge}.
 *
 * **The revision rule** (docs/protocol.md rule 3):
 * - One revision counter per device per epoch (the epoch is the server instance's; the store
 *   starts every field at `firstRevision`, and a base below it is stale). A `status` event gives the next revision to each field
 *   whose value it changes; fields whose value is unchanged keep theirs. An `availability` event
 *   with `reset: true` sets every field to `null`, which is a change like any other. A
 *   `written-elsewhere` event (a write by another server process or MQTT client, seen on the action
 *   topic) gives the next revision to each field it names, value unchanged: an external change.
 * - Every change is attributed. When a session's write is handed to the bridge it is registered
 *   as pending (session, value, time). A change whose value equals a pending write's value for
 *   that field (the oldest such entry first; entries older than `echoTimeoutMs` are expired) is
 *   that session's echo: the entry, that session's older entries for the field and every entry of
 *   the same value (whoever wrote it: the device has that value now) are consumed. Any other change
 *   is external.
 * - A write stops awaiting its echo, so that it can never fill a composite payload later, when:
 *   it ends `offline` (never published) or `unknown` (never re-sent; if it did reach the device,
 *   its echo counts as external); a status repeats the field's current value and a write of that
 *   value awaits (the echo of a write that changed nothing: every entry of that value, and the
 *   older ones of the session that wrote the oldest, are consumed, with no new revision); it
 *   expires; or the broker link is lost (`availability` with `reset`: every entry is cleared).
 * - A write by session S based on revision `r` is **stale** when any change to the field with a
 *   revision greater than `r` is not S's echo, or when another session's write to the field still
 *   awaits its echo, or when `r` is greater than the field's current
 *   revision, or when `r` is older than the retained history (`historyLimit` changes per field):
 *   a change we no longer remember might have been external, so we refuse — the safe side.
 *
 * So a slider dragged at 20 writes/s against a device that echoes each value is never stale, while
 * a write made from a value the device or another user changed since always is. A device that
 * clamps a write echoes a different value: that change is external, and the next write from the
 * old base is refused.
 *
 * For composite payloads (rule 4), {@link freshest} gives the newest write still awaiting its
 * echo for a field, else its current value; {@link write} hands it to the bridge.
 *
 * @example
 * const store = new DeviceStore(bridge, { echoTimeoutMs: 2000 });
 * if (!store.isStale(session.id, 'gain', frame.rev)) {
 *   const outcome = await store.write(session.id, 'gain', frame.value); // 'accepted' | 'unknown' | 'offline'
 * }
 */
export class DeviceStore {
  /** The device id. */
  readonly id: string;
  /** The fields, in display order. */
  readonly schema: readonly FieldSchema[];
  private readonly bridge: DeviceBridge;
  /** The fields that have a value: every field but the actions. */
  private readonly fields = new Map<string, FieldRevisions>();
  /** The `action` fields: no value, no revision, no echo (docs/protocol.md rule 12). */
  private readonly actions = new Set<string>();
  private readonly schemaByName = new Map<string, FieldSchema>();
  private readonly listeners = new Set<(event: StoreEvent) => void>();
  private readonly now: () => number;
  private readonly log: Logger;
  private counter = 0;
  private isOnline: boolean;
  private unsubscribe: (() => void) | undefined;
  /** {@link freshest}, as handed to `DeviceBridge.write` for the other fields of a composite payload. */
  private readonly freshestValue: FreshestValue = (field) => this.freshest(field);

  constructor(bridge: DeviceBridge, options: DeviceStoreOptions = {}) {
    const o = withDefaults(DEVICE_STORE_DEFAULTS, options);
    const limits = { echoTimeoutMs: o.echoTimeoutMs, historyLimit: o.historyLimit, pendingLimit: o.pendingLimit };
    this.bridge = bridge;
    this.id = bridge.id;
    this.schema = bridge.schema;
    this.now = o.now;
    this.log = o.logger;
    const snapshot = bridge.snapshot();
    for (const field of bridge.schema) {
      this.schemaByName.set(field.name, field);
      if (field.type === 'action') {
        this.actions.add(field.name);
        continue;
      }
      const initial = Object.prototype.hasOwnProperty.call(snapshot, field.name) ? snapshot[field.name] : null;
      this.fields.set(field.name, new FieldRevisions(initial ?? null, limits, o.firstRevision));
    }
    this.counter = o.firstRevision;
    this.isOnline = bridge.online;
    this.unsubscribe = bridge.subscribe((event) => this.onBridgeEvent(event));
  }

  /** Whether the device is writable right now. */
  get online(): boolean {
    return this.isOnline;
  }

  /** The latest revision given to any field (revisions come from one counter per device, rule 3). */
  get revision(): number {
    return this.counter;
  }

  /** The schema of a field, or `undefined` if the device has no such field. */
  field(name: string): FieldSchema | undefined {
    return this.schemaByName.get(name);
  }

  /** A field's current value and revision, or `undefined` if the device has no such field or it is an action. */
  state(name: string): FieldState | undefined {
    const f = this.fields.get(name);
    return f ? { value: f.value, rev: f.rev } : undefined;
  }

  /** Every field's value and revision, as sent in `resync.fields` (a null-prototype object; no actions). */
  snapshot(): Record<string, FieldState> {
    const out = Object.create(null) as Record<string, FieldState>;
    for (const [name, f] of this.fields) out[name] = { value: f.value, rev: f.rev };
    return out;
  }

  /**
   * Writes a value that passed every check (schema, permission, rate, guard, online, revision):
   * registers it as awaiting its echo, hands it to the bridge (the other fields of a composite
   * payload filled with their {@link freshest} value), and settles it with the outcome, which it
   * returns. Never rejects: a bridge that throws or resolves something else than a
   * {@link WriteOutcome} broke its contract; it may have published, so the outcome is `unknown`
   * (logged as an error). An action's press (`value` `null`) awaits no echo: it is handed to the
   * bridge and its outcome returned, nothing more (docs/protocol.md rule 12).
   */
  async write(sessionId: string, field: string, value: WritableValue | null): Promise<WriteOutcome> {
    const entry = value === null ? undefined : this.registerWrite(sessionId, field, value);
    let outcome: WriteOutcome;
    try {
      outcome = await this.bridge.write(field, value, this.freshestValue);
      if (!OUTCOMES.has(outcome)) {
        this.log.error(
          { session: sessionId, outcome: String(outcome) },
          'bridge.write resolved an unknown outcome; reported unknown',
        );
        outcome = WriteOutcome.Unknown;
      }
    } catch (err) {
      // The bridge broke its contract; it may have published, so the honest answer is "unknown".
      this.log.error({ session: sessionId, device: this.id, field, err }, 'bridge.write threw; reported unknown');
      outcome = WriteOutcome.Unknown;
    }
    if (entry) this.endWrite(entry, outcome);
    return outcome;
  }

  /**
   * The first half of {@link write}, for a caller that hands the write to the device itself:
   * registers a write as handed to the bridge, awaiting its echo. Returns the entry for {@link endWrite}.
   */
  registerWrite(sessionId: string, field: string, value: WritableValue): WriteAwaitingEcho {
    const entry: WriteAwaitingEcho = { sessionId, field, value, at: this.now() };
    this.fields.get(field)?.addPending(entry);
    return entry;
  }

  /**
   * The second half of {@link write}: tells the store how a write ended. A write that ended
   * `offline` (never published) or `unknown` (never re-sent) no longer awaits its echo.
   */
  endWrite(entry: WriteAwaitingEcho, outcome: WriteOutcome): void {
    if (outcome === WriteOutcome.Offline || outcome === WriteOutcome.Unknown)
      this.fields.get(entry.field)?.removePending(entry);
  }

  /** Whether a write by `sessionId` to `field` based on revision `rev` is stale. Unknown fields are stale. */
  isStale(sessionId: string, field: string, rev: number): boolean {
    return this.fields.get(field)?.isStale(sessionId, rev, this.now()) ?? true;
  }

  /** The freshest value of a field: the newest write awaiting its echo, else the current value. */
  freshest(field: string): FieldValue {
    return this.fields.get(field)?.freshest(this.now()) ?? null;
  }

  /** How many writes to a field await their echo. */
  pendingCount(field: string): number {
    return this.fields.get(field)?.pendingCount(this.now()) ?? 0;
  }

  /** Registers a listener for changes and availability. Returns the unsubscribe function. */
  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops listening to the bridge and drops every listener. The bridge itself is not closed. Safe twice. */
  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.listeners.clear();
  }

  private onBridgeEvent(event: BridgeEvent): void {
    // A bridge calls us from its own event handlers: nothing may escape into them.
    try {
      switch (event.type) {
        case 'status':
          this.applyValues(event.values);
          break;
        case 'availability':
          this.applyAvailability(event.online, event.reset === true);
          break;
        case 'written-elsewhere':
          this.applyWrittenElsewhere(event.fields);
          break;
        default: {
          const never: never = event;
          this.log.warn(
            { device: this.id, event: String((never as { type?: unknown }).type) },
            'unknown bridge event ignored',
          );
        }
      }
    } catch (err) {
      this.log.error({ device: this.id, err }, 'bridge event could not be applied');
    }
  }

  /**
   * Applies a status's values. Keys and an index, not `Object.entries` and destructuring: a device
   * that changes now and then runs this too rarely for V8 to optimise it, and unoptimised iteration
   * costs microseconds a status (BENCHMARKS.md, figure 1).
   */
  private applyValues(values: Readonly<Record<string, FieldValue>>): void {
    const now = this.now();
    const names = Object.keys(values);
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const value = values[name] as FieldValue;
      const f = this.fields.get(name);
      if (!f) {
        this.log.debug({ device: this.id, field: name.slice(0, 64) }, 'status for an unknown field ignored');
        continue;
      }
      if (f.value === value) {
        // The echo of a write that changed nothing: it no longer awaits its echo.
        f.confirm(value, now);
        continue;
      }
      const rev = ++this.counter;
      const echoOf = f.change(value, rev, now);
      this.emit({ type: 'change', field: name, value, rev, echoOf });
    }
  }

  /**
   * A write no local session made was seen on the device's action topic (docs/protocol.md,
   * *Several server processes*): each field it names gets the next revision with its value
   * unchanged, an external change, so a write based on an older revision is stale. Pages get an
   * `update` with the new revision; the device's status brings the value later.
   */
  private applyWrittenElsewhere(names: readonly string[]): void {
    for (const name of new Set(names)) {
      const f = this.fields.get(name);
      if (!f) {
        // A press of an action elsewhere changes nothing here: it has no value to be stale against.
        if (!this.actions.has(name))
          this.log.debug(
            { device: this.id, field: String(name).slice(0, 64) },
            'write from elsewhere to an unknown field ignored',
          );
        continue;
      }
      const rev = ++this.counter;
      f.writtenElsewhere(rev);
      this.emit({ type: 'change', field: name, value: f.value, rev, echoOf: undefined });
    }
  }

  private applyAvailability(online: boolean, reset: boolean): void {
    const changed = online !== this.isOnline;
    // Set first, so listeners handling the reset's changes already see the new availability.
    this.isOnline = online;
    // The broker link was lost: writes in flight ended `unknown` and are never re-sent, so none of
    // them may fill a composite payload later.
    if (reset) for (const f of this.fields.values()) f.clearPending();
    if (reset) {
      const nulls = Object.create(null) as Record<string, FieldValue>;
      for (const name of this.fields.keys()) nulls[name] = null;
      this.applyValues(nulls);
    }
    if (changed) this.emit({ type: 'availability', online });
  }

  private emit(event: StoreEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ device: this.id, err }, 'store listener threw');
      }
    }
  }
}
