/**
 * The DOM events `<live-device-form>` dispatches. All bubble and are composed, so a page (React,
 * Vue, plain DOM) can listen on the element or any ancestor without knowing Lit.
 * @module
 */
import type {
  DeviceStatus,
  FieldSchema,
  FieldState,
  FieldValue,
  RejectReason,
  Unrecognized,
  WritableValue,
} from '@live-device-form/protocol';
import type { ConnectionError, ConnectionState } from './connection.js';

/** `ldf-state`: the connection state changed. */
export interface StateDetail {
  state: ConnectionState;
  /** Milliseconds until the next attempt, when `state` is `reconnecting` (0 while it is under way). */
  retryIn: number;
  /** Set when `state` is `failed`. */
  error: ConnectionError | null;
  /**
   * Several quick handshake failures in a row (`REFUSED_AFTER_FAILURES`): the server refuses the
   * connection, most often for its `Origin` or `Host`. The element keeps retrying and shows a hint;
   * `false` again once a socket opens.
   */
  refused: boolean;
}

/** `ldf-resync`: a fresh snapshot arrived; the form now shows it. */
export interface ResyncDetail {
  epoch: string;
  /** `online`; `offline`; `lagging` (the server is catching up with the device); or, from a newer server, another status (not writable). */
  device: DeviceStatus | Unrecognized;
  schema: FieldSchema[];
  fields: Record<string, FieldState>;
  /** The `mounts` the socket's `hello` carried. */
  mounts: number;
}

/** `ldf-update`: a field's value changed on the device. */
export interface UpdateDetail {
  field: string;
  value: FieldValue;
  rev: number;
  /** True when this is the echo of a value this element wrote and is awaiting. */
  echo: boolean;
}

/** `ldf-write`: the element sent a `set`. */
export interface WriteDetail {
  id: number;
  field: string;
  /** The value written; `null` for an action's press. */
  value: WritableValue | null;
  /** The revision the user edited from (`0` for an action's press: it has none). */
  rev: number;
  /** The epoch of the resync that revision came from (docs/protocol.md rule 3). */
  epoch: string;
}

/** `ldf-ack`: the server answered a write. */
export interface AckDetail extends WriteDetail {
  status: 'accepted' | 'unknown' | 'rejected';
}

/** `ldf-rejected`: a write was refused and never reached the device. */
export interface RejectedDetail extends WriteDetail {
  /** A reason from a newer server that this version does not know is passed on as it came. */
  reason: RejectReason | Unrecognized;
  /** The reason in words, as shown on the field. */
  message: string;
  /** The device's current state of the field, when the server sent it. */
  current: FieldState | null;
}

/**
 * `ldf-unconfirmed`: a write may or may not have reached the device. `cause` is `disconnected`
 * (the socket died before the ack) or `unknown` (the server's broker link died before the
 * broker's acknowledgement). It is never re-sent; the next resync shows the device's real value.
 * A write still unanswered when a server closes with 1001 after a drain was never read: that one
 * is `ldf-rejected` with reason `offline` instead (docs/protocol.md, *Shutdown and drain*).
 */
export interface UnconfirmedDetail extends WriteDetail {
  cause: 'disconnected' | 'unknown';
}

/** `ldf-error`: the connection stopped for good (fatal close code or unusable `src`). */
export type ErrorDetail = ConnectionError;

/** Event names and their details. */
export interface LiveDeviceFormEventMap {
  'ldf-state': CustomEvent<StateDetail>;
  'ldf-resync': CustomEvent<ResyncDetail>;
  'ldf-update': CustomEvent<UpdateDetail>;
  'ldf-write': CustomEvent<WriteDetail>;
  'ldf-ack': CustomEvent<AckDetail>;
  'ldf-rejected': CustomEvent<RejectedDetail>;
  'ldf-unconfirmed': CustomEvent<UnconfirmedDetail>;
  'ldf-error': CustomEvent<ErrorDetail>;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type
  interface GlobalEventHandlersEventMap extends LiveDeviceFormEventMap {}
}

/** Dispatches a bubbling, composed `CustomEvent`. */
export function emit<K extends keyof LiveDeviceFormEventMap>(
  target: EventTarget,
  type: K,
  detail: LiveDeviceFormEventMap[K]['detail'],
): void {
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}
