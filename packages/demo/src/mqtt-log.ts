/**
 * The demo's MQTT log: a plain mqtt.js subscriber (not the SDK) that records every status, action
 * and availability message of the device with a timestamp, and flags stale writes. With
 * `discovery`, it also records the Home Assistant discovery configs and a Zigbee2MQTT
 * installation's bridge, state, `/set` and availability messages (kinds only: the stale-write rule
 * is the device file's).
 *
 * **The stale-write rule.** The log sees only MQTT, so it judges a write by what the device said
 * before it:
 * - Every status change of a field is attributed. If an action carrying that very value for that
 *   field went out within the last {@link ECHO_WINDOW_MS} (oldest first), the change is that
 *   action's *echo*. Otherwise the *device* changed it by itself: someone at the front panel,
 *   another controller writing around the SDK, or the hardware.
 * - The value a device-made change replaced is *superseded*: whoever still holds it has a view
 *   older than the device's. It stops being superseded when the device reports it again.
 * - An action is **stale** when, for any field it carries, its value differs from the device's
 *   current value and is a superseded value: the write would put back what the device had left,
 *   so it was composed from an old view (a replayed form, a queued edit, an old composite payload).
 *   Writing the current value is never stale; writing a new value is never stale.
 *
 * Limits, said plainly: the log cannot read minds, so a person who saw -25 and deliberately typed
 * the older 22 again would be flagged too; and a new value typed into an old view (25 typed while
 * offline) is a new value to an MQTT observer. The server's revision check, which knows which
 * revision each write was based on, refuses both; this flag is the independent witness that shows
 * when something got through.
 * @module
 */
import { connect, type MqttClient } from 'mqtt';
import { type HardwareDevice, type HardwareValue, match } from './payload-format.js';

/** Milliseconds after an action within which a matching status change counts as its echo (the server's `echoTimeoutMs`). */
export const ECHO_WINDOW_MS = 2000;

/** Superseded values remembered per field. */
const SUPERSEDED_LIMIT = 32;

/** Entries kept for late subscribers. */
const BACKLOG_LIMIT = 500;

/** What a logged message is. */
export const LogKind = {
  Status: 'status',
  Action: 'action',
  Availability: 'availability',
  /** A device describing itself: a Home Assistant discovery config, Zigbee2MQTT's `bridge/devices` or `bridge/info`. */
  Discovery: 'discovery',
  Other: 'other',
} as const;
export type LogKind = (typeof LogKind)[keyof typeof LogKind];

/** One field of a status message that changed. */
export interface LogChange {
  field: string;
  from: HardwareValue | null;
  to: HardwareValue;
  /** `echo`: the answer to an action; `device`: the device changed it by itself. */
  cause: 'echo' | 'device';
}

/** Why an action is stale, for one field. */
export interface StaleFlag {
  field: string;
  label: string;
  /** The value the action carries. */
  value: HardwareValue;
  /** The device's value when the action went out. */
  current: HardwareValue;
  /** When (ms since the epoch) the device replaced `value` by a change of its own. */
  supersededAt: number;
}

/** One MQTT message as the log shows it. */
export interface LogEntry {
  seq: number;
  /** Milliseconds since the epoch, when the log received it. */
  time: number;
  topic: string;
  payload: string;
  /** Delivered from the broker's retained store (on subscribe), not live. */
  retained: boolean;
  kind: LogKind;
  /** The fields the payload carries, decoded (`undefined` for availability and undecodable payloads). */
  fields?: Record<string, HardwareValue>;
  /** Status: the fields whose value changed. */
  changes?: LogChange[];
  /** Action: set when the write is stale (see the module comment). */
  stale?: StaleFlag[];
  /** The payload does not match the topic's pattern or template. */
  malformed?: boolean;
}

/** Topics beside the device's that the log records (see {@link MqttLogOptions.discovery}). */
export interface LogDiscoveryTopics {
  /** Home Assistant's discovery prefix: `<prefix>/#` is recorded, its `…/config` topics as discovery. */
  homeAssistantPrefix?: string;
  /** A Zigbee2MQTT base topic: `<base>/#` is recorded, each topic by its role. */
  zigbee2mqttBase?: string;
}

/** Options of {@link startMqttLog}. */
export interface MqttLogOptions {
  url: string;
  device: HardwareDevice;
  /** Discovery topics to record too. Defaults to none (the device's topics only). */
  discovery?: LogDiscoveryTopics;
  /** Clock in ms since the epoch. Defaults to `Date.now`. */
  now?: () => number;
}

/** A running log. */
export interface MqttLog {
  /** The last {@link BACKLOG_LIMIT} entries, oldest first. */
  entries(): LogEntry[];
  /** How many stale writes were seen since start. */
  readonly staleCount: number;
  /** Listens to new entries. Returns the unsubscribe function. */
  subscribe(listener: (entry: LogEntry) => void): () => void;
  close(): Promise<void>;
}

interface Superseded {
  value: HardwareValue;
  at: number;
}

interface PendingAction {
  field: string;
  value: HardwareValue;
  at: number;
}

/** The judge behind the log, separate from MQTT so it can be reasoned about (and tested) on its own. */
export class StaleWriteJudge {
  private readonly current = new Map<string, HardwareValue>();
  private readonly superseded = new Map<string, Superseded[]>();
  private pending: PendingAction[] = [];

  constructor(private readonly device: HardwareDevice) {}

  /** A status message: returns the fields it changed and their causes. */
  status(values: Record<string, HardwareValue>, at: number): LogChange[] {
    this.expire(at);
    const changes: LogChange[] = [];
    for (const [field, to] of Object.entries(values)) {
      const known = this.current.has(field);
      const from = known ? this.current.get(field)! : null;
      if (known && from === to) continue;
      this.current.set(field, to);
      if (!known) continue; // the first value seen is where we start, not a change
      const i = this.pending.findIndex((p) => p.field === field && p.value === to);
      let cause: LogChange['cause'] = 'device';
      if (i >= 0) {
        cause = 'echo';
        // This write's echo, and the same field's older writes, are answered.
        this.pending = this.pending.filter((p, j) => j > i || p.field !== field);
      }
      const list = (this.superseded.get(field) ?? []).filter((s) => s.value !== to);
      if (cause === 'device' && from !== null) list.push({ value: from, at });
      this.superseded.set(field, list.slice(-SUPERSEDED_LIMIT));
      changes.push({ field, from, to, cause });
    }
    return changes;
  }

  /** An action: returns its stale flags (empty when it is not stale) and remembers it for echo attribution. */
  action(values: Record<string, HardwareValue>, at: number): StaleFlag[] {
    this.expire(at);
    const flags: StaleFlag[] = [];
    for (const [field, value] of Object.entries(values)) {
      const current = this.current.get(field);
      if (current !== undefined && value !== current) {
        const old = this.superseded
          .get(field)
          ?.filter((s) => s.value === value)
          .at(-1);
        if (old)
          flags.push({
            field,
            label: this.device.fields.get(field)?.label ?? field,
            value,
            current,
            supersededAt: old.at,
          });
      }
      this.pending.push({ field, value, at });
    }
    return flags;
  }

  private expire(now: number): void {
    this.pending = this.pending.filter((p) => now - p.at <= ECHO_WINDOW_MS);
  }
}

class Log implements MqttLog {
  private readonly backlog: LogEntry[] = [];
  private readonly listeners = new Set<(entry: LogEntry) => void>();
  private readonly judge: StaleWriteJudge;
  private readonly now: () => number;
  private seq = 0;
  private stale = 0;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly client: MqttClient,
    private readonly device: HardwareDevice,
    now: () => number,
    private readonly discovery: LogDiscoveryTopics = {},
  ) {
    this.judge = new StaleWriteJudge(device);
    this.now = now;
    client.on('message', (topic, payload, packet) => this.record(topic, payload.toString('utf8'), packet.retain));
  }

  get staleCount(): number {
    return this.stale;
  }

  entries(): LogEntry[] {
    return [...this.backlog];
  }

  subscribe(listener: (entry: LogEntry) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.closing ??= this.client.endAsync(true).then(() => undefined);
    return this.closing;
  }

  private record(topic: string, payload: string, retained: boolean): void {
    const time = this.now();
    const entry: LogEntry = { seq: ++this.seq, time, topic, payload, retained, kind: LogKind.Other };
    const { availability, topics, fields } = this.device;
    const statusTopic = topics.find((t) => t.status === topic);
    const actionTopic = topics.find((t) => t.set === topic);
    if (topic === availability.topic) entry.kind = LogKind.Availability;
    else if (statusTopic) {
      entry.kind = LogKind.Status;
      const values = match(statusTopic.pattern, fields, payload);
      if (values) {
        entry.fields = values;
        const changes = this.judge.status(values, time);
        if (changes.length > 0) entry.changes = changes;
      } else entry.malformed = true;
    } else if (actionTopic?.template) {
      entry.kind = LogKind.Action;
      const values = match(actionTopic.template, fields, payload);
      if (values) {
        entry.fields = values;
        const stale = this.judge.action(values, time);
        if (stale.length > 0) {
          entry.stale = stale;
          this.stale++;
        }
      } else entry.malformed = true;
    } else entry.kind = discoveryKind(topic, this.discovery);
    this.backlog.push(entry);
    if (this.backlog.length > BACKLOG_LIMIT) this.backlog.shift();
    for (const listener of [...this.listeners]) {
      try {
        listener(entry);
      } catch {
        /* a listener's failure is its own */
      }
    }
  }
}

/**
 * The kind of a topic outside the device file: under Home Assistant's prefix a `…/config` is a
 * discovery config; under Zigbee2MQTT's base, `bridge/devices` and `bridge/info` describe devices,
 * `bridge/state` and `<name>/availability` are availability, `<name>/set` (and `/set/<property>`)
 * a write, `<name>` a device's state.
 */
export function discoveryKind(topic: string, topics: LogDiscoveryTopics): LogKind {
  const { homeAssistantPrefix: ha, zigbee2mqttBase: z2m } = topics;
  if (ha !== undefined && topic.startsWith(`${ha}/`))
    return topic.endsWith('/config') ? LogKind.Discovery : LogKind.Other;
  if (z2m === undefined || !topic.startsWith(`${z2m}/`)) return LogKind.Other;
  const rest = topic.slice(z2m.length + 1).split('/');
  if (rest[0] === 'bridge') {
    if (rest.length !== 2) return LogKind.Other;
    if (rest[1] === 'devices' || rest[1] === 'info') return LogKind.Discovery;
    return rest[1] === 'state' ? LogKind.Availability : LogKind.Other;
  }
  const set = rest.indexOf('set');
  if (set > 0) return LogKind.Action;
  if (rest.length > 1 && rest.at(-1) === 'availability') return LogKind.Availability;
  return rest.includes('get') ? LogKind.Other : LogKind.Status;
}

/**
 * The topic filters that cover every topic of the device (`root/#` when they share a first level),
 * and the discovery topics when given.
 */
export function topicFilters(device: HardwareDevice, discovery: LogDiscoveryTopics = {}): string[] {
  const topics = [device.availability.topic, ...device.topics.flatMap((t) => (t.set ? [t.status, t.set] : [t.status]))];
  const roots = new Set(topics.map((t) => t.split('/')[0]));
  const own = roots.size === 1 ? [`${[...roots][0]}/#`] : [...new Set(topics)];
  const extra = [discovery.homeAssistantPrefix, discovery.zigbee2mqttBase].flatMap((p) => (p ? [`${p}/#`] : []));
  return [...own, ...extra];
}

/**
 * Subscribes to every topic of the device and starts logging. Resolves once subscribed (so the
 * broker's retained status is the first thing logged).
 *
 * @example
 * const log = await startMqttLog({ url: broker.url, device: readDeviceFile(VIDEOPROC_FILE) });
 * log.subscribe((e) => { if (e.stale) console.log('stale write!', e.topic, e.payload); });
 */
export async function startMqttLog(options: MqttLogOptions): Promise<MqttLog> {
  const client = connect(options.url, {
    clientId: `ldf-demo-log-${Math.random().toString(16).slice(2, 10)}`,
    clean: true,
    reconnectPeriod: 1000,
  });
  const log = new Log(client, options.device, options.now ?? Date.now, options.discovery);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error): void => {
      client.end(true);
      reject(err);
    };
    client.once('error', failed);
    client.once('connect', () => {
      client.off('error', failed);
      client.on('error', () => {});
      client.subscribe(topicFilters(options.device, options.discovery), { qos: 1 }, (err) =>
        err ? reject(err) : resolve(),
      );
    });
  });
  return log;
}
