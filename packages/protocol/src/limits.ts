/**
 * Limits of wire protocol v1, in one place. Both parsers and the server SDK read them from here.
 * @module
 */

/** The WebSocket subprotocol every v1 client must offer. */
export const SUBPROTOCOL = 'ldf.v1';

/** Largest frame, in UTF-8 bytes, the server accepts from a client. Larger frames close the socket with 1009. */
export const MAX_FRAME_BYTES = 16 * 1024;

/** Largest frame, in UTF-8 bytes, a client accepts from the server (a `resync` carries the whole schema). */
export const MAX_SERVER_FRAME_BYTES = 1024 * 1024;

/** Longest field name. Field names match {@link FIELD_NAME_PATTERN}. */
export const MAX_FIELD_NAME_LENGTH = 64;

/** Longest device id. Device ids match {@link DEVICE_ID_PATTERN}. */
export const MAX_DEVICE_ID_LENGTH = 64;

/** Longest epoch (`resync.epoch`, `set.epoch`), in characters. */
export const MAX_EPOCH_LENGTH = 128;

/** Longest `hello.token`, in characters. */
export const MAX_TOKEN_LENGTH = 4096;

/** Longest text value, in characters. */
export const MAX_TEXT_LENGTH = 1024;

/** Longest human-readable string the server sends (labels, messages, units). */
export const MAX_LABEL_LENGTH = 256;

/** Most fields one device may have (bounds a `resync`). */
export const MAX_FIELDS = 256;

/** Most enum options one field may have. */
export const MAX_OPTIONS = 256;

/**
 * Largest magnitude of a numeric value. Values must also be finite: JSON such as `1e999`
 * parses to `Infinity` and is refused.
 */
export const MAX_ABS_NUMBER = 1e15;

/** Largest `id`, `rev` or `mounts`: integers from 0 to this. */
export const MAX_COUNTER = Number.MAX_SAFE_INTEGER;

/** A field name: a letter or `_`, then letters, digits or `_`; never a topic separator. */
export const FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** A device id: letters, digits, `_`, `-` or `.`; never a topic separator or wildcard. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/**
 * Keys that are never accepted anywhere in a frame, even where the name pattern allows them,
 * so no parsed frame can be used to reach an object's prototype.
 */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
