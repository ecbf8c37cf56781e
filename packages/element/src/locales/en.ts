/**
 * English: every word `<live-device-form>` shows, and the shape every other locale follows. It is
 * part of the base bundle and the fallback of every message another locale leaves out
 * (docs/element.md, "Languages").
 *
 * A message with parameters is a function of one object whose values are already formatted for
 * the locale: numbers through `Intl.NumberFormat`, values with their unit, text in the locale's
 * quotes. A message never receives markup; the element renders every message as text.
 * @module
 */

/** A value as shown: `-55.5 °`, `On`, an enum option's label, or text in quotes. */
interface Shown {
  value: string;
}

/** Every word the element shows. A locale module's default export is a `Partial<Messages>`. */
export interface Messages {
  // ---------------------------------------------------------------- status line
  /** Status `connecting`: opening the first socket, or awaiting its first snapshot. */
  connecting: string;
  /** Status `resyncing`: reconnected, awaiting the fresh snapshot. */
  resyncing: string;
  /** Status `live`. */
  live: string;
  /** Status `offline`: the device is unavailable. */
  offline: string;
  /** Status `lagging`: the server is catching up with the device. */
  lagging: string;
  /** Status `gone`: the device was removed from the server (it may come back). */
  gone: string;
  /** Status `reconnecting`. */
  reconnecting: string;
  /** Status `closed`: not connected on purpose. */
  closed: string;
  /** Beside "Reconnecting": when the next attempt starts; `seconds` is a formatted number. */
  countdown(p: { seconds: string }): string;
  /**
   * Under the status line after several quick handshake failures in a row (the browser does not
   * say why; a refused `Origin` or `Host` is the usual cause).
   */
  refusedHint: string;
  /** Status `failed` for close code 4400. */
  protocolError: string;
  /** Status `failed` for close code 4401. */
  unauthorized: string;
  /** Status `failed` for close code 4403. */
  accessDenied: string;
  /** Status `failed` for close code 4404. */
  unknownDevice: string;
  /** Status `failed` for any other reason (an unusable `src`). */
  cannotConnect: string;
  /** Status `failed` with the server's own words (`message`, as the server sent them) after one of the headings above. */
  failedBecause(p: { heading: string; message: string }): string;

  // ---------------------------------------------------------------- values
  /** A boolean field's `true`. */
  on: string;
  /** A boolean field's `false`. */
  off: string;
  /** A text value in the locale's quotes. */
  quoted(p: { text: string }): string;
  /** A number with the schema's unit (`number` is formatted, `unit` as the schema gives it). */
  withUnit(p: { number: string; unit: string }): string;

  // ---------------------------------------------------------------- notes and buttons
  /** A write awaits its acknowledgement (shown, not announced). */
  saving: string;
  /** An action's press reached the device's broker (the button has no value to show it). */
  sent: string;
  /** While the user holds a control, the device reported another value. */
  pending(p: Shown): string;
  /** A write was refused because the device changed first; `value` is the device's. */
  stale(p: Shown): string;
  /** A stale conflict: the device's `value` and the user's `mine`, before the two buttons. */
  conflict(p: Shown & { mine: string }): string;
  /** The conflict button that keeps the device's value. */
  keep: string;
  /** The conflict button that sends the user's value again. */
  apply: string;
  /** A write was refused; `reason` is one of the `reason…` messages, or the server's words for an invalid value. */
  rejected(p: { reason: string }): string;
  /** Reason `invalid` when the server gave no words. */
  reasonInvalid: string;
  /** Reason `forbidden`. */
  reasonForbidden: string;
  /** Reason `rate`. */
  reasonRate: string;
  /** Reason `guard`: writes are refused just after a reconnect. */
  reasonGuard: string;
  /** Reason `offline`. */
  reasonOffline: string;
  /** A reason from a newer server that this version does not know. */
  reasonOther: string;
  /** The broker link dropped before the device answered (ack `unknown`). */
  unconfirmedUnknown: string;
  /** The connection dropped before the device answered. */
  unconfirmedDisconnected: string;
  /** Not sent: below the field's `min` (formatted). */
  belowMin(p: { min: string }): string;
  /** Not sent: above the field's `max` (formatted). */
  aboveMax(p: { max: string }): string;
  /** Not sent: not a multiple of the field's `step` (formatted). */
  offStep(p: { step: string }): string;
  /** Not sent: an integer field got a fraction. */
  notInteger: string;
  /** Not sent: no number. */
  notNumber: string;
  /** Not sent: longer than `max` (formatted) characters. */
  tooLong(p: { max: string }): string;
  /** Not sent, for any other problem; `message` is the check's English words. */
  notSent(p: { message: string }): string;
}

/** English, the base locale. */
export const en: Messages = {
  connecting: 'Connecting…',
  resyncing: 'Resyncing…',
  live: 'Live',
  offline: 'Device offline',
  lagging: 'Catching up',
  gone: 'Device not available',
  reconnecting: 'Reconnecting',
  closed: 'Not connected',
  countdown: ({ seconds }) => `in ${seconds} s`,
  refusedHint: 'The server refuses the connection — check its allowed origins and hosts.',
  protocolError: 'Protocol error',
  unauthorized: 'Not authorised: the server refused the credentials',
  accessDenied: 'Access denied',
  unknownDevice: 'Unknown device',
  cannotConnect: 'Cannot connect',
  failedBecause: ({ heading, message }) => `${heading}: ${message}`,

  on: 'On',
  off: 'Off',
  quoted: ({ text }) => `“${text}”`,
  withUnit: ({ number, unit }) => `${number} ${unit}`,

  saving: 'Saving…',
  sent: 'Sent.',
  pending: ({ value }) => `Device changed to ${value}`,
  stale: ({ value }) => `Not applied: the device changed to ${value} before your change arrived.`,
  conflict: ({ value, mine }) =>
    `Not applied: the device changed to ${value} before your change arrived. Yours: ${mine}.`,
  keep: 'Keep device value',
  apply: 'Apply mine',
  rejected: ({ reason }) => `Not applied: ${reason}.`,
  reasonInvalid: 'the device does not accept this value',
  reasonForbidden: 'you may not change this setting',
  reasonRate: 'too many changes at once; try again',
  reasonGuard: 'the connection was just re-established; try again',
  reasonOffline: 'the device is offline',
  reasonOther: 'the server refused this change',
  unconfirmedUnknown:
    'Not confirmed: the link to the device dropped before it answered. The value shown is the latest the device reported.',
  unconfirmedDisconnected:
    'Not confirmed: the connection dropped before the device answered. The value shown is the latest the device reported.',
  belowMin: ({ min }) => `Out of range: below the minimum ${min}.`,
  aboveMax: ({ max }) => `Out of range: above the maximum ${max}.`,
  offStep: ({ step }) => `Not sent: not on a step of ${step}.`,
  notInteger: 'Not sent: expected an integer.',
  notNumber: 'Not sent: expected a number.',
  tooLong: ({ max }) => `Not sent: longer than ${max} characters.`,
  notSent: ({ message }) => `Not sent: ${message}.`,
};
