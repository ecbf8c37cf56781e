/**
 * The simulated hardware: one MQTT connection per device (plain mqtt.js, not the SDK) that keeps
 * its values as retained status messages, echoes every action it receives (sometimes clamped to a
 * value of its own, which the SDK must treat as an external change), changes values on its own
 * when told to, and drops off and comes back: either announcing it (`0`, then `1` on its
 * availability topic) or by vanishing so the broker publishes its Last Will.
 *
 * Every connection is a fresh client: a publish that was in flight when a link died is never
 * re-sent later (it would replay an old value as if the device had just reported it).
 * @module
 */
import { type MqttClient, connect } from 'mqtt';
import {
  type ChaosField,
  type ChaosGroup,
  FIELDS,
  GROUPS,
  GROUP_OF,
  OFFLINE,
  ONLINE,
  decodeAction,
  encodeStatus,
  topicRole,
  topicsOf,
} from './chaos-device.js';
import type { Rng } from './prng.js';

/** Options of {@link startDeviceSimulator}. */
export interface DeviceSimOptions {
  /** Broker URL the devices connect to. */
  url: string;
  devices: readonly string[];
  rng: Rng;
  /** Longest delay before an echo, ms. Defaults to `20`. */
  echoDelayMaxMs?: number;
  /** Probability that an echo reports a value of the device's own instead of the written one. Defaults to `0.02`. */
  clampChance?: number;
  /** Milliseconds between reconnect attempts when the broker is away. Defaults to `100`. */
  retryMs?: number;
}

/** What the devices did, for the report. */
export interface DeviceCounts {
  changes: number;
  echoes: number;
  clamps: number;
  actions: number;
  /** Actions that arrived while the device had announced itself offline (ignored). */
  actionsWhileOffline: number;
  offlinePeriods: number;
  lastWillDrops: number;
  reconnects: number;
}

/** A device's state as the simulator holds it. */
interface SimDevice {
  readonly id: string;
  values: Record<ChaosField, number>;
  /** Whether it says it is online (announced, or by connecting). */
  announcedOnline: boolean;
  /** Stopped publishing and echoing, without a Last Will (a hung device). */
  silent: boolean;
  client: MqttClient | undefined;
  /** Incremented per client, so events of an old client are ignored. */
  generation: number;
  /** Whether a reconnect loop should run (false while it has dropped off on purpose). */
  wanted: boolean;
  retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resolves at the next successful connection. */
  connectedWaiters: (() => void)[];
}

/** A running simulator. */
export class DeviceSimulator {
  readonly counts: DeviceCounts = {
    changes: 0,
    echoes: 0,
    clamps: 0,
    actions: 0,
    actionsWhileOffline: 0,
    offlinePeriods: 0,
    lastWillDrops: 0,
    reconnects: 0,
  };
  private readonly devices = new Map<string, SimDevice>();
  private readonly rng: Rng;
  private counter = 0;
  private closed = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly options: DeviceSimOptions) {
    this.rng = options.rng.fork('device');
    for (const id of options.devices) {
      const values = {} as Record<ChaosField, number>;
      for (const f of FIELDS) values[f] = this.nextValue();
      this.devices.set(id, {
        id,
        values,
        announcedOnline: true,
        silent: false,
        client: undefined,
        generation: 0,
        wanted: true,
        retryTimer: undefined,
        connectedWaiters: [],
      });
    }
  }

  /** Connects every device and waits until each has published its state. */
  async start(): Promise<void> {
    await Promise.all([...this.devices.values()].map((d) => this.connectDevice(d)));
  }

  /** A device's current values. */
  values(device: string): Readonly<Record<ChaosField, number>> {
    return this.get(device).values;
  }

  /** The device's own value space: negative, never repeated. */
  private nextValue(): number {
    return -++this.counter;
  }

  private get(id: string): SimDevice {
    const d = this.devices.get(id);
    if (!d) throw new Error(`no simulated device "${id}"`);
    return d;
  }

  private connectDevice(d: SimDevice): Promise<void> {
    const connected = new Promise<void>((resolve) => d.connectedWaiters.push(resolve));
    this.openClient(d);
    return connected;
  }

  private openClient(d: SimDevice): void {
    if (this.closed || !d.wanted) return;
    const gen = ++d.generation;
    const t = topicsOf(d.id);
    const client = connect(this.options.url, {
      clientId: `chaos-device-${d.id}-${gen}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      keepalive: 30,
      will: { topic: t.online, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    });
    d.client = client;
    client.on('error', () => {});
    client.on('connect', () => {
      if (gen !== d.generation) return;
      client.subscribe(Object.values(t.set), { qos: 1 }, (err) => {
        if (err || gen !== d.generation) return;
        // A (re)connected device reports its whole state, then that it is online.
        void this.publishState(d).then(() => {
          for (const resolve of d.connectedWaiters.splice(0)) resolve();
        });
      });
    });
    client.on('message', (topic, payload) => {
      if (gen === d.generation) this.onAction(d, topic, payload.toString('utf8'));
    });
    client.on('close', () => {
      if (gen !== d.generation) return;
      d.client = undefined;
      client.removeAllListeners('message');
      client.end(true);
      this.scheduleReconnect(d);
    });
  }

  private scheduleReconnect(d: SimDevice): void {
    if (this.closed || !d.wanted || d.retryTimer) return;
    d.retryTimer = setTimeout(() => {
      d.retryTimer = undefined;
      this.counts.reconnects++;
      this.openClient(d);
    }, this.options.retryMs ?? 100);
  }

  private async publishState(d: SimDevice): Promise<void> {
    const client = d.client;
    if (!client?.connected || d.silent) return;
    const t = topicsOf(d.id);
    try {
      for (const group of Object.keys(GROUPS) as ChaosGroup[]) {
        await client.publishAsync(t.status[group], encodeStatus(group, d.values), { qos: 1, retain: true });
      }
      await client.publishAsync(t.online, d.announcedOnline ? ONLINE : OFFLINE, { qos: 1, retain: true });
    } catch {
      // The link died meanwhile: the next connection publishes the state again.
    }
  }

  private publish(d: SimDevice, group: ChaosGroup): Promise<void> {
    const client = d.client;
    if (!client?.connected || d.silent) return Promise.resolve();
    return client
      .publishAsync(topicsOf(d.id).status[group], encodeStatus(group, d.values), { qos: 1, retain: true })
      .then(
        () => undefined,
        () => undefined,
      );
  }

  private onAction(d: SimDevice, topic: string, payload: string): void {
    const role = topicRole(topic);
    if (role?.role !== 'set' || role.device !== d.id) return;
    this.counts.actions++;
    if (!d.announcedOnline || d.silent) {
      this.counts.actionsWhileOffline++;
      return;
    }
    const written = decodeAction(role.group, payload);
    if (!written) return;
    const delay = this.rng.int(0, this.options.echoDelayMaxMs ?? 20);
    const clamp = this.rng.chance(this.options.clampChance ?? 0.02);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      if (this.closed || d.silent) return;
      for (const [f, v] of Object.entries(written) as [ChaosField, number][]) d.values[f] = v;
      if (clamp) {
        // The device did not take the value as written: it reports one of its own.
        const f = this.rng.pick(GROUPS[role.group]);
        d.values[f] = this.nextValue();
        this.counts.clamps++;
      }
      this.counts.echoes++;
      void this.publish(d, role.group);
    }, delay);
    this.timers.add(timer);
  }

  /**
   * The device changes `fields` on its own (one status message per payload group), resolved when
   * the broker acknowledged them. A device that is away changes them too and reports them when it
   * comes back.
   */
  async change(device: string, fields: readonly ChaosField[]): Promise<void> {
    const d = this.get(device);
    const groups = new Set<ChaosGroup>();
    for (const f of fields) {
      d.values[f] = this.nextValue();
      groups.add(GROUP_OF[f]);
      this.counts.changes++;
    }
    await Promise.all([...groups].map((g) => this.publish(d, g)));
  }

  /** Announces offline (`0`, retained) and ignores actions until {@link comeBack}. */
  async announceOffline(device: string): Promise<void> {
    const d = this.get(device);
    if (!d.announcedOnline) return;
    d.announcedOnline = false;
    this.counts.offlinePeriods++;
    await d.client?.publishAsync(topicsOf(d.id).online, OFFLINE, { qos: 1, retain: true }).catch(() => undefined);
  }

  /** Vanishes without a word: the socket is destroyed, so the broker publishes the Last Will (`0`). */
  dropOff(device: string): void {
    const d = this.get(device);
    if (!d.client) return;
    d.wanted = false;
    d.announcedOnline = false;
    this.counts.offlinePeriods++;
    this.counts.lastWillDrops++;
    const client = d.client;
    d.client = undefined;
    d.generation++;
    client.removeAllListeners('message');
    client.stream.destroy();
    client.end(true);
  }

  /** Comes back from {@link announceOffline} or {@link dropOff}: state, then `1`. */
  async comeBack(device: string): Promise<void> {
    const d = this.get(device);
    d.announcedOnline = true;
    if (!d.wanted) {
      d.wanted = true;
      await this.connectDevice(d);
      return;
    }
    await d.client?.publishAsync(topicsOf(d.id).online, ONLINE, { qos: 1, retain: true }).catch(() => undefined);
  }

  /**
   * Leaves cleanly (MQTT DISCONNECT), which tells the broker to drop the Last Will: its availability
   * stays `1`, as for a device whose firmware stops without a will. It does not come back.
   */
  async disconnectQuietly(device: string): Promise<void> {
    const d = this.get(device);
    d.wanted = false;
    const client = d.client;
    d.client = undefined;
    d.generation++;
    if (client) await client.endAsync(false).catch(() => undefined);
  }

  /** Whether the device says it is online. */
  isOnline(device: string): boolean {
    return this.get(device).announcedOnline;
  }

  /** Stops publishing and echoing, keeping the connection (no Last Will): a hung device. */
  silence(device: string, silent = true): void {
    this.get(device).silent = silent;
  }

  /** Resolves when every device that wants to be connected is connected and has published its state. */
  async settled(): Promise<void> {
    await Promise.all(
      [...this.devices.values()]
        .filter((d) => d.wanted && !d.client?.connected)
        .map((d) => new Promise<void>((resolve) => d.connectedWaiters.push(resolve))),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all(
      [...this.devices.values()].map(async (d) => {
        clearTimeout(d.retryTimer);
        const client = d.client;
        d.client = undefined;
        d.generation++;
        if (client) await client.endAsync(true).catch(() => undefined);
      }),
    );
  }
}

/** Starts a simulator for `options.devices` and waits until each device has published its state. */
export async function startDeviceSimulator(options: DeviceSimOptions): Promise<DeviceSimulator> {
  const sim = new DeviceSimulator(options);
  await sim.start();
  return sim;
}
