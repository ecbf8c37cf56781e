/**
 * The device file's payload formats as the *hardware* reads and writes them: `{field}` patterns and
 * templates, boolean and enum tokens, limits. The simulator and the MQTT log use this; the SDK's
 * own codecs are deliberately not used, so the demo's hardware is an independent implementation
 * of the same contract (a bug in the SDK's codecs shows up as a mismatch, not as agreement).
 * @module
 */
import { readFileSync } from 'node:fs';

/** One field of the device file, as far as the hardware cares. */
export interface HardwareField {
  name: string;
  label: string;
  type: 'number' | 'integer' | 'boolean' | 'enum' | 'text';
  min?: number;
  max?: number;
  step?: number;
  unit?: string;
  writable: boolean;
  /** Boolean tokens. */
  trueToken: string;
  falseToken: string;
  /** Enum options: value and payload token. */
  options: { value: string; token: string; label: string }[];
}

/** A value the hardware holds. */
export type HardwareValue = number | boolean | string;

/** A parsed `{field}` pattern or template: literal text and field slots, in order. */
export type Part = { literal: string } | { field: string };

/** One topic of the device file. */
export interface HardwareTopic {
  /** The status topic the hardware publishes (retained). */
  status: string;
  /** How the status payload is laid out. */
  pattern: Part[];
  /** The action topic the hardware listens on, if the topic is writable. */
  set?: string;
  /** How an action payload is laid out. */
  template?: Part[];
  /** The fields the status carries. */
  fields: string[];
}

/** A device file, read for the hardware's side. */
export interface HardwareDevice {
  id: string;
  availability: { topic: string; online: string; offline: string };
  topics: HardwareTopic[];
  fields: Map<string, HardwareField>;
}

/** Splits `"genlock {genlock_phase_h} {genlock_phase_v}"` into literals and fields. */
export function parseParts(text: string): Part[] {
  const parts: Part[] = [];
  const re = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) parts.push({ literal: text.slice(last, m.index) });
    parts.push({ field: m[1]! });
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ literal: text.slice(last) });
  return parts;
}

const fieldsOf = (parts: Part[]): string[] => parts.flatMap((p) => ('field' in p ? [p.field] : []));

/** Reads a device description (the JSON object of a device file). Throws a `TypeError` if it has no availability topic. */
export function readDevice(json: unknown): HardwareDevice {
  const d = json as {
    id: string;
    availability?: { topic: string; online?: string; offline?: string };
    topics: { status: string; pattern: string; set?: string; template?: string }[];
    fields: Record<string, Record<string, unknown>>;
  };
  if (!d.availability) throw new TypeError('the simulated hardware needs an "availability" topic in the device file');
  const fields = new Map<string, HardwareField>();
  for (const [name, f] of Object.entries(d.fields)) {
    fields.set(name, {
      name,
      label: String(f.label ?? name),
      type: f.type as HardwareField['type'],
      ...(typeof f.min === 'number' ? { min: f.min } : {}),
      ...(typeof f.max === 'number' ? { max: f.max } : {}),
      ...(typeof f.step === 'number' ? { step: f.step } : {}),
      ...(typeof f.unit === 'string' ? { unit: f.unit } : {}),
      writable: f.writable === true,
      trueToken: typeof f.true === 'string' ? f.true : 'true',
      falseToken: typeof f.false === 'string' ? f.false : 'false',
      options: Array.isArray(f.options)
        ? (f.options as { value: string; token?: string; label?: string }[]).map((o) => ({
            value: o.value,
            token: o.token ?? o.value,
            label: o.label ?? o.value,
          }))
        : [],
    });
  }
  return {
    id: d.id,
    availability: {
      topic: d.availability.topic,
      online: d.availability.online ?? 'online',
      offline: d.availability.offline ?? 'offline',
    },
    topics: d.topics.map((t) => {
      const pattern = parseParts(t.pattern);
      return {
        status: t.status,
        pattern,
        ...(t.set !== undefined && t.template !== undefined ? { set: t.set, template: parseParts(t.template) } : {}),
        fields: fieldsOf(pattern),
      };
    }),
    fields,
  };
}

/** Reads a device file from disk. */
export function readDeviceFile(path: string | URL): HardwareDevice {
  return readDevice(JSON.parse(readFileSync(path, 'utf8')));
}

/** The example device of the server package: the cy-vp4 video processor. */
export const VIDEOPROC_FILE = new URL('../../server/examples/videoproc.json', import.meta.url);

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function slot(f: HardwareField): string {
  switch (f.type) {
    case 'integer':
      return '(-?\\d+)';
    case 'number':
      return '(-?\\d+(?:\\.\\d+)?)';
    case 'boolean':
      return `(${escape(f.trueToken)}|${escape(f.falseToken)})`;
    case 'enum':
      return `(${f.options.map((o) => escape(o.token)).join('|')})`;
    case 'text':
      return '(.*?)';
  }
}

/** The token a value is written as. */
export function tokenOf(f: HardwareField, value: HardwareValue): string {
  if (f.type === 'boolean') return value === true ? f.trueToken : f.falseToken;
  if (f.type === 'enum') return f.options.find((o) => o.value === value)?.token ?? String(value);
  return String(value);
}

function valueOf(f: HardwareField, token: string): HardwareValue {
  switch (f.type) {
    case 'integer':
    case 'number':
      return Number(token);
    case 'boolean':
      return token === f.trueToken;
    case 'enum':
      return f.options.find((o) => o.token === token)?.value ?? token;
    case 'text':
      return token;
  }
}

/** Fills a pattern or template with values. */
export function format(
  parts: Part[],
  fields: Map<string, HardwareField>,
  values: Record<string, HardwareValue>,
): string {
  return parts.map((p) => ('literal' in p ? p.literal : tokenOf(fields.get(p.field)!, values[p.field]!))).join('');
}

/** Reads a payload laid out as `parts`; `undefined` when it does not match. */
export function match(
  parts: Part[],
  fields: Map<string, HardwareField>,
  payload: string,
): Record<string, HardwareValue> | undefined {
  const names: string[] = [];
  let re = '^';
  for (const p of parts) {
    if ('literal' in p) re += escape(p.literal);
    else {
      const f = fields.get(p.field);
      if (!f) return undefined;
      names.push(p.field);
      re += slot(f);
    }
  }
  const m = new RegExp(`${re}$`).exec(payload);
  if (!m) return undefined;
  const out: Record<string, HardwareValue> = {};
  names.forEach((name, i) => {
    out[name] = valueOf(fields.get(name)!, m[i + 1]!);
  });
  return out;
}

/**
 * What the hardware does with a requested value: numbers are clamped to the limits and snapped to
 * the step; anything it cannot take is `undefined`.
 */
export function clamp(f: HardwareField, value: HardwareValue): HardwareValue | undefined {
  switch (f.type) {
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
      let v = f.type === 'integer' ? Math.round(value) : value;
      if (f.step !== undefined) {
        const base = f.min ?? 0;
        v = base + Math.round((v - base) / f.step) * f.step;
        v = Number(v.toFixed(10)); // 0.1 + 0.2 and friends
      }
      if (f.min !== undefined) v = Math.max(f.min, v);
      if (f.max !== undefined) v = Math.min(f.max, v);
      return v;
    }
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'enum':
      return typeof value === 'string' && f.options.some((o) => o.value === value) ? value : undefined;
    case 'text':
      return typeof value === 'string' && !/[\r\n]/.test(value) ? value : undefined;
  }
}
