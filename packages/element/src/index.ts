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
export { CONNECTION_DEFAULTS, Connection, ConnectionState, resolveSocketUrl, systemClock } from './connection.js';
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
