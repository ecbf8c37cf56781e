/**
 * The small interface between sessions and a device. The MQTT bridge (`mqtt-bridge.ts`) is the
 * real one; `memory-bridge.ts` is the in-memory test double for unit tests.
 *
 * A bridge only moves values: it decodes status messages into field values and encodes writes into
 * action messages. Revisions, echo attribution and staleness live in the store (`store.ts`), which
 * sits between the bridge and the sessions.
 * @module
 */
import type { FieldSchema, WritableValue, FieldValue } from '@live-device-form/protocol';

/** Something a bridge reports about its device. */
export type BridgeEvent =
  /**
   * A status message was decoded. `values` holds every field the message carries (changed or
   * not); the store works out which ones changed.
   */
  | { type: 'status'; values: Readonly<Record<string, FieldValue>> }
  /**
   * The device became writable or stopped being writable. `online` is true only while both the
   * device's availability and the broker link are up. `reset` is true when every cached value must
   * be forgotten (the broker link was lost): fields are `null` until their status arrives again.
   */
  | { type: 'availability'; online: boolean; reset?: boolean }
  /**
   * A write this bridge did not make was seen on the device's action topic: another server process,
   * or any other MQTT client, is changing `fields` (docs/protocol.md, *Several server processes*).
   * Their values stay what the device last reported until its status says otherwise; the store
   * gives each a new revision, so a write based on an older one is stale.
   */
  | { type: 'written-elsewhere'; fields: readonly string[] };

/** What became of a write the bridge was asked to make. */
export const WriteOutcome = {
  /** Published at QoS 1, and the broker acknowledged it. */
  Accepted: 'accepted',
  /** Published, but the broker link died before the acknowledgement. Never re-sent. */
  Unknown: 'unknown',
  /** Not published: the device or the broker is unavailable. Nothing is queued. */
  Offline: 'offline',
} as const;
export type WriteOutcome = (typeof WriteOutcome)[keyof typeof WriteOutcome];

/**
 * Gives the freshest value of another field of the same device, for composite payloads
 * (docs/protocol.md rule 4): a write still awaiting its echo if there is one, else the device's
 * latest status, else `null` (unknown).
 */
export type FreshestValue = (field: string) => FieldValue;

/** One device, seen through whatever transport reaches it. */
export interface DeviceBridge {
  /** The device id pages send in `hello.device`. */
  readonly id: string;
  /** The fields, in display order, as sent to pages in `resync.schema`. */
  readonly schema: readonly FieldSchema[];
  /** Whether the device is writable right now (availability and broker link both up). */
  readonly online: boolean;
  /** The last known value of every field the bridge has seen a status for. */
  snapshot(): Record<string, FieldValue>;
  /** Registers a listener for status and availability events. Returns the unsubscribe function. */
  subscribe(listener: (event: BridgeEvent) => void): () => void;
  /**
   * Publishes one field's new value (called by the store's `write`). For a payload that carries
   * several fields, the others are filled in from `freshest`. Resolves with the outcome; never
   * rejects for transport reasons. Validation has already happened: the value fits the field's
   * schema. `value` is `null` for an `action` field's press, and only then (docs/protocol.md
   * rule 12); no echo follows it.
   */
  write(field: string, value: WritableValue | null, freshest: FreshestValue): Promise<WriteOutcome>;
  /**
   * Optional. Refuses a value that fits the field's schema but cannot be encoded into the device's
   * payload (docs/protocol.md rule 7: a text value containing the payload pattern's separators).
   * Returns why, or `undefined` when the value can be written. Sessions call it before anything
   * else is checked beyond the schema, and answer a refusal with `rejected/invalid`; it must not
   * throw.
   */
  checkWrite?(field: string, value: WritableValue | null): string | undefined;
  /**
   * Optional. Resolves `true` once the bridge holds the device's current state (the MQTT bridge:
   * connected, subscribed, and the retained statuses delivered), or `false` when its own bound
   * passed first and it holds only what is known. Never rejects; may be called any number of times.
   * A session's first resync waits for it, at most the server's `readyTimeoutMs`
   * (docs/protocol.md, Lifecycle: readiness). A bridge without it is ready at once.
   */
  ready?(): Promise<boolean>;
  /** Stops the bridge. Safe to call twice. */
  close(): Promise<void>;
}
