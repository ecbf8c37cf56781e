/**
 * The Zigbee2MQTT discovery source (docs/discovery.md, "Zigbee2MQTT"): reads the retained
 * `<base>/bridge/devices` list and `<base>/bridge/info`, and says which devices it describes. A pure
 * translator (`../source.ts`): every new list is compared with the last one, so a device that
 * appeared or changed is an `upsert`, one gone (or disabled) a `remove`, and a rename both.
 * @module
 */
import type { Logger } from '../../logger.js';
import { withDefaults } from '../../option-checks.js';
import type { DeviceChange, DeviceSource, DeviceSourceFactory } from '../source.js';
import { checkBaseTopic, isObject, own, toDeviceId, uniqueDeviceIds } from '../naming.js';
import { describeDevice, readDeviceEntry, type Z2mSkip } from './device.js';

/** Options of {@link zigbee2mqtt}. */
export interface Zigbee2mqttOptions {
  /** Zigbee2MQTT's base topic (its `mqtt.base_topic` setting). Defaults to `"zigbee2mqtt"`. */
  base?: string;
}

/** The defaults of {@link Zigbee2mqttOptions}. */
export const ZIGBEE2MQTT_DEFAULTS = Object.freeze({ base: 'zigbee2mqtt' });

/** Which devices Zigbee2MQTT publishes `<name>/availability` for (its `bridge/info` config). */
interface AvailabilityConfig {
  enabled: boolean;
  /** Per device (by ieee address): the device's own `availability` option, when it has one. */
  devices: ReadonlyMap<string, boolean>;
}

/**
 * Reads the availability settings from a `bridge/info` payload: `availability: true` or an object
 * (1.x), `availability.enabled` (2.x), or the legacy `advanced.availability_timeout` > 0; and each
 * device's `availability` option. `undefined` when the payload has no `config`.
 */
function readAvailabilityConfig(info: unknown): AvailabilityConfig | undefined {
  const config = own(info, 'config');
  if (!isObject(config)) return undefined;
  const av = own(config, 'availability');
  const timeout = own(own(config, 'advanced'), 'availability_timeout');
  const enabled =
    av === true || (isObject(av) && own(av, 'enabled') !== false) || (typeof timeout === 'number' && timeout > 0);
  const devices = new Map<string, boolean>();
  const perDevice = own(config, 'devices');
  if (isObject(perDevice)) {
    for (const [ieee, options] of Object.entries(perDevice)) {
      const a = own(options, 'availability');
      if (a === false) devices.set(ieee, false);
      else if (a === true || isObject(a)) devices.set(ieee, true);
    }
  }
  return { enabled, devices };
}

function sameConfig(a: AvailabilityConfig | undefined, b: AvailabilityConfig | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.enabled !== b.enabled || a.devices.size !== b.devices.size) return false;
  for (const [k, v] of a.devices) if (b.devices.get(k) !== v) return false;
  return true;
}

/** A device the source has announced. */
interface Announced {
  /** The description as JSON, to tell a change. */
  key: string;
}

/**
 * The Zigbee2MQTT source: `--discover zigbee2mqtt[=BASE]` in the CLI.
 *
 * @example
 * const discovery = createDiscovery({ url: 'mqtt://localhost', sources: [zigbee2mqtt({ base: 'zigbee2mqtt' })] });
 */
export function zigbee2mqtt(options: Zigbee2mqttOptions = {}): DeviceSourceFactory {
  const o = withDefaults(ZIGBEE2MQTT_DEFAULTS, options);
  const base = checkBaseTopic('base', o.base);
  return ({ logger }) => new Zigbee2mqttSource(base, logger);
}

class Zigbee2mqttSource implements DeviceSource {
  readonly name = 'zigbee2mqtt';
  readonly filters: readonly string[];
  readonly topicPrefixes: readonly string[];
  readonly #devicesTopic: string;
  readonly #infoTopic: string;
  #entries: readonly unknown[] = [];
  #availability: AvailabilityConfig | undefined;
  readonly #announced = new Map<string, Announced>();
  /** What was last logged about each skipped entry or bad payload, so each is logged once. */
  readonly #logged = new Map<string, string>();

  constructor(
    private readonly base: string,
    private readonly log: Logger,
  ) {
    this.#devicesTopic = `${base}/bridge/devices`;
    this.#infoTopic = `${base}/bridge/info`;
    this.filters = Object.freeze([this.#devicesTopic, this.#infoTopic]);
    this.topicPrefixes = Object.freeze([`${base}/`]);
  }

  receive(topic: string, payload: Buffer): readonly DeviceChange[] {
    if (topic === this.#devicesTopic) {
      if (payload.length === 0) {
        this.#entries = [];
        return this.#update();
      }
      const list = this.#parse(topic, payload);
      if (!Array.isArray(list)) {
        if (list !== undefined) this.#warnOnce(topic, 'bridge/devices is not a JSON array: ignored');
        return [];
      }
      this.#entries = list;
      return this.#update();
    }
    if (topic === this.#infoTopic) {
      const info = payload.length === 0 ? undefined : this.#parse(topic, payload);
      const config = readAvailabilityConfig(info);
      if (sameConfig(config, this.#availability)) return [];
      this.#availability = config;
      return this.#update();
    }
    return [];
  }

  #parse(topic: string, payload: Buffer): unknown {
    try {
      return JSON.parse(payload.toString('utf8')) as unknown;
    } catch {
      this.#warnOnce(topic, `${topic.slice(this.base.length + 1)} is not valid JSON: ignored`);
      return undefined;
    }
  }

  #warnOnce(key: string, message: string): void {
    if (this.#logged.get(key) === message) return;
    this.#logged.set(key, message);
    this.log.warn({ source: this.name, topic: key }, message);
  }

  #skipped(s: Z2mSkip): void {
    if (s.quiet) return;
    const key = `device:${s.ieeeAddress ?? s.friendlyName ?? '?'}`;
    if (this.#logged.get(key) === s.reason) return;
    this.#logged.set(key, s.reason);
    this.log.warn(
      { source: this.name, device: s.friendlyName, ieee_address: s.ieeeAddress, reason: s.reason },
      'discovered device skipped',
    );
  }

  #deviceAvailability(ieee: string): boolean {
    const a = this.#availability;
    return a === undefined ? false : (a.devices.get(ieee) ?? a.enabled);
  }

  /** Describes every entry of the last list; returns the removals, then the new or changed devices. */
  #update(): DeviceChange[] {
    const ids = uniqueDeviceIds();
    const seenIeee = new Set<string>();
    const next = new Map<string, { change: DeviceChange; key: string }>();
    for (const raw of this.#entries) {
      const entry = readDeviceEntry(raw);
      if (!('exposes' in entry)) {
        this.#skipped(entry);
        continue;
      }
      if (seenIeee.has(entry.ieeeAddress)) {
        this.#skipped({ ...entry, reason: 'listed twice' });
        continue;
      }
      seenIeee.add(entry.ieeeAddress);
      // The friendly_name, readable; the ieee address when nothing of it is left (`客厅灯`), or
      // appended when another device already has the id (`Lamp 1` and `Lamp/1`).
      const wanted = toDeviceId(entry.friendlyName) ?? (toDeviceId(entry.ieeeAddress) as string);
      const id = ids.take(
        ids.has(wanted) ? (toDeviceId(`${wanted.slice(0, 45)}-${entry.ieeeAddress}`) as string) : wanted,
      );
      const described = describeDevice(entry, id, {
        base: this.base,
        deviceAvailability: this.#deviceAvailability(entry.ieeeAddress),
      });
      if (typeof described === 'string') {
        this.#skipped({ ...entry, reason: described });
        continue;
      }
      this.#logged.delete(`device:${entry.ieeeAddress}`);
      const change: DeviceChange = {
        type: 'upsert',
        description: described.description,
        ...(described.notes.length > 0 ? { notes: Object.freeze(described.notes) } : {}),
      };
      next.set(id, { change, key: JSON.stringify(described.description) });
    }
    const changes: DeviceChange[] = [];
    for (const id of this.#announced.keys()) {
      if (!next.has(id)) {
        this.#announced.delete(id);
        changes.push({ type: 'remove', id });
      }
    }
    for (const [id, { change, key }] of next) {
      if (this.#announced.get(id)?.key === key) continue;
      this.#announced.set(id, { key });
      changes.push(change);
    }
    return changes;
  }
}
