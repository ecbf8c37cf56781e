/**
 * `createDiscovery`: devices that describe themselves on the broker (docs/discovery.md). One MQTT
 * client reads the sources' discovery topics (Home Assistant configs, Zigbee2MQTT's
 * `bridge/devices`, Homie descriptions); each source turns them into device descriptions; the
 * discovery checks every description as a hand-written one is checked (`defineDevice`), holds the
 * limits, and runs one MQTT bridge per device — so a discovered device gets the same revisions,
 * guard, composite-safe writes, availability and acks as a hand-written one. It is a
 * {@link DeviceCatalog}: hand it to `createLiveDeviceServer({ catalogs: [discovery] })`.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { DeviceBridge } from '../bridge.js';
import { checkBroker, loginOptions } from '../broker-options.js';
import type { CatalogEvent, DeviceCatalog } from '../catalog.js';
import { defineDevice } from '../device/define.js';
import type { DeviceDescription } from '../device/types.js';
import { DeviceDescriptionError } from '../errors.js';
import { throttleLogger, type ThrottledLogger } from '../log-throttle.js';
import { consoleLogger, type Logger } from '../logger.js';
import { createMqttBridge, type MqttBridge, type MqttBridgeOptions } from '../mqtt-bridge.js';
import { checkNumber, invalidOption, MAX_TIMER_MS, withDefaults } from '../option-checks.js';
import { redactUrl } from '../redact.js';
import type { DeviceChange, DeviceSource, DeviceSourceFactory } from './source.js';
import { isTopicFilter, topicMatches } from './topic-filter.js';

/** Options of {@link createDiscovery}. */
export interface DiscoveryOptions {
  /** The broker, when no `bridgeOptions` are needed: shorthand for `bridgeOptions.url`. */
  url?: string;
  /**
   * How the discovery's own client and every device's bridge reach the broker (`url`, credentials,
   * TLS, `mqtt`…) and the bridges' other options (docs/devices.md). `clientId` is not taken: every
   * bridge gets its own. Defaults to `{}`.
   */
  bridgeOptions?: MqttBridgeOptions;
  /** The sources, e.g. `[homeAssistant(), zigbee2mqtt({ base: 'z2m' })]`; at least one. */
  sources: readonly DeviceSourceFactory[];
  /** Where discoveries, refusals and notes are logged. Defaults to `bridgeOptions.logger`, else `consoleLogger()`. */
  logger?: Logger;
  /** Largest discovery message read, in bytes; a larger one is dropped with a warning. Defaults to `262144`. */
  maxConfigBytes?: number;
  /** Most devices discovered at once, across every source; more are refused with a warning. Defaults to `256`. */
  maxDevices?: number;
  /**
   * Milliseconds without a discovery message after which what arrived is applied: a device whose
   * entities arrive as several messages gets one bridge, not one per message. Defaults to `200`.
   */
  settleMs?: number;
  /**
   * Longest a change waits for that quiet, in milliseconds, while messages keep coming. Defaults
   * to `2000`.
   */
  maxSettleMs?: number;
  /**
   * Milliseconds bounding the first view: `ready()` resolves `false` this long after creation if the
   * retained configs have not all been applied by then. Defaults to `2000`.
   */
  readyTimeoutMs?: number;
  /**
   * Topic prefixes the devices of a source that names its topics explicitly (Home Assistant) may
   * use, e.g. `["esphome/", "tasmota/"]`. Defaults to any topic (still never a wildcard or `$SYS`).
   * Sources that derive their topics (Zigbee2MQTT, Homie) are always held to their own base.
   */
  allowTopics?: readonly string[];
}

/** The defaults of {@link DiscoveryOptions}, each documented on its option. */
export const DISCOVERY_DEFAULTS = Object.freeze({
  maxConfigBytes: 262_144,
  maxDevices: 256,
  settleMs: 200,
  maxSettleMs: 2000,
  readyTimeoutMs: 2000,
});

/** Refused descriptions remembered (so each is logged once); configs are untrusted, so bounded. */
const MAX_REFUSALS_REMEMBERED = 4096;

/** A device the discovery found, as its events report it. */
export interface DiscoveredDeviceInfo {
  /** The source's name, e.g. `"homeassistant"`. */
  source: string;
  /** The id pages put in `hello.device`. */
  id: string;
  /** How many fields it has. */
  fields: number;
}

/** Events of a {@link Discovery}. */
export interface DiscoveryEvents {
  /** A device was found and its bridge started. */
  'device-discovered': (info: DiscoveredDeviceInfo) => void;
  /** A device's description changed: a new bridge replaced the old one. */
  'device-changed': (info: DiscoveredDeviceInfo) => void;
  /** A device went away: its bridge is closed. */
  'device-removed': (info: Omit<DiscoveredDeviceInfo, 'fields'>) => void;
}

/** A running discovery: a {@link DeviceCatalog} plus events and `close()`. */
export interface Discovery extends DeviceCatalog {
  /** Registers an event listener. Returns the function that removes it. */
  on<E extends keyof DiscoveryEvents>(event: E, listener: DiscoveryEvents[E]): () => void;
  /** Stops reading discovery topics and closes every device's bridge. Safe to call twice. */
  close(): Promise<void>;
}

/** A device the discovery runs. */
interface RunningDevice {
  source: string;
  key: string;
  fields: number;
  bridge: MqttBridge;
}

/** The last change of one device not applied yet. */
interface PendingChange {
  source: DeviceSource;
  change: DeviceChange;
}

/** A stable text of a description: functions by their source text. */
function descriptionKey(description: DeviceDescription): string {
  return JSON.stringify(description, (_k, v: unknown) => (typeof v === 'function' ? `fn:${String(v)}` : v));
}

/** Every topic a description names: status, set and availability. */
function topicsOf(description: DeviceDescription): string[] {
  const out: string[] = [];
  for (const t of description.topics) {
    if (t.status !== undefined) out.push(t.status);
    if (t.set !== undefined) out.push(t.set);
  }
  const a = description.availability;
  if (a) for (const entry of 'topics' in a ? a.topics : [a]) out.push(entry.topic);
  return out;
}

class DiscoveryImpl implements Discovery {
  private readonly log: ThrottledLogger;
  private readonly sources: DeviceSource[];
  private readonly bridgeOptions: MqttBridgeOptions;
  private readonly limits: {
    maxConfigBytes: number;
    maxDevices: number;
    settleMs: number;
    maxSettleMs: number;
    readyTimeoutMs: number;
  };
  private readonly allowTopics: readonly string[] | undefined;
  private readonly running = new Map<string, RunningDevice>();
  private readonly pending = new Map<string, PendingChange>();
  private readonly listeners = new Set<(event: CatalogEvent) => void>();
  private readonly eventListeners: { [E in keyof DiscoveryEvents]: Set<DiscoveryEvents[E]> } = {
    'device-discovered': new Set(),
    'device-changed': new Set(),
    'device-removed': new Set(),
  };
  /** Refusals already logged, by device id and description key: each is logged once. */
  private readonly refused = new Map<string, string>();
  private readonly client: MqttClient;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private settleDeadline = 0;
  private readyTimer: ReturnType<typeof setTimeout> | undefined;
  private subscribed = false;
  private firstViewDone = false;
  private resolveReady: (ready: boolean) => void = () => {};
  private readonly readyPromise = new Promise<boolean>((resolve) => (this.resolveReady = resolve));
  private closing: Promise<void> | undefined;

  constructor(options: DiscoveryOptions) {
    if (options === null || typeof options !== 'object') throw invalidOption('createDiscovery needs an options object');
    const o = withDefaults(DISCOVERY_DEFAULTS, options);
    if (!Array.isArray(o.sources) || o.sources.length === 0 || o.sources.some((s) => typeof s !== 'function')) {
      throw invalidOption('The "sources" option must be a non-empty array of sources, e.g. [homeAssistant()]');
    }
    const bridgeOptions: MqttBridgeOptions = { ...(o.bridgeOptions ?? {}) };
    if (o.url !== undefined) {
      if (bridgeOptions.url !== undefined)
        throw invalidOption('Give the broker as "url" or as "bridgeOptions.url", not both');
      bridgeOptions.url = o.url;
    }
    checkBroker(bridgeOptions.url, bridgeOptions.mqtt ?? {}, 'createDiscovery');
    delete bridgeOptions.clientId;
    this.limits = {
      maxConfigBytes: checkNumber('maxConfigBytes', o.maxConfigBytes, 1, 16 * 1024 * 1024, { integer: true }),
      maxDevices: checkNumber('maxDevices', o.maxDevices, 1, 100_000, { integer: true }),
      settleMs: checkNumber('settleMs', o.settleMs, 0, MAX_TIMER_MS),
      maxSettleMs: checkNumber('maxSettleMs', o.maxSettleMs, 0, MAX_TIMER_MS),
      readyTimeoutMs: checkNumber('readyTimeoutMs', o.readyTimeoutMs, 0, MAX_TIMER_MS),
    };
    if (
      o.allowTopics !== undefined &&
      (!Array.isArray(o.allowTopics) || o.allowTopics.some((p) => typeof p !== 'string'))
    ) {
      throw invalidOption('The "allowTopics" option must be an array of topic prefixes');
    }
    this.allowTopics = o.allowTopics;
    this.log = throttleLogger(o.logger ?? bridgeOptions.logger ?? consoleLogger());
    bridgeOptions.logger = this.log;
    this.bridgeOptions = bridgeOptions;
    this.sources = o.sources.map((factory) => factory({ logger: this.log }));
    for (const source of this.sources) {
      const bad = source.filters.find((f) => !isTopicFilter(f) || f.startsWith('$SYS'));
      if (bad !== undefined) throw invalidOption(`Source "${source.name}" has an invalid topic filter "${bad}"`);
    }
    this.readyTimer = setTimeout(() => this.resolveReady(false), this.limits.readyTimeoutMs);
    this.readyTimer.unref();
    this.client = this.connect();
  }

  private connect(): MqttClient {
    const b = this.bridgeOptions;
    const clientOptions: IClientOptions = {
      ...(b.mqtt ?? {}),
      clientId: `ldf-discovery-${randomBytes(6).toString('hex')}`,
      clean: true,
      resubscribe: false,
      reconnectPeriod: b.reconnectPeriodMs ?? 1000,
      connectTimeout: b.connectTimeout ?? 10_000,
      keepalive: b.keepalive ?? 15,
      ...loginOptions(b),
    };
    const client = b.url === undefined ? connect(clientOptions) : connect(b.url, clientOptions);
    const broker = b.url === undefined ? clientOptions.host : redactUrl(b.url);
    client.on('connect', () => {
      this.log.info({ broker, sources: this.sources.map((s) => s.name) }, 'discovery connected');
      const filters = Object.fromEntries(this.sources.flatMap((s) => s.filters).map((f) => [f, { qos: 1 as const }]));
      client.subscribe(filters, (err, granted) => {
        if (err) {
          this.log.error({ err }, 'discovery: subscribe failed');
          return;
        }
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (refused.length > 0) this.log.warn({ filters: refused }, 'discovery: the broker refused these filters');
        this.subscribed = true;
        this.scheduleApply();
      });
    });
    client.on('message', (topic, payload) => this.onMessage(topic, payload));
    client.on('error', (err) => this.log.warn({ err: err.message }, 'discovery: MQTT error'));
    client.on('offline', () => this.log.warn({ broker }, 'discovery: broker unreachable, retrying'));
    return client;
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (this.closing) return;
    if (payload.length > this.limits.maxConfigBytes) {
      this.log.warn(
        { topic, bytes: payload.length, maxConfigBytes: this.limits.maxConfigBytes },
        'discovery message dropped: larger than maxConfigBytes',
      );
      return;
    }
    for (const source of this.sources) {
      if (!source.filters.some((f) => topicMatches(f, topic))) continue;
      let changes: readonly DeviceChange[];
      try {
        changes = source.receive(topic, payload);
      } catch (err) {
        this.log.warn({ source: source.name, topic, err }, 'discovery message skipped: the source failed on it');
        continue;
      }
      for (const change of changes) this.queue(source, change);
    }
    this.scheduleApply();
  }

  private queue(source: DeviceSource, change: DeviceChange): void {
    const id = change.type === 'upsert' ? change.description?.id : change.id;
    if (typeof id !== 'string') return;
    const owner = this.running.get(id)?.source ?? this.pending.get(id)?.source.name;
    if (owner !== undefined && owner !== source.name) {
      this.log.warn(
        { device: id, source: source.name, owner },
        'discovered device refused: another source has this id',
      );
      return;
    }
    if (
      !this.pending.has(id) &&
      !this.running.has(id) &&
      this.running.size + this.pending.size >= this.limits.maxDevices
    ) {
      this.log.warn(
        { device: id, source: source.name, maxDevices: this.limits.maxDevices },
        'discovered device refused: maxDevices reached',
      );
      return;
    }
    this.pending.set(id, { source, change });
  }

  /** Applies what is pending after `settleMs` of quiet, at most `maxSettleMs` after the first of it. */
  private scheduleApply(): void {
    if (!this.subscribed || this.closing) return;
    const now = performance.now();
    if (this.settleTimer === undefined) this.settleDeadline = now + this.limits.maxSettleMs;
    clearTimeout(this.settleTimer);
    const wait = Math.max(0, Math.min(this.limits.settleMs, this.settleDeadline - now));
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      this.apply();
    }, wait);
  }

  private apply(): void {
    const changes = [...this.pending.values()];
    this.pending.clear();
    for (const { source, change } of changes) {
      if (change.type === 'remove') this.remove(source.name, change.id);
      else this.upsert(source, change);
    }
    if (!this.firstViewDone) {
      this.firstViewDone = true;
      clearTimeout(this.readyTimer);
      this.resolveReady(true);
    }
  }

  private upsert(source: DeviceSource, change: Extract<DeviceChange, { type: 'upsert' }>): void {
    const { description } = change;
    const id = description.id;
    const key = change.key ?? descriptionKey(description);
    const current = this.running.get(id);
    if (current?.key === key) return;
    if (this.refused.get(id) === key) return;
    const refuse = (reason: string, details: Record<string, unknown> = {}): void => {
      // Bounded: the oldest refusal is forgotten first (and logged again if it comes back).
      if (this.refused.size >= MAX_REFUSALS_REMEMBERED) this.refused.delete(this.refused.keys().next().value!);
      this.refused.set(id, key);
      this.log.warn({ source: source.name, device: id, ...details }, `discovered device refused: ${reason}`);
    };
    const prefixes = source.topicPrefixes ?? this.allowTopics;
    if (prefixes !== undefined) {
      const outside = topicsOf(description).filter((t) => !prefixes.some((p) => t.startsWith(p)));
      if (outside.length > 0)
        return refuse('a topic outside the allowed prefixes', { topics: outside, allowed: prefixes });
    }
    let checked: DeviceDescription;
    try {
      checked = defineDevice(description as Parameters<typeof defineDevice>[0]);
    } catch (err) {
      if (err instanceof DeviceDescriptionError) return refuse('invalid description', { issues: err.issues });
      return refuse('invalid description', { err });
    }
    let bridge: MqttBridge;
    try {
      bridge = createMqttBridge(checked, this.bridgeOptions);
    } catch (err) {
      return refuse('cannot start its bridge', { err });
    }
    this.refused.delete(id);
    for (const note of change.notes ?? []) this.log.info({ source: source.name, device: id }, note);
    const fields = Object.keys(checked.fields).length;
    this.running.set(id, { source: source.name, key, fields, bridge });
    this.emitCatalog({ type: 'added', bridge });
    const info = { source: source.name, id, fields };
    if (current) {
      this.log.info(info, 'discovered device changed');
      this.emit('device-changed', info);
      void current.bridge.close();
    } else {
      this.log.info(info, 'device discovered');
      this.emit('device-discovered', info);
    }
  }

  private remove(source: string, id: string): void {
    this.refused.delete(id);
    const current = this.running.get(id);
    if (!current) return;
    this.running.delete(id);
    this.emitCatalog({ type: 'removed', id });
    this.log.info({ source, device: id }, 'discovered device removed');
    this.emit('device-removed', { source, id });
    void current.bridge.close();
  }

  devices(): DeviceBridge[] {
    return [...this.running.values()].map((d) => d.bridge);
  }

  subscribe(listener: (event: CatalogEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  ready(): Promise<boolean> {
    return this.readyPromise;
  }

  on<E extends keyof DiscoveryEvents>(event: E, listener: DiscoveryEvents[E]): () => void {
    const set = this.eventListeners[event] as Set<DiscoveryEvents[E]> | undefined;
    if (!set) throw invalidOption(`Unknown event "${String(event)}"`);
    set.add(listener);
    return () => set.delete(listener);
  }

  private emitCatalog(event: CatalogEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err }, 'catalog listener threw');
      }
    }
  }

  private emit<E extends keyof DiscoveryEvents>(event: E, info: Parameters<DiscoveryEvents[E]>[0]): void {
    for (const listener of this.eventListeners[event]) {
      try {
        (listener as (arg: typeof info) => void)(info);
      } catch (err) {
        this.log.error({ err, event }, 'discovery event listener threw');
      }
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      clearTimeout(this.settleTimer);
      clearTimeout(this.readyTimer);
      this.resolveReady(false);
      await new Promise<void>((resolve) => this.client.end(false, {}, () => resolve()));
      const bridges = [...this.running.values()].map((d) => d.bridge);
      this.running.clear();
      this.pending.clear();
      await Promise.all(bridges.map((b) => b.close()));
      this.log.close();
    })();
    return this.closing;
  }
}

/**
 * Starts discovering devices (docs/discovery.md): reads the sources' discovery topics and runs one
 * MQTT bridge per device found, checked like a hand-written description. Hand it to the server as
 * a catalog: its devices come and go at run time, beside the hand-written ones.
 *
 * @throws TypeError when an option is invalid (code `ERR_INVALID_OPTION`).
 * @example
 * import { createDiscovery, createLiveDeviceServer, homeAssistant } from '@live-device-form/server';
 * const discovery = createDiscovery({ url: 'mqtt://127.0.0.1:1883', sources: [homeAssistant()] });
 * discovery.on('device-discovered', ({ source, id, fields }) => console.log(source, id, fields));
 * const live = createLiveDeviceServer({ devices: [], catalogs: [discovery] });
 */
export function createDiscovery(options: DiscoveryOptions): Discovery {
  return new DiscoveryImpl(options);
}
