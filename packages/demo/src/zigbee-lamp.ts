/**
 * A simulated Zigbee2MQTT installation with one dimmable lamp, publishing what Zigbee2MQTT 1.x/2.x
 * publishes (docs/discovery.md, Zigbee2MQTT): the retained `bridge/state` (also its Last Will,
 * `{"state":"offline"}`), `bridge/info` (with device availability enabled, so the lamp's own
 * availability topic counts) and `bridge/devices` (the lamp's `definition.exposes`, taken from an
 * IKEA TRÅDFRI white-spectrum bulb), the lamp's availability (`{"state":"online"}`) and its JSON
 * state. The state is retained, as with the device option `retain: true` (Zigbee2MQTT's default is
 * not to retain it): a server started later reads the lamp's state at once. A JSON write to
 * `<base>/<name>/set` is applied (clamped) and answered with the new state, as the real bridge does.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, type MqttClient } from 'mqtt';

/** Options of {@link startZigbeeLamp}. */
export interface ZigbeeLampOptions {
  /** Broker URL. */
  url: string;
  /** Zigbee2MQTT's base topic. Defaults to `"zigbee2mqtt"`. */
  base?: string;
  /** The lamp's friendly name. Defaults to `"living_room_lamp"`. */
  name?: string;
}

/** The lamp's state, as Zigbee2MQTT reports it. */
export interface LampState {
  state: 'ON' | 'OFF';
  brightness: number;
  color_temp: number;
  linkquality: number;
}

/** A change to the lamp, as its wall switch (or a `/set` command) makes it. */
export interface LampChange {
  /** `TOGGLE` turns it on when off and off when on. */
  state?: 'ON' | 'OFF' | 'TOGGLE';
  /** 0–254; clamped and rounded. */
  brightness?: number;
  /** 250–454 mired; clamped and rounded. */
  color_temp?: number;
}

/** A running lamp. */
export interface ZigbeeLamp {
  readonly name: string;
  readonly state: Readonly<LampState>;
  /**
   * Changes the lamp as its wall switch would (numbers clamped to their limits) and publishes the
   * new state; resolves once the broker has it. Throws a `TypeError` for an unknown key or a value
   * of the wrong type.
   */
  set(change: LampChange): Promise<void>;
  /** Listens to every change (from a write or `set`). Returns the unsubscribe function. */
  subscribe(listener: (state: Readonly<LampState>) => void): () => void;
  /** Says offline (`bridge/state` and the lamp's availability) and disconnects. Safe to call twice. */
  close(): Promise<void>;
}

/** A heading for the lamp: its vendor and model, as Zigbee2MQTT's frontend shows them. */
export const LAMP_TITLE = 'IKEA TRÅDFRI bulb LED1545G12';

const BRIGHTNESS = { min: 0, max: 254 };
const COLOR_TEMP = { min: 250, max: 454 };

/**
 * The part of Zigbee2MQTT's retained `bridge/info` that a reader needs: the version and the config's
 * `availability` (2.x form), on, so each device's own `<base>/<name>/availability` is published.
 */
export function bridgeInfo(base: string): Record<string, unknown> {
  return {
    version: '2.1.3',
    permit_join: false,
    restart_required: false,
    config: { mqtt: { base_topic: base }, availability: { enabled: true } },
  };
}

/**
 * The `bridge/devices` entry of the lamp: the shape of Zigbee2MQTT's own output for an IKEA
 * LED1545G12 (zigbee-herdsman-converters' `light` expose with state, brightness and color_temp),
 * plus the coordinator, which has no exposes.
 */
export function lampDevices(name: string): unknown[] {
  return [
    {
      ieee_address: '0x00124b0023ab0001',
      type: 'Coordinator',
      network_address: 0,
      supported: true,
      disabled: false,
      friendly_name: 'Coordinator',
      definition: null,
      interview_completed: true,
      interviewing: false,
    },
    {
      ieee_address: '0x000b57fffe8a1c2d',
      type: 'Router',
      network_address: 23456,
      supported: true,
      disabled: false,
      friendly_name: name,
      interview_completed: true,
      interviewing: false,
      definition: {
        model: 'LED1545G12',
        vendor: 'IKEA',
        description: 'TRADFRI bulb E26/E27, white spectrum, globe, opal, 980 lm',
        exposes: [
          {
            type: 'light',
            features: [
              {
                type: 'binary',
                name: 'state',
                label: 'State',
                property: 'state',
                access: 7,
                value_on: 'ON',
                value_off: 'OFF',
                value_toggle: 'TOGGLE',
                description: 'On/off state of this light',
              },
              {
                type: 'numeric',
                name: 'brightness',
                label: 'Brightness',
                property: 'brightness',
                access: 7,
                value_min: BRIGHTNESS.min,
                value_max: BRIGHTNESS.max,
                description: 'Brightness of this light',
              },
              {
                type: 'numeric',
                name: 'color_temp',
                label: 'Color temp',
                property: 'color_temp',
                access: 7,
                unit: 'mired',
                value_min: COLOR_TEMP.min,
                value_max: COLOR_TEMP.max,
                description: 'Color temperature of this light',
              },
            ],
          },
          {
            type: 'numeric',
            name: 'linkquality',
            label: 'Linkquality',
            property: 'linkquality',
            access: 1,
            unit: 'lqi',
            value_min: 0,
            value_max: 255,
            description: 'Link quality (signal strength)',
          },
        ],
      },
    },
  ];
}

const clampInt = (v: number, { min, max }: { min: number; max: number }): number =>
  Math.min(max, Math.max(min, Math.round(v)));

const OFFLINE = '{"state":"offline"}';
const ONLINE = '{"state":"online"}';

/**
 * Reads a `/set` command or a wall-switch change. `strict` (the wall switch): an unknown key or a
 * bad value throws a `TypeError`. Otherwise (a `/set` from the broker) they are ignored, as
 * Zigbee2MQTT logs and ignores them; `state` is case-insensitive there, as in Zigbee2MQTT.
 */
function readChange(command: Record<string, unknown>, strict: boolean): LampChange {
  const change: LampChange = {};
  for (const [key, value] of Object.entries(command)) {
    if (key === 'state') {
      const state = typeof value === 'string' ? (strict ? value : value.toUpperCase()) : undefined;
      if (state === 'ON' || state === 'OFF' || state === 'TOGGLE') change.state = state;
      else if (strict) throw new TypeError(`state must be "ON", "OFF" or "TOGGLE", got ${JSON.stringify(value)}`);
    } else if (key === 'brightness' || key === 'color_temp') {
      if (typeof value === 'number' && Number.isFinite(value)) change[key] = value;
      else if (strict) throw new TypeError(`${key} must be a number, got ${JSON.stringify(value)}`);
    } else if (strict) throw new TypeError(`unknown key "${key}"; the lamp takes state, brightness and color_temp`);
  }
  return change;
}

class Lamp implements ZigbeeLamp {
  readonly name: string;
  private readonly base: string;
  private readonly current: LampState = { state: 'ON', brightness: 180, color_temp: 370, linkquality: 142 };
  private readonly listeners = new Set<(state: Readonly<LampState>) => void>();
  private client: MqttClient | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly options: ZigbeeLampOptions) {
    this.base = options.base ?? 'zigbee2mqtt';
    this.name = options.name ?? 'living_room_lamp';
  }

  get state(): Readonly<LampState> {
    return { ...this.current };
  }

  private get availabilityTopic(): string {
    return `${this.base}/${this.name}/availability`;
  }

  private get bridgeStateTopic(): string {
    return `${this.base}/bridge/state`;
  }

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = connect(this.options.url, {
        clientId: `z2m-sim-${randomBytes(4).toString('hex')}`,
        clean: true,
        reconnectPeriod: 1000,
        // Zigbee2MQTT's own Last Will: the whole bridge, hence every device, goes offline.
        will: { topic: this.bridgeStateTopic, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
      });
      this.client = client;
      let started = false;
      const failed = (err: Error): void => {
        if (started) return; // after start-up, mqtt.js reconnects and the next `connect` announces again
        started = true;
        void this.close();
        reject(err);
      };
      client.on('error', failed);
      client.on('connect', () => {
        this.announce(client).then(() => {
          if (started) return;
          started = true;
          resolve();
        }, failed);
      });
      client.on('message', (topic, payload) => this.onSet(topic, payload));
    });
  }

  /** Like Zigbee2MQTT's start: listen for writes, then the bridge, the lamp's state and its availability. */
  private async announce(client: MqttClient): Promise<void> {
    const retain = { qos: 1 as const, retain: true };
    await client.subscribeAsync(`${this.base}/${this.name}/set`, { qos: 1 });
    await client.publishAsync(this.bridgeStateTopic, ONLINE, retain);
    await client.publishAsync(`${this.base}/bridge/info`, JSON.stringify(bridgeInfo(this.base)), retain);
    await client.publishAsync(`${this.base}/bridge/devices`, JSON.stringify(lampDevices(this.name)), retain);
    await this.publishState(client);
    await client.publishAsync(this.availabilityTopic, ONLINE, retain);
  }

  private onSet(topic: string, payload: Buffer): void {
    if (topic !== `${this.base}/${this.name}/set`) return;
    let command: unknown;
    try {
      command = JSON.parse(payload.toString('utf8'));
    } catch {
      return; // Zigbee2MQTT logs and ignores a payload that is not JSON
    }
    if (command === null || typeof command !== 'object' || Array.isArray(command)) return;
    void this.apply(readChange(command as Record<string, unknown>, false)).catch(() => {});
  }

  set(change: LampChange): Promise<void> {
    if (change === null || typeof change !== 'object' || Array.isArray(change))
      return Promise.reject(new TypeError('a lamp change must be an object'));
    try {
      return this.apply(readChange(change as Record<string, unknown>, true));
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * Applies a change as the bulb does: numbers clamped; a brightness without a state turns the lamp
   * on (above 0) or off (0), as Zigbee2MQTT's `moveToLevelWithOnOff` does. Publishes the new state,
   * changed or not, as Zigbee2MQTT answers every `/set`.
   */
  private async apply(change: LampChange): Promise<void> {
    const next: Partial<LampState> = {};
    if (change.brightness !== undefined) {
      next.brightness = clampInt(change.brightness, BRIGHTNESS);
      if (change.state === undefined) next.state = next.brightness > 0 ? 'ON' : 'OFF';
    }
    if (change.color_temp !== undefined) next.color_temp = clampInt(change.color_temp, COLOR_TEMP);
    if (change.state === 'TOGGLE') next.state = this.current.state === 'ON' ? 'OFF' : 'ON';
    else if (change.state !== undefined) next.state = change.state;
    Object.assign(this.current, next);
    for (const listener of [...this.listeners]) {
      try {
        listener(this.state);
      } catch {
        /* a listener's failure is its own */
      }
    }
    if (this.client) await this.publishState(this.client);
  }

  private async publishState(client: MqttClient): Promise<void> {
    if (!client.connected) return;
    await client.publishAsync(`${this.base}/${this.name}`, JSON.stringify(this.current), { qos: 1, retain: true });
  }

  subscribe(listener: (state: Readonly<LampState>) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const client = this.client;
      this.client = undefined;
      if (!client) return;
      client.removeAllListeners();
      client.on('error', () => {});
      if (client.connected) {
        const retain = { qos: 1 as const, retain: true };
        await Promise.all([
          client.publishAsync(this.availabilityTopic, OFFLINE, retain),
          client.publishAsync(this.bridgeStateTopic, OFFLINE, retain),
        ]).catch(() => {});
      }
      await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
    })();
    return this.closing;
  }
}

/**
 * Starts the simulated Zigbee2MQTT lamp; resolves once `bridge/devices`, its state and its
 * availability are published.
 */
export async function startZigbeeLamp(options: ZigbeeLampOptions): Promise<ZigbeeLamp> {
  const lamp = new Lamp(options);
  await lamp.start();
  return lamp;
}
