/**
 * The errors the package throws, each with a stable `code` (as ws sets `err.code =
 * 'WS_ERR_…'`): match on the code, never on the message. They all mean a caller misused the API
 * (docs/server.md); what a peer or the network does never throws, it becomes a frame or an event
 * with a wire code of its own (docs/protocol.md).
 * @module
 */

/** The `code` of every error the package throws. */
export const ServerErrorCode = Object.freeze({
  /**
   * An option is invalid, or two contradict each other (`createLiveDeviceServer`, `setProtection`,
   * `createMqttBridge`, `startEmbeddedBroker`). A `TypeError` whose message names the option.
   */
  InvalidOption: 'ERR_INVALID_OPTION',
  /**
   * A device description is invalid, or its file cannot be read: a {@link DeviceDescriptionError}
   * (or, from `createTopicCodec` given an unchecked description, a `TypeError`).
   */
  InvalidDeviceDescription: 'ERR_INVALID_DEVICE_DESCRIPTION',
  /** `LiveDeviceServer.on` was given an event it does not emit. A `TypeError`. */
  UnknownEvent: 'ERR_UNKNOWN_EVENT',
} as const);
export type ServerErrorCode = (typeof ServerErrorCode)[keyof typeof ServerErrorCode];

/** A `TypeError` carrying a stable {@link ServerErrorCode}. */
export type CodedTypeError = TypeError & { readonly code: ServerErrorCode };

/**
 * A `TypeError` with `code` set, for a caller who misused the API. Its `name` stays `TypeError`.
 * @internal
 */
export function codedTypeError(code: ServerErrorCode, message: string): CodedTypeError {
  const err = new TypeError(message) as TypeError & { code: ServerErrorCode };
  err.code = code;
  return err;
}

/**
 * A description that is not valid (a configuration mistake, hence a `TypeError`). `issues` holds one
 * `path: problem` line per bad entry. Its `code` is `ERR_INVALID_DEVICE_DESCRIPTION`.
 */
export class DeviceDescriptionError extends TypeError {
  /** Always {@link ServerErrorCode.InvalidDeviceDescription}. */
  readonly code = ServerErrorCode.InvalidDeviceDescription;
  /** One `path: problem` line per bad entry, e.g. `fields.genlock_phase_h.min: expected a number`. */
  readonly issues: readonly string[];

  constructor(source: string, issues: readonly string[]) {
    super(`invalid device description${source ? ` in ${source}` : ''}:\n  ${issues.join('\n  ')}`);
    this.name = 'DeviceDescriptionError';
    this.issues = issues;
  }
}
