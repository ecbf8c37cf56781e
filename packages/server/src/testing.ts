/**
 * `@live-device-form/server/testing`: test doubles for your own tests of code that uses the SDK.
 *
 * - {@link MemoryBridge}: an in-memory device (values, availability, echo and write behaviour you
 *   control), so a test needs no broker;
 * - {@link MemoryCatalog}: devices that come and go at run time, added and removed by the test;
 * - {@link recordingLogger}: a logger that keeps every entry, to assert what was logged.
 *
 * @example
 * import { createLiveDeviceServer } from '@live-device-form/server';
 * import { MemoryBridge, recordingLogger } from '@live-device-form/server/testing';
 * const bridge = new MemoryBridge({ id: 'videoproc', schema, values: { genlock_phase_h: -25 } });
 * const live = createLiveDeviceServer({ devices: [bridge], logger: recordingLogger() });
 * @module
 */
export { MemoryBridge } from './memory-bridge.js';
export type { EchoBehaviour, MemoryBridgeOptions, MemoryWrite, WriteBehaviour } from './memory-bridge.js';
export { MemoryCatalog } from './memory-catalog.js';
export type { MemoryCatalogOptions } from './memory-catalog.js';
export { recordingLogger } from './logger.js';
export type { RecordingLogger } from './logger.js';
