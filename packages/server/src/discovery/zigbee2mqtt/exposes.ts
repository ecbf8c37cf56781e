/**
 * Zigbee2MQTT's `exposes` (https://www.zigbee2mqtt.io/guide/usage/exposes.html) as fields
 * (docs/discovery.md, "Zigbee2MQTT"): `numeric`, `binary`, `enum` and `text` become fields; the
 * `features` of `light`, `switch`, `climate`, `lock`, `fan`, `cover` and of a `composite` are walked;
 * a `composite`'s features sit under its `property` in the state (`{"color":{"x":0.3}}`), and are
 * written together. `list` and anything unknown are skipped with a note. Untrusted input: nothing
 * here throws, depth and count are bounded, and no key can reach a prototype.
 * @module
 */
import {
  FORBIDDEN_KEYS,
  MAX_ABS_NUMBER,
  MAX_FIELDS,
  MAX_LABEL_LENGTH,
  MAX_OPTIONS,
  MAX_TEXT_LENGTH,
} from '@live-device-form/protocol';
import type { FieldDescription } from '../../device/types.js';
import { clip, isObject, own, toFieldName, uniqueFieldNames, type UniqueNames } from '../naming.js';

/** The bounds of one device's exposes walk. */
export const EXPOSES_LIMITS = Object.freeze({
  /** Deepest nesting of `features` walked (a light's composite colour is depth 2). */
  maxDepth: 4,
  /** Most expose entries (at any depth) looked at for one device; the rest are skipped. */
  maxEntries: 1024,
});

/** The `access` bits (exposes.md, "Access"). */
const ACCESS_PUBLISHED = 1;
const ACCESS_SETTABLE = 2;

/** Exposes that only group `features` (no property of their own). */
const SPECIFIC_TYPES = new Set(['light', 'switch', 'climate', 'lock', 'fan', 'cover']);

/** One field found in the exposes. */
export interface ExposedField {
  /** The field name (unique within the device). */
  name: string;
  /** The field. */
  description: FieldDescription;
  /** Where its value is in the state payload and in a `/set` payload, e.g. `["color", "x"]`. */
  path: readonly string[];
  /**
   * For a feature of a `composite` with a `property`: the index of that composite (its features are
   * written together, on `<base>/<name>/set/<property>`) and the path of the feature inside it.
   */
  composite?: { key: number; property: string; inner: readonly string[] };
}

/** What {@link translateExposes} found. */
export interface ExposesResult {
  fields: ExposedField[];
  /** What was skipped or made read-only, and why (one line each). */
  notes: string[];
}

interface WalkContext {
  path: readonly string[];
  labelPrefix: string | undefined;
  endpoint: string | undefined;
  composite: { key: number; property: string; depthPath: number } | undefined;
  depth: number;
}

const finite = (v: unknown): v is number =>
  typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_ABS_NUMBER;
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Translates a device's `definition.exposes`. Never throws. */
export function translateExposes(exposes: readonly unknown[]): ExposesResult {
  const fields: ExposedField[] = [];
  const notes: string[] = [];
  const names: UniqueNames = uniqueFieldNames();
  const paths: (readonly string[])[] = [];
  // property → the composite written there (the first one with that property) and its label
  const compositeOwners = new Map<string, { key: number; label: string }>();
  let entries = 0;
  let compositeCount = 0;
  let tooMany = false;

  const where = (ctx: WalkContext, e: unknown): string => {
    const p = str(own(e, 'property')) ?? str(own(e, 'name')) ?? str(own(e, 'type')) ?? '?';
    return clip([...ctx.path, p].join('.'), 80);
  };

  const walk = (list: readonly unknown[], ctx: WalkContext): void => {
    for (const e of list) {
      if (tooMany) return;
      if (++entries > EXPOSES_LIMITS.maxEntries) {
        notes.push(`more than ${EXPOSES_LIMITS.maxEntries} exposes: the rest are skipped`);
        tooMany = true;
        return;
      }
      if (!isObject(e)) {
        notes.push('an expose that is not an object: skipped');
        continue;
      }
      const type = own(e, 'type');
      const features = own(e, 'features');
      if (typeof type === 'string' && (SPECIFIC_TYPES.has(type) || type === 'composite')) {
        if (!Array.isArray(features)) {
          notes.push(`${where(ctx, e)}: a ${type} without features: skipped`);
          continue;
        }
        if (ctx.depth >= EXPOSES_LIMITS.maxDepth) {
          notes.push(`${where(ctx, e)}: nested deeper than ${EXPOSES_LIMITS.maxDepth} levels: skipped`);
          continue;
        }
        const endpoint = str(own(e, 'endpoint')) ?? ctx.endpoint;
        const property = own(e, 'property');
        if (type !== 'composite' || property === undefined) {
          walk(features, { ...ctx, endpoint, depth: ctx.depth + 1 });
          continue;
        }
        if (typeof property !== 'string' || property === '' || FORBIDDEN_KEYS.has(property)) {
          notes.push(`${where(ctx, e)}: a composite with the property ${JSON.stringify(property)}: skipped`);
          continue;
        }
        const label = labelOf(e, property, ctx.labelPrefix, undefined);
        let composite = ctx.composite;
        if (composite === undefined) {
          composite = { key: compositeCount++, property, depthPath: ctx.path.length };
          const first = compositeOwners.get(property);
          if (first !== undefined)
            notes.push(
              `${label}: read-only, its property "${property}" is written through "${first.label}" (one composite per property can be written)`,
            );
          else compositeOwners.set(property, { key: composite.key, label });
        }
        walk(features, {
          path: [...ctx.path, property],
          labelPrefix: label,
          endpoint,
          composite,
          depth: ctx.depth + 1,
        });
        continue;
      }
      if (type === 'list') {
        notes.push(`${where(ctx, e)}: a list: skipped (lists are not supported)`);
        continue;
      }
      if (type !== 'numeric' && type !== 'binary' && type !== 'enum' && type !== 'text') {
        notes.push(`${where(ctx, e)}: unknown expose type ${JSON.stringify(clip(String(type), 40))}: skipped`);
        continue;
      }
      leaf(e, type, ctx);
    }
  };

  const leaf = (e: Record<string, unknown>, type: string, ctx: WalkContext): void => {
    const property = own(e, 'property');
    if (typeof property !== 'string' || property === '' || property.length > MAX_TEXT_LENGTH) {
      notes.push(`${where(ctx, e)}: no property: skipped`);
      return;
    }
    if (FORBIDDEN_KEYS.has(property)) {
      notes.push(`${where(ctx, e)}: the property name "${property}" is not allowed: skipped`);
      return;
    }
    const access = own(e, 'access');
    const bits = typeof access === 'number' && Number.isInteger(access) ? access : 0;
    const label = labelOf(e, property, ctx.labelPrefix, str(own(e, 'endpoint')) ?? ctx.endpoint);
    if ((bits & ACCESS_PUBLISHED) === 0) {
      notes.push(
        (bits & ACCESS_SETTABLE) !== 0
          ? `${label}: skipped, it can be set but is not published in the state, so a write could not be checked against the device's value`
          : `${label}: skipped, not published in the state`,
      );
      return;
    }
    const path = [...ctx.path, property];
    if (paths.some((p) => overlaps(p, path))) {
      notes.push(`${label}: skipped, "${path.join('.')}" is already read by another field`);
      return;
    }
    const field = fieldOf(e, type, label, notes);
    if (field === undefined) return;
    const base = toFieldName(path.join('_'));
    if (base === undefined) {
      notes.push(`${label}: skipped, no field name can be made from "${clip(path.join('.'), 80)}"`);
      return;
    }
    if (fields.length >= MAX_FIELDS) {
      notes.push(`more than ${MAX_FIELDS} fields: the rest are skipped`);
      tooMany = true; // ends the walk, so the note is made once
      return;
    }
    const help = str(own(e, 'description'));
    if (help !== undefined) field.help = clip(help, MAX_LABEL_LENGTH);
    const writable = (bits & ACCESS_SETTABLE) !== 0;
    const composite = ctx.composite;
    const compositeWritable = composite === undefined || compositeOwners.get(composite.property)?.key === composite.key;
    if (writable && compositeWritable) field.writable = true;
    paths.push(path);
    fields.push({
      name: names.take(base),
      description: field,
      path,
      ...(composite !== undefined
        ? {
            composite: {
              key: composite.key,
              property: composite.property,
              inner: path.slice(composite.depthPath + 1),
            },
          }
        : {}),
    });
  };

  walk(exposes, { path: [], labelPrefix: undefined, endpoint: undefined, composite: undefined, depth: 0 });
  return { fields, notes };
}

function overlaps(a: readonly string[], b: readonly string[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What the user sees: the expose's `label` (Zigbee2MQTT 1.34+), else its `name`, else the property. */
function labelOf(
  e: Record<string, unknown>,
  property: string,
  prefix: string | undefined,
  endpoint: string | undefined,
): string {
  let label = str(own(e, 'label')) ?? str(own(e, 'name')) ?? property;
  if (prefix !== undefined) label = `${prefix} ${label}`;
  if (endpoint !== undefined && !label.includes(endpoint)) label = `${label} (${endpoint})`;
  return clip(label, MAX_LABEL_LENGTH);
}

/** The field of a `numeric`, `binary`, `enum` or `text` expose, or `undefined` (with a note). */
function fieldOf(
  e: Record<string, unknown>,
  type: string,
  label: string,
  notes: string[],
): Exclude<FieldDescription, { type: 'action' }> | undefined {
  switch (type) {
    case 'numeric': {
      let min = own(e, 'value_min');
      let max = own(e, 'value_max');
      const step = own(e, 'value_step');
      if (min !== undefined && !finite(min)) min = undefined;
      if (max !== undefined && !finite(max)) max = undefined;
      if (finite(min) && finite(max) && min > max) {
        notes.push(`${label}: value_min is greater than value_max, so neither is used`);
        min = max = undefined;
      }
      const goodStep = finite(step) && step > 0 ? step : undefined;
      // An integer field refuses a fractional state value, so only a whole step with whole bounds
      // makes one; anything else is a number (Zigbee2MQTT does not say which it is).
      const integer =
        goodStep !== undefined &&
        Number.isInteger(goodStep) &&
        (min === undefined || Number.isInteger(min)) &&
        (max === undefined || Number.isInteger(max));
      const unit = str(own(e, 'unit'));
      return {
        type: integer ? 'integer' : 'number',
        label,
        ...(finite(min) ? { min } : {}),
        ...(finite(max) ? { max } : {}),
        ...(goodStep !== undefined ? { step: goodStep } : {}),
        ...(unit !== undefined ? { unit: clip(unit, MAX_LABEL_LENGTH) } : {}),
      };
    }
    case 'binary': {
      const on = own(e, 'value_on');
      const off = own(e, 'value_off');
      if (on === true && off === false) return { type: 'boolean', label };
      const token = (v: unknown): v is string => typeof v === 'string' && v !== '' && v.length <= MAX_TEXT_LENGTH;
      if (token(on) && token(off) && on !== off) return { type: 'boolean', label, true: on, false: off };
      notes.push(
        `${label}: skipped, its value_on/value_off (${clip(JSON.stringify(on) ?? 'none', 40)}/${clip(JSON.stringify(off) ?? 'none', 40)}) are not two different strings or true/false`,
      );
      return undefined;
    }
    case 'enum': {
      const values = own(e, 'values');
      if (!Array.isArray(values) || values.length === 0 || values.length > MAX_OPTIONS) {
        notes.push(`${label}: skipped, an enum needs 1 to ${MAX_OPTIONS} values`);
        return undefined;
      }
      const ok = values.every((v) => typeof v === 'string' && v !== '' && v.length <= MAX_TEXT_LENGTH);
      if (!ok || new Set(values).size !== values.length) {
        notes.push(`${label}: skipped, its values are not distinct non-empty strings`);
        return undefined;
      }
      return { type: 'enum', label, options: (values as string[]).map((value) => ({ value })) };
    }
    default:
      return { type: 'text', label };
  }
}
