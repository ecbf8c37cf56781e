/**
 * Device descriptions shared by the tests.
 * @module
 */
import { fileURLToPath } from 'node:url';
import { defineDevice } from '@live-device-form/server';

/** The example description of the demo's video processor. */
export const VIDEOPROC_FILE = fileURLToPath(new URL('../../server/examples/videoproc.json', import.meta.url));

/** Its topics, for witnesses and simulated devices. */
export const VP = {
  online: 'cy-vp4/status/online',
  genlockStatus: 'cy-vp4/videoproc/status/volatile/genlock_phase',
  genlockSet: 'cy-vp4/videoproc/action/set/genlock',
  freezeStatus: 'cy-vp4/videoproc/status/freeze',
  freezeSet: 'cy-vp4/videoproc/action/set/freeze',
  formatStatus: 'cy-vp4/videoproc/status/output_format',
  formatSet: 'cy-vp4/videoproc/action/set/output_format',
  brightnessStatus: 'cy-vp4/videoproc/status/brightness',
  brightnessSet: 'cy-vp4/videoproc/action/set/brightness',
  delayStatus: 'cy-vp4/audio/status/delay',
  delaySet: 'cy-vp4/audio/action/set/delay',
  inputStatus: 'cy-vp4/videoproc/status/input_signal',
} as const;

/** A small composite device in TypeScript, unique per test run so parallel suites do not mix. */
export function genlockDevice(prefix: string) {
  return defineDevice({
    id: 'genlock',
    availability: { topic: `${prefix}/online`, online: '1', offline: '0' },
    topics: [
      { status: `${prefix}/status/phase`, pattern: '{h} {v}', set: `${prefix}/set/phase`, template: 'genlock {h} {v}' },
      { status: `${prefix}/status/name`, pattern: '{name}', set: `${prefix}/set/name`, template: 'name {name};' },
    ],
    fields: {
      h: { label: 'H', type: 'integer', min: -512, max: 511, writable: true },
      v: { label: 'V', type: 'integer', min: -512, max: 511, writable: true },
      name: { label: 'Name', type: 'text', maxLength: 32, writable: true },
    },
  });
}
