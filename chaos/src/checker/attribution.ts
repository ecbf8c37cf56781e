/**
 * Who caused which value on the broker, and what the server had shown pages: the evidence of what
 * the SDK already knew when a set reached it, and the showings that are the sets' bases.
 * @module
 */
import { type ChaosField, REPLAY_PAGE_INDEX_BASE, VALUES_PER_CLIENT, replayPageLabel } from '../chaos-device.js';
import type { ConnectionRecord } from '../records.js';
import { type Epochs, epochOf } from './connections.js';
import type { SetRec } from './types.js';

/** Who invented a value: `pN`/`rN`/`bN` for clients (values encode it), `device` for negative ones. */
export function creatorOf(value: number): string {
  if (value <= 0) return 'device';
  const index = Math.floor(value / VALUES_PER_CLIENT) - 1;
  if (index >= 900) return `b${index - 900}`;
  return index >= REPLAY_PAGE_INDEX_BASE ? replayPageLabel(index - REPLAY_PAGE_INDEX_BASE) : `p${index}`;
}

/** The client whose write a status change of `field` to `value` at `t` echoed; `undefined`: the device's own change. */
export type CausedBy = (device: string, field: ChaosField, value: number, t: number) => string | undefined;

/** Attributes status values to the published writes (sets matched to a publish). */
export function attributeWrites(sets: readonly SetRec[]): CausedBy {
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
  return (device, field, value, t) => {
    let who: string | undefined;
    for (const w of writers.get(`${device}|${field}|${value}`) ?? []) {
      if (w.t > t) break;
      who = w.client;
    }
    return who;
  };
}

/** What the server had shown the pages of each device, and the questions the judging asks of it. */
export interface PagesShown {
  /**
   * Whether, before `t`, the server had shown some page `field` at a revision above `aboveRev`
   * with a value `match` accepts: proof that the SDK had taken that change in (revisions only grow
   * within an epoch, so this is independent of when the checker's own subscription heard of it).
   */
  shownAbove: (
    device: string,
    epoch: string | undefined,
    field: string,
    aboveRev: number,
    t: number,
    match: (v: unknown) => boolean,
  ) => boolean;
  /** The showing of `field` with the highest revision before `t` (the SDK's latest value as pages saw it). */
  latestShown: (
    device: string,
    epoch: string | undefined,
    field: string,
    t: number,
  ) => { value: unknown; rev: number } | undefined;
  /** Whether the server showed `field` = `value` to some page between `from` and `to`. */
  shownBetween: (
    device: string,
    epoch: string | undefined,
    field: string,
    value: unknown,
    from: number,
    to: number,
  ) => boolean;
  /** Whether some page of `device` had been told it was offline between `since` and `t`. */
  offlineKnownBefore: (device: string, since: number, t: number) => boolean;
  /** device → when the server resynced one of its pages as online. */
  onlineResyncs: Map<string, number[]>;
  /** `${device}|${field}|${value}` → the first `update` frame carrying that value, on any connection. */
  firstUpdate: Map<string, number>;
}

/** Reads what the server sent the pages of each device (connections without a `hello` are skipped). */
export function readPagesShown(
  connections: readonly ConnectionRecord[],
  connDevice: Map<number, string>,
  epochs: Epochs,
): PagesShown {
  // What the server had shown pages, by revision: the evidence of what the SDK already knew.
  // `${device}|${epoch}|${field}` → every showing (resync, update, rejection) in time order.
  const shown = new Map<string, { t: number; value: unknown; rev: number }[]>();
  const firstUpdate = new Map<string, number>();
  const offlineFrames = new Map<string, number[]>();
  const onlineResyncs = new Map<string, number[]>();
  for (const c of connections) {
    const device = connDevice.get(c.id);
    const epoch = epochOf(epochs, c);
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
      } else if (m.type === 'device' && m.status === 'offline') {
        // `lagging` (protocol rule 11) says the server is behind, not that the device is away.
        noteOffline(f.t);
      }
    }
  }
  for (const list of shown.values()) list.sort((x, y) => x.t - y.t);
  return {
    shownAbove: (device, epoch, field, aboveRev, t, match) => {
      for (const x of shown.get(`${device}|${epoch}|${field}`) ?? []) {
        if (x.t >= t) break;
        if (x.rev > aboveRev && match(x.value)) return true;
      }
      return false;
    },
    latestShown: (device, epoch, field, t) => {
      let best: { value: unknown; rev: number } | undefined;
      for (const x of shown.get(`${device}|${epoch}|${field}`) ?? []) {
        if (x.t >= t) break;
        if (!best || x.rev > best.rev) best = x;
      }
      return best;
    },
    shownBetween: (device, epoch, field, value, from, to) =>
      (shown.get(`${device}|${epoch}|${field}`) ?? []).some((x) => x.t >= from && x.t < to && x.value === value),
    offlineKnownBefore: (device, since, t) => (offlineFrames.get(device) ?? []).some((x) => x >= since && x < t),
    onlineResyncs,
    firstUpdate,
  };
}

/** One showing of a field to a client: when, what value, in which epoch. */
export interface Showing {
  t: number;
  value: unknown;
  epoch: string | undefined;
}

/**
 * The showings a published set may be based on: `${client}|${field}|${rev}` → every frame in
 * which the server showed that client the field at that revision (resync, update, or an ack
 * carrying the field's state), in frame order; only for keys some published set uses.
 */
export function basisShowings(
  connections: readonly ConnectionRecord[],
  sets: readonly SetRec[],
  epochs: Epochs,
): Map<string, Showing[]> {
  const needed = new Set<string>();
  for (const s of sets) if (s.publish) needed.add(`${s.client}|${s.field}|${s.rev}`);
  const showings = new Map<string, Showing[]>();
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
  for (const c of connections) {
    const epoch = epochOf(epochs, c);
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
  return showings;
}
