/**
 * `@live-device-form/protocol`: wire protocol v1 of live-device-form, shared by the element and
 * the server SDK. Frame types, validating parsers, value checks, limits and the reconnect backoff.
 * No dependencies.
 *
 * @example
 * import { parseClientFrame, SUBPROTOCOL } from '@live-device-form/protocol';
 * const result = parseClientFrame(text);
 * if (result.ok) handle(result.frame);
 * @module
 */
export * from './backoff.js';
export * from './frames.js';
export * from './limits.js';
export * from './parse.js';
export * from './resync-size.js';
export * from './values.js';
