/**
 * The discovery sources by name, as the CLI's `--discover NAME[=BASE]` takes them
 * (docs/discovery.md).
 * @module
 */
import { homeAssistant } from './home-assistant/index.js';
import { homie } from './homie/source.js';
import type { DeviceSourceFactory } from './source.js';
import { zigbee2mqtt } from './zigbee2mqtt/source.js';

/** Source name → its factory, given the base topic (prefix) or `undefined` for the default. */
export const DISCOVERY_SOURCES: Readonly<Record<string, (base: string | undefined) => DeviceSourceFactory>> =
  Object.freeze({
    homeassistant: (base) => homeAssistant(base === undefined ? {} : { prefix: base }),
    zigbee2mqtt: (base) => zigbee2mqtt(base === undefined ? {} : { base }),
    homie: (base) => homie(base === undefined ? {} : { base }),
  });
