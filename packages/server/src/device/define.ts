/**
 * The entry points of device descriptions (docs/devices.md): written in TypeScript with
 * {@link defineDevice}, or as a JSON file of the same shape loaded with {@link loadDeviceFile} /
 * {@link parseDeviceDescription}. Every entry point checks the whole description (`checks.ts`) and
 * names the path of each bad entry, e.g. `fields.genlock_phase_h.min: expected a number`; what
 * passed is frozen and remembered, so a bridge does not check it twice ({@link checkedDevice}).
 *
 * @example
 * const videoproc = defineDevice({
 *   id: 'videoproc',
 *   availability: { topic: 'cy-vp4/status/online', online: '1', offline: '0' },
 *   topics: [{
 *     status: 'cy-vp4/videoproc/status/volatile/genlock_phase', pattern: '{genlock_phase_h} {genlock_phase_v}',
 *     set: 'cy-vp4/videoproc/action/set/genlock', template: 'genlock {genlock_phase_h} {genlock_phase_v}',
 *   }],
 *   fields: {
 *     genlock_phase_h: { label: 'Phase Horizontal', type: 'integer', min: -512, max: 511, writable: true },
 *     genlock_phase_v: { label: 'Phase Vertical', type: 'integer', min: -512, max: 511, writable: true },
 *   },
 * });
 * @module
 */
import { readFile } from 'node:fs/promises';
import { DeviceDescriptionError } from '../errors.js';
import { validate } from './checks.js';
import type {
  AvailabilityDescription,
  AvailabilityListDescription,
  DeviceDescription,
  FieldDescription,
  TopicDescription,
} from './types.js';

/** The result of {@link parseDeviceDescription}. */
export type ParseDeviceResult = { ok: true; device: DeviceDescription } | { ok: false; issues: string[] };

/** Descriptions that passed validation (frozen copies), so a bridge does not check them twice. */
const validated = new WeakSet<object>();

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** A deep copy of plain data; functions (custom codecs) are kept as they are. */
function copy<T>(value: T): T {
  if (Array.isArray(value)) return value.map(copy) as T;
  if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = copy(v);
    return out as T;
  }
  return value;
}

/**
 * Checks a device description written in TypeScript and returns a frozen copy of it. Throws a
 * {@link DeviceDescriptionError} (a `TypeError`) listing every bad entry by path. The field names in
 * custom mappings are checked by the compiler too.
 *
 * @example
 * const lamp = defineDevice({
 *   id: 'lamp',
 *   topics: [{ status: 'lamp/state', set: 'lamp/set', json: { on: '/state' } }],
 *   fields: { on: { label: 'On', type: 'boolean', true: 'ON', false: 'OFF', writable: true } },
 * });
 */
export function defineDevice<const F extends string>(description: {
  id: string;
  availability?: AvailabilityDescription | AvailabilityListDescription;
  topics: readonly TopicDescription<NoInfer<F>>[];
  fields: Readonly<Record<F, FieldDescription>>;
}): DeviceDescription<F> {
  const issues = validate(description, true);
  if (issues.length > 0) throw new DeviceDescriptionError('', issues);
  const frozen = deepFreeze(copy(description)) as DeviceDescription<F>;
  validated.add(frozen);
  return frozen;
}

/**
 * Checks parsed JSON against the description format. Never throws: returns the frozen description,
 * or every problem as a `path: problem` line. Custom codecs are not available in JSON.
 *
 * @example
 * const r = parseDeviceDescription(JSON.parse(text));
 * if (!r.ok) console.error(r.issues.join('\n'));
 */
export function parseDeviceDescription(json: unknown): ParseDeviceResult {
  const issues = validate(json, false);
  if (issues.length > 0) return { ok: false, issues };
  const device = deepFreeze(copy(json)) as DeviceDescription;
  validated.add(device);
  return { ok: true, device };
}

/**
 * Reads and checks a device description file (JSON). Rejects with a {@link DeviceDescriptionError}
 * naming the file and each bad entry, or the read/JSON error.
 */
export async function loadDeviceFile(path: string): Promise<DeviceDescription> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new DeviceDescriptionError(path, [`cannot read the file: ${(err as Error).message}`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new DeviceDescriptionError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  const r = parseDeviceDescription(json);
  if (!r.ok) throw new DeviceDescriptionError(path, r.issues);
  return r.device;
}

/**
 * Returns the description checked and frozen: as it is when it came from {@link defineDevice} or
 * {@link parseDeviceDescription}, else checked now. Throws a {@link DeviceDescriptionError}.
 * @internal
 */
export function checkedDevice<F extends string>(description: DeviceDescription<F>): DeviceDescription<F> {
  if (validated.has(description)) return description;
  return defineDevice(description as Parameters<typeof defineDevice<F>>[0]);
}
