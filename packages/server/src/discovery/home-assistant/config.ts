/**
 * One Home Assistant entity config as this source reads it: abbreviations expanded
 * (`abbreviations.ts`), the `~` base topic substituted, checked against a zod shape of the keys it
 * uses (other keys are allowed and ignored). A device-based config (`<prefix>/device/<id>/config`)
 * becomes one entity config per component, each with the shared options merged in as Home
 * Assistant does. Configs are untrusted input: everything here returns a reason instead of throwing.
 * @module
 */
import { z } from 'zod';
import { ConfigShapeError, expandAbbreviations } from './abbreviations.js';

/** A payload option (`payload_on`, …): Home Assistant takes strings, numbers and booleans alike, and compares text. */
const payload = z.union([z.string(), z.number(), z.boolean()]).transform((v) => String(v));
/** A number Home Assistant may also receive as a numeric string (Zigbee2MQTT sends `"max_temp": "30"`). */
const numeric = z
  .union([z.number(), z.string().regex(/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/)])
  .transform((v) => Number(v))
  .refine((n) => Number.isFinite(n), 'expected a finite number');
const text = z.string();

const availabilityEntry = z.looseObject({
  topic: text,
  payload_available: payload.optional(),
  payload_not_available: payload.optional(),
  value_template: text.optional(),
});

const deviceShape = z.looseObject({
  identifiers: z
    .union([text, z.number().transform(String), z.array(z.union([text, z.number().transform(String)]))])
    .optional(),
  connections: z.array(z.array(z.union([text, z.number().transform(String)]))).optional(),
  name: text.nullable().optional(),
});

/** The keys of an expanded entity config this source reads; the rest are ignored. */
export const entityConfigShape = z.looseObject({
  platform: text.optional(),
  name: text.nullable().optional(),
  object_id: text.optional(),
  default_entity_id: text.optional(),
  unique_id: z.union([text, z.number().transform(String)]).optional(),
  device: deviceShape.optional(),
  state_topic: text.optional(),
  command_topic: text.optional(),
  value_template: text.optional(),
  command_template: text.optional(),
  availability_topic: text.optional(),
  availability_template: text.optional(),
  payload_available: payload.optional(),
  payload_not_available: payload.optional(),
  availability: z.array(availabilityEntry).optional(),
  availability_mode: z.enum(['all', 'any', 'latest']).optional(),
  min: numeric.optional(),
  max: numeric.optional(),
  step: numeric.optional(),
  mode: text.optional(),
  unit_of_measurement: text.nullable().optional(),
  payload_on: payload.optional(),
  payload_off: payload.optional(),
  state_on: payload.optional(),
  state_off: payload.optional(),
  payload_press: payload.optional(),
  payload_reset: payload.optional(),
  options: z.array(payload).optional(),
  pattern: text.optional(),
  device_class: text.nullable().optional(),
  state_class: text.nullable().optional(),
  schema: text.optional(),
  brightness: z.boolean().optional(),
  brightness_scale: numeric.optional(),
  brightness_state_topic: text.optional(),
  brightness_command_topic: text.optional(),
  brightness_value_template: text.optional(),
  brightness_command_template: text.optional(),
  state_value_template: text.optional(),
  supported_color_modes: z.array(text).optional(),
});

/** An expanded, checked entity config. */
export type EntityConfig = z.infer<typeof entityConfigShape>;

/** Options of a device-based config's top level that every component inherits (Home Assistant's list, plus `~`). */
const SHARED_OPTIONS = [
  '~',
  'availability',
  'availability_mode',
  'availability_template',
  'availability_topic',
  'command_topic',
  'payload_available',
  'payload_not_available',
  'state_topic',
  'device',
  'origin',
  'qos',
  'encoding',
] as const;

/** The result of reading a config: the configs it holds, or why it was refused. */
export type ConfigResult<T> = { ok: true; value: T } | { ok: false; reason: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Substitutes the base topic `~` (Home Assistant: at the start or the end of the value of any key
 * ending in `topic`, and of each availability entry's `topic`).
 */
export function substituteBase(config: Record<string, unknown>): Record<string, unknown> {
  const base = config['~'];
  if (typeof base !== 'string') return config;
  const sub = (v: string): string => {
    let out = v;
    if (out.startsWith('~')) out = base + out.slice(1);
    if (out.endsWith('~')) out = out.slice(0, -1) + base;
    return out;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === '~') continue;
    out[k] = typeof v === 'string' && v !== '' && k.endsWith('topic') ? sub(v) : v;
  }
  if (Array.isArray(out.availability)) {
    out.availability = out.availability.map((a) =>
      isObject(a) && typeof a.topic === 'string' && a.topic !== '' ? { ...a, topic: sub(a.topic) } : a,
    );
  }
  return out;
}

function check(config: Record<string, unknown>): ConfigResult<EntityConfig> {
  const r = entityConfigShape.safeParse(substituteBase(config));
  if (r.success) return { ok: true, value: r.data };
  const first = r.error.issues[0]!;
  return { ok: false, reason: `${first.path.join('.') || '(root)'}: ${first.message}` };
}

/** Parses a payload as JSON; a reason when it is not JSON or not an object. */
function parseObject(payload: Buffer): ConfigResult<Record<string, unknown>> {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `not valid JSON: ${(err as Error).message}` };
  }
  try {
    return { ok: true, value: expandAbbreviations(json) };
  } catch (err) {
    if (err instanceof ConfigShapeError || err instanceof RangeError) return { ok: false, reason: err.message };
    throw err;
  }
}

/** Reads a per-entity config (`<prefix>/<component>/[<node_id>/]<object_id>/config`). */
export function readEntityConfig(payload: Buffer): ConfigResult<EntityConfig> {
  const r = parseObject(payload);
  return r.ok ? check(r.value) : r;
}

/** One component of a device-based config. */
export interface DeviceComponent {
  /** Its key in `components`. */
  id: string;
  /** Its component (`platform`), e.g. `"number"`. */
  platform: string;
  /** Its config with the shared options merged in, or why it was refused. */
  config: ConfigResult<EntityConfig>;
}

/**
 * Reads a device-based config (`<prefix>/device/<id>/config`): a `components` map of entity configs
 * (each with a `platform`) that inherit the shared options of the top level.
 */
export function readDeviceConfig(payload: Buffer): ConfigResult<DeviceComponent[]> {
  const r = parseObject(payload);
  if (!r.ok) return r;
  const root = r.value;
  if (!isObject(root.components)) return { ok: false, reason: 'components: expected an object' };
  if (!isObject(root.device)) return { ok: false, reason: 'device: expected an object' };
  const shared: Record<string, unknown> = {};
  for (const key of SHARED_OPTIONS) if (Object.hasOwn(root, key)) shared[key] = root[key];
  const out: DeviceComponent[] = [];
  for (const [id, raw] of Object.entries(root.components)) {
    if (!isObject(raw) || typeof raw.platform !== 'string') {
      out.push({ id, platform: '', config: { ok: false, reason: `components.${id}.platform: required` } });
      continue;
    }
    out.push({ id, platform: raw.platform, config: check({ ...shared, ...raw }) });
  }
  return { ok: true, value: out };
}
