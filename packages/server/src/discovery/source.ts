/**
 * The one small interface every discovery source implements (docs/discovery.md): Home Assistant
 * MQTT discovery, Homie, Zigbee2MQTT, or a fourth added without touching the others. A source is a
 * pure translator: it reads the messages on its topic filters and says which devices they describe.
 * Subscribing, limits, checking each description and running a bridge per device are the
 * discovery's job (`discovery.ts`), the same for every source.
 * @module
 */
import type { Logger } from '../logger.js';
import type { DeviceDescription } from '../device/types.js';

/** What a source learnt from one message. */
export type DeviceChange =
  /**
   * A device appeared or its description changed: `description` is the whole device as it is now
   * (the discovery compares it with the one it runs and replaces the bridge only when it differs).
   * Custom codecs (`decode`/`encode`) are allowed. `notes` are things the operator should know
   * (an entity made read-only, one skipped), logged once per device and description.
   */
  | {
      type: 'upsert';
      description: DeviceDescription;
      notes?: readonly string[];
      /**
       * Changes whenever the description does (e.g. the configs it was built from, as JSON); the
       * discovery replaces a device's bridge only when it differs. Defaults to the description as
       * JSON, custom codec functions by their source text (which does not see what a closure holds:
       * a source whose codecs close over templates should set it).
       */
      key?: string;
    }
  /** A device is gone (an empty retained config, a device left the network). */
  | { type: 'remove'; id: string };

/** What a source is given when the discovery starts it. */
export interface DeviceSourceContext {
  /** Where malformed configs and notes are logged (rate-limited by the discovery). */
  logger: Logger;
}

/** One discovery source. */
export interface DeviceSource {
  /** Short name for logs and the CLI's `discovered SOURCE device …` lines, e.g. `"homeassistant"`. */
  readonly name: string;
  /**
   * The topic filters the discovery subscribes to for this source (wildcards allowed here, and only
   * here), e.g. `["homeassistant/+/+/config", "homeassistant/+/+/+/config"]`.
   */
  readonly filters: readonly string[];
  /**
   * The topic prefixes its devices' status, set and availability topics must start with (e.g.
   * `["zigbee2mqtt/"]`), or `undefined` when its configs name their topics explicitly (Home
   * Assistant), in which case the operator's `allowTopics` (if set) decides.
   */
  readonly topicPrefixes?: readonly string[];
  /**
   * Takes one message received on one of `filters` (retained or live; an empty payload is a
   * retained message being cleared). Returns what changed, possibly nothing. Must not throw for bad
   * input: a malformed config is logged once and skipped (the discovery catches a throw anyway).
   */
  receive(topic: string, payload: Buffer): readonly DeviceChange[];
}

/** Creates a source once the discovery starts. */
export type DeviceSourceFactory = (context: DeviceSourceContext) => DeviceSource;
