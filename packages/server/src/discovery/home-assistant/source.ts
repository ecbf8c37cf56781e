/**
 * The Home Assistant MQTT discovery source (docs/discovery.md, "Home Assistant MQTT discovery"):
 * reads the retained configs on `<prefix>/<component>/[<node_id>/]<object_id>/config` and
 * `<prefix>/device/<id>/config`, groups their entities into devices by `device.identifiers`, and
 * says which devices appeared, changed or went. A pure translator (`../source.ts`): it never
 * touches MQTT and never throws for bad input; a malformed config is logged once and skipped.
 * @module
 */
import type { DeviceChange, DeviceSource, DeviceSourceFactory } from '../source.js';
import { readDeviceConfig, readEntityConfig, type EntityConfig } from './config.js';
import { buildDevice, type Entity } from './device.js';
import { shortHash } from '../naming.js';
import { deviceIdFor } from './ids.js';

/** Options of {@link homeAssistant}. */
export interface HomeAssistantOptions {
  /** The discovery prefix, as set in Home Assistant's MQTT integration. Defaults to `"homeassistant"`. */
  prefix?: string;
}

/** The defaults of {@link HomeAssistantOptions}. */
export const HOME_ASSISTANT_DEFAULTS = Object.freeze({ prefix: 'homeassistant' });

/** At most this many topics are remembered as "already logged" (so a flood cannot grow memory without bound). */
const MAX_LOGGED_TOPICS = 10_000;
/**
 * Most entities held at once: configs are untrusted input, and a publisher inventing config topics
 * would otherwise grow the source without bound (each device's rebuild reads every entity). Far
 * above real installations (a large Home Assistant has a few thousand MQTT entities).
 */
export const MAX_HOME_ASSISTANT_ENTITIES = 10_000;

/** Where a config topic points: one entity, or a device-based config. */
type ConfigTopic =
  | { kind: 'entity'; component: string; nodeId: string | undefined; objectId: string }
  | { kind: 'device'; deviceId: string };

/** Reads a discovery topic under `prefix`; `undefined` when it is not one. */
export function parseConfigTopic(prefix: string, topic: string): ConfigTopic | undefined {
  if (!topic.startsWith(`${prefix}/`) || !topic.endsWith('/config')) return undefined;
  const parts = topic.slice(prefix.length + 1, -'/config'.length).split('/');
  if (parts.some((p) => p === '')) return undefined;
  if (parts.length === 2 && parts[0] === 'device') return { kind: 'device', deviceId: parts[1]! };
  if (parts.length === 2) return { kind: 'entity', component: parts[0]!, nodeId: undefined, objectId: parts[1]! };
  if (parts.length === 3) return { kind: 'entity', component: parts[0]!, nodeId: parts[1]!, objectId: parts[2]! };
  return undefined;
}

/** The device an entity belongs to: a stable key and the raw text its id is derived from. */
function deviceKeyOf(config: EntityConfig, entityKey: string, fallbackId: string): { key: string; raw: string } {
  const ids = config.device?.identifiers;
  const first = Array.isArray(ids) ? ids[0] : ids;
  if (typeof first === 'string' && first !== '') return { key: `ids:${first}`, raw: first };
  const conn = config.device?.connections?.[0];
  if (conn !== undefined && conn.length >= 2) {
    const raw = `${conn[0]}_${conn[1]}`;
    return { key: `cns:${conn[0]}:${conn[1]}`, raw };
  }
  return { key: `entity:${entityKey}`, raw: fallbackId };
}

/** An entity as remembered, with the device it is in and the text its config was compared by. */
interface Known extends Entity {
  deviceKey: string;
  deviceRaw: string;
  /** The expanded config as JSON: a re-published identical config changes nothing. */
  canonical: string;
}

/**
 * Creates the Home Assistant discovery source (for `createDiscovery`'s `sources`).
 *
 * @example
 * createDiscovery({ url: 'mqtt://broker:1883', sources: [homeAssistant({ prefix: 'homeassistant' })] });
 */
export function homeAssistant(options: HomeAssistantOptions = {}): DeviceSourceFactory {
  const prefix = options.prefix ?? HOME_ASSISTANT_DEFAULTS.prefix;
  if (typeof prefix !== 'string' || prefix === '' || /[+#\u0000]/.test(prefix) || prefix.endsWith('/'))
    throw Object.assign(
      new TypeError(`homeAssistant: prefix must be a topic without wildcards, got ${JSON.stringify(prefix)}`),
      {
        code: 'ERR_INVALID_OPTION',
      },
    );
  return (context) => {
    const logger = context.logger;
    /** Entity key → entity. */
    const entities = new Map<string, Known>();
    /** Config topic → the entity keys it holds. */
    const byTopic = new Map<string, string[]>();
    /** Device key → the id announced for it (only devices that have been upserted). */
    const announced = new Map<string, string>();
    /** Device id → device key, so no two devices share an id. */
    const idOwners = new Map<string, string>();
    /** Topics whose malformed config has been logged (until it is valid again). */
    const logged = new Set<string>();

    function logOnce(topic: string, reason: string): void {
      if (logged.has(topic)) return;
      if (logged.size < MAX_LOGGED_TOPICS) logged.add(topic);
      logger.warn({ topic, reason }, 'Home Assistant discovery config ignored');
    }

    /** Notes of a device left without a field: no upsert carries them, so they are logged here, once. */
    function logNotes(deviceKey: string, notes: readonly string[]): void {
      const key = `${deviceKey}\u0000${notes.join('\n')}`;
      if (logged.has(key)) return;
      if (logged.size < MAX_LOGGED_TOPICS) logged.add(key);
      logger.warn({ device: deviceKey, notes }, 'Home Assistant discovery: device has no usable field');
    }

    function idFor(deviceKey: string, raw: string): string {
      const existing = announced.get(deviceKey);
      if (existing !== undefined) return existing;
      let id = deviceIdFor(raw);
      const owner = idOwners.get(id);
      if (owner !== undefined && owner !== deviceKey) id = deviceIdFor(`${raw}\u0000${shortHash(deviceKey)}`);
      return id;
    }

    /** The entities a config topic now describes (none for an empty or malformed payload). */
    function read(topic: string, where: ConfigTopic, payload: Buffer): Known[] {
      if (payload.length === 0) return [];
      const out: Known[] = [];
      let problem = false;
      const add = (
        key: string,
        component: string,
        objectId: string,
        config: EntityConfig,
        fallbackId: string,
      ): void => {
        const device = deviceKeyOf(config, key, fallbackId);
        const id = config.object_id ?? config.default_entity_id?.split('.').slice(1).join('.') ?? objectId;
        out.push({
          key,
          component,
          objectId: id === '' ? objectId : id,
          configTopic: topic,
          config,
          deviceKey: device.key,
          deviceRaw: device.raw,
          canonical: JSON.stringify([component, config]),
        });
      };
      if (where.kind === 'entity') {
        const r = readEntityConfig(payload);
        if (!r.ok) {
          logOnce(topic, r.reason);
          return [];
        }
        const key = [where.component, where.nodeId, where.objectId].filter((p) => p !== undefined).join('/');
        const fallback = r.value.unique_id ?? [where.nodeId, where.objectId].filter((p) => p !== undefined).join('_');
        add(key, where.component, where.objectId, r.value, fallback);
      } else {
        const r = readDeviceConfig(payload);
        if (!r.ok) {
          logOnce(topic, r.reason);
          return [];
        }
        const bad = r.value.filter((c) => !c.config.ok);
        if (bad.length > 0) {
          const first = bad[0]!.config as { ok: false; reason: string };
          problem = true;
          logOnce(topic, `${bad.length} component(s) ignored, first: ${bad[0]!.id}: ${first.reason}`);
        }
        for (const c of r.value) {
          if (!c.config.ok) continue;
          add(`device/${where.deviceId}#${c.id}`, c.platform, c.id, c.config.value, where.deviceId);
        }
      }
      if (!problem) logged.delete(topic);
      return out;
    }

    function rebuild(deviceKey: string): DeviceChange[] {
      const members = [...entities.values()].filter((e) => e.deviceKey === deviceKey);
      const before = announced.get(deviceKey);
      if (members.length === 0) {
        if (before === undefined) return [];
        announced.delete(deviceKey);
        idOwners.delete(before);
        return [{ type: 'remove', id: before }];
      }
      const raw = [...members].sort((a, b) => (a.key < b.key ? -1 : 1))[0]!.deviceRaw;
      const id = idFor(deviceKey, raw);
      const built = buildDevice(id, members);
      if (built.description === undefined) {
        logNotes(deviceKey, built.notes);
        if (before === undefined) return [];
        announced.delete(deviceKey);
        idOwners.delete(before);
        return [{ type: 'remove', id: before }];
      }
      announced.set(deviceKey, id);
      idOwners.set(id, deviceKey);
      // The configs it was built from: a changed template changes the device though the codec
      // functions' text stays the same.
      const key = JSON.stringify(
        [...members].sort((a, b) => (a.key < b.key ? -1 : 1)).map((e) => [e.key, e.component, e.config]),
      );
      return [{ type: 'upsert', description: built.description, notes: built.notes, key }];
    }

    const source: DeviceSource = {
      name: 'homeassistant',
      filters: [`${prefix}/+/+/config`, `${prefix}/+/+/+/config`],
      receive(topic, payload) {
        const where = parseConfigTopic(prefix, topic);
        if (where === undefined) return [];
        const next = read(topic, where, payload);
        const previous = byTopic.get(topic) ?? [];
        const affected = new Set<string>();
        const nextKeys = new Set(next.map((e) => e.key));
        for (const key of previous) {
          if (nextKeys.has(key)) continue;
          const old = entities.get(key);
          if (old === undefined) continue;
          entities.delete(key);
          affected.add(old.deviceKey);
        }
        for (const e of next) {
          const old = entities.get(e.key);
          if (old === undefined && entities.size >= MAX_HOME_ASSISTANT_ENTITIES) {
            logOnce(topic, `more than ${MAX_HOME_ASSISTANT_ENTITIES} entities: this one is ignored`);
            nextKeys.delete(e.key);
            continue;
          }
          if (old !== undefined && old.canonical === e.canonical && old.configTopic === e.configTopic) continue;
          if (old !== undefined) affected.add(old.deviceKey);
          entities.set(e.key, e);
          affected.add(e.deviceKey);
        }
        if (nextKeys.size > 0) byTopic.set(topic, [...nextKeys]);
        else byTopic.delete(topic);
        const changes: DeviceChange[] = [];
        for (const deviceKey of [...affected].sort()) changes.push(...rebuild(deviceKey));
        return changes;
      },
    };
    return source;
  };
}
