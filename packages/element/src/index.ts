/**
 * `@live-device-form/element`: the `<live-device-form>` element. Importing this module registers
 * the tag.
 *
 * @example
 * import '@live-device-form/element';
 * document.body.insertAdjacentHTML('beforeend', '<live-device-form src="/ldf" device="videoproc"></live-device-form>');
 * @module
 */
import './define.js';

export { LiveDeviceForm } from './live-device-form.js';
export {
  CONNECTION_DEFAULTS,
  Connection,
  ConnectionState,
  REFUSED_AFTER_FAILURES,
  resolveSocketUrl,
  systemClock,
} from './connection.js';
export { SHIPPED_LOCALES, registerLocale, resolveLang } from './localize.js';
export type { LocaleLoader, LocaleMessages } from './localize.js';
export { en } from './locales/en.js';
export type { Messages } from './locales/en.js';
export type {
  Clock,
  ConnectionError,
  ConnectionErrorReason,
  ConnectionHandlers,
  ConnectionOptions,
  Endpoint,
  SocketFactory,
  SocketLike,
  ThrownErrorCode,
} from './connection.js';
export { Backoff } from '@live-device-form/protocol';
export type { BackoffOptions } from '@live-device-form/protocol';
export type * from './events.js';
