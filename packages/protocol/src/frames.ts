/**
 * Frame types of wire protocol v1: JSON text frames, one object per frame, discriminated on `type`.
 * See docs/protocol.md for the rules that go with them.
 * @module
 */

/** The kinds of field a device may have. */
export const FieldType = {
  Number: 'number',
  Integer: 'integer',
  Boolean: 'boolean',
  Enum: 'enum',
  Text: 'text',
  /**
   * A write-only trigger (a button): no value, no revision, never in `resync.fields` or an `update`;
   * a `set` for it carries `value: null` (docs/protocol.md rule 12).
   */
  Action: 'action',
} as const;
export type FieldType = (typeof FieldType)[keyof typeof FieldType];

/**
 * A value from a newer server that this version does not know: a `device` status, a rejection
 * reason, an error code (a word of at most 64 lowercase letters, digits and `-`).
 * `parseServerFrame` passes it on instead of refusing the frame (forward compatibility,
 * docs/protocol.md); a client treats it as the most cautious of the values it knows. It is typed
 * `string & Record<never, never>` so that editors still offer the known values.
 */
export type Unrecognized = string & Record<never, never>;

/** A value a field can hold. `null` means "not known yet"; such a field is read-only. */
export type FieldValue = number | boolean | string | null;

/** A value a client may write (never `null`). */
export type WritableValue = number | boolean | string;

/** One option of an `enum` field. */
export interface EnumOption {
  /** The value sent on the wire. */
  value: string;
  /** What the user sees. Defaults to `value`. */
  label?: string;
}

/** How a field looks and what it accepts, as sent to pages in `resync.schema`. */
export interface FieldSchema {
  /** Field name, matches `FIELD_NAME_PATTERN`. */
  name: string;
  /** Human-readable label. */
  label: string;
  type: FieldType;
  /** Smallest accepted value (`number`, `integer`). */
  min?: number;
  /** Largest accepted value (`number`, `integer`). */
  max?: number;
  /** Values must be `min + k * step` (or `k * step` without `min`). */
  step?: number;
  /** Unit shown beside the value, e.g. `"px"` or `"dB"`. */
  unit?: string;
  /** The options of an `enum` field. */
  options?: EnumOption[];
  /** Longest accepted text (`text`). Defaults to `MAX_TEXT_LENGTH`. */
  maxLength?: number;
  /** A short note shown under the field, e.g. why it is read-only (at most `MAX_LABEL_LENGTH` characters). */
  help?: string;
  /** Whether pages may write it. Always `true` for an `action`. */
  writable: boolean;
}

/** A field's value and the revision that value got. */
export interface FieldState {
  value: FieldValue;
  rev: number;
}

/**
 * Whether the device can be written: `online` when its availability topic and the broker link are
 * up and the server keeps up with it; `lagging` when the server has fallen more than its lag limit
 * behind the broker (docs/protocol.md rule 11; writes are refused `guard` until the next resync);
 * `gone` when the device was removed from the server (discovery: its configuration was withdrawn;
 * docs/protocol.md, *Devices that come and go*): writes are refused `offline`, the socket stays
 * open, and a fresh resync follows if it comes back. Only a `device` frame says `gone`, never a resync.
 */
export const DeviceStatus = { Online: 'online', Offline: 'offline', Lagging: 'lagging', Gone: 'gone' } as const;
export type DeviceStatus = (typeof DeviceStatus)[keyof typeof DeviceStatus];

// ---------------------------------------------------------------- client -> server

/** First frame of every socket. */
export interface HelloFrame {
  type: 'hello';
  /** The device id. */
  device: string;
  /** How many times this element instance completed a resync before: 0, then 1, 2, … */
  mounts: number;
  /** Optional credential, checked by the server's `authorize` hook or shared token. */
  token?: string;
}

/** A user edit. */
export interface SetFrame {
  type: 'set';
  /** Chosen by the client, increasing per socket; echoed in the `ack`. */
  id: number;
  field: string;
  /** The new value; `null` for an `action` field, and only for one (docs/protocol.md rule 12). */
  value: WritableValue | null;
  /** The revision of the value the user edited from; for an `action`, `0` (not checked). */
  rev: number;
  /**
   * The `epoch` of the `resync` that revision came from. A set from another epoch (the server
   * restarted since) is refused `stale` (docs/protocol.md rule 3).
   */
  epoch: string;
}

/** App-level heartbeat (browsers cannot send WebSocket pings). */
export interface PingFrame {
  type: 'ping';
  id: number;
}

export type ClientFrame = HelloFrame | SetFrame | PingFrame;

// ---------------------------------------------------------------- server -> client

/** A full, fresh snapshot; sent on every (re)sync. */
export interface ResyncFrame {
  type: 'resync';
  /**
   * Changes when the server process restarts, never otherwise. Revisions compare only within one
   * epoch: every `set` carries the epoch its `rev` came from.
   */
  epoch: string;
  /** Whether the device can be written right now; a value this version does not know means not writable. */
  device: Exclude<DeviceStatus, 'gone'> | Unrecognized;
  schema: FieldSchema[];
  /** Every field's state, except `action` fields (they have no value). */
  fields: Record<string, FieldState>;
}

/** A field's value changed on the device. Sent to every session, the writer included. */
export interface UpdateFrame {
  type: 'update';
  field: string;
  value: FieldValue;
  rev: number;
}

/** Why a write was refused. Checked in this order. */
export const RejectReason = {
  /** The frame or value is not acceptable (type, range, step, option, unknown field…). */
  Invalid: 'invalid',
  /** The user may not write this field. */
  Forbidden: 'forbidden',
  /** Too many writes from this socket. */
  Rate: 'rate',
  /** The socket is in its reconnect guard, or its `resync` has not been sent yet. */
  Guard: 'guard',
  /** The device or the broker is unavailable; nothing is queued. */
  Offline: 'offline',
  /** The write was based on a value the device or another user has since changed. */
  Stale: 'stale',
} as const;
export type RejectReason = (typeof RejectReason)[keyof typeof RejectReason];

/** The rejection reasons in the order the server checks them. */
export const REJECT_ORDER: readonly RejectReason[] = ['invalid', 'forbidden', 'rate', 'guard', 'offline', 'stale'];

/** What became of a write. */
export const AckStatus = {
  /** Published, and the broker acknowledged it (QoS 1 PUBACK). */
  Accepted: 'accepted',
  /** Published, but the broker link died before the PUBACK. Never re-sent. */
  Unknown: 'unknown',
  /** Refused, never published. */
  Rejected: 'rejected',
} as const;
export type AckStatus = (typeof AckStatus)[keyof typeof AckStatus];

export interface AcceptedAck {
  type: 'ack';
  id: number;
  status: 'accepted';
}

export interface UnknownAck {
  type: 'ack';
  id: number;
  status: 'unknown';
}

export interface RejectedAck {
  type: 'ack';
  id: number;
  status: 'rejected';
  /** A reason this version does not know (from a newer server) is still a refusal. */
  reason: RejectReason | Unrecognized;
  /** Human-readable detail (e.g. which limit an invalid value broke). */
  message?: string;
  /** The field, when it is a known field: then `value` and `rev` are its current state. */
  field?: string;
  value?: FieldValue;
  rev?: number;
}

export type AckFrame = AcceptedAck | UnknownAck | RejectedAck;

/**
 * The device or the broker went away (`offline`), the server fell behind the broker (`lagging`,
 * docs/protocol.md rule 11), or the device was removed from the server (`gone`; it may be the first
 * frame after `hello`, with no resync before it). Writes are refused until the fresh `resync` that
 * follows. A status this version does not know means the same: not writable until the next `resync`.
 */
export interface DeviceFrame {
  type: 'device';
  status: Exclude<DeviceStatus, 'online'> | Unrecognized;
}

export interface PongFrame {
  type: 'pong';
  id: number;
}

/** Stable codes of `error` frames. Each is followed by a close with the matching {@link CloseCode}. */
export const ErrorCode = {
  BadFrame: 'bad-frame',
  Unauthorized: 'unauthorized',
  Forbidden: 'forbidden',
  UnknownDevice: 'unknown-device',
  HelloTimeout: 'hello-timeout',
  Flooding: 'flooding',
  TooLarge: 'too-large',
  ShuttingDown: 'shutting-down',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface ErrorFrame {
  type: 'error';
  /** A code this version does not know (from a newer server) is an error like any other: the close code says what follows. */
  code: ErrorCode | Unrecognized;
  message: string;
}

export type ServerFrame = ResyncFrame | UpdateFrame | AckFrame | DeviceFrame | PongFrame | ErrorFrame;

/** WebSocket close codes of protocol v1. */
export const CloseCode = {
  /** Server shutting down (retry). */
  GoingAway: 1001,
  /** Frame over the size limit (retry). */
  TooLarge: 1009,
  /** Bad frame, or a frame before `hello` (fatal). */
  BadFrame: 4400,
  /** Bad or missing token (fatal). */
  Unauthorized: 4401,
  /** `authorize` refused the user (fatal). */
  Forbidden: 4403,
  /** Unknown device (fatal). */
  UnknownDevice: 4404,
  /** No `hello` in time (retry). */
  HelloTimeout: 4408,
  /** Flooding beyond the rate limit (retry). */
  Flooding: 4429,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The close code that goes with each error code. */
export const ERROR_CLOSE_CODES: Readonly<Record<ErrorCode, CloseCode>> = Object.freeze({
  'bad-frame': CloseCode.BadFrame,
  unauthorized: CloseCode.Unauthorized,
  forbidden: CloseCode.Forbidden,
  'unknown-device': CloseCode.UnknownDevice,
  'hello-timeout': CloseCode.HelloTimeout,
  flooding: CloseCode.Flooding,
  'too-large': CloseCode.TooLarge,
  'shutting-down': CloseCode.GoingAway,
});

/** Close codes after which a client must not reconnect on its own. */
export const FATAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.BadFrame,
  CloseCode.Unauthorized,
  CloseCode.Forbidden,
  CloseCode.UnknownDevice,
]);

/** Whether a client should stop reconnecting after this close code. */
export function isFatalCloseCode(code: number): boolean {
  return FATAL_CLOSE_CODES.has(code);
}
