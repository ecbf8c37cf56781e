/**
 * `@live-device-form/server`: the server SDK of live-device-form.
 * @module
 */
export * from './bridge.js';
export * from './logger.js';
