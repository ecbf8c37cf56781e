/**
 * The Homie v5 discovery source (docs/discovery.md, "Homie"): reads each device's retained
 * `<base>/5/<device>/$state` and `$description`. A device exists while both are set (convention,
 * "Device Lifecycle"): it is an `upsert` when both are known and its description is new or changed,
 * a `remove` when either is cleared. Homie v4 (`homie/<device>/$homie`) is not read.
 * @module
 */
import type { Logger } from '../../logger.js';
import { withDefaults } from '../../option-checks.js';
import { DEVICE_ID_PATTERN } from '@live-device-form/protocol';
import type { DeviceChange, DeviceSource, DeviceSourceFactory } from '../source.js';
import { checkBaseTopic } from '../naming.js';
import { describeHomieDevice, HOMIE_ID_PATTERN, type HomieResult } from './description.js';

/** A `$description` that is not JSON. */
const NOT_JSON = Symbol('not JSON');

/** Options of {@link homie}. */
export interface HomieOptions {
  /** The Homie domain, the first topic level (`homie/5/…`). Defaults to `"homie"`. */
  base?: string;
}

/** The defaults of {@link HomieOptions}. */
export const HOMIE_DEFAULTS = Object.freeze({ base: 'homie' });

/**
 * Most devices one Homie source keeps track of (announced or half-announced): a broker flooded with
 * `$state` topics cannot make it grow without bound. Further devices are ignored, with one warning.
 */
export const MAX_HOMIE_DEVICES = 4096;

/** What is known of one device. */
interface Tracked {
  /** Its `$state` payload, if set. */
  state: string | undefined;
  /** Its `$description`, parsed, if set and valid JSON. */
  doc: unknown;
  /** The key of the description last announced, `undefined` when not announced. */
  announced: string | undefined;
}

/**
 * The Homie v5 source: `--discover homie[=BASE]` in the CLI.
 *
 * @example
 * const discovery = createDiscovery({ url: 'mqtt://localhost', sources: [homie()] });
 */
export function homie(options: HomieOptions = {}): DeviceSourceFactory {
  const o = withDefaults(HOMIE_DEFAULTS, options);
  const base = checkBaseTopic('base', o.base);
  return ({ logger }) => new HomieSource(base, logger);
}

/** A description as a comparable string: the functions of its string mappings compare equal. */
function keyOf(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'function' ? 'fn' : v));
}

class HomieSource implements DeviceSource {
  readonly name = 'homie';
  readonly filters: readonly string[];
  readonly topicPrefixes: readonly string[];
  readonly #prefix: string;
  readonly #devices = new Map<string, Tracked>();
  /** What was last logged per device (or topic), so each problem is logged once. */
  readonly #logged = new Map<string, string>();

  constructor(
    private readonly base: string,
    private readonly log: Logger,
  ) {
    this.#prefix = `${base}/5/`;
    this.filters = Object.freeze([`${this.#prefix}+/$state`, `${this.#prefix}+/$description`]);
    this.topicPrefixes = Object.freeze([this.#prefix]);
  }

  receive(topic: string, payload: Buffer): readonly DeviceChange[] {
    if (!topic.startsWith(this.#prefix)) return [];
    const [id, attribute, ...rest] = topic.slice(this.#prefix.length).split('/');
    if (id === undefined || rest.length > 0 || (attribute !== '$state' && attribute !== '$description')) return [];
    if (!HOMIE_ID_PATTERN.test(id) || !DEVICE_ID_PATTERN.test(id)) {
      if (payload.length > 0) this.#warnOnce(`id:${id}`, { device: id }, 'Homie device skipped: not a valid device id');
      return [];
    }
    let t = this.#devices.get(id);
    if (t === undefined) {
      if (payload.length === 0) return [];
      if (this.#devices.size >= MAX_HOMIE_DEVICES) {
        this.#warnOnce('too-many', { limit: MAX_HOMIE_DEVICES }, 'Homie devices over the limit ignored');
        return [];
      }
      t = { state: undefined, doc: undefined, announced: undefined };
      this.#devices.set(id, t);
    }
    if (attribute === '$state') t.state = payload.length === 0 ? undefined : payload.toString('utf8');
    else t.doc = payload.length === 0 ? undefined : this.#parse(payload);
    return this.#update(id, t);
  }

  #parse(payload: Buffer): unknown {
    try {
      return JSON.parse(payload.toString('utf8')) as unknown;
    } catch {
      return NOT_JSON;
    }
  }

  #warnOnce(key: string, obj: Record<string, unknown>, message: string): void {
    const text = `${message}:${JSON.stringify(obj)}`;
    if (this.#logged.get(key) === text) return;
    // Bounded like the devices: a flood of bad ids may repeat a warning, never grow this map.
    if (this.#logged.size >= MAX_HOMIE_DEVICES) this.#logged.clear();
    this.#logged.set(key, text);
    this.log.warn({ source: this.name, ...obj }, message);
  }

  #update(id: string, t: Tracked): DeviceChange[] {
    const gone = (): DeviceChange[] => {
      const was = t.announced !== undefined;
      if (t.state === undefined && t.doc === undefined) this.#devices.delete(id);
      t.announced = undefined;
      return was ? [{ type: 'remove', id }] : [];
    };
    // A device exists once its $state is set; cleared $state or $description removes it.
    if (t.state === undefined || t.doc === undefined) return gone();
    const r: HomieResult =
      t.doc === NOT_JSON
        ? { ok: false, reason: '$description is not valid JSON' }
        : describeHomieDevice(t.doc, { base: this.base, id });
    if (!r.ok) {
      this.#warnOnce(`device:${id}`, { device: id, reason: r.reason }, 'discovered device skipped');
      return gone();
    }
    this.#logged.delete(`device:${id}`);
    const key = keyOf(r.description);
    if (key === t.announced) return [];
    t.announced = key;
    return [{ type: 'upsert', description: r.description, ...(r.notes.length > 0 ? { notes: r.notes } : {}) }];
  }
}
