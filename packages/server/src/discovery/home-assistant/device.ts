/**
 * One Home Assistant device → one `DeviceDescription` (docs/discovery.md, "Home Assistant MQTT
 * discovery"): its entities' fields under unique names, one custom mapping per state topic (every
 * entity reading it decoded from the same payload, so Zigbee2MQTT's and EMS-ESP's shared JSON
 * topics work) and one per command topic, and the device's availability.
 * @module
 */
import { MAX_FIELDS, MAX_LABEL_LENGTH, type FieldValue } from '@live-device-form/protocol';
import type {
  AvailabilityDescription,
  AvailabilityListDescription,
  CustomTopicDescription,
  DeviceDescription,
  FieldDescription,
} from '../../device/types.js';
import { translateEntity, type FieldSpec } from './components.js';
import type { EntityConfig } from './config.js';
import { fieldNameFor, uniqueNames } from './ids.js';
import { payloadView, stateReader } from './templates.js';

/** One entity of a device, as the source keeps it. */
export interface Entity {
  /** Its discovery key, unique and stable: `<component>/[<node_id>/]<object_id>`, or `device/<id>#<component id>`. */
  key: string;
  /** Its component (`number`, `switch`, …). */
  component: string;
  /** Its object id: `object_id`, else the one in its discovery topic or its key in `components`. */
  objectId: string;
  /** The topic its config came on (for notes). */
  configTopic: string;
  /** Its expanded config. */
  config: EntityConfig;
}

/** A device's description, with what the operator should know; `description` is `undefined` when no field is left. */
export interface BuiltDevice {
  description: DeviceDescription | undefined;
  notes: string[];
}

/** The label of an entity's main field: its `name`; `name: null` means the device's name (Home Assistant's convention). */
function labelOf(e: Entity): string {
  const name = e.config.name;
  let label = e.objectId;
  if (typeof name === 'string' && name !== '') label = name;
  else if (name === null && typeof e.config.device?.name === 'string' && e.config.device.name !== '')
    label = e.config.device.name;
  return label.length > MAX_LABEL_LENGTH ? label.slice(0, MAX_LABEL_LENGTH) : label;
}

function availabilityOf(
  config: EntityConfig,
): AvailabilityDescription | AvailabilityListDescription | string | undefined {
  const online = config.payload_available ?? 'online';
  const offline = config.payload_not_available ?? 'offline';
  const one = (
    topic: string,
    on: string,
    off: string,
    template: string | undefined,
  ): AvailabilityDescription | string => {
    const a: AvailabilityDescription = { topic, online: on, offline: off };
    if (template !== undefined) {
      const r = stateReader(template);
      if (!r.ok) return `its availability template is outside the supported template subset (${r.reason})`;
      const read = r.fn;
      a.decode = (payload) => read(payloadView(payload));
    }
    return a;
  };
  if (config.availability !== undefined && config.availability.length > 0) {
    const topics: AvailabilityDescription[] = [];
    for (const entry of config.availability) {
      const a = one(
        entry.topic,
        entry.payload_available ?? 'online',
        entry.payload_not_available ?? 'offline',
        entry.value_template,
      );
      if (typeof a === 'string') return a;
      topics.push(a);
    }
    // Home Assistant's availability_mode defaults to "latest".
    return topics.length === 1 ? topics[0] : { topics, mode: config.availability_mode ?? 'latest' };
  }
  if (config.availability_topic !== undefined)
    return one(config.availability_topic, online, offline, config.availability_template);
  return undefined;
}

function topicsOf(a: AvailabilityDescription | AvailabilityListDescription): string[] {
  return 'topics' in a ? a.topics.map((t) => t.topic) : [a.topic];
}

/** Builds the description of the device `id` from its entities (any order: they are sorted by key). */
export function buildDevice(id: string, entities: readonly Entity[]): BuiltDevice {
  const notes: string[] = [];
  const sorted = [...entities].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

  // 1. Each entity's fields, under names unique within the device.
  const wanted = new Map<string, string>();
  const specs = new Map<string, { entity: Entity; spec: FieldSpec }>();
  for (const entity of sorted) {
    const what = `${entity.component} "${labelOf(entity)}" (${entity.configTopic})`;
    const t = translateEntity(entity.component, entity.config, { label: labelOf(entity), what });
    notes.push(...t.notes);
    for (const spec of t.fields) {
      const key = `${entity.key}\u0000${spec.suffix}`;
      wanted.set(key, fieldNameFor(entity.objectId + spec.suffix));
      specs.set(key, { entity, spec });
    }
  }
  const names = uniqueNames(wanted);
  let ordered = [...specs.keys()];
  if (ordered.length > MAX_FIELDS) {
    notes.push(`${ordered.length - MAX_FIELDS} fields skipped: a device has at most ${MAX_FIELDS} fields`);
    ordered = ordered.slice(0, MAX_FIELDS);
  }

  // 2. The device's availability: the first entity's that has one (they normally share it).
  let availability: AvailabilityDescription | AvailabilityListDescription | undefined;
  for (const entity of sorted) {
    const a = availabilityOf(entity.config);
    if (a === undefined) continue;
    if (typeof a === 'string') {
      notes.push(
        `${entity.component} "${labelOf(entity)}" (${entity.configTopic}): ${a}; the device's availability is not read`,
      );
      break;
    }
    availability = a;
    break;
  }

  // 3. A command topic that is also read (as state or availability) would read our own writes back.
  const readTopics = new Set<string>();
  for (const key of ordered) {
    const t = specs.get(key)!.spec.read?.topic;
    if (t !== undefined) readTopics.add(t);
  }
  if (availability !== undefined && topicsOf(availability).some((t) => readTopics.has(t))) {
    notes.push("the availability topic is also a state topic: the device's availability is not read");
    availability = undefined;
  }
  const availabilityTopics = new Set(availability === undefined ? [] : topicsOf(availability));

  const fields: Record<string, FieldDescription> = {};
  const reads = new Map<string, { name: string; decode: FieldSpec['read'] }[]>();
  const writes = new Map<string, Map<string, NonNullable<FieldSpec['write']>['encode']>>();
  for (const key of ordered) {
    const { entity, spec } = specs.get(key)!;
    const name = names.get(key)!;
    let description = spec.description;
    let write = spec.write;
    if (write !== undefined && (readTopics.has(write.topic) || availabilityTopics.has(write.topic))) {
      if (spec.read === undefined) {
        notes.push(
          `${entity.component} "${labelOf(entity)}" (${entity.configTopic}) skipped: its command topic is also read`,
        );
        continue;
      }
      notes.push(
        `${entity.component} "${labelOf(entity)}" (${entity.configTopic}) is read-only: its command topic is also a state or availability topic`,
      );
      write = undefined;
      description = {
        ...description,
        writable: false,
        help: 'Read-only: its command topic is also read.',
      } as FieldDescription;
    }
    fields[name] = description;
    if (spec.read !== undefined) {
      const list = reads.get(spec.read.topic) ?? [];
      list.push({ name, decode: spec.read });
      reads.set(spec.read.topic, list);
    }
    if (write !== undefined) {
      const map = writes.get(write.topic) ?? new Map();
      map.set(name, write.encode);
      writes.set(write.topic, map);
    }
  }
  if (Object.keys(fields).length === 0) return { description: undefined, notes };

  const topics: CustomTopicDescription[] = [];
  for (const [status, list] of reads) {
    topics.push({
      status,
      fields: list.map((r) => r.name),
      decode: (payload) => {
        const view = payloadView(payload);
        const values: Record<string, FieldValue> = {};
        for (const r of list) {
          const v = r.decode!.decode(view);
          if (v !== undefined) values[r.name] = v;
        }
        return Object.keys(values).length > 0 ? values : undefined;
      },
    });
  }
  for (const [set, map] of writes) {
    topics.push({
      set,
      fields: [...map.keys()],
      encode: ({ field, value }) => map.get(field)?.(value) ?? undefined,
    });
  }
  const description: DeviceDescription = { id, topics, fields };
  if (availability !== undefined) description.availability = availability;
  return { description, notes };
}
