/**
 * Every word the element shows, in one place.
 * @module
 */
import type { FieldSchema, FieldValue, RejectReason, Unrecognized } from '@live-device-form/protocol';
import type { ConnectionError, ConnectionState } from '../connection.js';
import type { Note } from './field-model.js';

/** A value as the user reads it: unit, option label, On/Off. */
export function formatValue(schema: FieldSchema, value: FieldValue): string {
  if (value === null) return '—';
  if (typeof value === 'boolean') return value ? 'On' : 'Off';
  if (schema.type === 'enum') return schema.options?.find((o) => o.value === value)?.label ?? String(value);
  if (typeof value === 'number') return schema.unit ? `${value} ${schema.unit}` : String(value);
  return `“${value}”`;
}

const REASONS: Record<Exclude<RejectReason, 'stale' | 'invalid'>, string> = {
  forbidden: 'you may not change this setting',
  rate: 'too many changes at once; try again',
  guard: 'the connection was just re-established; try again',
  offline: 'the device is offline',
};

/** A reason from a newer server that this version does not know. */
const REFUSED = 'the server refused this change';

/** Why a write was refused, in words; a reason this version does not know, in general words. */
export function reasonText(
  schema: FieldSchema,
  reason: RejectReason | Unrecognized,
  device: FieldValue,
  message?: string,
): string {
  if (reason === 'stale')
    return `Not applied: the device changed to ${formatValue(schema, device)} before your change arrived.`;
  if (reason === 'invalid') return `Not applied: ${message ?? 'the device does not accept this value'}.`;
  return `Not applied: ${Object.hasOwn(REASONS, reason) ? REASONS[reason as keyof typeof REASONS] : REFUSED}.`;
}

/** The note under a field. */
export function noteText(schema: FieldSchema, note: Note, device: FieldValue): string {
  switch (note.kind) {
    case 'saving':
      return 'Saving…';
    case 'rejected':
      return reasonText(schema, note.reason, device, note.message);
    case 'conflict':
      return `${reasonText(schema, 'stale', device)} Yours: ${formatValue(schema, note.mine)}.`;
    case 'unconfirmed':
      return note.cause === 'unknown'
        ? 'Not confirmed: the link to the device dropped before it answered. The value shown is the latest the device reported.'
        : 'Not confirmed: the connection dropped before the device answered. The value shown is the latest the device reported.';
    case 'invalid':
      return `${/^(below|above)/.test(note.message) ? 'Out of range' : 'Not sent'}: ${note.message}.`;
    default: {
      const never: never = note;
      return never;
    }
  }
}

const FATAL: Record<number, string> = {
  4400: 'Protocol error',
  4401: 'Not authorised: the server refused the credentials',
  4403: 'Access denied',
  4404: 'Unknown device',
};

/** The status words of every state but `failed`. */
const STATUS: Record<Exclude<ConnectionState, 'failed'>, string> = {
  connecting: 'Connecting…',
  resyncing: 'Resyncing…',
  live: 'Live',
  offline: 'Device offline',
  lagging: 'Catching up',
  reconnecting: 'Reconnecting',
  closed: 'Not connected',
};

/**
 * The status line's words (announced by the live region). The countdown of `reconnecting` is
 * rendered beside it, outside the live region, so screen readers are not told every second.
 */
export function statusText(state: ConnectionState, error: ConnectionError | null): string {
  if (state !== 'failed') return STATUS[state];
  const head = (error && FATAL[error.code]) || 'Cannot connect';
  const msg = error?.message;
  if (!msg) return head;
  // The server's words often repeat the heading ("unknown device …"): say it once.
  return msg.toLowerCase().startsWith(head.toLowerCase()) ? msg[0]!.toUpperCase() + msg.slice(1) : `${head}: ${msg}`;
}
