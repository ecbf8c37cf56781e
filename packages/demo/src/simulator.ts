/**
 * A simulated cy-vp4 video processor that speaks MQTT like the real hardware: a Last Will on its
 * availability topic, retained status for every field, actions applied (clamped to the limits) and
 * answered with the new retained status, malformed actions ignored. The demo's control panel drives
 * it as someone at the physical front panel would.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';
import { HA_DISCOVERY_TOPIC, videoprocDiscoveryConfig } from './ha-discovery.js';
import {
  type HardwareDevice,
  type HardwareValue,
  VIDEOPROC_FILE,
  clamp,
  format,
  match,
  readDeviceFile,
} from './payload-format.js';

/** Where the simulator is. */
export const SimulatorState = {
  /** Connecting to the broker (first time, after `goOnline()` from `crashed`, or mqtt.js reconnecting). */
  Connecting: 'connecting',
  /** Connected, availability "online": actions are applied. */
  Online: 'online',
  /** Connected, availability "offline" (standby): actions are ignored. */
  Offline: 'offline',
  /** The connection was dropped without a goodbye; the broker published the Will. */
  Crashed: 'crashed',
  /** `close()` was called. */
  Closed: 'closed',
} as const;
export type SimulatorState = (typeof SimulatorState)[keyof typeof SimulatorState];

/** What the simulator tells its listeners. */
export type SimulatorEvent =
  | { type: 'state'; state: SimulatorState }
  | { type: 'change'; values: Record<string, HardwareValue>; cause: 'panel' | 'action' }
  | { type: 'ignored'; topic: string; payload: string; reason: string };

/** Options of {@link startSimulator}. */
export interface SimulatorOptions {
  /** Broker URL. */
  url: string;
  /** The device file. Defaults to the server package's `examples/videoproc.json`. */
  device?: HardwareDevice;
  /** Values to start with, per field; the rest get {@link DEFAULT_VALUES} or a neutral value. */
  initial?: Record<string, HardwareValue>;
  /** MQTT client id. Defaults to `cy-vp4-sim-<random>`. */
  clientId?: string;
  /**
   * Also announce itself over Home Assistant MQTT discovery, as many firmwares do: on every
   * connection the device-based config of `ha-discovery.ts` is published retained on
   * {@link HA_DISCOVERY_TOPIC} before the status. Defaults to `false` (the demo turns it on).
   */
  haDiscovery?: boolean;
}

/** A running simulator. */
export interface Simulator {
  readonly device: HardwareDevice;
  readonly state: SimulatorState;
  /** The values the hardware holds now. */
  readonly values: Readonly<Record<string, HardwareValue>>;
  /**
   * Changes a field as someone at the front panel would (clamped to its limits) and publishes the
   * new retained status; resolves once the broker has it. Throws a `TypeError` for an unknown field
   * or a value of the wrong type. Works in every state but `closed`; while disconnected the status
   * goes out on the next connection.
   */
  set(field: string, value: HardwareValue): Promise<void>;
  /** The device reports "offline" (standby) and ignores actions. */
  goOffline(): Promise<void>;
  /** The device reports "online" again (reconnecting first if it had crashed). */
  goOnline(): Promise<void>;
  /** Drops the connection without a DISCONNECT, so the broker publishes the Last Will ("offline"). */
  crash(): Promise<void>;
  /** Listens to state changes, value changes and ignored actions. Returns the unsubscribe function. */
  subscribe(listener: (event: SimulatorEvent) => void): () => void;
  /** Says "offline" and disconnects cleanly. Safe to call twice. */
  close(): Promise<void>;
}

/** The values of the example device at power-on. */
export const DEFAULT_VALUES: Readonly<Record<string, HardwareValue>> = Object.freeze({
  genlock_phase_h: -25,
  genlock_phase_v: 10,
  freeze: false,
  output_format: '1080p50',
  brightness: 50,
  audio_delay: 40,
  input_signal: '1080p50 locked',
});

class SimulatedDevice implements Simulator {
  readonly device: HardwareDevice;
  private st: SimulatorState = SimulatorState.Connecting;
  private client: MqttClient | undefined;
  private readonly current: Record<string, HardwareValue> = {};
  private readonly listeners = new Set<(event: SimulatorEvent) => void>();
  /** What the availability topic should say while connected. */
  private wantOnline = true;
  private closing: Promise<void> | undefined;
  /** Resolves the pending `start()` once the device has announced itself. */
  private announced: (() => void) | undefined;

  constructor(private readonly options: SimulatorOptions) {
    this.device = options.device ?? readDeviceFile(VIDEOPROC_FILE);
    for (const f of this.device.fields.values()) {
      const start = options.initial?.[f.name] ?? DEFAULT_VALUES[f.name];
      this.current[f.name] =
        start ??
        (f.type === 'boolean'
          ? false
          : f.type === 'enum'
            ? (f.options[0]?.value ?? '')
            : f.type === 'text'
              ? ''
              : (f.min ?? 0));
    }
  }

  get state(): SimulatorState {
    return this.st;
  }

  get values(): Readonly<Record<string, HardwareValue>> {
    return { ...this.current };
  }

  subscribe(listener: (event: SimulatorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Connects and resolves once the retained status and availability are published. */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = this.open();
      const failed = (err: Error): void => {
        this.announced = undefined;
        void this.close();
        reject(err);
      };
      this.announced = () => {
        this.announced = undefined;
        client.off('error', failed);
        resolve();
      };
      client.once('error', failed);
    });
  }

  async set(field: string, value: HardwareValue): Promise<void> {
    if (this.st === SimulatorState.Closed) throw new Error('the simulator is closed');
    const f = this.device.fields.get(field);
    if (!f)
      throw new TypeError(`unknown field "${field}"; the device has ${[...this.device.fields.keys()].join(', ')}`);
    const v = clamp(f, value);
    if (v === undefined) throw new TypeError(`${field} cannot take ${JSON.stringify(value)} (a ${f.type})`);
    this.current[field] = v;
    this.emit({ type: 'change', values: { [field]: v }, cause: 'panel' });
    await this.publishStatusOf([field]);
  }

  async goOffline(): Promise<void> {
    this.wantOnline = false;
    if (this.st === SimulatorState.Online) {
      this.setState(SimulatorState.Offline);
      await this.publishAvailability();
    }
  }

  async goOnline(): Promise<void> {
    this.wantOnline = true;
    if (this.st === SimulatorState.Crashed) {
      await this.start();
      return;
    }
    if (this.st === SimulatorState.Offline) {
      this.setState(SimulatorState.Online);
      await this.publishAvailability();
    }
  }

  async crash(): Promise<void> {
    const client = this.client;
    if (!client || this.st === SimulatorState.Closed || this.st === SimulatorState.Crashed) return;
    this.client = undefined;
    client.removeAllListeners();
    client.on('error', () => {});
    // `end(true)` destroys the stream without a DISCONNECT packet: to the broker this is a lost
    // device, so it publishes the Will.
    await new Promise<void>((resolve) => client.end(true, {}, () => resolve()));
    this.setState(SimulatorState.Crashed);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const client = this.client;
      this.client = undefined;
      this.setState(SimulatorState.Closed);
      if (!client) return;
      client.removeAllListeners();
      client.on('error', () => {});
      if (client.connected) {
        try {
          await client.publishAsync(this.device.availability.topic, this.device.availability.offline, {
            qos: 1,
            retain: true,
          });
        } catch {
          /* going anyway */
        }
      }
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    })();
    return this.closing;
  }

  // ---------------------------------------------------------------- MQTT

  private open(): MqttClient {
    const { availability } = this.device;
    this.setState(SimulatorState.Connecting);
    const client = connect(this.options.url, {
      clientId: this.options.clientId ?? `cy-vp4-sim-${randomBytes(4).toString('hex')}`,
      clean: true,
      reconnectPeriod: 1000,
      will: { topic: availability.topic, payload: Buffer.from(availability.offline), qos: 1, retain: true },
    });
    this.client = client;
    client.on('connect', () => void this.announce(client));
    client.on('message', (topic, payload) => this.onAction(topic, payload.toString('utf8')));
    client.on('close', () => {
      if (this.client === client && this.st !== SimulatorState.Closed) this.setState(SimulatorState.Connecting);
    });
    client.on('error', () => {
      /* mqtt.js reconnects by itself; the state says "connecting" meanwhile */
    });
    return client;
  }

  /** Like power-on: listen for actions, announce the discovery config (if on), publish every status, then say "online". */
  private async announce(client: MqttClient): Promise<void> {
    try {
      const actions = this.device.topics.flatMap((t) => (t.set ? [t.set] : []));
      await client.subscribeAsync(actions, { qos: 1 });
      if (this.options.haDiscovery === true) {
        const config = JSON.stringify(videoprocDiscoveryConfig(this.device));
        await client.publishAsync(HA_DISCOVERY_TOPIC, config, { qos: 1, retain: true });
      }
      await this.publishStatusOf([...this.device.fields.keys()], client);
      if (this.client !== client) return;
      this.setState(this.wantOnline ? SimulatorState.Online : SimulatorState.Offline);
      await this.publishAvailability(client);
      this.announced?.();
    } catch {
      /* the connection died while announcing; the next `connect` announces again */
    }
  }

  private onAction(topic: string, payload: string): void {
    const t = this.device.topics.find((x) => x.set === topic);
    if (!t?.template) return;
    if (this.st !== SimulatorState.Online) {
      this.emit({ type: 'ignored', topic, payload, reason: 'device offline' });
      return;
    }
    const requested = match(t.template, this.device.fields, payload);
    if (!requested) {
      this.emit({ type: 'ignored', topic, payload, reason: 'malformed action' });
      return;
    }
    const applied: Record<string, HardwareValue> = {};
    for (const [name, value] of Object.entries(requested)) {
      const f = this.device.fields.get(name)!;
      const v = f.writable ? clamp(f, value) : undefined;
      if (v === undefined) {
        this.emit({ type: 'ignored', topic, payload, reason: `${name} cannot take ${String(value)}` });
        return;
      }
      applied[name] = v;
    }
    Object.assign(this.current, applied);
    this.emit({ type: 'change', values: applied, cause: 'action' });
    // Real hardware answers every action with its status, changed or not.
    void this.publishStatusOf(Object.keys(applied)).catch(() => {});
  }

  private async publishStatusOf(fields: string[], client = this.client): Promise<void> {
    if (!client?.connected) return;
    const topics = this.device.topics.filter((t) => t.fields.some((f) => fields.includes(f)));
    await Promise.all(
      topics.map((t) =>
        client.publishAsync(t.status, format(t.pattern, this.device.fields, this.current), { qos: 1, retain: true }),
      ),
    );
  }

  private async publishAvailability(client = this.client): Promise<void> {
    if (!client?.connected) return;
    const { topic, online, offline } = this.device.availability;
    await client.publishAsync(topic, this.st === SimulatorState.Online ? online : offline, { qos: 1, retain: true });
  }

  private setState(state: SimulatorState): void {
    if (state === this.st) return;
    this.st = state;
    this.emit({ type: 'state', state });
  }

  private emit(event: SimulatorEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }
}

/**
 * Starts the simulated hardware on a broker; resolves once it has published its retained status
 * and said "online".
 *
 * @example
 * const sim = await startSimulator({ url: 'mqtt://127.0.0.1:1883' });
 * await sim.set('genlock_phase_h', 22);   // someone turns the knob on the front panel
 * await sim.crash();                      // power cut: the broker publishes the Will ("0")
 * await sim.goOnline();                   // back
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const sim = new SimulatedDevice(options);
  await sim.start();
  return sim;
}
