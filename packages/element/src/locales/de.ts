/**
 * German (`de`, and `de-AT`, `de-CH`, … unless a page registers those): every message of
 * {@link Messages}. The element loads this module on demand, the first time an element's language
 * resolves to German, so a page that never shows German never downloads it. It has no imports at
 * run time, so the prebuilt bundle can load it as `./locales/de.js` beside itself.
 *
 * @example
 * // Register it up front, so the first frame is German too (otherwise the element shows English
 * // until this module has arrived):
 * import { registerLocale } from '@live-device-form/element';
 * import de from '@live-device-form/element/locales/de.js';
 * registerLocale('de', de);
 * @module
 */
import type { Messages } from './en.js';

/** German. */
const de: Messages = {
  connecting: 'Verbindung wird aufgebaut…',
  resyncing: 'Wird synchronisiert…',
  live: 'Live',
  offline: 'Gerät offline',
  lagging: 'Rückstand wird aufgeholt',
  gone: 'Gerät nicht verfügbar',
  reconnecting: 'Neuer Verbindungsversuch',
  closed: 'Nicht verbunden',
  countdown: ({ seconds }) => `in ${seconds} s`,
  refusedHint: 'Der Server lehnt die Verbindung ab – prüfen Sie seine zugelassenen Origins und Hosts.',
  protocolError: 'Protokollfehler',
  unauthorized: 'Nicht autorisiert: Der Server hat die Zugangsdaten abgelehnt',
  accessDenied: 'Zugriff verweigert',
  unknownDevice: 'Unbekanntes Gerät',
  cannotConnect: 'Verbindung nicht möglich',
  failedBecause: ({ heading, message }) => `${heading}: ${message}`,

  on: 'Ein',
  off: 'Aus',
  quoted: ({ text }) => `„${text}“`,
  withUnit: ({ number, unit }) => `${number} ${unit}`,

  saving: 'Wird gespeichert…',
  sent: 'Gesendet.',
  pending: ({ value }) => `Gerät wurde auf ${value} geändert`,
  stale: ({ value }) => `Nicht übernommen: Das Gerät wurde auf ${value} geändert, bevor Ihre Änderung ankam.`,
  conflict: ({ value, mine }) =>
    `Nicht übernommen: Das Gerät wurde auf ${value} geändert, bevor Ihre Änderung ankam. Ihr Wert: ${mine}.`,
  keep: 'Gerätewert behalten',
  apply: 'Meinen Wert übernehmen',
  rejected: ({ reason }) => `Nicht übernommen: ${reason}.`,
  reasonInvalid: 'Das Gerät akzeptiert diesen Wert nicht',
  reasonForbidden: 'Sie dürfen diese Einstellung nicht ändern',
  reasonRate: 'Zu viele Änderungen auf einmal; bitte erneut versuchen',
  reasonGuard: 'Die Verbindung wurde gerade erst wiederhergestellt; bitte erneut versuchen',
  reasonOffline: 'Das Gerät ist offline',
  reasonOther: 'Der Server hat diese Änderung abgelehnt',
  unconfirmedUnknown:
    'Nicht bestätigt: Die Verbindung zum Gerät brach ab, bevor es antwortete. Angezeigt wird der zuletzt vom Gerät gemeldete Wert.',
  unconfirmedDisconnected:
    'Nicht bestätigt: Die Verbindung brach ab, bevor das Gerät antwortete. Angezeigt wird der zuletzt vom Gerät gemeldete Wert.',
  belowMin: ({ min }) => `Außerhalb des Bereichs: unter dem Minimum ${min}.`,
  aboveMax: ({ max }) => `Außerhalb des Bereichs: über dem Maximum ${max}.`,
  offStep: ({ step }) => `Nicht gesendet: passt nicht zur Schrittweite ${step}.`,
  notInteger: 'Nicht gesendet: Ganzzahl erwartet.',
  notNumber: 'Nicht gesendet: Zahl erwartet.',
  tooLong: ({ max }) => `Nicht gesendet: länger als ${max} Zeichen.`,
  notSent: ({ message }) => `Nicht gesendet: ${message}.`,
};

export default de;
