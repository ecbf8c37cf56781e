/**
 * A Homie v5 `$description` (https://homieiot.github.io/specification/, "Devices", "Properties")
 * as a device description (docs/discovery.md, "Homie"): one field per retained property, read
 * from the property topic and written to its `set` topic as the plain-text payloads Homie uses.
 * `integer`, `float`, `boolean`, `enum` and `string` are fields; `color`, `datetime` and `duration`
 * are read-only text; `json` and non-retained properties (events) are skipped with a note.
 * Untrusted input: nothing here throws, counts are bounded, and ids that could not be topic levels
 * are refused.
 * @module
 */
import {
  MAX_ABS_NUMBER,
  MAX_FIELDS,
  MAX_LABEL_LENGTH,
  MAX_OPTIONS,
  MAX_TEXT_LENGTH,
  type FieldValue,
} from '@live-device-form/protocol';
import type {
  AvailabilityDescription,
  AvailabilityListDescription,
  CustomTopicDescription,
  DeviceDescription,
  FieldDescription,
  PatternTopicDescription,
} from '../../device/types.js';
import { clip, isObject, own, toFieldName, uniqueFieldNames } from '../naming.js';

/** A Homie id (device, node, property): lowercase letters, digits and hyphens (convention "Topic IDs"). */
export const HOMIE_ID_PATTERN = /^[a-z0-9-]{1,64}$/;

/** Most properties (across all nodes) looked at in one description; the rest are skipped. */
export const MAX_HOMIE_PROPERTIES = 1024;

/** What Homie sends for an empty string: one NUL byte (convention, "Empty string values"). */
const EMPTY_STRING = '\u0000';

const INTEGER = /^-?\d+$/;
const FLOAT = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A number of a `min:max[:step]` format, `undefined` for an empty part, `null` when invalid. */
function formatNumber(part: string | undefined, integer: boolean): number | undefined | null {
  if (part === undefined || part === '') return undefined;
  if (!(integer ? INTEGER : FLOAT).test(part)) return null;
  const n = Number(part);
  return Number.isFinite(n) && Math.abs(n) <= MAX_ABS_NUMBER ? n : null;
}

/**
 * The limits of an `integer` or `float` format `[min]:[max][:step]`. Homie's step counts from
 * `min`, else from `max`, else from the current value; ours from `min`, else from 0, so the step is
 * kept only when it means the same (the device rounds to its step anyway).
 */
function numberLimits(
  format: unknown,
  integer: boolean,
  label: string,
  notes: string[],
): { min?: number; max?: number; step?: number } {
  if (format === undefined) return {};
  const parts = typeof format === 'string' ? format.split(':') : [];
  const [min, max, step] = [0, 1, 2].map((i) => formatNumber(parts[i], integer));
  if (
    (parts.length !== 2 && parts.length !== 3) ||
    min === null ||
    max === null ||
    step === null ||
    (step !== undefined && step <= 0) ||
    (min !== undefined && max !== undefined && min > max)
  ) {
    notes.push(`${label}: its format ${clip(JSON.stringify(format) ?? '', 40)} is not valid, so no limits are used`);
    return {};
  }
  const stepKept = step !== undefined && (min !== undefined || (max !== undefined && max % step === 0));
  return {
    ...(min !== undefined ? { min } : {}),
    ...(max !== undefined ? { max } : {}),
    ...(stepKept ? { step } : {}),
  };
}

/** A string property's mapping: Homie's one-NUL empty string read and written as `""`. */
function stringTopic(name: string, status: string, set: string | undefined): CustomTopicDescription {
  return {
    status,
    ...(set !== undefined ? { set } : {}),
    fields: [name],
    decode: (payload: Buffer): Record<string, FieldValue> | undefined => {
      const text = payload.toString('utf8');
      if (text === EMPTY_STRING) return { [name]: '' };
      return text.includes('\u0000') || text.length > MAX_TEXT_LENGTH ? undefined : { [name]: text };
    },
    ...(set !== undefined
      ? {
          encode: ({ value }: { value: unknown }) =>
            value === '' ? EMPTY_STRING : typeof value === 'string' ? value : undefined,
        }
      : {}),
  };
}

/** Where a device's topics are. */
export interface HomieTopics {
  /** The Homie domain, e.g. `homie`. */
  base: string;
  /** The device id (also the description's id). */
  id: string;
}

/** A description with notes, or why there is none. */
export type HomieResult = { ok: true; description: DeviceDescription; notes: string[] } | { ok: false; reason: string };

/** Translates a parsed `$description`. Never throws. */
export function describeHomieDevice(doc: unknown, where: HomieTopics): HomieResult {
  if (!isObject(doc)) return { ok: false, reason: '$description is not a JSON object' };
  const homie = own(doc, 'homie');
  if (typeof homie !== 'string' || !/^5\.\d+$/.test(homie))
    return { ok: false, reason: `$description.homie is ${clip(JSON.stringify(homie) ?? 'missing', 40)}, not "5.x"` };
  const nodes = own(doc, 'nodes') ?? {};
  if (!isObject(nodes)) return { ok: false, reason: '$description.nodes is not an object' };

  const deviceTopic = `${where.base}/5/${where.id}`;
  const notes: string[] = [];
  const names = uniqueFieldNames();
  const fields: Record<string, FieldDescription> = {};
  const topics: (PatternTopicDescription | CustomTopicDescription)[] = [];
  const nodeEntries = Object.entries(nodes);
  let seen = 0;
  let full = false;

  for (const [nodeId, node] of nodeEntries) {
    if (full) break;
    if (!HOMIE_ID_PATTERN.test(nodeId)) {
      notes.push(`node ${clip(JSON.stringify(nodeId), 40)}: not a valid Homie id: skipped`);
      continue;
    }
    const properties = own(node, 'properties') ?? {};
    if (!isObject(properties)) {
      notes.push(`node "${nodeId}": its properties are not an object: skipped`);
      continue;
    }
    const nodeName = own(node, 'name');
    const nodeLabel = typeof nodeName === 'string' && nodeName !== '' ? nodeName : nodeId;
    for (const [propId, prop] of Object.entries(properties)) {
      if (++seen > MAX_HOMIE_PROPERTIES || Object.keys(fields).length >= MAX_FIELDS) {
        notes.push(`more than ${MAX_FIELDS} fields or ${MAX_HOMIE_PROPERTIES} properties: the rest are skipped`);
        full = true;
        break;
      }
      const path = `${nodeId}/${propId}`;
      if (!HOMIE_ID_PATTERN.test(propId)) {
        notes.push(`${clip(JSON.stringify(path), 80)}: not a valid Homie id: skipped`);
        continue;
      }
      if (!isObject(prop)) {
        notes.push(`${path}: not an object: skipped`);
        continue;
      }
      const propName = own(prop, 'name');
      let label = typeof propName === 'string' && propName !== '' ? propName : propId;
      if (nodeEntries.length > 1) label = `${nodeLabel}: ${label}`;
      label = clip(label, MAX_LABEL_LENGTH);
      const datatype = own(prop, 'datatype');
      const settable = own(prop, 'settable') === true;
      if (own(prop, 'retained') === false) {
        notes.push(`${label}: skipped, not retained (an event: it has no state to show or protect)`);
        continue;
      }
      const unit = own(prop, 'unit');
      const unitPart = typeof unit === 'string' && unit !== '' ? { unit: clip(unit, MAX_LABEL_LENGTH) } : {};
      const format = own(prop, 'format');
      let field: FieldDescription;
      let writable = settable;
      let kind: 'pattern' | 'string' = 'pattern';
      switch (datatype) {
        case 'integer':
        case 'float':
          field = {
            type: datatype === 'integer' ? 'integer' : 'number',
            label,
            ...numberLimits(format, datatype === 'integer', label, notes),
            ...unitPart,
          };
          break;
        case 'boolean': {
          field = { type: 'boolean', label };
          // The format names the two values (`close,open`); the payloads stay "false"/"true".
          const labels = typeof format === 'string' ? format.split(',') : [];
          if (labels.length === 2 && labels.every((l) => l !== ''))
            field.help = clip(`false: ${labels[0]}, true: ${labels[1]}`, MAX_LABEL_LENGTH);
          break;
        }
        case 'enum': {
          const values = typeof format === 'string' ? format.split(',') : [];
          if (
            values.length === 0 ||
            values.length > MAX_OPTIONS ||
            values.some((v) => v === '' || v.length > MAX_TEXT_LENGTH) ||
            new Set(values).size !== values.length
          ) {
            notes.push(`${label}: skipped, its enum format is not 1 to ${MAX_OPTIONS} distinct non-empty values`);
            continue;
          }
          field = { type: 'enum', label, options: values.map((value) => ({ value })) };
          break;
        }
        case 'string':
          field = { type: 'text', label };
          kind = 'string';
          break;
        case 'color':
        case 'datetime':
        case 'duration':
          field = { type: 'text', label, help: `${datatype}, shown as text` };
          if (settable) notes.push(`${label}: read-only, writing a ${datatype} is not supported`);
          writable = false;
          kind = 'string';
          break;
        default:
          notes.push(`${label}: skipped, datatype ${clip(JSON.stringify(datatype) ?? 'missing', 40)} is not supported`);
          continue;
      }
      const base = toFieldName(`${nodeId}_${propId}`);
      if (base === undefined) {
        notes.push(`${label}: skipped, no field name can be made from "${path}"`);
        continue;
      }
      const name = names.take(base);
      if (writable) field.writable = true;
      fields[name] = field;
      const status = `${deviceTopic}/${path}`;
      const set = writable ? `${status}/set` : undefined;
      topics.push(
        kind === 'string'
          ? stringTopic(name, status, set)
          : { status, pattern: `{${name}}`, ...(set !== undefined ? { set, template: `{${name}}` } : {}) },
      );
    }
  }
  if (topics.length === 0)
    return { ok: false, reason: `no property can be shown${notes.length > 0 ? ` (${notes.join('; ')})` : ''}` };

  const own$state: AvailabilityDescription = { topic: `${deviceTopic}/$state`, online: 'ready', offline: 'lost' };
  const root = own(doc, 'root');
  let availability: AvailabilityDescription | AvailabilityListDescription = own$state;
  if (typeof root === 'string' && root !== where.id) {
    if (HOMIE_ID_PATTERN.test(root))
      availability = {
        topics: [own$state, { topic: `${where.base}/5/${root}/$state`, online: 'ready', offline: 'lost' }],
        mode: 'all',
      };
    else notes.push(`its root ${clip(JSON.stringify(root), 40)} is not a valid Homie id: only its own $state is used`);
  }
  return { ok: true, description: { id: where.id, availability, topics, fields }, notes };
}
