/**
 * The Home Assistant MQTT discovery source (docs/discovery.md, "Home Assistant MQTT discovery"):
 * `homeAssistant({ prefix })`, a `DeviceSourceFactory` for `createDiscovery`. One concept per file:
 *
 * - `abbreviations.ts`: Home Assistant's abbreviated keys and their expansion;
 * - `config.ts`: the shape of an expanded entity config, `~` substitution, device-based configs;
 * - `ids.ts`: device ids and field names;
 * - `templates.ts`: how value and command templates are applied;
 * - `components.ts`: component → fields;
 * - `device.ts`: a device's entities → one `DeviceDescription`;
 * - `source.ts`: the source itself (topics, grouping, changes).
 * @module
 */
export { HOME_ASSISTANT_DEFAULTS, homeAssistant } from './source.js';
export type { HomeAssistantOptions } from './source.js';
