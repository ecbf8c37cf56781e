/**
 * The MQTT bridge: a {@link DeviceBridge} over mqtt.js v5. It subscribes to every status topic and
 * the availability topics, keeps a cache built from (retained) status messages, and publishes writes
 * at QoS 1. Availability from one topic or several (all/any/latest) is `availability.ts`'s.
 *
 * Never a late publish. mqtt.js keeps unacknowledged QoS 1 publishes in its outgoing store and
 * sends them again when the same client reconnects, whatever `clean` says; a write re-sent after an
 * outage is exactly the stale write this project exists to prevent. So the bridge never lets an
 * mqtt.js client reconnect: every connection is a fresh client (`reconnectPeriod: 0`, fresh stores,
 * `clean: true`), and when one dies its in-flight writes are answered `unknown` and the client, with
 * its store, is thrown away. The bridge reconnects on its own, with backoff, using a new client.
 * Writes are published only while the link is up and the device online, so nothing is ever queued
 * in mqtt.js's offline queue either.
 *
 * Readiness: the retained state before `online`. MQTT has no "end of retained messages" signal, and
 * both Mosquitto and aedes send a subscription's retained messages after its SUBACK (Mosquitto in the
 * same burst; aedes from an asynchronous stream, which may still be running when a later SUBACK
 * arrives). So after its SUBACKs a connection is *settling*: it counts as up once every subscribed
 * topic (the status topics and every availability topic) has delivered a message on this client, or
 * after `settleMs` without any message, and at the latest `readyTimeoutMs` after the SUBACKs. Only
 * then is the device reported `online`, so the resync that follows carries the retained values: on
 * the first connection and after every reconnect. `ready()` resolves `true` when the first connection
 * is up, or `false` when `readyTimeoutMs` since the bridge was created passed first (a broker that
 * cannot be reached). A topic that delivers nothing within `readyTimeoutMs` of the first SUBACK is
 * named in one warning: it has no retained message, or the broker's ACL silently drops what it sends.
 *
 * Writes from elsewhere. The bridge also subscribes to the device's action topics: a message there
 * that is not one of its own writes coming back (`own-publishes.ts` tells them apart) is a write by
 * another server process or MQTT client, reported as a `written-elsewhere` event naming the fields
 * it may change (`action-topics.ts`); it is never stored, shown or published. A broker that refuses
 * that subscription leaves the bridge as it was without it (one warning). See docs/protocol.md,
 * *Several server processes*.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import {
  type BackoffOptions,
  type FieldSchema,
  type FieldValue,
  type WritableValue,
  backoffDelay,
} from '@live-device-form/protocol';
import { checkBroker, loginOptions } from './broker-options.js';
import { createActionTopics, type ActionTopics } from './action-topics.js';
import { Availability } from './availability.js';
import { type BridgeEvent, type DeviceBridge, type FreshestValue, WriteOutcome } from './bridge.js';
import { createDeviceCodec, MAX_STATUS_PAYLOAD_BYTES, type DeviceCodec } from './codecs/index.js';
import { checkedDevice, type DeviceDescription } from './device/index.js';
import { throttleLogger, type ThrottledLogger } from './log-throttle.js';
import { consoleLogger, type Logger } from './logger.js';
import { checkNumber, invalidOption, MAX_TIMER_MS, withDefaults } from './option-checks.js';
import { OwnPublishes, PublishOrigin } from './own-publishes.js';
import { redactUrl } from './redact.js';

/** The broker link, one state at a time. */
export const LinkState = {
  /** A client is connecting (TCP/TLS/WebSocket and CONNECT/CONNACK). */
  Connecting: 'connecting',
  /** Connected; subscribing to the status and availability topics. */
  Subscribing: 'subscribing',
  /**
   * Subscribed; the retained messages are arriving. Up once every subscribed topic delivered a
   * message, or after `settleMs` without a message (at most `readyTimeoutMs`). Writes are refused.
   */
  Settling: 'settling',
  /** Connected and subscribed. Writes go out if the device's availability says online. */
  Up: 'up',
  /** The link is down; a reconnect is scheduled. */
  Waiting: 'waiting',
  /** `close()` was called. */
  Closed: 'closed',
} as const;
export type LinkState = (typeof LinkState)[keyof typeof LinkState];

/** mqtt.js options the bridge sets itself: they are what makes a late publish impossible. */
const MANAGED_OPTIONS = [
  'clean',
  'reconnectPeriod',
  'queueQoSZero',
  'resubscribe',
  'manualConnect',
  'outgoingStore',
  'incomingStore',
] as const;

/** Options of {@link createMqttBridge}. */
export interface MqttBridgeOptions {
  /**
   * Broker URL: `mqtt://`, `mqtts://`, `ws://` or `wss://` (and mqtt.js's aliases `tcp://`,
   * `ssl://`, `tls://`). Required unless `mqtt.host` or `mqtt.servers` is given.
   */
  url?: string;
  /**
   * Further mqtt.js client options, passed through as they are (`protocolVersion`, `properties`,
   * `wsOptions`, `servername`, `will`…). The bridge manages `clean`, `reconnectPeriod`,
   * `queueQoSZero`, `resubscribe`, `manualConnect` and the stores itself; setting any of them throws.
   * Defaults to `{}`.
   */
  mqtt?: IClientOptions;
  /** Broker user name. Defaults to none. */
  username?: string;
  /** Broker password. Defaults to none. */
  password?: string | Buffer;
  /** CA certificate(s) (PEM) to trust for `mqtts://`/`wss://`. Defaults to Node's bundled CAs. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Client certificate (PEM) for mutual TLS. Defaults to none. */
  cert?: string | Buffer;
  /** Client private key (PEM) for mutual TLS. Defaults to none. */
  key?: string | Buffer;
  /** Whether the broker's certificate must be valid. Defaults to `true`. */
  rejectUnauthorized?: boolean;
  /** MQTT client id. Defaults to `ldf-<device id>-<random>`, new for every bridge. */
  clientId?: string;
  /** Where connection changes and ignored payloads are logged. Defaults to `consoleLogger()`. */
  logger?: Logger;
  /**
   * Milliseconds over which repeated log entries of one kind (same level and message, e.g. "status
   * payload ignored") are counted instead of logged: the first 2 are logged, the rest summed up in
   * one line at the end (`… (and 19,998 more in the last 10 s)`). `0` logs every entry. Defaults
   * to `10000`.
   */
  logThrottleMs?: number;
  /**
   * Largest status or availability payload, in bytes, the bridge reads; at most `65536`
   * (`MAX_STATUS_PAYLOAD_BYTES`, the codecs' own limit). A larger one is dropped with a warning,
   * never parsed or stored: the field keeps its value. With MQTT 5 (`mqtt.protocolVersion: 5`) the
   * bridge also sends a CONNECT `maximumPacketSize` this size plus room for the topic and header (unless
   * `mqtt.properties.maximumPacketSize` is given), so the broker does not send such a message at all.
   * Defaults to `65536`.
   */
  maxPayloadBytes?: number;
  /**
   * Milliseconds before the bridge's first reconnect attempt; doubles per failed attempt, with
   * jitter. (mqtt.js's own `reconnectPeriod` is always `0`: the bridge reconnects with a fresh
   * client.) Defaults to `1000`.
   */
  reconnectPeriodMs?: number;
  /** Longest wait between reconnect attempts, in milliseconds. Defaults to `30000`. */
  maxReconnectPeriodMs?: number;
  /**
   * Milliseconds a connection attempt may take (up to CONNACK). Passed to mqtt.js as its
   * `connectTimeout`, under its name. Defaults to `10000`.
   */
  connectTimeout?: number;
  /**
   * MQTT keepalive in **seconds**, as mqtt.js and the protocol count it (passed through under its
   * name): a dead broker is noticed within about 1.5× this. Defaults to `15`.
   */
  keepalive?: number;
  /** Milliseconds `close()` waits for in-flight writes' PUBACKs before answering them `unknown`. Defaults to `1000`. */
  closeTimeoutMs?: number;
  /**
   * Milliseconds without a message after the SUBACKs (or after the last retained message) that end
   * a connection's wait for its retained messages, when not every topic has delivered one yet (a
   * topic without a retained message delivers nothing). `0`: up at the SUBACKs, without waiting.
   * Defaults to `100`.
   */
  settleMs?: number;
  /**
   * Milliseconds bounding the wait for the device's state: `ready()` resolves `false` this long after
   * the bridge was created if the first connection is not up by then; a connection settles at most
   * this long after its SUBACKs; a topic that has delivered nothing this long after the first SUBACK
   * is named in a warning. Defaults to `2000`.
   */
  readyTimeoutMs?: number;
  /**
   * Milliseconds the bridge waits for the broker to deliver one of its own writes back on the
   * action topic it subscribes to (to tell it from a write made elsewhere, docs/protocol.md,
   * *Several server processes*). One that comes back later is taken for a write from elsewhere:
   * the next set from the older revision is refused `stale`, the safe side. Defaults to `5000`.
   */
  ownWriteTimeoutMs?: number;
}

/** The defaults of {@link MqttBridgeOptions}, each documented on its option; merged once per bridge. */
export const MQTT_BRIDGE_DEFAULTS = Object.freeze({
  reconnectPeriodMs: 1000,
  maxReconnectPeriodMs: 30_000,
  connectTimeout: 10_000,
  keepalive: 15,
  closeTimeoutMs: 1000,
  settleMs: 100,
  readyTimeoutMs: 2000,
  logThrottleMs: 10_000,
  maxPayloadBytes: MAX_STATUS_PAYLOAD_BYTES,
  ownWriteTimeoutMs: 5000,
});

/**
 * Room in an MQTT 5 `maximumPacketSize` beyond the payload and the longest subscribed topic: the
 * fixed header (5), the topic's length (2), the packet id (2) and the properties a broker may add
 * (a topic alias, a subscription identifier, the publisher's user properties).
 */
const PACKET_OVERHEAD_BYTES = 4096;

/** Options renamed in 0.2 (time options end in `Ms`): the old name throws, naming the new one. */
const RENAMED_OPTIONS = Object.freeze([
  ['reconnectPeriod', 'reconnectPeriodMs'],
  ['maxReconnectPeriod', 'maxReconnectPeriodMs'],
] as const);

/** A {@link DeviceBridge} over MQTT, plus what tests and operators may want to look at. */
export interface MqttBridge extends DeviceBridge {
  /** The state of the broker link. */
  readonly linkState: LinkState;
  /**
   * Resolves `true` when the first connection is up with the retained state, or `false` when
   * `readyTimeoutMs` since the bridge was created passed first. Never rejects.
   */
  ready(): Promise<boolean>;
  /** Refuses a text value containing its payload's separators (see `DeviceBridge.checkWrite`). */
  checkWrite(field: string, value: WritableValue | null): string | undefined;
}

/**
 * A write published at QoS 1 whose PUBACK has not come yet. Settled once: `accepted` on the PUBACK,
 * `unknown` when its client dies or the bridge closes first.
 */
interface PublishAwaitingAck {
  settle(outcome: WriteOutcome): void;
}

const excerpt = (payload: Buffer): string => {
  const text = payload.subarray(0, 64).toString('utf8');
  return payload.length > 64 ? `${text}…` : text;
};

class MqttBridgeImpl implements MqttBridge {
  readonly id: string;
  readonly schema: readonly FieldSchema[];
  private readonly codec: DeviceCodec;
  /** The availability topics' states and how they combine (none: available whenever the link is up). */
  private readonly availability: Availability;
  private readonly url: string | undefined;
  private readonly clientOptions: IClientOptions;
  private readonly log: ThrottledLogger;
  private readonly maxPayloadBytes: number;
  private readonly backoff: BackoffOptions;
  private readonly closeTimeoutMs: number;
  private readonly settleMs: number;
  private readonly readyTimeoutMs: number;
  /** Every subscribed topic: the status topics, then the availability topics if any. */
  private readonly topics: readonly string[];
  /** The action topics, subscribed to see writes made elsewhere. */
  private readonly actions: ActionTopics;
  /** This bridge's writes on their way back from the broker. */
  private readonly own: OwnPublishes;
  /** Said once: the broker refused the action topics, or never delivers our own writes back. */
  private actionsWarned = false;

  private state: LinkState = LinkState.Connecting;
  /** Incremented for every client; events of an older client are ignored (a stale result). */
  private generation = 0;
  private client: MqttClient | undefined;
  private failedAttempts = 0;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly cache = new Map<string, FieldValue>();
  /** What the last `availability` event said. */
  private reported = false;
  private readonly listeners = new Set<(event: BridgeEvent) => void>();
  private readonly awaitingAck = new Set<PublishAwaitingAck>();
  private closing: Promise<void> | undefined;
  /** Topics that have not delivered a message on the current client. */
  private undelivered = new Set<string>();
  /** Topics that have never delivered a message, for the warning about silent topics. */
  private readonly neverDelivered: Set<string>;
  /** When a settling connection counts as up even if messages keep coming (`performance.now()`). */
  private settleDeadline = 0;
  private settleTimer: ReturnType<typeof setTimeout> | undefined;
  private silenceTimer: ReturnType<typeof setTimeout> | undefined;
  private silenceWatched = false;
  /** The first connection's readiness: waiting, then up (`true`) or the bound passed (`false`). */
  private readiness: 'waiting' | 'ready' | 'timed-out' = 'waiting';
  private readyTimer: ReturnType<typeof setTimeout> | undefined;
  private resolveReady: (ready: boolean) => void = () => {};
  private readonly readyPromise = new Promise<boolean>((resolve) => (this.resolveReady = resolve));

  constructor(device: DeviceDescription, options: MqttBridgeOptions) {
    const d = checkedDevice(device);
    this.id = d.id;
    this.codec = createDeviceCodec(d);
    this.schema = this.codec.schema;
    this.availability = new Availability(d.availability);
    for (const [old, now] of RENAMED_OPTIONS) {
      if ((options as Record<string, unknown>)[old] !== undefined)
        throw invalidOption(`The "${old}" option is now "${now}" (milliseconds)`);
    }
    const o = withDefaults(MQTT_BRIDGE_DEFAULTS, options);
    this.log = throttleLogger(o.logger ?? consoleLogger(), {
      intervalMs: checkNumber('logThrottleMs', o.logThrottleMs, 0, MAX_TIMER_MS, { integer: true }),
    });
    this.maxPayloadBytes = checkNumber('maxPayloadBytes', o.maxPayloadBytes, 1, MAX_STATUS_PAYLOAD_BYTES, {
      integer: true,
    });
    this.backoff = {
      initialMs: checkNumber('reconnectPeriodMs', o.reconnectPeriodMs, 1, Infinity),
      maxMs: checkNumber('maxReconnectPeriodMs', o.maxReconnectPeriodMs, 1, Infinity),
    };
    this.closeTimeoutMs = checkNumber('closeTimeoutMs', o.closeTimeoutMs, 0, Infinity);
    this.settleMs = checkNumber('settleMs', o.settleMs, 0, MAX_TIMER_MS);
    this.readyTimeoutMs = checkNumber('readyTimeoutMs', o.readyTimeoutMs, 0, MAX_TIMER_MS);
    this.topics = [...this.codec.statusTopics, ...this.availability.topics];
    this.neverDelivered = new Set(this.topics);
    this.actions = createActionTopics(d);
    const ownWriteTimeoutMs = checkNumber('ownWriteTimeoutMs', o.ownWriteTimeoutMs, 0, MAX_TIMER_MS);

    const passed = o.mqtt ?? {};
    const managed = MANAGED_OPTIONS.filter((k) => passed[k] !== undefined);
    if (managed.length > 0) {
      throw invalidOption(
        `The bridge sets the mqtt.js option(s) ${managed.map((k) => `"${k}"`).join(', ')} itself (they prevent late publishes); remove them`,
      );
    }
    checkBroker(o.url, passed, 'createMqttBridge');
    this.url = o.url;
    this.clientOptions = {
      keepalive: checkNumber('keepalive', o.keepalive, 0, Infinity),
      connectTimeout: checkNumber('connectTimeout', o.connectTimeout, 1, Infinity),
      clientId: o.clientId ?? `ldf-${d.id}-${randomBytes(6).toString('hex')}`,
      ...passed,
      ...loginOptions(o),
      // The no-late-publish guarantee (see the module comment): one connection per client.
      clean: true,
      reconnectPeriod: 0,
      queueQoSZero: false,
      resubscribe: false,
    };
    if (this.clientOptions.protocolVersion === 5 && passed.properties?.maximumPacketSize === undefined) {
      // The broker drops for this client what it may not send (MQTT 5, 3.1.2.11.4): never read, never buffered.
      const longestTopic = Math.max(...[...this.topics, ...this.actions.topics].map((t) => Buffer.byteLength(t)));
      this.clientOptions.properties = {
        ...passed.properties,
        maximumPacketSize: this.maxPayloadBytes + longestTopic + PACKET_OVERHEAD_BYTES,
      };
    }
    this.own = new OwnPublishes({
      originId: randomBytes(8).toString('hex'),
      tagged: this.clientOptions.protocolVersion === 5,
      timeoutMs: ownWriteTimeoutMs,
      now: () => performance.now(),
    });
    this.readyTimer = setTimeout(() => this.endReadiness('timed-out'), this.readyTimeoutMs);
    // The bound must not keep a process alive on its own.
    this.readyTimer.unref?.();
    this.connect();
  }

  get online(): boolean {
    return this.state === LinkState.Up && this.availability.online;
  }

  get linkState(): LinkState {
    return this.state;
  }

  ready(): Promise<boolean> {
    return this.readyPromise;
  }

  snapshot(): Record<string, FieldValue> {
    return Object.fromEntries(this.cache);
  }

  subscribe(listener: (event: BridgeEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  checkWrite(field: string, value: WritableValue | null): string | undefined {
    return this.codec.checkWrite(field, value);
  }

  write(field: string, value: WritableValue | null, freshest: FreshestValue): Promise<WriteOutcome> {
    const client = this.client;
    // Published only on a live link to an online device; never handed to mqtt.js to send later.
    if (!this.online || !client || !client.connected || client.disconnecting)
      return Promise.resolve(WriteOutcome.Offline);
    const encoded = this.codec.encode(field, value, freshest);
    if (!encoded.ok) {
      this.log.warn(
        { device: this.id, field, reason: encoded.message },
        'write not published: its payload cannot be built',
      );
      return Promise.resolve(WriteOutcome.Offline);
    }
    return new Promise<WriteOutcome>((resolve) => {
      let settled = false;
      const entry: PublishAwaitingAck = {
        settle: (outcome) => {
          if (settled) return;
          settled = true;
          this.awaitingAck.delete(entry);
          resolve(outcome);
        },
      };
      this.awaitingAck.add(entry);
      this.rememberOwnWrite(encoded.topic, encoded.payload);
      try {
        const options = { qos: 1, retain: false, ...this.own.publishOptions } as const;
        client.publish(encoded.topic, encoded.payload, options, (err) => {
          if (err && !settled) this.log.warn({ device: this.id, field, err }, 'write not acknowledged by the broker');
          entry.settle(err ? WriteOutcome.Unknown : WriteOutcome.Accepted);
        });
      } catch (err) {
        this.log.error({ device: this.id, field, err }, 'publish failed');
        entry.settle(WriteOutcome.Unknown);
      }
    });
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    const client = this.client;
    const wasOnline = this.online;
    this.state = LinkState.Closed;
    this.client = undefined;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    clearTimeout(this.settleTimer);
    clearTimeout(this.silenceTimer);
    this.endReadiness('timed-out');
    if (this.awaitingAck.size > 0) {
      // Let PUBACKs already on their way arrive, so a write that did land is not reported `unknown`.
      const all = Promise.all(
        [...this.awaitingAck].map(
          (p) =>
            new Promise<void>((r) => {
              const settle = p.settle;
              p.settle = (o) => {
                settle(o);
                r();
              };
            }),
        ),
      );
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, this.closeTimeoutMs)))]);
      clearTimeout(timer);
    }
    this.settleAll(WriteOutcome.Unknown);
    if (client) await this.discard(client);
    if (wasOnline) this.emit({ type: 'availability', online: false });
    this.reported = false;
    this.listeners.clear();
    this.log.close();
  }

  // ---------------------------------------------------------------- the link

  private connect(): void {
    if (this.state === LinkState.Closed) return;
    const gen = ++this.generation;
    this.state = LinkState.Connecting;
    this.undelivered = new Set(this.topics);
    // Writes of an earlier connection come back (if at all) to its subscriptions, not to this one's.
    this.own.clear();
    let client: MqttClient;
    try {
      client = this.url === undefined ? connect(this.clientOptions) : connect(this.url, this.clientOptions);
    } catch (err) {
      this.log.error({ device: this.id, err }, 'cannot create an MQTT client');
      this.scheduleReconnect();
      return;
    }
    this.client = client;
    client.on('connect', () => {
      // Writes are small and wait on their PUBACK; with the action topics, each also comes back
      // and is acknowledged. Nagle's algorithm would hold those small packets for the peer's
      // delayed ACK: measured, 32 writes in flight went at ~1.4k/s with it, ~15k/s without
      // (BENCHMARKS.md figure 5). A WebSocket transport's stream has no such switch.
      (client.stream as { setNoDelay?: (on: boolean) => void } | undefined)?.setNoDelay?.(true);
      this.onConnect(gen, client);
    });
    client.on('message', (topic, payload, packet) =>
      this.actions.has(topic) ? this.onActionMessage(gen, topic, payload, packet) : this.onMessage(gen, topic, payload),
    );
    client.on('close', () => this.onClose(gen, client));
    client.on('error', (err) => this.onError(gen, err));
  }

  private onConnect(gen: number, client: MqttClient): void {
    if (gen !== this.generation || this.state !== LinkState.Connecting) return;
    this.state = LinkState.Subscribing;
    this.failedAttempts = 0;
    this.log.info(
      { device: this.id, broker: this.url === undefined ? this.clientOptions.host : redactUrl(this.url) },
      'connected to the MQTT broker',
    );
    // The action topics ride along (writes from elsewhere): a refusal of those alone is not fatal.
    const requested = [...this.codec.statusTopics, ...this.actions.topics];
    const topics = Object.fromEntries(requested.map((t) => [t, { qos: 1 as const }]));
    // Status topics first, availability in a second SUBSCRIBE: brokers answer in order, so the retained
    // statuses usually arrive before the device is reported online, and the first resync is complete.
    // Every availability topic goes in that second SUBSCRIBE, so none of them overtakes a status.
    client.subscribe(topics, (err, granted) => {
      if (gen !== this.generation || this.state !== LinkState.Subscribing) return;
      if (this.refused(this.setAsideActionRefusals(err, requested), granted))
        return void this.discardAndRetry(gen, client);
      if (this.availability.topics.length === 0) return this.settle(gen);
      const availability = Object.fromEntries(this.availability.topics.map((t) => [t, { qos: 1 as const }]));
      client.subscribe(availability, (err2, granted2) => {
        if (gen !== this.generation || this.state !== LinkState.Subscribing) return;
        if (this.refused(err2, granted2)) return void this.discardAndRetry(gen, client);
        this.settle(gen);
      });
    });
  }

  private refused(err: Error | null | undefined, granted: { topic: string; qos: number }[] | undefined): boolean {
    const denied = (granted ?? []).filter((g) => g.qos >= 0x80).map((g) => g.topic);
    if (!err && denied.length === 0) return false;
    this.log.error({ device: this.id, err, denied }, 'the broker refused a subscription; reconnecting');
    return true;
  }

  /** Every subscription granted: wait for the retained messages (see the module comment). */
  private settle(gen: number): void {
    this.state = LinkState.Settling;
    this.watchSilence();
    if (this.undelivered.size === 0 || this.settleMs === 0) return this.linkUp();
    this.settleDeadline = performance.now() + this.readyTimeoutMs;
    this.armSettle(gen);
  }

  /** (Re)starts the quiet period of a settling connection, never beyond its deadline. */
  private armSettle(gen: number): void {
    clearTimeout(this.settleTimer);
    const wait = Math.min(this.settleMs, Math.max(0, this.settleDeadline - performance.now()));
    this.settleTimer = setTimeout(() => {
      this.settleTimer = undefined;
      if (gen === this.generation && this.state === LinkState.Settling) this.linkUp();
    }, wait);
  }

  private linkUp(): void {
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    this.state = LinkState.Up;
    this.report();
    this.endReadiness('ready');
  }

  /** Settles `ready()` once: `true` when the first connection is up, `false` when the bound passed first. */
  private endReadiness(outcome: 'ready' | 'timed-out'): void {
    if (this.readiness !== 'waiting') return;
    this.readiness = outcome;
    clearTimeout(this.readyTimer);
    this.readyTimer = undefined;
    this.resolveReady(outcome === 'ready');
  }

  /**
   * Once, at the first SUBACKs: topics still silent `readyTimeoutMs` later are named in one
   * warning (no retained message, or an ACL that lets the client subscribe but drops the messages).
   */
  private watchSilence(): void {
    if (this.silenceWatched) return;
    this.silenceWatched = true;
    this.silenceTimer = setTimeout(() => {
      this.silenceTimer = undefined;
      if (this.state === LinkState.Closed || this.neverDelivered.size === 0) return;
      this.log.warn(
        { device: this.id, topics: [...this.neverDelivered], readyTimeoutMs: this.readyTimeoutMs },
        'subscribed, but no message arrived on these topics: no retained message yet, or the broker (an ACL) does not deliver them',
      );
    }, this.readyTimeoutMs);
    this.silenceTimer.unref?.();
  }

  /** A settling connection is up once every topic delivered; else its quiet period starts again. */
  private delivered(gen: number, topic: string): void {
    this.undelivered.delete(topic);
    this.neverDelivered.delete(topic);
    if (this.state !== LinkState.Settling) return;
    if (this.undelivered.size === 0) this.linkUp();
    else this.armSettle(gen);
  }

  private onMessage(gen: number, topic: string, payload: Buffer): void {
    if (gen !== this.generation || this.state === LinkState.Closed) return;
    const isAvailability = this.availability.has(topic);
    if (payload.length > this.maxPayloadBytes) {
      // Never parsed, never stored: a status keeps the field's value; an availability topic that
      // cannot say `online` counts as offline, as with any unexpected availability payload.
      this.log.warn(
        { device: this.id, topic, bytes: payload.length, maxPayloadBytes: this.maxPayloadBytes },
        'payload dropped: larger than maxPayloadBytes',
      );
      if (isAvailability) {
        this.availability.markOffline(topic);
        this.report();
      }
      this.delivered(gen, topic);
      return;
    }
    if (isAvailability) {
      const reading = this.availability.receive(topic, payload);
      if (reading?.problem !== undefined) {
        this.log.warn(
          { device: this.id, topic, payload: excerpt(payload), reason: reading.problem },
          'unexpected availability payload: counted as offline',
        );
      }
      this.report();
      this.delivered(gen, topic);
      return;
    }
    const result = this.codec.decode(topic, payload);
    if (result === undefined) return;
    if (!result.ok) {
      this.log.warn(
        { device: this.id, topic, payload: excerpt(payload), reason: result.message },
        'status payload ignored',
      );
    } else {
      // Keys and an index: this runs too rarely to be optimised, and unoptimised iteration is slow.
      const { values } = result;
      const names = Object.keys(values);
      for (let i = 0; i < names.length; i++)
        this.cache.set(names[i] as string, values[names[i] as string] as FieldValue);
      this.emit({ type: 'status', values });
    }
    this.delivered(gen, topic);
  }

  private onError(gen: number, err: Error): void {
    if (gen !== this.generation || this.state === LinkState.Closed) return;
    // Every failed attempt errors; say it once per outage, then quietly.
    const level = this.failedAttempts === 0 ? 'warn' : 'debug';
    this.log[level]({ device: this.id, err }, 'MQTT connection error');
  }

  private onClose(gen: number, client: MqttClient): void {
    if (gen !== this.generation || this.state === LinkState.Closed) return;
    const wasLinked =
      this.state === LinkState.Subscribing || this.state === LinkState.Settling || this.state === LinkState.Up;
    clearTimeout(this.settleTimer);
    this.settleTimer = undefined;
    // In-flight writes may or may not have reached the broker; their client goes with its store.
    void this.discard(client);
    this.settleAll(WriteOutcome.Unknown);
    if (wasLinked) {
      this.log.warn({ device: this.id }, 'lost the MQTT broker connection; reconnecting');
      this.cache.clear();
      // The retained availability comes again: until then every topic is unknown, not what it said before.
      this.availability.reset();
      this.reported = false;
      this.emit({ type: 'availability', online: false, reset: true });
    }
    this.scheduleReconnect();
  }

  private discardAndRetry(gen: number, client: MqttClient): void {
    if (gen !== this.generation) return;
    this.onClose(gen, client);
  }

  private scheduleReconnect(): void {
    if (this.state === LinkState.Closed) return;
    this.state = LinkState.Waiting;
    this.client = undefined;
    const delay = backoffDelay(this.failedAttempts, this.backoff);
    this.failedAttempts++;
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (this.state === LinkState.Waiting) this.connect();
    }, delay);
  }

  /** Ends a client for good: no listener of ours left, its stores dropped with it. */
  private discard(client: MqttClient): Promise<void> {
    client.removeAllListeners();
    client.on('error', () => {});
    return new Promise<void>((resolve) => {
      try {
        client.end(true, {}, () => resolve());
      } catch {
        resolve();
      }
    });
  }

  private settleAll(outcome: WriteOutcome): void {
    for (const p of [...this.awaitingAck]) p.settle(outcome);
  }

  // ---------------------------------------------------------------- writes from elsewhere

  /**
   * The SUBSCRIBE's error, unless the broker refused only action topics (an ACL): those are warned
   * about once and left out, and the bridge works as it would without them (see the module comment).
   */
  private setAsideActionRefusals(
    err: Error | null | undefined,
    requested: readonly string[],
  ): Error | null | undefined {
    // mqtt.js reports any refused topic as an error carrying the SUBACK; any other error is the link going away.
    const codes = (err as { packet?: { granted?: unknown } } | null | undefined)?.packet?.granted;
    if (!err || !Array.isArray(codes)) return err;
    const denied = requested.filter((_t, i) => Number(codes[i]) >= 0x80);
    if (denied.length === 0 || denied.some((t) => !this.actions.has(t))) return err;
    this.warnActionsOnce(
      { denied },
      'the broker refused the subscription to these action topics: writes to them by other server processes or MQTT clients are not seen (docs/protocol.md, Several server processes)',
    );
    return null;
  }

  /** Remembers a write about to be published, to know it when it comes back on the action topic. */
  private rememberOwnWrite(topic: string, payload: string | Buffer): void {
    this.own.sent(topic, payload);
    if (this.own.unreturned > 0 && this.own.seen === 0) {
      this.warnActionsOnce(
        { ownWriteTimeoutMs: this.own.timeoutMs },
        'the broker does not deliver this bridge’s own writes back on the action topics (an ACL that lets it subscribe but not read?): writes by other server processes or MQTT clients are not seen (docs/protocol.md, Several server processes)',
      );
    }
  }

  /**
   * A message on an action topic: one of our writes coming back (nothing to do), or a write made
   * elsewhere, reported as `written-elsewhere` and never read further. A retained message is an old
   * command the broker keeps, not a write happening now.
   */
  private onActionMessage(gen: number, topic: string, payload: Buffer, packet: IPublishPacket): void {
    if (gen !== this.generation || this.state === LinkState.Closed) return;
    if (packet.retain) {
      this.log.debug({ device: this.id, topic }, 'retained message on an action topic ignored');
      return;
    }
    if (this.own.classify(topic, payload, packet.properties?.userProperties) === PublishOrigin.Own) return;
    const read = this.actions.read(topic, payload, this.maxPayloadBytes);
    if (!read) return;
    if (read.problem !== undefined) {
      this.log.warn(
        { device: this.id, topic, payload: excerpt(payload), reason: read.problem },
        'unreadable write from elsewhere on an action topic: counted as a write of every field it may carry',
      );
    }
    if (read.fields.length === 0) return;
    this.log.debug({ device: this.id, topic, fields: read.fields }, 'write from elsewhere seen');
    this.emit({ type: 'written-elsewhere', fields: read.fields });
  }

  private warnActionsOnce(context: Record<string, unknown>, message: string): void {
    if (this.actionsWarned) return;
    this.actionsWarned = true;
    this.log.warn({ device: this.id, ...context }, message);
  }

  /** Emits `availability` when `online` changed. */
  private report(): void {
    const online = this.online;
    if (online === this.reported) return;
    this.reported = online;
    if (online) this.log.info({ device: this.id }, 'device online');
    this.emit({ type: 'availability', online });
  }

  private emit(event: BridgeEvent): void {
    const listeners = [...this.listeners];
    for (let i = 0; i < listeners.length; i++) {
      try {
        (listeners[i] as (event: BridgeEvent) => void)(event);
      } catch (err) {
        this.log.error({ device: this.id, err }, 'a bridge listener threw');
      }
    }
  }
}

/**
 * Connects a device to an MQTT broker. The bridge connects at once and keeps reconnecting (with
 * backoff) until closed; `online` turns true when it is subscribed, the retained messages have
 * arrived (see `settleMs`) and the device's availability says online. `ready()` resolves once the
 * first connection got that far, or after `readyTimeoutMs`. Throws a `DeviceDescriptionError` for an invalid description, a `TypeError`
 * with code `ERR_INVALID_OPTION` for an invalid option or contradictory ones.
 *
 * @example
 * const bridge = createMqttBridge(await loadDeviceFile('videoproc.json'), { url: 'mqtt://127.0.0.1:1883' });
 * const server = createLiveDeviceServer({ devices: [bridge] });
 */
export function createMqttBridge(device: DeviceDescription, options: MqttBridgeOptions): MqttBridge {
  return new MqttBridgeImpl(device, options);
}
