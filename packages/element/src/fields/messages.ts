/**
 * The words of the status line and the notes, from the element's messages (src/locales/en.ts and
 * the locale it speaks, docs/element.md "Languages"), with numbers in the locale's format.
 * @module
 */
import type { FieldSchema, FieldValue, RejectReason, Unrecognized } from '@live-device-form/protocol';
import type { ConnectionError, ConnectionState } from '../connection.js';
import type { Words } from '../localize.js';
import type { Messages } from '../locales/en.js';
import type { Note } from './field-model.js';

/**
 * A value as the user reads it: numbers in the locale's format with the schema's unit, an enum
 * option's label from the schema, On/Off, text in the locale's quotes.
 */
export function formatValue(w: Words, schema: FieldSchema, value: FieldValue): string {
  if (value === null) return '—';
  if (typeof value === 'boolean') return value ? w.t.on : w.t.off;
  if (schema.type === 'enum') return schema.options?.find((o) => o.value === value)?.label ?? String(value);
  if (typeof value === 'number') {
    const number = w.number(value);
    return schema.unit ? w.t.withUnit({ number, unit: schema.unit }) : number;
  }
  return w.t.quoted({ text: value });
}

/** The messages of the reasons a write can be refused for, besides `stale` and `invalid`. */
const REASONS: Record<Exclude<RejectReason, 'stale' | 'invalid'>, keyof Messages> = {
  forbidden: 'reasonForbidden',
  rate: 'reasonRate',
  guard: 'reasonGuard',
  offline: 'reasonOffline',
};

/** Why a write was refused, in words; a reason this version does not know, in general words. */
export function reasonText(
  w: Words,
  schema: FieldSchema,
  reason: RejectReason | Unrecognized,
  device: FieldValue,
  message?: string,
): string {
  // An action has no value the device could have changed: a stale press (another epoch) is a refusal.
  if (reason === 'stale' && schema.type !== 'action') return w.t.stale({ value: formatValue(w, schema, device) });
  if (reason === 'invalid') return w.t.rejected({ reason: message ?? w.t.reasonInvalid });
  const key = Object.hasOwn(REASONS, reason) ? REASONS[reason as keyof typeof REASONS] : 'reasonOther';
  return w.t.rejected({ reason: w.t[key] as string });
}

/** Why the element did not send a value (`checkValue` refused it), with the field's limits. */
function invalidText(w: Words, schema: FieldSchema, note: Extract<Note, { kind: 'invalid' }>): string {
  const n = (x: number | undefined) => w.number(x ?? 0);
  switch (note.problem) {
    case 'below-min':
      return w.t.belowMin({ min: n(schema.min) });
    case 'above-max':
      return w.t.aboveMax({ max: n(schema.max) });
    case 'off-step':
      return w.t.offStep({ step: n(schema.step) });
    case 'not-integer':
      return w.t.notInteger;
    case 'not-number':
      return w.t.notNumber;
    case 'too-long':
      return w.t.tooLong({ max: n(schema.maxLength) });
    default:
      return w.t.notSent({ message: note.message });
  }
}

/** The note under a field. */
export function noteText(w: Words, schema: FieldSchema, note: Note, device: FieldValue): string {
  switch (note.kind) {
    case 'saving':
      return w.t.saving;
    case 'sent':
      return w.t.sent;
    case 'rejected':
      return reasonText(w, schema, note.reason, device, note.message);
    case 'conflict':
      return w.t.conflict({ value: formatValue(w, schema, device), mine: formatValue(w, schema, note.mine) });
    case 'unconfirmed':
      return note.cause === 'unknown' ? w.t.unconfirmedUnknown : w.t.unconfirmedDisconnected;
    case 'invalid':
      return invalidText(w, schema, note);
    default: {
      const never: never = note;
      return never;
    }
  }
}

/** The heading of `failed` for each fatal close code. */
const FATAL: Record<number, keyof Messages> = {
  4400: 'protocolError',
  4401: 'unauthorized',
  4403: 'accessDenied',
  4404: 'unknownDevice',
};

/**
 * The status line's words (announced by the live region). The countdown of `reconnecting` is
 * rendered beside it, outside the live region, so screen readers are not told every second.
 */
export function statusText(w: Words, state: ConnectionState, error: ConnectionError | null): string {
  if (state !== 'failed') return w.t[state];
  const head = w.t[(error && FATAL[error.code]) || 'cannotConnect'] as string;
  const msg = error?.message;
  if (!msg) return head;
  // The server's words often repeat the heading ("unknown device …"): say it once.
  return msg.toLowerCase().startsWith(head.toLowerCase())
    ? msg[0]!.toUpperCase() + msg.slice(1)
    : w.t.failedBecause({ heading: head, message: msg });
}
