/**
 * What a codec is: how one topic mapping's field values become MQTT payloads and back. Three kinds
 * (docs/devices.md): **pattern** (`pattern-codec.ts`), **json** (`json-codec.ts`) and **custom**
 * (`custom-codec.ts`); `device-codec.ts` routes a device's messages to them.
 *
 * Decoding never throws: a payload that does not match yields `{ ok: false, message }`, which the
 * bridge logs and ignores, so a bad message can never corrupt the cache. Encoding fills the other
 * fields of a composite payload from `freshest(field)` (docs/protocol.md rule 4) and refuses to
 * build a payload when one of them is unknown.
 * @module
 */
import type { WritableValue, FieldValue } from '@live-device-form/protocol';
import type { FreshestValue } from '../bridge.js';
import type { TopicKind } from '../device/types.js';

/** Largest status payload decoded, in bytes. Larger ones are ignored as not matching. */
export const MAX_STATUS_PAYLOAD_BYTES = 64 * 1024;

/** What a status payload decoded to. */
export type DecodeResult = { ok: true; values: Record<string, FieldValue> } | { ok: false; message: string };

/** The message a write becomes, or why none could be built. */
export type EncodeResult = { ok: true; topic: string; payload: string | Buffer } | { ok: false; message: string };

/** One topic mapping's codec. */
export interface TopicCodec {
  readonly kind: TopicKind;
  /** The status topic it reads, if any. */
  readonly status: string | undefined;
  /** The action topic it writes, if any. */
  readonly set: string | undefined;
  /** Fields read from `status`. */
  readonly reads: readonly string[];
  /** Fields written to `set`. */
  readonly writes: readonly string[];
  /** Decodes a status payload. Never throws. */
  decode(payload: Buffer): DecodeResult;
  /**
   * Encodes a write of `field` (`value` `null`: an action's press); other fields of a composite
   * payload come from `freshest`. Never throws.
   */
  encode(field: string, value: WritableValue | null, freshest: FreshestValue): EncodeResult;
  /** What this codec cannot carry beyond the field's schema (e.g. a separator in a text value); `null` if fine. */
  check(field: string, value: WritableValue | null): string | null;
}

/** Refuses a payload over {@link MAX_STATUS_PAYLOAD_BYTES}, the same words for every codec. @internal */
export function oversized(payload: Buffer): { ok: false; message: string } | undefined {
  return payload.length > MAX_STATUS_PAYLOAD_BYTES
    ? { ok: false, message: `payload larger than ${MAX_STATUS_PAYLOAD_BYTES} bytes` }
    : undefined;
}

/** A value as it appears in a codec's messages: text quoted and cut at 32 characters. @internal */
export function describe(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v.length > 32 ? `${v.slice(0, 32)}…` : v) : String(v);
}
