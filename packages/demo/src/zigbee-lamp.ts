/**
 * A simulated Zigbee2MQTT installation with one dimmable lamp, publishing what Zigbee2MQTT 1.x/2.x
 * publishes (docs/discovery.md, Zigbee2MQTT): the retained `bridge/state` and `bridge/devices`
 * (the lamp's `definition.exposes`, taken from an IKEA TRÅDFRI white-spectrum bulb), the lamp's
 * availability (`{"state":"online"}`, a Last Will of `{"state":"offline"}`) and its JSON state;
 * a JSON write to `<base>/<name>/set` is applied (clamped) and answered with the new state, as the
 * real bridge does.
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

/** A running lamp. */
export interface ZigbeeLamp {
  readonly name: string;
  readonly state: Readonly<LampState>;
  /** Changes the lamp as its wall switch would, and publishes the new state. */
  set(change: Partial<LampState>): Promise<void>;
  /** Listens to every change (from a write or `set`). Returns the unsubscribe function. */
  subscribe(listener: (state: Readonly<LampState>) => void): () => void;
  /** Says offline and disconnects. Safe to call twice. */
  close(): Promise<void>;
}

const BRIGHTNESS = { min: 0, max: 254 };
const COLOR_TEMP = { min: 250, max: 454 };

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

const clampInt = (v: unknown, { min, max }: { min: number; max: number }): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : undefined;

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

  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const client = connect(this.options.url, {
        clientId: `z2m-sim-${randomBytes(4).toString('hex')}`,
        clean: true,
        reconnectPeriod: 1000,
        will: { topic: this.availabilityTopic, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
      });
      this.client = client;
      client.once('error', reject);
      client.on('connect', () => {
        this.announce(client).then(() => {
          client.off('error', reject);
          client.on('error', () => {});
          resolve();
        }, reject);
      });
      client.on('message', (topic, payload) => this.onSet(topic, payload));
    });
  }

  private async announce(client: MqttClient): Promise<void> {
    const retain = { qos: 1 as const, retain: true };
    await client.subscribeAsync(`${this.base}/${this.name}/set`, { qos: 1 });
    await client.publishAsync(`${this.base}/bridge/state`, '{"state":"online"}', retain);
    await client.publishAsync(`${this.base}/bridge/devices`, JSON.stringify(lampDevices(this.name)), retain);
    await this.publishState(client);
    await client.publishAsync(this.availabilityTopic, '{"state":"online"}', retain);
  }

  private onSet(topic: string, payload: Buffer): void {
    if (topic !== `${this.base}/${this.name}/set`) return;
    let command: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(payload.toString('utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return;
      command = parsed as Record<string, unknown>;
    } catch {
      return; // Zigbee2MQTT logs and ignores a payload that is not JSON
    }
    const change: Partial<LampState> = {};
    if (command.state === 'ON' || command.state === 'OFF') change.state = command.state;
    if (command.state === 'TOGGLE') change.state = this.current.state === 'ON' ? 'OFF' : 'ON';
    const brightness = clampInt(command.brightness, BRIGHTNESS);
    if (brightness !== undefined) change.brightness = brightness;
    const colorTemp = clampInt(command.color_temp, COLOR_TEMP);
    if (colorTemp !== undefined) change.color_temp = colorTemp;
    void this.set(change).catch(() => {});
  }

  async set(change: Partial<LampState>): Promise<void> {
    Object.assign(this.current, change);
    for (const listener of [...this.listeners]) listener(this.state);
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
        await client
          .publishAsync(this.availabilityTopic, '{"state":"offline"}', { qos: 1, retain: true })
          .catch(() => {});
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
