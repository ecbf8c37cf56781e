/**
 * Zero-config devices (docs/discovery.md): `createDiscovery` and its sources. One concept per file:
 *
 * - `source.ts`: the `DeviceSource` interface every source implements;
 * - `discovery.ts`: the runner (one MQTT client, limits, checks, a bridge per device);
 * - `topic-filter.ts`: MQTT topic filter matching;
 * - `template.ts`: the safe Jinja subset of Home Assistant's templates;
 * - `naming.ts`: device ids and field names from what devices call themselves;
 * - `home-assistant/`, `zigbee2mqtt/`, `homie/`: the sources;
 * - `sources.ts`: the sources by name, for the CLI.
 * @module
 */
export { createDiscovery, DISCOVERY_DEFAULTS } from './discovery.js';
export type { DiscoveredDeviceInfo, Discovery, DiscoveryEvents, DiscoveryOptions } from './discovery.js';
export type { DeviceChange, DeviceSource, DeviceSourceContext, DeviceSourceFactory } from './source.js';
export { HOME_ASSISTANT_DEFAULTS, homeAssistant } from './home-assistant/index.js';
export type { HomeAssistantOptions } from './home-assistant/index.js';
export { ZIGBEE2MQTT_DEFAULTS, zigbee2mqtt } from './zigbee2mqtt/source.js';
export type { Zigbee2mqttOptions } from './zigbee2mqtt/source.js';
export { HOMIE_DEFAULTS, homie } from './homie/source.js';
export type { HomieOptions } from './homie/source.js';
export { compileTemplate, TemplateError } from './template.js';
export type { CompiledTemplate, CompileResult, TemplateVariables } from './template.js';
export { DISCOVERY_SOURCES } from './sources.js';
