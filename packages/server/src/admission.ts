/**
 * Admission of a `set`: the first reason, in the order of docs/protocol.md (`invalid`, `forbidden`,
 * `rate`, `guard`, `offline`, `stale`), to refuse it, or none. Only a set that passes every check
 * reaches the store and the device. An action's press (docs/protocol.md rule 12) passes the same
 * checks but the revision ones: it has no value to be unknown or stale; its epoch is still checked.
 * @module
 */
import { checkValue, type RejectReason, type SetFrame } from '@live-device-form/protocol';
import type { DeviceHub } from './hub.js';
import { type RateRefusal, WriteLimit } from './write-rate.js';

/** Why a set is refused. */
export interface Refusal {
  reason: RejectReason;
  message: string;
}

/**
 * What admission asks about the session a set came from. Each answer is read at the moment it is
 * needed: a hook called on the way (`checkWrite`, `canWrite`) may have changed the session. @internal
 */
export interface Applicant {
  /** The device, once `hello` named it and the user was authorized. */
  hub(): DeviceHub | undefined;
  /** Whether the user is still being authorized: neither the field's limits nor its value may be told. */
  authorizing(): boolean;
  /** Whether the first resync waits for the device's state: no value is known to judge by yet. */
  awaitingDevice(): boolean;
  /** The user's per-field permission from `authorize`, if it gave one. */
  canWrite(): ((field: string) => boolean) | undefined;
  /**
   * Takes a token from each write rate limit the set is under (socket, user, device); when one has
   * none left, takes nothing and says which.
   */
  takeRateToken(): RateRefusal | undefined;
  /** Whether the socket's resync has been sent (live, none pending); before that every set is `guard`. */
  synced(): boolean;
  /** Whether stale writes (another epoch's included) are refused now (`setProtection` can change it). */
  checkRevisions(): boolean;
  /** The server instance's epoch: a set based on another is stale. */
  readonly epoch: string;
  /** The session id, as the store attributes writes. */
  readonly sessionId: string;
  /** Calls a user or bridge hook; a throw is logged and yields `fallback`. */
  contained<T>(what: string, fn: () => T, fallback: T): T;
}

/** Whose writes a rate limit counts, for the message. */
const LIMIT_WORDS: Readonly<Record<WriteLimit, string>> = {
  [WriteLimit.Socket]: 'on this socket',
  [WriteLimit.User]: 'by this user (all their sockets)',
  [WriteLimit.Device]: 'to this device (all its sockets)',
};

/**
 * The first reason, in protocol order, to refuse a set; `undefined` to admit it. A rate token is
 * taken only from a set that is valid and permitted.
 */
export function judge(frame: SetFrame, applicant: Applicant): Refusal | undefined {
  const hub = applicant.hub();
  // Authorizing: the user is not known yet, so neither the field's limits nor its value may be told.
  if (!hub || applicant.authorizing()) return { reason: 'guard', message: 'not authorized yet' };
  // Before the device's state is in, every field may still read null: `guard`, never `forbidden`.
  if (applicant.awaitingDevice()) return { reason: 'guard', message: 'device state not in yet: wait for resync' };
  const { store, bridge } = hub;
  const schema = store.field(frame.field);
  if (!schema) return { reason: 'invalid', message: `unknown field "${frame.field}"` };
  const check = checkValue(schema, frame.value);
  if (!check.ok) return { reason: 'invalid', message: `${frame.field}: ${check.message}` };
  const encodable = applicant.contained(
    'checkWrite',
    () => bridge.checkWrite?.(frame.field, frame.value),
    'value cannot be encoded',
  );
  if (encodable !== undefined) return { reason: 'invalid', message: `${frame.field}: ${encodable}` };
  if (!schema.writable) return { reason: 'forbidden', message: `${frame.field} is read-only` };
  const canWrite = applicant.canWrite();
  if (canWrite && applicant.contained('canWrite', () => canWrite(frame.field), false) !== true) {
    return { reason: 'forbidden', message: `not allowed to write ${frame.field}` };
  }
  const action = schema.type === 'action';
  if (!action && store.state(frame.field)?.value === null)
    return { reason: 'forbidden', message: `${frame.field} is not known yet` };
  const rate = applicant.takeRateToken();
  if (rate)
    return { reason: 'rate', message: `more than ${rate.perSecond} writes a second ${LIMIT_WORDS[rate.limit]}` };
  if (!applicant.synced()) {
    // A lagging device (docs/protocol.md rule 11) holds every page back until its fresh resync.
    const message = hub.lagging
      ? 'the server is catching up with the device: wait for resync'
      : 'reconnect guard: wait for resync';
    return { reason: 'guard', message };
  }
  if (!store.online) return { reason: 'offline', message: 'device offline' };
  if (!applicant.checkRevisions()) return undefined;
  // Revisions compare only within one epoch: this write was based on a value an earlier run of the
  // server showed, and the device may have changed while it was down (docs/protocol.md rule 3).
  // For an action too: its page has not seen this server's schema (the press may be another button now).
  if (frame.epoch !== applicant.epoch) {
    return { reason: 'stale', message: `${frame.field} was read before the server restarted (another epoch)` };
  }
  // An action has no value and no revision: nothing it is based on can have changed (rule 12).
  if (action) return undefined;
  if (store.isStale(applicant.sessionId, frame.field, frame.rev)) {
    return { reason: 'stale', message: `${frame.field} changed since revision ${frame.rev}` };
  }
  return undefined;
}
