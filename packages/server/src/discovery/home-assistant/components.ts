/**
 * Home Assistant components → fields (docs/discovery.md, "Home Assistant MQTT discovery"): what
 * field(s) one entity becomes, with its limits, and how its value is read from its state topic and
 * written to its command topic. `number`, `switch`, `select`, `text`, `button`, `sensor`,
 * `binary_sensor` and `light` (default and `json` schemas: on/off and brightness) are translated;
 * any other component is skipped with a note.
 * @module
 */
import {
  MAX_ABS_NUMBER,
  MAX_LABEL_LENGTH,
  MAX_OPTIONS,
  MAX_TEXT_LENGTH,
  type FieldValue,
} from '@live-device-form/protocol';
import type { FieldDescription, NumberFieldDescription } from '../../device/types.js';
import type { EntityConfig } from './config.js';
import { commandWriter, stateReader, type CommandWriter, type PayloadView, type StateReader } from './templates.js';

/** One field an entity becomes. */
export interface FieldSpec {
  /** Appended to the entity's field name: `""` for its main field, `"_brightness"` for a light's brightness. */
  suffix: string;
  /** The field (label, limits, `writable`, `help`). */
  description: FieldDescription;
  /** Where and how its value is read; `undefined` for a write-only action. */
  read?: { topic: string; decode: (view: PayloadView) => FieldValue | undefined };
  /** Where and how it is written; `undefined` when read-only. `value` is `null` for an action. */
  write?: { topic: string; encode: (value: FieldValue) => string | undefined };
}

/** What one entity becomes: its fields and what the operator should know. */
export interface EntityTranslation {
  fields: FieldSpec[];
  notes: string[];
}

/** The components this source translates. */
export const SUPPORTED_COMPONENTS: ReadonlySet<string> = new Set([
  'number',
  'switch',
  'select',
  'text',
  'button',
  'sensor',
  'binary_sensor',
  'light',
]);

/** State texts Home Assistant takes for "no value" (`payload_reset` of a number or sensor defaults to `"None"`). */
const UNKNOWN_STATES = new Set(['None', 'unknown', 'unavailable', '']);

/** A strict number: an optional sign, digits with an optional fraction, an optional exponent; nothing else. */
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function parseNumber(text: string, integer: boolean): number | undefined {
  const s = text.trim();
  if (!NUMBER_TEXT.test(s)) return undefined;
  const n = Number(s);
  if (!Number.isFinite(n) || Math.abs(n) > MAX_ABS_NUMBER) return undefined;
  return integer && !Number.isInteger(n) ? undefined : n;
}

function cutLabel(label: string): string {
  return label.length > MAX_LABEL_LENGTH ? label.slice(0, MAX_LABEL_LENGTH) : label;
}

/** What an entity's translation needs besides its config. */
export interface EntityContext {
  /** The label of its main field (from `name`, see docs/discovery.md). */
  label: string;
  /** How notes name it, e.g. `number "Volume" (homeassistant/number/node/volume/config)`. */
  what: string;
}

type Result = EntityTranslation;

function skipped(what: string, why: string): Result {
  return { fields: [], notes: [`${what} skipped: ${why}`] };
}

/** The state reader of `template`, or the note that skips the entity. */
function reader(template: string | undefined, key: string, ctx: EntityContext): StateReader | string {
  const r = stateReader(template);
  return r.ok ? r.fn : `${ctx.what} skipped: its ${key} is outside the supported template subset (${r.reason})`;
}

/**
 * The command writer of `template`; when it cannot be compiled the field is read-only, which
 * `readOnly` records (note and help).
 */
function writer(
  template: string | undefined,
  key: string,
  ctx: EntityContext,
  notes: string[],
): { fn: CommandWriter } | { help: string } {
  const w = commandWriter(template);
  if (w.ok) return { fn: w.fn };
  const why = `its ${key} is outside the supported template subset (${w.reason})`;
  notes.push(`${ctx.what} is read-only: ${why}`);
  return { help: `Read-only: ${why}.` };
}

const OPTIMISTIC =
  'it has no state topic (Home Assistant "optimistic"), so a write could not be protected against a stale value';

/** The `help` of an optimistic entity's field (at most 256 characters). */
const OPTIMISTIC_HELP =
  'Read-only: this entity reports no state, so a write could not be protected against a stale value. ' +
  'It shows the last command sent to it, by anyone.';

/**
 * The value a command payload stands for, read back from the command topic of an optimistic entity
 * (one without a state topic): the inverse of the plain command (no template) of each field type.
 */
function fromCommand(description: FieldDescription, text: string): FieldValue | undefined {
  switch (description.type) {
    case 'boolean':
      return text === description.true ? true : text === description.false ? false : undefined;
    case 'enum':
      return description.options.some((o) => o.value === text) ? text : undefined;
    case 'number':
    case 'integer':
      return parseNumber(text, description.type === 'integer');
    case 'text':
      return readText(text);
    case 'action':
      return undefined;
  }
}

/**
 * An optimistic entity (no state topic, Home Assistant then assumes every command took effect):
 * read-only, showing the last command anyone sent on its command topic, with a note saying why
 * (docs/discovery.md). Skipped when it has no command topic either, or a command template (whose
 * payloads cannot be read back).
 */
function optimisticField(config: EntityConfig, ctx: EntityContext, description: FieldDescription): Result {
  if (config.command_topic === undefined || config.command_template !== undefined) return skipped(ctx.what, OPTIMISTIC);
  const readOnly = { ...description, help: OPTIMISTIC_HELP } as FieldDescription;
  delete (readOnly as { writable?: boolean }).writable;
  return {
    fields: [
      {
        suffix: '',
        description: readOnly,
        read: { topic: config.command_topic, decode: (view) => fromCommand(readOnly, view.text) },
      },
    ],
    notes: [`${ctx.what} is read-only: ${OPTIMISTIC}; it shows the last command sent on its command topic`],
  };
}

/** Builds the spec of a field with one state reader and, optionally, a command writer. */
function simpleField(
  config: EntityConfig,
  ctx: EntityContext,
  description: FieldDescription,
  decode: (state: string) => FieldValue | undefined,
  toCommand: ((value: FieldValue) => string | number | undefined) | undefined,
): Result {
  if (config.state_topic === undefined) {
    return toCommand === undefined ? skipped(ctx.what, OPTIMISTIC) : optimisticField(config, ctx, description);
  }
  const read = reader(config.value_template, 'value_template', ctx);
  if (typeof read === 'string') return { fields: [], notes: [read] };
  const notes: string[] = [];
  const spec: FieldSpec = {
    suffix: '',
    description,
    read: {
      topic: config.state_topic,
      decode: (view) => {
        const s = read(view);
        return s === undefined ? undefined : decode(s);
      },
    },
  };
  if (toCommand !== undefined && config.command_topic !== undefined) {
    const w = writer(config.command_template, 'command_template', ctx, notes);
    if ('fn' in w) {
      const write = w.fn;
      spec.description = { ...description, writable: true } as FieldDescription;
      spec.write = {
        topic: config.command_topic,
        encode: (value) => {
          const v = toCommand(value);
          return v === undefined ? undefined : write(v);
        },
      };
    } else spec.description = { ...description, help: w.help } as FieldDescription;
  }
  return { fields: [spec], notes };
}

function numberEntity(config: EntityConfig, ctx: EntityContext): Result {
  const min = config.min ?? 1;
  const max = config.max ?? 100;
  const step = config.step ?? 1;
  if (min > max) return skipped(ctx.what, `min (${min}) is greater than max (${max})`);
  if (!(step > 0)) return skipped(ctx.what, `step (${step}) is not greater than 0`);
  if ([min, max, step].some((n) => Math.abs(n) > MAX_ABS_NUMBER))
    return skipped(ctx.what, `min, max or step beyond ±${MAX_ABS_NUMBER}`);
  const integer = [min, max, step].every(Number.isInteger);
  const reset = config.payload_reset ?? 'None';
  const description: FieldDescription = { type: integer ? 'integer' : 'number', label: ctx.label, min, max, step };
  if (typeof config.unit_of_measurement === 'string' && config.unit_of_measurement !== '')
    description.unit = config.unit_of_measurement.slice(0, MAX_LABEL_LENGTH);
  return simpleField(
    config,
    ctx,
    description,
    (s) => (s === reset ? null : parseNumber(s, integer)),
    (v) => (typeof v === 'number' ? v : undefined),
  );
}

/** The payload pair of a switch-like entity, or why it cannot be one. */
function onOff(config: EntityConfig): { on: string; off: string; stateOn: string; stateOff: string } | string {
  const on = config.payload_on ?? 'ON';
  const off = config.payload_off ?? 'OFF';
  const stateOn = config.state_on ?? on;
  const stateOff = config.state_off ?? off;
  if (on === off) return `payload_on and payload_off are both ${JSON.stringify(on)}`;
  if (stateOn === stateOff) return `state_on and state_off are both ${JSON.stringify(stateOn)}`;
  if (on.length > MAX_TEXT_LENGTH || off.length > MAX_TEXT_LENGTH) return 'a payload is too long';
  return { on, off, stateOn, stateOff };
}

function switchEntity(config: EntityConfig, ctx: EntityContext, writable: boolean): Result {
  const p = onOff(config);
  if (typeof p === 'string') return skipped(ctx.what, p);
  return simpleField(
    config,
    ctx,
    { type: 'boolean', label: ctx.label, true: p.on, false: p.off },
    (s) => (s === p.stateOn ? true : s === p.stateOff ? false : UNKNOWN_STATES.has(s) ? null : undefined),
    writable ? (v) => (v === true ? p.on : v === false ? p.off : undefined) : undefined,
  );
}

function selectEntity(config: EntityConfig, ctx: EntityContext): Result {
  const options = config.options ?? [];
  if (options.length === 0) return skipped(ctx.what, 'it has no options');
  if (options.length > MAX_OPTIONS) return skipped(ctx.what, `more than ${MAX_OPTIONS} options`);
  if (new Set(options).size !== options.length) return skipped(ctx.what, 'its options are not unique');
  if (options.some((o) => o === '' || o.length > MAX_TEXT_LENGTH))
    return skipped(ctx.what, `an option is empty or longer than ${MAX_TEXT_LENGTH} characters`);
  const known = new Set(options);
  return simpleField(
    config,
    ctx,
    { type: 'enum', label: ctx.label, options: options.map((value) => ({ value })) },
    (s) => (known.has(s) ? s : undefined),
    (v) => (typeof v === 'string' && known.has(v) ? v : undefined),
  );
}

function readText(s: string): string | undefined {
  return s.length <= MAX_TEXT_LENGTH && !s.includes('\u0000') ? s : undefined;
}

function textEntity(config: EntityConfig, ctx: EntityContext): Result {
  const max = Math.min(Math.max(Math.floor(config.max ?? 255), 1), MAX_TEXT_LENGTH);
  return simpleField(config, ctx, { type: 'text', label: ctx.label, maxLength: max }, readText, (v) =>
    typeof v === 'string' ? v : undefined,
  );
}

function sensorEntity(config: EntityConfig, ctx: EntityContext): Result {
  const options = config.options ?? [];
  if (config.device_class === 'enum' && options.length > 0 && options.length <= MAX_OPTIONS) {
    const known = new Set(options);
    if (known.size === options.length && options.every((o) => o !== '' && o.length <= MAX_TEXT_LENGTH))
      return simpleField(
        config,
        ctx,
        { type: 'enum', label: ctx.label, options: options.map((value) => ({ value })) },
        (s) => (known.has(s) ? s : UNKNOWN_STATES.has(s) ? null : undefined),
        undefined,
      );
  }
  const unit = typeof config.unit_of_measurement === 'string' ? config.unit_of_measurement : undefined;
  const numeric = (unit !== undefined && unit !== '') || (config.state_class ?? undefined) !== undefined;
  if (!numeric) return simpleField(config, ctx, { type: 'text', label: ctx.label }, readText, undefined);
  const description: FieldDescription = { type: 'number', label: ctx.label };
  if (unit !== undefined && unit !== '') description.unit = unit.slice(0, MAX_LABEL_LENGTH);
  return simpleField(
    config,
    ctx,
    description,
    (s) => (UNKNOWN_STATES.has(s) || s === config.payload_reset ? null : parseNumber(s, false)),
    undefined,
  );
}

function buttonEntity(config: EntityConfig, ctx: EntityContext): Result {
  if (config.command_topic === undefined) return skipped(ctx.what, 'it has no command_topic');
  const press = config.payload_press ?? 'PRESS';
  const w = commandWriter(config.command_template);
  if (!w.ok) return skipped(ctx.what, `its command_template is outside the supported template subset (${w.reason})`);
  const write = w.fn;
  return {
    fields: [
      {
        suffix: '',
        description: { type: 'action', label: ctx.label, token: press },
        write: { topic: config.command_topic, encode: () => write(press) },
      },
    ],
    notes: [],
  };
}

/** A light's brightness field (both schemas): an integer 0…`brightness_scale` (default 255). */
function brightnessField(config: EntityConfig, ctx: EntityContext): NumberFieldDescription | string {
  const scale = config.brightness_scale ?? 255;
  if (!Number.isInteger(scale) || scale < 1 || scale > MAX_ABS_NUMBER)
    return `brightness_scale ${scale} is not a positive integer`;
  return { type: 'integer', label: cutLabel(`${ctx.label} brightness`), min: 0, max: scale, step: 1 };
}

function defaultLight(config: EntityConfig, ctx: EntityContext): Result {
  if (config.command_topic === undefined) return skipped(ctx.what, 'it has no command_topic');
  const on = config.payload_on ?? 'ON';
  const off = config.payload_off ?? 'OFF';
  if (on === off) return skipped(ctx.what, `payload_on and payload_off are both ${JSON.stringify(on)}`);
  const notes: string[] = [];
  const fields: FieldSpec[] = [];
  if (config.state_topic === undefined) notes.push(`${ctx.what}: its on/off skipped: ${OPTIMISTIC}`);
  else {
    const read = reader(config.state_value_template, 'state_value_template', ctx);
    if (typeof read === 'string') notes.push(read);
    else
      fields.push({
        suffix: '',
        description: { type: 'boolean', label: ctx.label, true: on, false: off, writable: true },
        read: {
          topic: config.state_topic,
          decode: (view) => {
            const s = read(view);
            return s === on ? true : s === off ? false : s !== undefined && UNKNOWN_STATES.has(s) ? null : undefined;
          },
        },
        write: { topic: config.command_topic, encode: (v) => (v === true ? on : v === false ? off : undefined) },
      });
  }
  if (config.brightness_command_topic !== undefined) {
    const description = brightnessField(config, ctx);
    if (typeof description === 'string') notes.push(`${ctx.what}: its brightness skipped: ${description}`);
    else if (config.brightness_state_topic === undefined)
      notes.push(`${ctx.what}: its brightness skipped: ${OPTIMISTIC}`);
    else {
      const read = reader(config.brightness_value_template, 'brightness_value_template', ctx);
      if (typeof read === 'string') notes.push(read);
      else {
        const spec: FieldSpec = {
          suffix: '_brightness',
          description,
          read: {
            topic: config.brightness_state_topic,
            decode: (view) => {
              const s = read(view);
              return s === undefined ? undefined : UNKNOWN_STATES.has(s) ? null : parseNumber(s, true);
            },
          },
        };
        const w = writer(config.brightness_command_template, 'brightness_command_template', ctx, notes);
        if ('fn' in w) {
          const write = w.fn;
          spec.description = { ...description, writable: true };
          spec.write = {
            topic: config.brightness_command_topic,
            encode: (v) => (typeof v === 'number' ? write(v) : undefined),
          };
        } else spec.description = { ...description, help: w.help } as FieldDescription;
        fields.push(spec);
      }
    }
  }
  return { fields, notes };
}

/** Reads `{"state":"ON","brightness":n}` (Home Assistant's JSON light schema). */
function jsonLight(config: EntityConfig, ctx: EntityContext): Result {
  if (config.command_topic === undefined) return skipped(ctx.what, 'it has no command_topic');
  if (config.state_topic === undefined) return skipped(ctx.what, OPTIMISTIC);
  const state = config.state_topic;
  const command = config.command_topic;
  const member = (view: PayloadView, key: string): unknown => {
    const j = view.json();
    return j !== null && typeof j === 'object' && !Array.isArray(j) && Object.hasOwn(j, key)
      ? (j as Record<string, unknown>)[key]
      : undefined;
  };
  const fields: FieldSpec[] = [
    {
      suffix: '',
      description: { type: 'boolean', label: ctx.label, true: 'ON', false: 'OFF', writable: true },
      read: {
        topic: state,
        decode: (view) => {
          const s = member(view, 'state');
          return s === 'ON' ? true : s === 'OFF' ? false : s === null ? null : undefined;
        },
      },
      write: {
        topic: command,
        encode: (v) => (typeof v === 'boolean' ? JSON.stringify({ state: v ? 'ON' : 'OFF' }) : undefined),
      },
    },
  ];
  const notes: string[] = [];
  const modes = config.supported_color_modes ?? [];
  if (config.brightness === true || modes.some((m) => m !== 'onoff')) {
    const description = brightnessField(config, ctx);
    if (typeof description === 'string') notes.push(`${ctx.what}: its brightness skipped: ${description}`);
    else
      fields.push({
        suffix: '_brightness',
        description: { ...description, writable: true },
        read: {
          topic: state,
          decode: (view) => {
            const b = member(view, 'brightness');
            if (b === null) return null;
            return typeof b === 'number' && Number.isInteger(b) && Math.abs(b) <= MAX_ABS_NUMBER ? b : undefined;
          },
        },
        write: {
          topic: command,
          encode: (v) => (typeof v === 'number' ? JSON.stringify({ state: 'ON', brightness: v }) : undefined),
        },
      });
  }
  return { fields, notes };
}

function lightEntity(config: EntityConfig, ctx: EntityContext): Result {
  const schema = config.schema ?? 'default';
  if (schema === 'default' || schema === 'basic') return defaultLight(config, ctx);
  if (schema === 'json') return jsonLight(config, ctx);
  return skipped(ctx.what, `light schema ${JSON.stringify(schema)} is not supported (only "default" and "json")`);
}

/**
 * Translates one entity. Never throws for a config that passed `config.ts`'s shape: what cannot be
 * translated is skipped or made read-only with a note naming the entity and the reason.
 */
export function translateEntity(component: string, config: EntityConfig, ctx: EntityContext): EntityTranslation {
  switch (component) {
    case 'number':
      return numberEntity(config, ctx);
    case 'switch':
      return switchEntity(config, ctx, true);
    case 'binary_sensor':
      return switchEntity({ ...config, command_topic: undefined }, ctx, false);
    case 'select':
      return selectEntity(config, ctx);
    case 'text':
      return textEntity(config, ctx);
    case 'sensor':
      return sensorEntity(config, ctx);
    case 'button':
      return buttonEntity(config, ctx);
    case 'light':
      return lightEntity(config, ctx);
    default:
      return skipped(ctx.what, `component "${component}" is not supported`);
  }
}
