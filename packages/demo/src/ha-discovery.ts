/**
 * The simulated video processor's Home Assistant MQTT discovery config, as a firmware would publish
 * it: one device-based config (`homeassistant/device/<id>/config`, HA 2024.11+) with abbreviated
 * keys, built from the device file. Fields with a topic of their own become a `number`, `switch`,
 * `select` or `sensor`; the genlock phases are left out: their one action carries both values
 * (`genlock H V`), which Home Assistant's discovery cannot express (a `command_template` sees only
 * the value written) — the reason hand-written descriptions exist (docs/devices.md).
 * @module
 */
import type { HardwareDevice, Part } from './payload-format.js';

/** The simulated device as Home Assistant sees it: its identifier (the discovered device id) and name. */
export const HA_DEVICE = Object.freeze({ id: 'cy-vp4-0042', name: 'CY-VP4 video processor' });

/** Where the config is published (retained). */
export const HA_DISCOVERY_TOPIC = `homeassistant/device/${HA_DEVICE.id}/config`;

/** A Jinja string literal of `text` (quotes and backslashes escaped). */
const quoted = (text: string): string => `'${text.replace(/[\\']/g, '\\$&')}'`;

/**
 * `{% if value == 'a' %}x{% elif … %}…{% endif %}`: a token ↔ value table as a template. `to` is
 * printed through `{{ … }}`, so a `{` or `%` in it is text, not Jinja.
 */
function lookup(pairs: [string, string][]): string {
  return (
    pairs
      .map(([from, to], i) => `{% ${i === 0 ? 'if' : 'elif'} value == ${quoted(from)} %}{{ ${quoted(to)} }}`)
      .join('') + '{% endif %}'
  );
}

/** A one-field `{field}` template with its slot filled with `slot`: a plain payload. */
function fill(template: Part[], slot: string): string {
  return template.map((p) => ('literal' in p ? p.literal : slot)).join('');
}

/**
 * A one-field `{field}` template as a Jinja command template whose slot is the Jinja `slot`; a
 * literal that Jinja would read as syntax (`{`, `}`, `%`, `#`) is printed as a string.
 */
function jinja(template: Part[], slot: string): string {
  return template
    .map((p) => ('field' in p ? slot : /[{}%#]/.test(p.literal) ? `{{ ${quoted(p.literal)} }}` : p.literal))
    .join('');
}

/** Whether a status pattern is the field's value alone (`{field}`): then no `value_template` is needed. */
const bare = (pattern: Part[]): boolean => pattern.length === 1 && 'field' in pattern[0]!;

/** The discovery config of the simulated device. */
export function videoprocDiscoveryConfig(device: HardwareDevice): Record<string, unknown> {
  const cmps: Record<string, Record<string, unknown>> = {};
  for (const t of device.topics) {
    if (t.fields.length !== 1 || !bare(t.pattern)) continue;
    const f = device.fields.get(t.fields[0]!)!;
    const base = { name: f.label, uniq_id: `${HA_DEVICE.id}-${f.name}`, obj_id: f.name, stat_t: t.status };
    const set = f.writable && t.set && t.template ? { cmd_t: t.set } : undefined;
    if (!set) {
      cmps[f.name] = { p: 'sensor', ...base, ...(f.unit ? { unit_of_meas: f.unit } : {}) };
      continue;
    }
    switch (f.type) {
      case 'number':
      case 'integer':
        cmps[f.name] = {
          p: 'number',
          ...base,
          ...set,
          cmd_tpl: jinja(t.template!, f.type === 'integer' ? '{{ value | int }}' : '{{ value }}'),
          min: f.min,
          max: f.max,
          // Home Assistant's default step is 1, which would make a fine-grained number an integer.
          step: f.step ?? (f.type === 'integer' ? 1 : 0.001),
          mode: 'box',
          ...(f.unit ? { unit_of_meas: f.unit } : {}),
        };
        break;
      case 'boolean':
        cmps[f.name] = {
          p: 'switch',
          ...base,
          ...set,
          pl_on: fill(t.template!, f.trueToken),
          pl_off: fill(t.template!, f.falseToken),
          stat_on: f.trueToken,
          stat_off: f.falseToken,
        };
        break;
      case 'enum':
        cmps[f.name] = {
          p: 'select',
          ...base,
          ...set,
          ops: f.options.map((o) => o.value),
          val_tpl: lookup(f.options.map((o) => [o.token, o.value])),
          cmd_tpl: jinja(t.template!, lookup(f.options.map((o) => [o.value, o.token]))),
        };
        break;
      case 'text':
        cmps[f.name] = { p: 'text', ...base, ...set, cmd_tpl: jinja(t.template!, '{{ value }}'), max: 255 };
        break;
    }
  }
  return {
    dev: { ids: [HA_DEVICE.id], name: HA_DEVICE.name, mf: 'Cyviz', mdl: 'VP4', sw: '4.2.1' },
    o: { name: 'live-device-form demo', sw: '0.0.0' },
    avty_t: device.availability.topic,
    pl_avail: device.availability.online,
    pl_not_avail: device.availability.offline,
    cmps,
  };
}
