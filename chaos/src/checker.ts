/**
 * The independent checker. It decides, from the run's records alone — frames as they crossed the
 * proxy on the server's side, messages as the broker delivered them to the checker's own
 * subscription, and the faults the run caused — whether the SDK kept its promises. It reads
 * frames as plain JSON and payloads with its own decoders; it never asks the SDK anything.
 *
 * Definitions (docs/reliability.md states them for readers):
 *
 * - A **set** is a `set` frame the proxy delivered to the server. Its **basis** is the latest frame
 *   before it in which the server showed that client (on any of its connections, same epoch first)
 *   the set's field at the set's `rev` (a `resync`, an `update`, or a rejection carrying the
 *   field's state): a value `x` at time `tb`. The basis point on the broker `tx` is the latest
 *   status message that changed the field to `x`, observed no later than `tb + W`.
 * - A **publish** is an action message on a device's `set` topic. Each must be explained by exactly
 *   one set of a client of that device whose value it carries, received before it, answered
 *   `accepted`, `unknown`, or not answered because its connection ended first.
 * - A publish is **stale** when a status message changed its written field after `tx` and before the
 *   publish to a value that this client never wrote (the device's own change, a clamped echo, or
 *   another client's write). For a composite payload, every other field must carry the broker's
 *   latest status or the value of a write published earlier and not yet echoed (within the echo
 *   timeout), DESIGN §3 rule 4.
 * - The **in-flight race**: an offending status change that reached the broker less than `W` ms
 *   before the publish, or after the set reached the server, is a **near-miss**, reported, not a
 *   violation. The same window applies to a publish right after the device said offline, and to a
 *   publish observed right after its session's server side ended.
 * @module
 */
import { summarize } from '@live-device-form/testkit';
import {
  type ChaosField,
  type ChaosGroup,
  GROUPS,
  OFFLINE,
  ONLINE,
  decodeAction,
  VALUES_PER_CLIENT,
  decodeStatus,
  topicRole,
} from './chaos-device.js';
import type { ConnectionRecord, RunRecords } from './records.js';

/** What the checker needs to know about the run's settings. */
export interface CheckerConfig {
  /** The in-flight window W, ms. */
  windowMs: number;
  /** The server's `echoTimeoutMs` (a write counts as awaiting its echo that long). */
  echoTimeoutMs: number;
  /** A set whose connection stayed open this long without an ack is a missing ack, ms. Defaults to `5000`. */
  ackDeadlineMs?: number;
  /** How long after a broker outage ended pages must have had their fresh resync, ms. Defaults to `8000`. */
  resyncDeadlineMs?: number;
  /** A publish this long after its set reached the server was held back: a violation, ms. Defaults to `5000`. */
  lateMs?: number;
}

export type ViolationKind =
  | 'stale-write'
  | 'stale-composite'
  | 'unpublished-composite'
  | 'missing-ack'
  | 'duplicate-ack'
  | 'unexpected-ack'
  | 'unmatched-publish'
  | 'accepted-not-published'
  | 'published-offline'
  | 'published-after-reconnect'
  | 'published-after-session'
  | 'published-late'
  | 'malformed-publish'
  | 'foreign-topic'
  | 'not-told-offline'
  | 'no-resync-after-return'
  | 'epoch'
  | 'element-contract'
  | 'run-stalled'
  | 'checker-anomaly';

export interface Violation {
  kind: ViolationKind;
  message: string;
  /** When (run time, ms), for reading the records. */
  t?: number;
  client?: string;
  conn?: number;
}

/** An in-flight race, reported separately from violations. */
export interface NearMiss {
  kind: 'stale-write' | 'stale-composite' | 'published-offline' | 'published-after-session';
  /** How long before the publish the offending change reached the broker (negative: after the set reached the server). */
  lagMs: number;
  /** Whether the change reached the broker after the set reached the server (the decision could not know it). */
  afterSet: boolean;
  /**
   * Whether the change was still in flight to the SDK when the set reached it: the server had not
   * yet sent any page an update (or `device offline`) for it.
   */
  inFlight: boolean;
  /** Which publish (for reading the records). */
  where?: string;
}

/** Figures the report prints. */
export interface CheckCounts {
  connections: number;
  upgraded: number;
  clients: number;
  setsReceived: number;
  acks: { accepted: number; unknown: number; rejected: Record<string, number> };
  /** Sets whose connection ended (or whose server process was killed) before their ack could be seen. */
  ackNotObservable: { closed: number; serverKilled: number };
  publishes: number;
  statusMessages: number;
  statusChanges: number;
  deviceOfflineMessages: number;
  outages: number;
  serverProcesses: number;
  epochs: number;
  /** Published sets whose basis was shown in an earlier epoch (must be 0 or fresh). */
  crossEpochSets: number;
  /** Sets carrying a revision this client was shown only in an earlier epoch, by how they were answered. */
  crossEpochReplays: Record<string, number>;
  /** Sets the guard refused. */
  errorsFromServer: Record<string, number>;
  /** Broker status change → first `update` frame with that value on any connection, ms. */
  updateLatency: { n: number; p50: number; p99: number; max: number };
}

export interface CheckResult {
  violations: Violation[];
  nearMisses: NearMiss[];
  counts: CheckCounts;
}

// ------------------------------------------------------------------ indexes

interface SetRec {
  conn: ConnectionRecord;
  client: string;
  device: string;
  t: number;
  id: number;
  field: ChaosField;
  value: number;
  rev: number;
  epoch: string | undefined;
  ackStatus: 'accepted' | 'unknown' | 'rejected' | 'none';
  reason?: string;
  noAck?: 'closed' | 'server-killed';
  publish?: Action;
}

interface Action {
  t: number;
  device: string;
  group: ChaosGroup;
  /** The raw payload. */
  payload: string;
  values: Partial<Record<ChaosField, number>>;
  set?: SetRec;
}

interface Status {
  t: number;
  value: number;
}

/** One device field's status history on the broker. */
class FieldHistory {
  /** Every status message's value for the field, in order. */
  readonly all: Status[] = [];
  /** Only the messages that changed the value (the first message counts as a change). */
  readonly changes: Status[] = [];
  /** value → indexes into `changes`. */
  readonly byValue = new Map<number, number[]>();

  add(t: number, value: number): void {
    const prev = this.all[this.all.length - 1];
    this.all.push({ t, value });
    if (prev && prev.value === value) return;
    const list = this.byValue.get(value) ?? [];
    list.push(this.changes.length);
    this.byValue.set(value, list);
    this.changes.push({ t, value });
  }

  /** The first status message (a change or not) carrying `value` after `t` and before `until`. */
  firstMessage(value: number, t: number, until: number): Status | undefined {
    let lo = 0;
    let hi = this.all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.all[mid] as Status).t <= t) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.all.length; i++) {
      const m = this.all[i] as Status;
      if (m.t >= until) break;
      if (m.value === value) return m;
    }
    return undefined;
  }

  /** The first change to `value` after `t`, within `withinMs`. */
  firstChangeTo(value: number, t: number, withinMs: number): Status | undefined {
    for (const i of this.byValue.get(value) ?? []) {
      const c = this.changes[i] as Status;
      if (c.t > t && c.t <= t + withinMs) return c;
    }
    return undefined;
  }

  /** Index of the first change at or after `t`. */
  firstChangeFrom(t: number): number {
    let lo = 0;
    let hi = this.changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.changes[mid] as Status).t < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The latest value before `t` (`undefined` if none yet). */
  valueBefore(t: number): Status | undefined {
    const i = this.firstChangeFrom(t);
    return i > 0 ? this.changes[i - 1] : undefined;
  }

  /** The latest change to `value` at or before `t`. */
  lastChangeTo(value: number, t: number): Status | undefined {
    const list = this.byValue.get(value);
    if (!list) return undefined;
    for (let k = list.length - 1; k >= 0; k--) {
      const c = this.changes[list[k] as number] as Status;
      if (c.t <= t) return c;
    }
    return undefined;
  }
}

/** Who invented a value: `pN`/`bN` for clients (values encode it), `device` for negative ones. */
export function creatorOf(value: number): string {
  if (value <= 0) return 'device';
  const index = Math.floor(value / VALUES_PER_CLIENT) - 1;
  return index >= 900 ? `b${index - 900}` : `p${index}`;
}

const round = (ms: number): number => Math.round(ms * 10) / 10;

function isChaosField(f: unknown): f is ChaosField {
  return f === 'a' || f === 'b' || f === 'c' || f === 'd';
}

/** Checks a run's records. */
export function checkRun(records: RunRecords, config: CheckerConfig): CheckResult {
  const W = config.windowMs;
  const ackDeadline = config.ackDeadlineMs ?? 5000;
  const resyncDeadline = config.resyncDeadlineMs ?? 8000;
  const lateMs = config.lateMs ?? 5000;
  const violations: Violation[] = [];
  const nearMisses: NearMiss[] = [];
  const violate = (v: Violation): void => {
    violations.push(v);
  };

  // ---------------------------------------------------------------- the broker's side
  const history = new Map<string, FieldHistory>(); // `${device}|${field}`
  const fieldHistory = (device: string, field: ChaosField): FieldHistory => {
    const key = `${device}|${field}`;
    let h = history.get(key);
    if (!h) history.set(key, (h = new FieldHistory()));
    return h;
  };
  const availability = new Map<string, { t: number; online: boolean }[]>();
  const actions: Action[] = [];
  let statusMessages = 0;
  let deviceOfflineMessages = 0;
  for (const m of records.broker) {
    const role = topicRole(m.topic);
    if (!role) {
      violate({
        kind: 'foreign-topic',
        message: `a message on ${JSON.stringify(m.topic)}: ${JSON.stringify(m.payload.slice(0, 80))}`,
        t: m.t,
      });
      continue;
    }
    switch (role.role) {
      case 'online': {
        const list = availability.get(role.device) ?? [];
        const online = m.payload === ONLINE;
        if (m.payload !== ONLINE && m.payload !== OFFLINE) {
          violate({
            kind: 'malformed-publish',
            message: `availability payload ${JSON.stringify(m.payload)} on ${m.topic}`,
            t: m.t,
          });
        }
        if (!online) deviceOfflineMessages++;
        list.push({ t: m.t, online });
        availability.set(role.device, list);
        break;
      }
      case 'status': {
        const values = decodeStatus(role.group, m.payload);
        if (!values) {
          violate({
            kind: 'checker-anomaly',
            message: `undecodable status ${JSON.stringify(m.payload)} on ${m.topic}`,
            t: m.t,
          });
          break;
        }
        statusMessages++;
        for (const [f, v] of Object.entries(values) as [ChaosField, number][]) fieldHistory(role.device, f).add(m.t, v);
        break;
      }
      case 'set': {
        const values = decodeAction(role.group, m.payload);
        if (!values || GROUPS[role.group].some((f) => values[f] === undefined)) {
          violate({
            kind: 'malformed-publish',
            message: `action payload ${JSON.stringify(m.payload.slice(0, 80))} on ${m.topic}`,
            t: m.t,
          });
          break;
        }
        actions.push({ t: m.t, device: role.device, group: role.group, values, payload: m.payload });
        break;
      }
      default: {
        const never: never = role;
        void never;
      }
    }
  }
  const availabilityAt = (device: string, t: number): { t: number; online: boolean } | undefined => {
    const list = availability.get(device);
    if (!list) return undefined;
    let found: { t: number; online: boolean } | undefined;
    for (const a of list) {
      if (a.t >= t) break;
      found = a;
    }
    return found;
  };

  // ---------------------------------------------------------------- the connections' side
  const generationEpochs = new Map<number, Set<string>>();
  const connEpoch = new Map<number, string>();
  for (const c of records.connections) {
    for (const f of c.frames) {
      if (f.dir !== 's2c' || f.msg?.type !== 'resync') continue;
      const epoch = String(f.msg.epoch);
      if (!connEpoch.has(c.id)) connEpoch.set(c.id, epoch);
      else if (connEpoch.get(c.id) !== epoch) {
        violate({
          kind: 'epoch',
          message: `connection ${c.id} got resyncs of two epochs`,
          conn: c.id,
          client: c.client,
        });
      }
      const set = generationEpochs.get(c.serverGeneration) ?? new Set<string>();
      set.add(epoch);
      generationEpochs.set(c.serverGeneration, set);
    }
  }
  const epochOfGeneration = new Map<number, string>();
  const allEpochs = new Map<string, number>();
  for (const [gen, epochs] of generationEpochs) {
    if (epochs.size > 1) violate({ kind: 'epoch', message: `server process ${gen} showed ${epochs.size} epochs` });
    const epoch = [...epochs][0] as string;
    epochOfGeneration.set(gen, epoch);
    const other = allEpochs.get(epoch);
    if (other !== undefined)
      violate({ kind: 'epoch', message: `server processes ${other} and ${gen} showed the same epoch ${epoch}` });
    allEpochs.set(epoch, gen);
  }

  const sets: SetRec[] = [];
  const counts: CheckCounts = {
    connections: records.connections.length,
    upgraded: 0,
    clients: new Set(records.connections.map((c) => c.client)).size,
    setsReceived: 0,
    acks: { accepted: 0, unknown: 0, rejected: {} },
    ackNotObservable: { closed: 0, serverKilled: 0 },
    publishes: actions.length,
    statusMessages,
    statusChanges: [...history.values()].reduce((n, h) => n + h.changes.length, 0),
    deviceOfflineMessages,
    outages: records.outages.length,
    serverProcesses: records.servers.length,
    epochs: allEpochs.size,
    crossEpochSets: 0,
    crossEpochReplays: {},
    errorsFromServer: {},
    updateLatency: { n: 0, p50: 0, p99: 0, max: 0 },
  };
  /** `${client}|${field}|${rev}` → showings (time, value, epoch), only for keys some set uses. */
  const connDevice = new Map<number, string>();
  /** client → epoch → `${field}|${rev}` shown to it. */
  const shownTo = new Map<string, Map<string, Set<string>>>();
  const crossEpoch: SetRec[] = [];
  for (const c of records.connections) {
    if (c.httpStatus === 101) counts.upgraded++;
    const byEpoch = shownTo.get(c.client) ?? new Map<string, Set<string>>();
    shownTo.set(c.client, byEpoch);
    let device: string | undefined;
    let resyncAt: number | undefined;
    const shownHere = new Set<string>();
    const pending = new Map<number, SetRec>();
    const answered = new Map<number, number>();
    const epoch = connEpoch.get(c.id) ?? epochOfGeneration.get(c.serverGeneration);
    for (const f of c.frames) {
      const msg = f.msg;
      if (!msg) continue;
      if (f.dir === 'c2s') {
        if (msg.type === 'hello' && typeof msg.device === 'string') {
          device = msg.device;
          connDevice.set(c.id, device);
        }
        if (msg.type !== 'set') continue;
        const id = msg.id;
        if (
          typeof id !== 'number' ||
          !isChaosField(msg.field) ||
          typeof msg.value !== 'number' ||
          typeof msg.rev !== 'number' ||
          !device
        ) {
          continue; // chaos clients only send well-formed sets
        }
        counts.setsReceived++;
        const rec: SetRec = {
          conn: c,
          client: c.client,
          device,
          t: f.t,
          id,
          field: msg.field,
          value: msg.value,
          rev: msg.rev,
          epoch,
          ackStatus: 'none',
        };
        if (pending.has(id) || answered.has(id)) {
          violate({
            kind: 'checker-anomaly',
            message: `client ${c.client} reused set id ${id} on connection ${c.id}`,
            conn: c.id,
          });
        }
        pending.set(id, rec);
        sets.push(rec);
        const key = `${rec.field}|${rec.rev}`;
        if (
          epoch !== undefined &&
          !byEpoch.get(epoch)?.has(key) &&
          [...byEpoch].some(([e, keys]) => e !== epoch && keys.has(key))
        )
          crossEpoch.push(rec);
        if (c.polite) {
          if (resyncAt === undefined) {
            violate({
              kind: 'element-contract',
              message: `element ${c.client} sent set ${id} before its resync on connection ${c.id}`,
              t: f.t,
              conn: c.id,
            });
          } else if (!shownHere.has(`${rec.field}|${rec.rev}`)) {
            violate({
              kind: 'element-contract',
              message: `element ${c.client} wrote ${rec.field} from rev ${rec.rev}, which connection ${c.id} never showed it (a revision from another socket or epoch)`,
              t: f.t,
              conn: c.id,
            });
          }
        }
        continue;
      }
      const shownInEpoch = (key: string): void => {
        shownHere.add(key);
        if (epoch === undefined) return;
        const keys = byEpoch.get(epoch) ?? new Set<string>();
        keys.add(key);
        byEpoch.set(epoch, keys);
      };
      switch (msg.type) {
        case 'resync': {
          resyncAt ??= f.t;
          const fields = (msg.fields ?? {}) as Record<string, { value?: unknown; rev?: unknown }>;
          for (const [name, st] of Object.entries(fields)) shownInEpoch(`${name}|${String(st.rev)}`);
          break;
        }
        case 'update':
          shownInEpoch(`${String(msg.field)}|${String(msg.rev)}`);
          break;
        case 'ack': {
          const id = Number(msg.id);
          if (typeof msg.field === 'string' && msg.rev !== undefined) shownInEpoch(`${msg.field}|${String(msg.rev)}`);
          const rec = pending.get(id);
          if (!rec) {
            violate({
              kind: answered.has(id) ? 'duplicate-ack' : 'unexpected-ack',
              message: `${answered.has(id) ? 'a second' : 'an'} ack for set ${id} on connection ${c.id} (${c.client})${answered.has(id) ? '' : ', which the server never received'}`,
              t: f.t,
              conn: c.id,
              client: c.client,
            });
            break;
          }
          pending.delete(id);
          answered.set(id, f.t);
          const status = String(msg.status);
          if (status === 'accepted' || status === 'unknown') {
            rec.ackStatus = status;
            counts.acks[status]++;
          } else {
            rec.ackStatus = 'rejected';
            const reason = String(msg.reason);
            rec.reason = reason;
            counts.acks.rejected[reason] = (counts.acks.rejected[reason] ?? 0) + 1;
          }
          break;
        }
        case 'error': {
          const code = String(msg.code);
          counts.errorsFromServer[code] = (counts.errorsFromServer[code] ?? 0) + 1;
          break;
        }
        default:
          break;
      }
    }
    // Sets without an ack.
    const end = c.serverEndedAt;
    for (const rec of pending.values()) {
      if (c.serverKilled) {
        rec.noAck = 'server-killed';
        counts.ackNotObservable.serverKilled++;
      } else if (end === undefined) {
        violate({
          kind: 'missing-ack',
          message: `set ${rec.id} (${rec.field}=${rec.value}) on connection ${c.id} (${c.client}) got no ack; the connection stayed open`,
          t: rec.t,
          conn: c.id,
          client: c.client,
        });
      } else if (end - rec.t > ackDeadline) {
        violate({
          kind: 'missing-ack',
          message: `set ${rec.id} on connection ${c.id} (${c.client}) got no ack in the ${Math.round(end - rec.t)} ms its connection stayed open`,
          t: rec.t,
          conn: c.id,
          client: c.client,
        });
      } else {
        rec.noAck = 'closed';
        counts.ackNotObservable.closed++;
      }
    }
  }

  for (const rec of crossEpoch) {
    const how =
      rec.ackStatus === 'rejected'
        ? `rejected/${rec.reason ?? '?'}`
        : rec.ackStatus === 'none'
          ? 'no ack seen'
          : rec.ackStatus;
    counts.crossEpochReplays[how] = (counts.crossEpochReplays[how] ?? 0) + 1;
  }

  // ---------------------------------------------------------------- which broker connection carried a publish
  const gateConn = new Map((records.sdkLink?.connections ?? []).map((c) => [c.id, c]));
  const gatePublishes = new Map<string, { t: number; conn: number }[]>();
  for (const p of records.sdkLink?.publishes ?? []) {
    const key = `${p.topic}\u0000${p.payload}`;
    const list = gatePublishes.get(key) ?? [];
    list.push(p);
    gatePublishes.set(key, list);
  }
  const topicOf = (a: Action): string => `ldf-chaos/${a.device}/set/${a.group}`;
  /** The SDK connection the gate forwarded this publish over (the latest matching one before it). */
  const sentVia = (a: Action, report = true): { openedAt: number } | undefined => {
    if (!records.sdkLink) return undefined;
    let found: { t: number; conn: number } | undefined;
    for (const p of gatePublishes.get(`${topicOf(a)}\u0000${a.payload}`) ?? [])
      if (p.t <= a.t && (!found || p.t > found.t)) found = p;
    if (!found) {
      if (!report) return undefined;
      violate({
        kind: 'checker-anomaly',
        message: `publish ${a.payload} on ${topicOf(a)} at ${round(a.t)} ms did not come through the SDK's gate`,
        t: a.t,
      });
      return undefined;
    }
    return gateConn.get(found.conn);
  };

  // ---------------------------------------------------------------- publishes ↔ sets
  matchPublishes(actions, sets, violate, (a) => sentVia(a, false)?.openedAt);

  /** `${device}|${field}|${value}` → the publishes of sets that wrote that value. */
  const published = new Map<string, Action[]>();
  for (const st of sets) {
    if (!st.publish) continue;
    const key = `${st.device}|${st.field}|${st.value}`;
    const list = published.get(key) ?? [];
    list.push(st.publish);
    published.set(key, list);
  }

  // ---------------------------------------------------------------- who caused which value
  // A status value is the echo of the client whose set wrote it and was published last before it;
  // a value nobody published is the device's own (or a clamp). Values encode who invented them,
  // but a client may re-submit a value another one invented, so publishes decide, not values.
  const writers = new Map<string, { t: number; client: string }[]>();
  for (const st of sets) {
    if (!st.publish) continue;
    const key = `${st.device}|${st.field}|${st.value}`;
    const list = writers.get(key) ?? [];
    list.push({ t: st.publish.t, client: st.client });
    writers.set(key, list);
  }
  for (const list of writers.values()) list.sort((x, y) => x.t - y.t);
  const causedBy = (device: string, field: ChaosField, value: number, t: number): string | undefined => {
    let who: string | undefined;
    for (const w of writers.get(`${device}|${field}|${value}`) ?? []) {
      if (w.t > t) break;
      who = w.client;
    }
    return who;
  };

  // What the server had shown pages, by revision: the evidence of what the SDK already knew.
  // `${device}|${epoch}|${field}` → every showing (resync, update, rejection) in time order.
  const shown = new Map<string, { t: number; value: unknown; rev: number }[]>();
  const firstUpdate = new Map<string, number>();
  const offlineFrames = new Map<string, number[]>();
  const onlineResyncs = new Map<string, number[]>();
  for (const c of records.connections) {
    const device = connDevice.get(c.id);
    const epoch = connEpoch.get(c.id) ?? epochOfGeneration.get(c.serverGeneration);
    if (!device) continue;
    const note = (field: string, value: unknown, rev: unknown, t: number): void => {
      if (typeof rev !== 'number') return;
      const key = `${device}|${epoch}|${field}`;
      const list = shown.get(key) ?? [];
      list.push({ t, value, rev });
      shown.set(key, list);
    };
    const noteOffline = (t: number): void => {
      const list = offlineFrames.get(device) ?? [];
      list.push(t);
      offlineFrames.set(device, list);
    };
    for (const f of c.frames) {
      if (f.dir !== 's2c' || !f.msg) continue;
      const m = f.msg;
      if (m.type === 'update') {
        note(String(m.field), m.value, m.rev, f.t);
        if (typeof m.value === 'number') {
          const key = `${device}|${String(m.field)}|${m.value}`;
          const seen = firstUpdate.get(key);
          if (seen === undefined || f.t < seen) firstUpdate.set(key, f.t);
        }
      } else if (m.type === 'resync') {
        for (const [name, st] of Object.entries((m.fields ?? {}) as Record<string, { value?: unknown; rev?: unknown }>))
          note(name, st.value, st.rev, f.t);
        if (m.device === 'offline') noteOffline(f.t);
        else {
          const list = onlineResyncs.get(device) ?? [];
          list.push(f.t);
          onlineResyncs.set(device, list);
        }
      } else if (m.type === 'ack' && typeof m.field === 'string') {
        note(m.field, m.value, m.rev, f.t);
      } else if (m.type === 'device') {
        noteOffline(f.t);
      }
    }
  }
  for (const list of shown.values()) list.sort((x, y) => x.t - y.t);
  /**
   * Whether, before `t`, the server had shown some page `field` at a revision above `aboveRev`
   * with a value `match` accepts: proof that the SDK had taken that change in (revisions only grow
   * within an epoch, so this is independent of when the checker's own subscription heard of it).
   */
  const shownAbove = (
    device: string,
    epoch: string | undefined,
    field: string,
    aboveRev: number,
    t: number,
    match: (v: unknown) => boolean,
  ): boolean => {
    for (const x of shown.get(`${device}|${epoch}|${field}`) ?? []) {
      if (x.t >= t) break;
      if (x.rev > aboveRev && match(x.value)) return true;
    }
    return false;
  };
  /** The showing of `field` with the highest revision before `t` (the SDK's latest value as pages saw it). */
  const latestShown = (
    device: string,
    epoch: string | undefined,
    field: string,
    t: number,
  ): { value: unknown; rev: number } | undefined => {
    let best: { value: unknown; rev: number } | undefined;
    for (const x of shown.get(`${device}|${epoch}|${field}`) ?? []) {
      if (x.t >= t) break;
      if (!best || x.rev > best.rev) best = x;
    }
    return best;
  };
  /** Whether the server showed `field` = `value` to some page between `from` and `to`. */
  const shownBetween = (
    device: string,
    epoch: string | undefined,
    field: string,
    value: unknown,
    from: number,
    to: number,
  ): boolean =>
    (shown.get(`${device}|${epoch}|${field}`) ?? []).some((x) => x.t >= from && x.t < to && x.value === value);
  /** Whether some page of `device` had been told it was offline between `since` and `t`. */
  const offlineKnownBefore = (device: string, since: number, t: number): boolean =>
    (offlineFrames.get(device) ?? []).some((x) => x >= since && x < t);

  // ---------------------------------------------------------------- showings needed for bases
  const needed = new Set<string>();
  for (const s of sets) if (s.publish) needed.add(`${s.client}|${s.field}|${s.rev}`);
  const showings = new Map<string, { t: number; value: unknown; epoch: string | undefined }[]>();
  const show = (
    client: string,
    field: string,
    rev: unknown,
    t: number,
    value: unknown,
    epoch: string | undefined,
  ): void => {
    const key = `${client}|${field}|${String(rev)}`;
    if (!needed.has(key)) return;
    const list = showings.get(key) ?? [];
    list.push({ t, value, epoch });
    showings.set(key, list);
  };
  for (const c of records.connections) {
    const epoch = connEpoch.get(c.id) ?? epochOfGeneration.get(c.serverGeneration);
    for (const f of c.frames) {
      const msg = f.msg;
      if (f.dir !== 's2c' || !msg) continue;
      if (msg.type === 'resync') {
        for (const [name, s] of Object.entries(
          (msg.fields ?? {}) as Record<string, { value?: unknown; rev?: unknown }>,
        )) {
          show(c.client, name, s.rev, f.t, s.value, epoch);
        }
      } else if (msg.type === 'update') show(c.client, String(msg.field), msg.rev, f.t, msg.value, epoch);
      else if (msg.type === 'ack' && typeof msg.field === 'string' && msg.rev !== undefined)
        show(c.client, msg.field, msg.rev, f.t, msg.value, epoch);
    }
  }

  // ---------------------------------------------------------------- each publish
  for (const a of actions) {
    const s = a.set;
    if (!s) continue;
    const label = `publish ${JSON.stringify(a.values)} at ${round(a.t)} ms for set ${s.id} of ${s.client} on connection ${s.conn.id}`;

    // (4a) nothing while the device is offline.
    const avail = availabilityAt(a.device, a.t);
    if (avail && !avail.online) {
      // Offline frames after the server last resynced a page of this device as online can only be
      // about this "offline" (or a later one).
      let since = Number.NEGATIVE_INFINITY;
      for (const x of onlineResyncs.get(a.device) ?? []) if (x < avail.t && x > since) since = x;
      const inFlight = !offlineKnownBefore(a.device, since, s.t);
      if (avail.t >= s.t || a.t - avail.t < W || inFlight)
        nearMisses.push({
          kind: 'published-offline',
          lagMs: round(a.t - avail.t),
          afterSet: avail.t >= s.t,
          inFlight,
          where: label,
        });
      else
        violate({
          kind: 'published-offline',
          message: `${label}: the device had said offline ${round(a.t - avail.t)} ms before`,
          t: a.t,
          client: s.client,
          conn: s.conn.id,
        });
    }
    // (4b) nothing after a broker reconnect for a write made before it: the PUBLISH must have gone
    // out over a broker connection that already existed when the set reached the server.
    const via = sentVia(a);
    if (via) {
      if (via.openedAt > s.t) {
        violate({
          kind: 'published-after-reconnect',
          message: `${label}: the set reached the server at ${round(s.t)} ms, and was published over a broker connection opened at ${round(via.openedAt)} ms`,
          t: a.t,
          client: s.client,
          conn: s.conn.id,
        });
      }
    } else {
      for (const o of records.outages) {
        if (o.back !== undefined && s.t < o.back && a.t > o.back + W) {
          violate({
            kind: 'published-after-reconnect',
            message: `${label}: the set reached the server at ${round(s.t)} ms, before the broker link came back at ${round(o.back)} ms (${o.kind} at ${round(o.start)} ms)`,
            t: a.t,
            client: s.client,
            conn: s.conn.id,
          });
        }
      }
    }
    // (4c) nothing after its session was gone: a set that reached the server after the server had
    // ended the session must not be published at all; one that arrived before may be published as
    // the session ends (its publish can reach the broker after the end: reported, with its lag).
    const gone = s.conn.serverEndedAt;
    if (gone !== undefined && s.t > gone) {
      violate({
        kind: 'published-after-session',
        message: `${label}: the set reached the server ${round(s.t - gone)} ms after the server had ended that session`,
        t: a.t,
        client: s.client,
        conn: s.conn.id,
      });
    } else if (gone !== undefined && a.t > gone) {
      nearMisses.push({
        kind: 'published-after-session',
        lagMs: round(a.t - gone),
        afterSet: false,
        inFlight: true,
        where: label,
      });
    }
    // Promptly or never: a write is published when it is judged, not held back for later.
    if (a.t - s.t > lateMs) {
      violate({
        kind: 'published-late',
        message: `${label}: published ${round(a.t - s.t)} ms after the set reached the server`,
        t: a.t,
        client: s.client,
        conn: s.conn.id,
      });
    }

    // (1) the written field was not stale.
    const key = `${s.client}|${s.field}|${s.rev}`;
    const candidates = (showings.get(key) ?? []).filter((x) => x.t < s.t);
    const sameEpoch = candidates.filter((x) => x.epoch === s.epoch);
    const basis = (sameEpoch.length > 0 ? sameEpoch : candidates).at(-1);
    if (basis && basis.epoch !== s.epoch) counts.crossEpochSets++;
    const h = fieldHistory(s.device, s.field);
    let tx = Number.NEGATIVE_INFINITY;
    if (!basis) {
      violate({
        kind: 'stale-write',
        message: `${label}: published from rev ${s.rev}, which the server never showed ${s.client} for ${s.field}`,
        t: a.t,
        client: s.client,
        conn: s.conn.id,
      });
    } else if (typeof basis.value === 'number') {
      // The status that made it the value shown. The checker's own subscription may have seen it
      // after the server did, so one seen shortly after the showing counts too.
      const point = h.lastChangeTo(basis.value, basis.t) ?? h.firstChangeTo(basis.value, basis.t, 5000);
      if (point) tx = point.t;
      else
        violate({
          kind: 'checker-anomaly',
          message: `${label}: basis value ${basis.value} of ${s.field} never appeared on the broker`,
          t: a.t,
        });
    }
    if (basis) {
      const worst = offending(h, tx, a.t, (c) => causedBy(s.device, s.field, c.value, c.t) !== s.client);
      if (worst) {
        const lag = a.t - worst.t;
        // A basis from an earlier epoch says nothing about this epoch's revisions: any showing counts.
        const aboveRev = basis.epoch === s.epoch ? s.rev : -1;
        const inFlight = !shownAbove(s.device, s.epoch, s.field, aboveRev, s.t, (v) => v === worst.value);
        if (worst.t >= s.t || lag < W || inFlight)
          nearMisses.push({ kind: 'stale-write', lagMs: round(lag), afterSet: worst.t >= s.t, inFlight, where: label });
        else {
          const who = causedBy(s.device, s.field, worst.value, worst.t);
          violate({
            kind: 'stale-write',
            message: `${label}: ${s.field} was based on rev ${s.rev} (${String(basis.value)}) but the device reported ${worst.value} (${who ? `written by ${who}` : 'its own change'}) ${round(lag)} ms before the publish, ${round(s.t - worst.t)} ms before the set reached the server, and the server had already sent it to a page`,
            t: a.t,
            client: s.client,
            conn: s.conn.id,
          });
        }
      }
    }

    // (1, rule 4) the other fields of a composite payload carried the freshest value: the device's
    // latest status, or a write published and still awaiting its echo.
    for (const g of GROUPS[a.group]) {
      if (g === s.field) continue;
      const w = a.values[g] as number;
      const hg = fieldHistory(s.device, g);
      const latest = hg.valueBefore(a.t);
      if (latest?.value === w) continue;
      // The device had moved on (or w never was its value). What had the SDK shown pages by then?
      const known = latestShown(s.device, s.epoch, g, s.t);
      if (known?.value === w || shownBetween(s.device, s.epoch, g, w, s.t, a.t)) {
        // The SDK's own value was w when the set arrived, or became w while it was being judged
        // (the server reads the set some time after the proxy delivered it): the change away from
        // w was still in flight to it.
        const away = hg.valueBefore(a.t) as Status;
        nearMisses.push({
          kind: 'stale-composite',
          lagMs: round(a.t - away.t),
          afterSet: away.t >= s.t,
          inFlight: true,
          where: label,
        });
        continue;
      }
      // Otherwise only a write of w still awaiting its echo (DESIGN §3 rule 4) may explain it: one
      // published within the echo timeout whose echo (a status of w, changed or not) had not
      // reached the broker before the set reached the server.
      let nearest = Number.NEGATIVE_INFINITY;
      const awaiting = (published.get(`${s.device}|${g}|${w}`) ?? []).some((p) => {
        if (p === a || p.t >= a.t || (p.set as SetRec).t < s.t - config.echoTimeoutMs - W) return false;
        const echo = hg.firstMessage(w, p.t, s.t);
        if (echo === undefined || echo.t >= s.t) return true;
        nearest = Math.max(nearest, echo.t);
        return false;
      });
      if (awaiting) continue;
      if (s.t - nearest < W) {
        nearMisses.push({
          kind: 'stale-composite',
          lagMs: round(s.t - nearest),
          afterSet: false,
          inFlight: false,
          where: label,
        });
        continue;
      }
      const writes = sets.filter((x) => x.device === s.device && x.field === g && x.value === w && x.t < a.t);
      const how = writes
        .map(
          (x) =>
            `set ${x.id} of ${x.client} on connection ${x.conn.id}: ${x.ackStatus === 'none' ? `no ack (${x.noAck ?? '?'})` : x.ackStatus}${x.publish ? ', published' : ''}`,
        )
        .join('; ');
      const shownNote = known
        ? `the server had shown ${g}=${String(known.value)} (rev ${known.rev}) before the set arrived`
        : 'the server had shown nothing';
      if (hg.lastChangeTo(w, a.t) || writes.some((x) => x.publish)) {
        violate({
          kind: 'stale-composite',
          message: `${label}: it carried ${g}=${w}, no longer the device's value (latest status ${String(latest?.value)}) nor a write awaiting its echo; ${shownNote}${how ? `; writes of it: ${how}` : ''}`,
          t: a.t,
          client: s.client,
          conn: s.conn.id,
        });
      } else {
        violate({
          kind: 'unpublished-composite',
          message: `${label}: it carried ${g}=${w}, a value ${writes.length > 0 ? `written (${how}) but` : 'nobody wrote and that'} never reached the broker (latest status ${String(latest?.value)})`,
          t: a.t,
          client: s.client,
          conn: s.conn.id,
        });
      }
    }
  }

  // ---------------------------------------------------------------- faults: were pages told?
  checkTold(records, connDevice, availability, resyncDeadline, violate);

  // ---------------------------------------------------------------- update latency (informational)
  // Only changes delivered live: a value re-shown after an outage (reset, retained again) or held
  // back while the device was offline is not a latency.
  const lat: number[] = [];
  const interrupted = (device: string, from: number, to: number): boolean =>
    records.outages.some((o) => o.start < to && (o.back ?? Number.POSITIVE_INFINITY) > from) ||
    (availability.get(device) ?? []).some((x) => !x.online && x.t < to && x.t > from - 5000);
  for (const [key, t] of firstUpdate) {
    const [device, field, value] = key.split('|') as [string, string, string];
    if (!isChaosField(field)) continue;
    const change = fieldHistory(device, field).lastChangeTo(Number(value), t);
    if (change && !interrupted(device, change.t, t)) lat.push(t - change.t);
  }
  const latency = summarize(lat);
  counts.updateLatency =
    latency.n === 0
      ? { n: 0, p50: 0, p99: 0, max: 0 }
      : { n: latency.n, p50: round(latency.p50), p99: round(latency.p99), max: round(latency.max) };

  return { violations, nearMisses, counts };
}

/**
 * The change of `h` in (`from`, `to`) whose value `isForeign` accepts that reached the broker
 * earliest — the worst one for the publish at `to`.
 */
function offending(
  h: FieldHistory,
  from: number,
  to: number,
  isForeign: (change: Status) => boolean,
): Status | undefined {
  for (let i = h.firstChangeFrom(from === Number.NEGATIVE_INFINITY ? from : from + 0.0001); i < h.changes.length; i++) {
    const c = h.changes[i] as Status;
    if (c.t >= to) break;
    if (isForeign(c)) return c;
  }
  return undefined;
}

/**
 * Matches publishes to sets: each publish to exactly one set whose value it carries (received
 * before it, not refused), preferring sets answered `accepted`; then every `accepted` set must
 * have a publish. Ambiguities are resolved by alternating paths, so a matching that explains
 * everything is found whenever one exists.
 */
function matchPublishes(
  actions: Action[],
  sets: SetRec[],
  violate: (v: Violation) => void,
  openedAt: (a: Action) => number | undefined,
): void {
  const byKey = new Map<string, SetRec[]>();
  for (const s of sets) {
    if (s.ackStatus === 'rejected') continue;
    const key = `${s.device}|${s.field}|${s.value}`;
    const list = byKey.get(key) ?? [];
    list.push(s);
    byKey.set(key, list);
  }
  const candidatesOf = (a: Action): SetRec[] => {
    const out: SetRec[] = [];
    for (const f of GROUPS[a.group]) {
      for (const s of byKey.get(`${a.device}|${f}|${a.values[f]}`) ?? []) if (s.t < a.t) out.push(s);
    }
    return out;
  };
  // Greedy in time order. A publish prefers a set that reached the server after the broker
  // connection it went out on was opened (any other explanation would be a late publish), then an
  // `accepted` one (the earliest: the bridge publishes in order), then the latest other one (an
  // `unknown` or unanswered write may never have been published at all).
  for (const a of actions) {
    const opened = openedAt(a);
    const late = (s: SetRec): number => (opened !== undefined && s.t < opened ? 1 : 0);
    const free = candidatesOf(a)
      .filter((s) => !s.publish)
      .sort(
        (x, y) =>
          late(x) - late(y) ||
          (x.ackStatus === 'accepted' ? 0 : 1) - (y.ackStatus === 'accepted' ? 0 : 1) ||
          (x.ackStatus === 'accepted' ? x.t - y.t : y.t - x.t),
      );
    const s = free[0];
    if (s) {
      s.publish = a;
      a.set = s;
    }
  }
  // Alternating paths for what greedy left unexplained.
  const augment = (start: Action): boolean => {
    const seen = new Set<SetRec>();
    const prev = new Map<SetRec, Action>();
    const queue: Action[] = [start];
    while (queue.length > 0) {
      const a = queue.shift() as Action;
      for (const s of candidatesOf(a)) {
        if (seen.has(s)) continue;
        seen.add(s);
        prev.set(s, a);
        if (!s.publish) {
          // Flip the path back to `start`.
          let cur: SetRec | undefined = s;
          while (cur) {
            const pa = prev.get(cur) as Action;
            const displaced: SetRec | undefined = pa.set;
            pa.set = cur;
            cur.publish = pa;
            cur = pa === start ? undefined : displaced;
          }
          return true;
        }
        queue.push(s.publish);
      }
    }
    return false;
  };
  for (const a of actions) if (!a.set) augment(a);
  // An accepted set left without a publish may take one from a set that needs none (unknown, or
  // whose ack was not observable), along an alternating path.
  const byValue = new Map<string, Action[]>();
  for (const a of actions) {
    for (const f of GROUPS[a.group]) {
      const key = `${a.device}|${f}|${a.values[f]}`;
      const list = byValue.get(key) ?? [];
      list.push(a);
      byValue.set(key, list);
    }
  }
  const claim = (start: SetRec): boolean => {
    const seen = new Set<Action>();
    const prev = new Map<Action, SetRec>();
    const queue: SetRec[] = [start];
    while (queue.length > 0) {
      const s = queue.shift() as SetRec;
      for (const a of byValue.get(`${s.device}|${s.field}|${s.value}`) ?? []) {
        if (a.t <= s.t || seen.has(a)) continue;
        seen.add(a);
        prev.set(a, s);
        const holder = a.set;
        if (holder && holder.ackStatus === 'accepted') {
          queue.push(holder);
          continue;
        }
        if (holder) holder.publish = undefined;
        let cur: Action | undefined = a;
        while (cur) {
          const ps = prev.get(cur) as SetRec;
          const displaced: Action | undefined = ps.publish;
          ps.publish = cur;
          cur.set = ps;
          cur = ps === start ? undefined : displaced;
        }
        return true;
      }
    }
    return false;
  };
  for (const s of sets) if (s.ackStatus === 'accepted' && !s.publish) claim(s);
  for (const a of actions) {
    if (a.set) continue;
    violate({
      kind: 'unmatched-publish',
      message: `publish ${JSON.stringify(a.values)} on ${a.device}/${a.group} at ${round(a.t)} ms: no set received before it explains it (a refused write published, or one published twice)`,
      t: a.t,
    });
  }
  for (const s of sets) {
    if (s.ackStatus !== 'accepted' || s.publish) continue;
    violate({
      kind: 'accepted-not-published',
      message: `set ${s.id} (${s.field}=${s.value}) of ${s.client} on connection ${s.conn.id} was acked accepted but never reached the broker's subscribers`,
      t: s.t,
      client: s.client,
      conn: s.conn.id,
    });
  }
}

/**
 * Pages must hear about every outage: a connection that was resynced when the device or the broker
 * link went away must get `device offline` (or a resync saying offline), and once both are back, a
 * fresh resync saying online.
 */
function checkTold(
  records: RunRecords,
  connDevice: Map<number, string>,
  availability: Map<string, { t: number; online: boolean }[]>,
  resyncDeadline: number,
  violate: (v: Violation) => void,
): void {
  interface Episode {
    device: string | undefined;
    start: number;
    back: number | undefined;
    what: string;
    /** How long after `start` a page must have been told. */
    noticeMs: number;
  }
  const episodes: Episode[] = [];
  for (const o of records.outages)
    episodes.push({
      device: undefined,
      start: o.start,
      back: o.back,
      what: `broker ${o.kind}`,
      noticeMs: o.noticeWithinMs + 1000,
    });
  for (const [device, list] of availability) {
    for (let i = 0; i < list.length; i++) {
      const a = list[i] as { t: number; online: boolean };
      const before = list[i - 1];
      if (a.online || !before?.online) continue;
      const back = list.slice(i + 1).find((x) => x.online);
      episodes.push({ device, start: a.t, back: back?.t, what: 'device offline', noticeMs: 2000 });
    }
  }
  const deviceOnlineAt = (device: string, t: number): boolean => {
    let online = false;
    for (const a of availability.get(device) ?? []) {
      if (a.t > t) break;
      online = a.online;
    }
    return online;
  };
  for (const c of records.connections) {
    const device = connDevice.get(c.id);
    if (!device || c.serverKilled) continue;
    const end = c.serverEndedAt ?? Number.POSITIVE_INFINITY;
    const firstResync = c.frames.find((f) => f.dir === 's2c' && f.msg?.type === 'resync');
    if (!firstResync) continue;
    for (const e of episodes) {
      if (e.device !== undefined && e.device !== device) continue;
      // Only sockets resynced before it began, open well after it began, and showing the device
      // online when it began (one already told "offline" has nothing new to hear).
      if (firstResync.t >= e.start || end < e.start + e.noticeMs) continue;
      let shownOnline = false;
      for (const f of c.frames) {
        if (f.t >= e.start) break;
        if (f.dir !== 's2c') continue;
        if (f.msg?.type === 'resync') shownOnline = f.msg.device === 'online';
        else if (f.msg?.type === 'device') shownOnline = false;
      }
      if (!shownOnline) continue;
      const told = c.frames.some(
        (f) =>
          f.dir === 's2c' &&
          f.t >= e.start &&
          (f.msg?.type === 'device' || (f.msg?.type === 'resync' && f.msg.device === 'offline')),
      );
      if (!told) {
        violate({
          kind: 'not-told-offline',
          message: `connection ${c.id} (${c.client}, ${device}) was never told about the ${e.what} at ${round(e.start)} ms`,
          t: e.start,
          conn: c.id,
          client: c.client,
        });
        continue;
      }
      if (e.back === undefined) continue;
      // After both are back, a fresh resync saying online (if the device is online by then).
      const due = e.back + resyncDeadline;
      if (end < due || !deviceOnlineAt(device, due) || due > records.endedAt) continue;
      const resynced = c.frames.some(
        (f) => f.dir === 's2c' && f.t >= e.start && f.msg?.type === 'resync' && f.msg.device === 'online',
      );
      if (!resynced) {
        violate({
          kind: 'no-resync-after-return',
          message: `connection ${c.id} (${c.client}, ${device}) got no fresh resync within ${resyncDeadline} ms after the ${e.what} (${round(e.start)}–${round(e.back)} ms) ended`,
          t: e.back,
          conn: c.id,
          client: c.client,
        });
      }
    }
  }
}
