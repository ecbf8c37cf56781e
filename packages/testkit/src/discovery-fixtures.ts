/**
 * Real-world discovery payloads (each group cites where it came from), shared by the sources' unit
 * tests (`packages/server/src/discovery/{home-assistant,zigbee2mqtt,homie}/source.test.ts`) and the
 * integration tests on a real Mosquitto, so both read the same bytes. Treat them as read-only:
 * clone one (`JSON.parse(JSON.stringify(x))`) before changing it.
 * @module
 */

/** One retained discovery message: its topic and payload (UTF-8 text). */
export interface DiscoveryMessage {
  topic: string;
  payload: string;
}

const j = (o: unknown): string => JSON.stringify(o);

// === Home Assistant MQTT discovery ============================================================

// --- ESPHome ---------------------------------------------------------------------------------
// The select and the switch are ESPHome 2026.7.4's own configs for a Panasonic air conditioner
// ("pac-1d797c", device dc1ed51d797c), as quoted verbatim in FHEM's MQTT2_DISCOVERY tests
// (subtest "ESPHome-PAC behaelt bestehende Setter und ergaenzt Climate vollstaendig"). The number,
// sensor and button of the same node are written in exactly the key layout ESPHome publishes
// (esphome/components/mqtt/mqtt_number.cpp, mqtt_sensor.cpp, mqtt_button.cpp): compare the captured
// sensor "garagedoor1/sensor/garage_temperature" (ESPHome 2026.8.0) and button "zima/start_hp"
// (ESPHome 2024.1.0-dev) quoted in public test suites; their names and values are ours.
const espDev = { ids: 'dc1ed51d797c', name: 'pac-1d797c', sw: '2026.7.4', mdl: 'esp32-c3-devkitm-1', mf: 'Espressif' };
/** An ESPHome node (Panasonic air conditioner): select, switch, number, sensor and button, per-entity configs with abbreviated keys. */
export const HA_ESPHOME: readonly DiscoveryMessage[] = [
  {
    topic: 'homeassistant/select/pac-1d797c/pac_vertical_swing_mode/config',
    payload: j({
      ops: ['swing', 'auto', 'up', 'up_center', 'center', 'down_center', 'down'],
      name: 'pac vertical swing mode',
      stat_t: 'pac-1d797c/state/vertical_swing_mode',
      cmd_t: 'pac-1d797c/command/vertical_swing_mode',
      avty_t: 'pac-1d797c/status',
      uniq_id: 'dc1ed51d797c-select-760edd2a',
      dev: espDev,
    }),
  },
  {
    topic: 'homeassistant/switch/pac-1d797c/pac_mild_dry_switch/config',
    payload: j({
      name: 'pac mild dry switch',
      stat_t: 'pac-1d797c/state/mild_dry',
      cmd_t: 'pac-1d797c/command/mild_dry',
      avty_t: 'pac-1d797c/status',
      uniq_id: 'dc1ed51d797c-switch-daa26a14',
      dev: espDev,
    }),
  },
  {
    topic: 'homeassistant/number/pac-1d797c/pac_fan_speed_limit/config',
    payload: j({
      unit_of_meas: '%',
      min: 20,
      max: 100,
      step: 5,
      mode: 'slider',
      name: 'pac fan speed limit',
      stat_t: 'pac-1d797c/number/pac_fan_speed_limit/state',
      cmd_t: 'pac-1d797c/number/pac_fan_speed_limit/command',
      avty_t: 'pac-1d797c/status',
      uniq_id: 'dc1ed51d797c-number-3a1f9c02',
      dev: espDev,
    }),
  },
  {
    topic: 'homeassistant/sensor/pac-1d797c/pac_outside_temperature/config',
    payload: j({
      sug_dsp_prc: 1,
      unit_of_meas: '°C',
      stat_cla: 'measurement',
      name: 'pac outside temperature',
      dev_cla: 'temperature',
      stat_t: 'pac-1d797c/sensor/pac_outside_temperature/state',
      avty_t: 'pac-1d797c/status',
      uniq_id: 'dc1ed51d797c-sensor-5b2e7d11',
      dev: espDev,
    }),
  },
  {
    topic: 'homeassistant/button/pac-1d797c/pac_restart/config',
    payload: j({
      dev_cla: 'restart',
      ent_cat: 'config',
      name: 'pac restart',
      cmd_t: 'pac-1d797c/button/pac_restart/command',
      avty_t: 'pac-1d797c/status',
      uniq_id: 'dc1ed51d797c-button-ba0e8e32',
      dev: espDev,
    }),
  },
];

// --- Home Assistant's own examples -----------------------------------------------------------
// The device-based discovery example of https://www.home-assistant.io/integrations/mqtt/
// ("Device discovery payload"), abbreviations (dev, o, cmps, p, ids, mf, mdl, sw, sn, hw) and
// value templates as published there.
/** Home Assistant's device-based discovery example (`cmps`, abbreviations, value templates on a shared JSON state topic). */
export const HA_DEVICE_BASED: DiscoveryMessage = {
  topic: 'homeassistant/device/0AFFD2/config',
  payload: j({
    dev: {
      ids: 'ea334450945afc',
      name: 'Kitchen',
      mf: 'Bla electronics',
      mdl: 'xya',
      sw: '1.0',
      sn: 'ea334450945afc',
      hw: '1.0rev2',
    },
    o: { name: 'bla2mqtt', sw: '2.1', url: 'https://bla2mqtt.example.com/support' },
    cmps: {
      some_unique_component_id1: {
        p: 'sensor',
        device_class: 'temperature',
        unit_of_measurement: '°C',
        value_template: '{{ value_json.temperature}}',
        unique_id: 'temp01ae_t',
      },
      some_unique_id2: {
        p: 'sensor',
        device_class: 'humidity',
        unit_of_measurement: '%',
        value_template: '{{ value_json.humidity}}',
        unique_id: 'temp01ae_h',
      },
    },
    state_topic: 'sensorBedroom/state',
    qos: 2,
  }),
};

// The same page's "Using abbreviations and base topic" light: `~`, abbreviated keys, JSON schema.
/** Home Assistant's "abbreviations and base topic" JSON-schema light (`~`). */
export const HA_ABBREVIATED_LIGHT: DiscoveryMessage = {
  topic: 'homeassistant/light/kitchen/config',
  payload: j({
    '~': 'homeassistant/light/kitchen',
    name: 'Kitchen',
    uniq_id: 'kitchen_light',
    cmd_t: '~/set',
    stat_t: '~/state',
    schema: 'json',
    brightness: true,
  }),
};

// --- Zigbee2MQTT's Home Assistant output -----------------------------------------------------
// Verbatim from Koenkk/zigbee2mqtt test/extensions/homeassistant.test.ts (the expected discovery
// payloads; `origin.sw` is the Zigbee2MQTT version there): the dimmable Sengled bulb
// ("Should discover devices and groups"), the Bosch BTH-RA thermostat's writable PI heating demand
// number and its climate entity ("Should discover thermostat devices with writable PI heating demand",
// "Should discover Bosch BTH-RA with a compatibility mapping"), and the BMCT-SLZ device_mode select
// ("Should publish discovery message when a converter announces changed exposes").
const z2mOrigin = { name: 'Zigbee2MQTT', sw: '2.6.0', url: 'https://www.zigbee2mqtt.io' };
const z2mAvailability = [{ topic: 'zigbee2mqtt/bridge/state', value_template: '{{ value_json.state }}' }];
const bthRa = {
  identifiers: ['zigbee2mqtt_0x18fc2600000d7ae2'],
  manufacturer: 'Bosch',
  model: 'Radiator thermostat II',
  model_id: 'BTH-RA',
  name: 'bosch_radiator',
  sw_version: '3.05.09',
  via_device: 'zigbee2mqtt_bridge_0x00124b00120144ae',
};
/** Zigbee2MQTT's Home Assistant output: a dimmable bulb, a thermostat's number and climate, a select. */
export const HA_ZIGBEE2MQTT: readonly DiscoveryMessage[] = [
  {
    topic: 'homeassistant/light/0x0017880104e45553/light/config',
    payload: j({
      availability: z2mAvailability,
      brightness: true,
      brightness_scale: 254,
      command_topic: 'zigbee2mqtt/bulb_enddevice/set',
      device: {
        identifiers: ['zigbee2mqtt_0x0017880104e45553'],
        manufacturer: 'Sengled',
        model: 'Element classic (A19)',
        model_id: 'E11-G13',
        name: 'bulb_enddevice',
        via_device: 'zigbee2mqtt_bridge_0x00124b00120144ae',
      },
      name: null,
      object_id: 'bulb_enddevice',
      default_entity_id: 'light.bulb_enddevice',
      origin: z2mOrigin,
      schema: 'json',
      state_topic: 'zigbee2mqtt/bulb_enddevice',
      supported_color_modes: ['brightness'],
      unique_id: '0x0017880104e45553_light_zigbee2mqtt',
    }),
  },
  {
    topic: 'homeassistant/number/0x18fc2600000d7ae2/pi_heating_demand/config',
    payload: j({
      availability: z2mAvailability,
      command_topic: 'zigbee2mqtt/bosch_radiator/set/pi_heating_demand',
      default_entity_id: 'number.bosch_radiator_pi_heating_demand',
      device: bthRa,
      icon: 'mdi:radiator',
      max: 100,
      min: 0,
      name: 'PI heating demand',
      object_id: 'bosch_radiator_pi_heating_demand',
      origin: z2mOrigin,
      state_topic: 'zigbee2mqtt/bosch_radiator',
      unique_id: '0x18fc2600000d7ae2_pi_heating_demand_zigbee2mqtt',
      unit_of_measurement: '%',
      value_template: '{{ value_json["pi_heating_demand"] }}',
    }),
  },
  {
    topic: 'homeassistant/climate/0x18fc2600000d7ae2/climate/config',
    payload: j({
      action_template:
        "{% set values = {None:None,'idle':'idle','heat':'heating','cool':'cooling','fan_only':'fan'} %}{{ values[value_json[\"running_state\"]] }}",
      action_topic: 'zigbee2mqtt/bosch_radiator',
      availability: z2mAvailability,
      current_temperature_template: '{{ value_json["local_temperature"] }}',
      current_temperature_topic: 'zigbee2mqtt/bosch_radiator',
      device: bthRa,
      max_temp: '30',
      min_temp: '5',
      mode_command_template: `{% set values = { 'auto':'schedule','heat':'manual','off':'pause'} %}{"operating_mode": "{{ values[value] if value in values.keys() else 'pause' }}"}`,
      mode_command_topic: 'zigbee2mqtt/bosch_radiator/set',
      mode_state_template:
        "{% set values = {'schedule':'auto','manual':'heat','pause':'off'} %}{% set value = value_json.operating_mode %}{{ values[value] if value in values.keys() else 'off' }}",
      mode_state_topic: 'zigbee2mqtt/bosch_radiator',
      modes: ['off', 'heat', 'auto'],
      name: null,
      object_id: 'bosch_radiator',
      default_entity_id: 'climate.bosch_radiator',
      origin: z2mOrigin,
      temp_step: 0.5,
      temperature_command_topic: 'zigbee2mqtt/bosch_radiator/set/occupied_heating_setpoint',
      temperature_state_template: '{{ value_json["occupied_heating_setpoint"] }}',
      temperature_state_topic: 'zigbee2mqtt/bosch_radiator',
      temperature_unit: 'C',
      unique_id: '0x18fc2600000d7ae2_climate_zigbee2mqtt',
    }),
  },
  {
    topic: 'homeassistant/select/0x18fc26000000cafe/device_mode/config',
    payload: j({
      availability: z2mAvailability,
      command_topic: 'zigbee2mqtt/0x18fc26000000cafe/set/device_mode',
      device: {
        identifiers: ['zigbee2mqtt_0x18fc26000000cafe'],
        manufacturer: 'Bosch',
        model: 'Light/shutter control unit II',
        model_id: 'BMCT-SLZ',
        name: '0x18fc26000000cafe',
        via_device: 'zigbee2mqtt_bridge_0x00124b00120144ae',
      },
      entity_category: 'config',
      icon: 'mdi:tune',
      name: 'Device mode',
      object_id: '0x18fc26000000cafe_device_mode',
      default_entity_id: 'select.0x18fc26000000cafe_device_mode',
      options: ['light', 'shutter', 'disabled'],
      origin: z2mOrigin,
      state_topic: 'zigbee2mqtt/0x18fc26000000cafe',
      unique_id: '0x18fc26000000cafe_device_mode_zigbee2mqtt',
      value_template: '{{ value_json["device_mode"] }}',
    }),
  },
];

// --- EMS-ESP ---------------------------------------------------------------------------------
// From a mosquitto_sub capture of EMS-ESP in emsesp/EMS-ESP32 issue #1360 ("MQTT autodiscovery in
// Domoticz not working"): two numbers of the thermostat sharing the JSON state topic
// ems-esp/thermostat_data, nested value templates, abbreviated keys. The first is verbatim; the
// capture is cut inside the second's val_tpl, whose tail is completed like the first's.
/** Two EMS-ESP thermostat numbers on one JSON state topic, with nested value templates. */
export const HA_EMS_ESP: readonly DiscoveryMessage[] = [
  {
    topic: 'homeassistant/number/ems-esp/thermostat_hc1_seltemp/config',
    payload:
      '{"uniq_id":"thermostat_hc1_selected_room_temperature","obj_id":"thermostat_hc1_selected_room_temperature","cmd_t":"ems-esp/thermostat/hc1/seltemp","mode":"box","step":0.1,"min":0,"max":30,"ic":"mdi:coolant-temperature","stat_t":"ems-esp/thermostat_data","name":"hc1 Selected room temperature","val_tpl":"{{value_json.hc1.seltemp}}","unit_of_meas":"°C","dev":{"ids":["ems-esp-thermostat"]}}',
  },
  {
    topic: 'homeassistant/number/ems-esp/thermostat_hc1_heattemp/config',
    payload:
      '{"uniq_id":"thermostat_hc1_heat_temperature","obj_id":"thermostat_hc1_heat_temperature","cmd_t":"ems-esp/thermostat/hc1/heattemp","mode":"box","step":0.5,"min":0,"max":127,"ic":"mdi:coolant-temperature","stat_t":"ems-esp/thermostat_data","name":"hc1 Heat temperature","val_tpl":"{{value_json.hc1.heattemp}}","unit_of_meas":"°C","dev":{"ids":["ems-esp-thermostat"]}}',
  },
];
// EMS-ESP 3.3's base-topic (`~`) form, verbatim from emsesp/EMS-ESP32 issue #311.
/** EMS-ESP 3.3's base-topic (`~`) form of a sensor. */
export const HA_EMS_ESP_TILDE: DiscoveryMessage = {
  topic: 'homeassistant/sensor/ems-esp/solar_collectortemp/config',
  payload:
    '{"~":"ems-esp","uniq_id":"solar_collectortemp","stat_t":"~/solar_data","name":"Solar collector temperature (TS1)","val_tpl":"{{value_json.collectortemp}}","unit_of_meas":"°C","state_class":"measurement","device_class":"temperature","dev":{"ids":["ems-esp-solar"],"name":"EMS-ESP Solar","mf":"","mdl":"SM10","via_device":"ems-esp"}}',
};

// === Zigbee2MQTT bridge/devices ================================================================

/*
 * Real-world Zigbee2MQTT payloads (fixtures). Where each came from:
 *
 * - Z2M_HUE_LIGHT: the `bridge/devices` entry `hue1` (Philips 9290012573A, "Hue white and color
 *   ambiance E26/E27/E14", a dimmable light with colour temperature and colour), verbatim except
 *   `endpoints` (dropped), from nurikk/zigbee2mqtt-frontend `ws-messages/onConnect.json`
 *   (commit 0a1c912b1ce66ef075c4829a218db20f4a06a41d), a capture of Zigbee2MQTT 1.25.0-dev.
 *   Z2M_HUE_STATE is the `hue1` state message of the same capture.
 * - Z2M_IKEA_STATE: the LED1545G12 state example of zigbee2mqtt.io
 *   `docs/guide/usage/mqtt_topics_and_messages.md` ("zigbee2mqtt/FRIENDLY_NAME").
 * - Z2M_DANFOSS_TRV: Danfoss 014G2461 (Ally thermostat, a TRV with the climate features), rebuilt from
 *   its generated device page zigbee2mqtt.io `docs/devices/014G2461.md` (commit
 *   00c0af2cc2a86ed9d271dc530265e0e9d8dc327a): each expose's type, property, access (published /
 *   `/get` / `/set` as the page states them), range, unit, values and description as listed there;
 *   the setpoint's `value_step` 0.5, not on the page, from zigbee-herdsman-converters' Danfoss
 *   definition (`climate().withSetpoint('occupied_heating_setpoint', 5, 32, 0.5)`). A subset of its
 *   exposes (battery, keypad_lockout, climate, window_open_external, trigger_time, linkquality).
 * - Z2M_COORDINATOR and Z2M_UNSUPPORTED: the `Coordinator` and `my_sensor` (`definition: null`) entries of
 *   the `bridge/devices` example in `docs/guide/usage/mqtt_topics_and_messages.md`.
 */

/** A `bridge/devices` entry: a Philips Hue colour light (`hue1`), dimmable, with colour composites. */
export const Z2M_HUE_LIGHT = {
  date_code: '20191218',
  definition: {
    description: 'Hue white and color ambiance E26/E27/E14',
    exposes: [
      {
        features: [
          {
            access: 7,
            description: 'On/off state of this light',
            name: 'state',
            property: 'state',
            type: 'binary',
            value_off: 'OFF',
            value_on: 'ON',
            value_toggle: 'TOGGLE',
          },
          {
            access: 7,
            description: 'Brightness of this light',
            name: 'brightness',
            property: 'brightness',
            type: 'numeric',
            value_max: 254,
            value_min: 0,
          },
          {
            access: 7,
            description: 'Color temperature of this light',
            name: 'color_temp',
            presets: [
              { description: 'Coolest temperature supported', name: 'coolest', value: 153 },
              { description: 'Cool temperature (250 mireds / 4000 Kelvin)', name: 'cool', value: 250 },
              { description: 'Neutral temperature (370 mireds / 2700 Kelvin)', name: 'neutral', value: 370 },
              { description: 'Warm temperature (454 mireds / 2200 Kelvin)', name: 'warm', value: 454 },
              { description: 'Warmest temperature supported', name: 'warmest', value: 500 },
            ],
            property: 'color_temp',
            type: 'numeric',
            unit: 'mired',
            value_max: 500,
            value_min: 153,
          },
          {
            access: 7,
            description: 'Color temperature after cold power on of this light',
            name: 'color_temp_startup',
            presets: [
              { description: 'Coolest temperature supported', name: 'coolest', value: 153 },
              { description: 'Cool temperature (250 mireds / 4000 Kelvin)', name: 'cool', value: 250 },
              { description: 'Neutral temperature (370 mireds / 2700 Kelvin)', name: 'neutral', value: 370 },
              { description: 'Warm temperature (454 mireds / 2200 Kelvin)', name: 'warm', value: 454 },
              { description: 'Warmest temperature supported', name: 'warmest', value: 500 },
              { description: 'Restore previous color_temp on cold power on', name: 'previous', value: 65535 },
            ],
            property: 'color_temp_startup',
            type: 'numeric',
            unit: 'mired',
            value_max: 500,
            value_min: 153,
          },
          {
            description: 'Color of this light in the CIE 1931 color space (x/y)',
            features: [
              { access: 7, name: 'x', property: 'x', type: 'numeric' },
              { access: 7, name: 'y', property: 'y', type: 'numeric' },
            ],
            name: 'color_xy',
            property: 'color',
            type: 'composite',
          },
          {
            description: 'Color of this light expressed as hue/saturation',
            features: [
              { access: 7, name: 'hue', property: 'hue', type: 'numeric' },
              { access: 7, name: 'saturation', property: 'saturation', type: 'numeric' },
            ],
            name: 'color_hs',
            property: 'color',
            type: 'composite',
          },
        ],
        type: 'light',
      },
      {
        access: 2,
        description: 'Triggers an effect on the light (e.g. make light blink for a few seconds)',
        name: 'effect',
        property: 'effect',
        type: 'enum',
        values: ['blink', 'breathe', 'okay', 'channel_change', 'finish_effect', 'stop_effect'],
      },
      {
        access: 1,
        description: 'Link quality (signal strength)',
        name: 'linkquality',
        property: 'linkquality',
        type: 'numeric',
        unit: 'lqi',
        value_max: 255,
        value_min: 0,
      },
    ],
    model: '9290012573A',
    options: [],
    supports_ota: true,
    vendor: 'Philips',
  },
  description: 'descr',
  friendly_name: 'hue1',
  ieee_address: '0x0017880104292f0a',
  interview_completed: true,
  interviewing: false,
  manufacturer: 'Philips',
  model_id: 'LCT016',
  network_address: 8043,
  power_source: 'Mains (single phase)',
  software_build_id: '1.50.2_r30933',
  supported: true,
  type: 'Router',
};

/** A state message of `hue1`. */
export const Z2M_HUE_STATE = { color_mode: 'color_temp', color_temp: 200, last_seen: '2021-10-22T08:38:44+08:00' };

/** The IKEA LED1545G12 state example of Zigbee2MQTT's docs. */
export const Z2M_IKEA_STATE = { state: 'ON', brightness: 215, color_temp: 325 };

/** A `bridge/devices` entry: the Danfoss Ally TRV (`living room/radiator`) with its climate features. */
export const Z2M_DANFOSS_TRV = {
  ieee_address: '0x000b57fffe1c2d3e',
  type: 'EndDevice',
  network_address: 4711,
  supported: true,
  friendly_name: 'living room/radiator',
  definition: {
    model: '014G2461',
    vendor: 'Danfoss',
    description: 'Ally thermostat',
    options: [],
    exposes: [
      {
        type: 'numeric',
        name: 'battery',
        property: 'battery',
        access: 1,
        unit: '%',
        value_min: 0,
        value_max: 100,
        description: 'Remaining battery in %',
      },
      {
        type: 'enum',
        name: 'keypad_lockout',
        property: 'keypad_lockout',
        access: 7,
        values: ['unlock', 'lock1', 'lock2'],
        description: 'Enables/disables physical input on the device',
      },
      {
        type: 'climate',
        features: [
          {
            type: 'numeric',
            name: 'occupied_heating_setpoint',
            property: 'occupied_heating_setpoint',
            access: 7,
            value_min: 5,
            value_max: 32,
            value_step: 0.5,
            unit: '°C',
            description: 'Temperature setpoint',
          },
          {
            type: 'numeric',
            name: 'local_temperature',
            property: 'local_temperature',
            access: 5,
            unit: '°C',
            description: 'Current temperature measured on the device (in °C)',
          },
          {
            type: 'numeric',
            name: 'pi_heating_demand',
            property: 'pi_heating_demand',
            access: 5,
            unit: '%',
            value_min: 0,
            value_max: 100,
          },
          {
            type: 'enum',
            name: 'system_mode',
            property: 'system_mode',
            access: 7,
            values: ['heat'],
            description: 'Mode of this device',
          },
          {
            type: 'enum',
            name: 'running_state',
            property: 'running_state',
            access: 5,
            values: ['idle', 'heat'],
            description: 'The current running state',
          },
        ],
      },
      {
        type: 'binary',
        name: 'window_open_external',
        property: 'window_open_external',
        access: 7,
        value_on: true,
        value_off: false,
        description:
          'Set if the window is open or close. This setting will trigger a change in the internal window and heating demand. `false` (windows are closed) or `true` (windows are open)',
      },
      {
        type: 'numeric',
        name: 'trigger_time',
        property: 'trigger_time',
        access: 7,
        value_min: 0,
        value_max: 65535,
        description: 'Exercise trigger time. Minutes since midnight (65535=undefined). Range 0 to 1439',
      },
      {
        type: 'numeric',
        name: 'linkquality',
        property: 'linkquality',
        access: 1,
        unit: 'lqi',
        value_min: 0,
        value_max: 255,
        description: 'Link quality (signal strength)',
      },
    ],
  },
  power_source: 'Battery',
  interviewing: false,
  interview_completed: true,
};

/** The coordinator entry of a `bridge/devices` list (not a device to describe). */
export const Z2M_COORDINATOR = {
  ieee_address: '0x00124b00120144ae',
  type: 'Coordinator',
  network_address: 0,
  supported: false,
  friendly_name: 'Coordinator',
  definition: null,
  power_source: null,
  date_code: null,
  scenes: [],
  model_id: null,
  interviewing: false,
  interview_completed: true,
};

/** An unsupported device entry (`definition: null`). */
export const Z2M_UNSUPPORTED = {
  ieee_address: '0x00169a00022256da',
  type: 'Router',
  network_address: 22160,
  supported: false,
  friendly_name: 'my_sensor',
  definition: null,
  power_source: 'Battery',
  date_code: '04-28-2019',
  model_id: null,
  scenes: [],
  interviewing: false,
  interview_completed: true,
};

// === Homie v5 ==================================================================================

/*
 * Fixtures from the Homie convention, homieiot/convention `convention.md` (v5, commit
 * 063301d6f1548b7ee5869b27f956d0d7d1008405):
 * - HOMIE_SUPER_CAR: the "Devices" example (`super-car`, "Supercar", version 7, nodes wheels, engine and
 *   lights), its `engine` node as in "Nodes" ("Car engine") holding the `temperature` property of
 *   "Properties" (float, `-20:120`, °C), the `wheels` and `lights` nodes left empty as the example
 *   leaves them ("{ ... }").
 * - HOMIE_KITCHEN_LIGHT: the "Property command topic" example (`kitchen-light`, node `light`, a settable
 *   `power` and a dimmable `brightness` 0-100 %), written out as a `$description`.
 * (BREW and DOORBELL, in homie/source.test.ts's hostile test, are the "Settable and retained
 * properties" table's non-retained examples: brew coffee, doorbell pressed.)
 */
/** The Homie v5 convention's `super-car` `$description`. */
export const HOMIE_SUPER_CAR = {
  homie: '5.0',
  name: 'Supercar',
  version: 7,
  nodes: {
    wheels: {},
    engine: {
      name: 'Car engine',
      properties: {
        temperature: { name: 'Engine temperature', unit: '°C', datatype: 'float', format: '-20:120' },
      },
    },
    lights: {},
  },
};

/** The Homie v5 convention's `kitchen-light` `$description` (settable power and brightness). */
export const HOMIE_KITCHEN_LIGHT = {
  homie: '5.0',
  name: 'Kitchen light',
  version: 1,
  nodes: {
    light: {
      name: 'Light',
      properties: {
        power: { name: 'Power', datatype: 'boolean', settable: true },
        brightness: { name: 'Brightness', datatype: 'integer', format: '0:100', unit: '%', settable: true },
      },
    },
  },
};
