/**
 * Freshest-value lookups for tests of codecs and bridges: the `freshest(field)` argument a bridge
 * fills a composite payload's other fields with (docs/protocol.md rule 4).
 * @module
 */
import type { FieldValue } from '@live-device-form/protocol';
import type { DeviceBridge } from '@live-device-form/server';

/** A lookup that knows no value (every other field is `null`). */
export const noFreshValue = (): FieldValue => null;

/** A lookup that answers from `values`. */
export const freshFrom =
  (values: Record<string, FieldValue>) =>
  (field: string): FieldValue =>
    values[field] ?? null;

/** A lookup that answers from a bridge's latest status, as the store does when nothing awaits its echo. */
export const freshestOf =
  (bridge: DeviceBridge) =>
  (field: string): FieldValue =>
    bridge.snapshot()[field] ?? null;
