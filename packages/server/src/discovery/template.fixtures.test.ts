/**
 * Real-world templates, from the projects that publish Home Assistant discovery configs (each
 * group cites the repository and file the templates come from), with payloads of the shape those
 * devices publish. Every expected output was also checked against Jinja 3.1.6 with Home
 * Assistant's filters (see template.test.ts). The last group holds real templates that are
 * outside the subset: they must not compile, with a reason naming why.
 */
import { describe, expect, it } from 'vitest';
import { compileTemplate, type TemplateVariables } from './template.js';

function render(source: string, variables: TemplateVariables): string {
  const r = compileTemplate(source);
  if (!r.ok) throw new Error(`does not compile: ${r.reason}`);
  return r.template.render(variables);
}

const v = (value: string): TemplateVariables => ({ value });

/**
 * Home Assistant gives some command templates a number as `value` (a fan's percentage, a number's
 * value). `TemplateVariables` types `value` as text, so this passes a number the way a caller
 * would have to today; the interpreter takes any JSON value.
 */
const n = (value: number): TemplateVariables => ({ value }) as unknown as TemplateVariables;

type Row = [source: string, variables: TemplateVariables, expected: string];

describe('real-world templates', () => {
  // EMS-ESP: emsesp/EMS-ESP32 src/core/mqtt.cpp (val_tpl `{{<obj> if <cond> else <sample>}}`, the climate mode_stat_tpl, the availability val_tpl `{{'online' if <cond> else 'offline'}}`), src/core/shower.cpp (duration) and src/web/WebCustomEntityService.cpp (`{{<obj> if <cond>}}`, no else).
  describe('EMS-ESP', () => {
    it.each<Row>([
      [
        "{{value_json['curflowtemp'] if value_json['curflowtemp'] is defined else 0}}",
        v('{"curflowtemp":48.5,"heatingactive":"on"}'),
        '48.5',
      ],
      [
        "{{value_json['curflowtemp'] if value_json['curflowtemp'] is defined else 0}}",
        v('{"heatingactive":"on"}'),
        '0',
      ],
      ["{{value_json['wwseltemp'] if value_json['wwseltemp'] is defined else 0}}", v('{"wwseltemp":60}'), '60'],
      [
        "{{value_json['heatingactive'] if value_json['heatingactive'] is defined else false}}",
        v('{"heatingactive":true}'),
        'True',
      ],
      ["{{value_json['mode'] if value_json['mode'] is defined else 'manual'}}", v('{"mode":"auto"}'), 'auto'],
      [
        "{{value_json['hc1']['seltemp'] if value_json.hc1 is defined and value_json['hc1']['seltemp'] is defined else 0}}",
        v('{"hc1":{"seltemp":21.5,"currtemp":20.1,"mode":"auto"}}'),
        '21.5',
      ],
      [
        "{{value_json['hc1']['seltemp'] if value_json.hc1 is defined and value_json['hc1']['seltemp'] is defined else 0}}",
        v('{"hc2":{}}'),
        '0',
      ],
      ["{{'online' if value_json['curflowtemp'] is defined else 'offline'}}", v('{"curflowtemp":48.5}'), 'online'],
      ["{{'online' if value_json['curflowtemp'] is defined else 'offline'}}", v('{}'), 'offline'],
      ["{{'offline' if value_json.hc1 is undefined else 'online'}}", v('{"hc1":{}}'), 'online'],
      [
        "{%if value_json.mode is undefined%}off{%elif value_json.mode=='manual'%}heat{%elif value_json.mode=='day'%}heat{%elif value_json.mode=='night'%}off{%elif value_json.mode=='off'%}off{%else%}auto{%endif%}",
        v('{"mode":"day"}'),
        'heat',
      ],
      [
        "{%if value_json.mode is undefined%}off{%elif value_json.mode=='manual'%}heat{%elif value_json.mode=='day'%}heat{%elif value_json.mode=='night'%}off{%elif value_json.mode=='off'%}off{%else%}auto{%endif%}",
        v('{"mode":"auto"}'),
        'auto',
      ],
      [
        "{%if value_json.mode is undefined%}off{%elif value_json.mode=='manual'%}heat{%elif value_json.mode=='day'%}heat{%elif value_json.mode=='night'%}off{%elif value_json.mode=='off'%}off{%else%}auto{%endif%}",
        v('{}'),
        'off',
      ],
      [
        '{{value_json.duration if value_json.duration is defined else 0}}',
        v('{"duration":"4 minutes 12 seconds"}'),
        '4 minutes 12 seconds',
      ],
      ["{{value_json['myentity'] if value_json['myentity'] is defined}}", v('{"other":1}'), ''],
    ])('%j with %j renders %j', (source, variables, expected) => {
      expect(render(source, variables)).toBe(expected);
    });
  });

  // Zigbee2MQTT: Koenkk/zigbee2mqtt lib/extension/homeassistant.ts: `{{ value_json["<property>"] }}` for every expose, binary switches, the cover state, the emulated fan speed (dict literals), the fan preset, the text sensor's truncate, bridge entities, availability, the siren command_template with its variables, the cover set_position_template.
  describe('Zigbee2MQTT', () => {
    it.each<Row>([
      ['{{ value_json["brightness"] }}', v('{"brightness":254,"state":"ON","linkquality":120}'), '254'],
      ['{{ value_json["state"] }}', v('{"brightness":254,"state":"ON"}'), 'ON'],
      [
        '{{ value_json["occupied_heating_setpoint"] }}',
        v('{"occupied_heating_setpoint":21.5,"local_temperature":20}'),
        '21.5',
      ],
      ['{% if value_json["child_lock"] %}true{% else %}false{% endif %}', v('{"child_lock":false}'), 'false'],
      [
        '{% if "running" in value_json and value_json["running"] %} {% if value_json["position"] > 0 %} closing {% else %} opening {% endif %} {% else %} stopped {% endif %}',
        v('{"running":true,"position":40}'),
        'closing',
      ],
      [
        '{% if "running" in value_json and value_json["running"] %} {% if value_json["position"] > 0 %} closing {% else %} opening {% endif %} {% else %} stopped {% endif %}',
        v('{"position":40}'),
        'stopped',
      ],
      [
        '{% if "motor_state" in value_json and value_json["motor_state"] %} {{ value_json["motor_state"] }} {% else %} stopped {% endif %}',
        v('{"motor_state":"opening"}'),
        'opening',
      ],
      [
        "{{ {'off':0, 'low':1, 'medium':2, 'high':3}[value_json[\"fan_mode\"]] | default('None') }}",
        v('{"fan_mode":"medium"}'),
        '2',
      ],
      ["{{ {0:'off', 1:'low', 2:'medium', 3:'high'}[value] | default('') }}", n(3), 'high'],
      [
        "{{ value_json[\"fan_mode\"] if value_json[\"fan_mode\"] in ['auto', 'smart'] else 'None' | default('None') }}",
        v('{"fan_mode":"smart"}'),
        'smart',
      ],
      [
        "{{ value_json[\"fan_mode\"] if value_json[\"fan_mode\"] in ['auto', 'smart'] else 'None' | default('None') }}",
        v('{"fan_mode":"low"}'),
        'None',
      ],
      ['{{ value_json["speed"] | default(\'None\') }}', v('{}'), 'None'],
      ["{{ value | default('') }}", n(40), '40'],
      [
        "{{ value_json[\"action\"] | default('',True) | string | truncate(254, True, '', 0) }}",
        v('{"action":null}'),
        '',
      ],
      [
        "{{ value_json[\"action\"] | default('',True) | string | truncate(254, True, '', 0) }}",
        v('{"action":"single"}'),
        'single',
      ],
      ['{{ value_json.last_seen }}', v('{"last_seen":"2024-01-01T10:00:00Z"}'), '2024-01-01T10:00:00Z'],
      ['{{ value_json.log_level | lower }}', v('{"log_level":"INFO"}'), 'info'],
      [
        '{"options": {"advanced": {"log_level": "{{ value }}" } } }',
        v('debug'),
        '{"options": {"advanced": {"log_level": "debug" } } }',
      ],
      ['{{ value_json.permit_join | lower }}', v('{"permit_join":true}'), 'true'],
      ['{{ value_json.state }}', v('{"state":"online"}'), 'online'],
      ['{{ "offline" }}', v('{"state":"online"}'), 'offline'],
      ['{{ value_json.coordinator.meta.revision }}', v('{"coordinator":{"meta":{"revision":20230507}}}'), '20230507'],
      ['{{ value_json.data.value | tojson }}', v('{"data":{"value":{"b":1,"a":[true]}}}'), '{"a": [true], "b": 1}'],
      [
        '{"warning": {"mode": "{{ tone | default(\'emergency\') }}", "level": "{% if volume_level is defined %}{% if volume_level | float <= 0.25 %}low{% elif volume_level | float <= 0.5 %}medium{% elif volume_level | float <= 0.75 %}high{% else %}very_high{% endif %}{% else %}medium{% endif %}", "duration": {{ duration | default(10) }}}}',
        { tone: 'burglar', volume_level: 0.6 },
        '{"warning": {"mode": "burglar", "level": "high", "duration": 10}}',
      ],
      [
        '{"warning": {"mode": "{{ tone | default(\'emergency\') }}", "level": "{% if volume_level is defined %}{% if volume_level | float <= 0.25 %}low{% elif volume_level | float <= 0.5 %}medium{% elif volume_level | float <= 0.75 %}high{% else %}very_high{% endif %}{% else %}medium{% endif %}", "duration": {{ duration | default(10) }}}}',
        {},
        '{"warning": {"mode": "emergency", "level": "medium", "duration": 10}}',
      ],
    ])('%j with %j renders %j', (source, variables, expected) => {
      expect(render(source, variables)).toBe(expected);
    });
  });

  // Tasmota: arendst/Tasmota tasmota/tasmota_xdrv_driver/xdrv_12_home_assistant.ino (relays: `{{value_json.POWER}}`, sensors: `{{value_json['%s']['%s']}}`).
  describe('Tasmota', () => {
    it.each<Row>([
      ['{ "position": {{ position }} }', { position: 30 }, '{ "position": 30 }'],
      ['{{value_json.POWER}}', v('{"Time":"2020-12-20T16:56:31","POWER":"ON"}'), 'ON'],
      ["{{value_json['ENERGY']['Power']}}", v('{"Time":"x","ENERGY":{"Total":1.234,"Power":42,"Voltage":230}}'), '42'],
    ])('%j with %j renders %j', (source, variables, expected) => {
      expect(render(source, variables)).toBe(expected);
    });
  });

  // ESPHome: esphome/esphome esphome/components/mqtt/mqtt_cover.cpp (JSON mode: `{{ value_json.state }}`, `{{ value_json.position }}`); ESPHome's other entities publish plain values and send no template.
  describe('ESPHome', () => {
    it.each<Row>([
      ["{{value_json['POWER']}}", v('{"POWER":"OFF"}'), 'OFF'],
      ['{{ value_json.state }}', v('{"state":"open","position":100}'), 'open'],
    ])('%j with %j renders %j', (source, variables, expected) => {
      expect(render(source, variables)).toBe(expected);
    });
  });

  // Shelly (ha-shellies-discovery-gen2): bieniu/ha-shellies-discovery-gen2 python_scripts/shellies_discovery_gen2.py (TPL_POWER, TPL_POWER_FACTOR, TPL_CLOUD, TPL_PRESENCE, TPL_FIRMWARE_BETA, TPL_EVENT after its `^` → `"` and `{input_id}` substitutions, TPL_MQTT_CONNECTED).
  describe('Shelly (ha-shellies-discovery-gen2)', () => {
    it.each<Row>([
      ['{{ value_json.position }}', v('{"state":"open","position":100}'), '100'],
      ['{{value_json.apower}}', v('{"id":0,"apower":12.5,"voltage":230.1}'), '12.5'],
      ['{{value_json.pf*100}}', v('{"pf":0.93}'), '93.0'],
      ['{%if value_json.cloud.connected%}ON{%else%}OFF{%endif%}', v('{"cloud":{"connected":true}}'), 'ON'],
      ['{%if value_json.num_objects > 0%}ON{%else%}OFF{%endif%}', v('{"num_objects":0}'), 'OFF'],
      [
        '{%if value_json.sys.available_updates.beta is defined%}{{value_json.sys.available_updates.beta.version}}{%else%}{{value_json.sys.installed_version}}{%endif%}',
        v('{"sys":{"installed_version":"1.4.2","available_updates":{}}}'),
        '1.4.2',
      ],
      [
        '{%if value_json.params.events.0.id==0%}{{{"event_type":value_json.params.events.0.event}|to_json}}{%endif%}',
        v('{"params":{"events":[{"id":0,"event":"single_push"}]}}'),
        '{"event_type":"single_push"}',
      ],
    ])('%j with %j renders %j', (source, variables, expected) => {
      expect(render(source, variables)).toBe(expected);
    });
  });

  // Home Assistant's own docs and hand-written configs: www.home-assistant.io/integrations/number.mqtt/
  // (command_template), /template-functions/round (`| round(1)`), /template-functions/float.
  describe("Home Assistant's MQTT docs and common hand-written configs", () => {
    it.each<Row>([
      ['{%if value_json.mqtt.connected%}online{%else%}offline{%endif%}', v('{"mqtt":{"connected":false}}'), 'offline'],
      ['{"brightness": {{ value }}}', v('128'), '{"brightness": 128}'],
      ['{{ value | int }}', v('21'), '21'],
      ['{{ value_json.temperature | round(1) }}', v('{"temperature": 21.456}'), '21.5'],
      ['{{ (value_json.linkquality | float) }}', v('{"linkquality": 120}'), '120.0'],
    ])('%j with %j renders %j', (source, variables, expected) => {
      expect(render(source, variables)).toBe(expected);
    });
  });
});

describe('real-world templates outside the subset', () => {
  it.each([
    // Koenkk/zigbee2mqtt lib/extension/homeassistant.ts getActionValueTemplate(): set, namespace, for.
    [
      '{% set patterns = [\n{"pattern": \'^(?P<button>(?:button_)?[a-z0-9]+)_(?P<action>(?:press|hold))(?:_release)?$\', "groups": ["button", "action"]}\n] %}\n{% set action_value = value_json.action|default(\'\') %}',
      '{% set %} is not supported',
    ],
    // Koenkk/zigbee2mqtt lib/extension/homeassistant.ts: the climate action_template.
    [
      "{% set values = {None:None,'idle':'idle','heat':'heating','cool':'cooling','fan_only':'fan'} %}{{ values[value_json[\"running_state\"]] }}",
      '{% set %} is not supported',
    ],
    // Koenkk/zigbee2mqtt lib/extension/homeassistant.ts: the update entity (a dict method call).
    [
      "{\"latest_version\":\"{{ value_json['update']['latest_version'] }}\",\"update_percentage\":{{ value_json['update'].get('progress', 'null') }}}",
      'calling methods (.get(…)) is not supported',
    ],
    // Koenkk/zigbee2mqtt lib/extension/homeassistant.ts: the bridge's last restart sensor.
    ["{{ now().strftime('%Y-%m-%d %H:%M:%S') }}", "'now' is not supported"],
    // bieniu/ha-shellies-discovery-gen2 TPL_FIRMWARE_STABLE_ATTRS.
    ['{{value_json.available_updates.get("stable",{})|to_json}}', 'calling methods (.get(…)) is not supported'],
    // EMS-ESP docs (emsesp/docs Home-Assistant.md): a template sensor on Home Assistant's state.
    [
      '{{ as_timestamp(states.sensor.last_shower_duration.last_updated) | int | timestamp_custom("%H:%M on %a %-d %b") }}',
      'calling functions (as_timestamp(…)) is not supported',
    ],
    // koson/esp-home-iot ha_mqtt_discovery.md: a string method.
    ["{{value.split(';')[0]}}", 'calling methods (.split(…)) is not supported'],
  ])('%j', (source, message) => {
    const r = compileTemplate(source);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain(message);
  });
});
