/**
 * Writes across server processes (docs/protocol.md, *Several server processes*, and rule 3): a set
 * accepted by one process is stale when its revision is from before a write that another process
 * had published and the broker had delivered to this one. Inside one broker round trip — the other
 * process's publish still on its way through the broker to this one — it is not: a near-miss.
 *
 * Revisions and epochs are per process, so everything here is per process life (the proxies'
 * `serverGeneration`, the gate's MQTT client ids `ldf-chaos-L<life>-<device>`, `server-child.ts`):
 *
 * - **Basis.** The earliest time `tb` at which the set's process showed its client the set's field
 *   at the set's revision (a `resync`, an `update`, or a rejection carrying the field's state, on
 *   any of the client's connections in the set's epoch). The revision existed in that process by
 *   then.
 * - **A write from elsewhere.** An action message `A` on the set's device that carries the set's
 *   field and went out (the gate says) over a connection of *another* process life.
 * - **Delivered to the set's process.** The set's own publish went out over a broker connection of
 *   its process whose first SUBACK (status and action topics ride in one SUBSCRIBE) had passed the
 *   gate before `A` reached the checker's subscription less `W`: the broker held that subscription
 *   when it routed `A`, and the connection was still up when it carried the set's publish, so `A`
 *   reached the process. The checker hears `A` at `tA`; the process within about `W` of it.
 * - **Violation** (`stale-cross-process`): `tb + W < tA < tSet − W`, where `tSet` is when the set
 *   crossed the proxy into the process. **Near-miss**: `tA` within `W` before `tSet` (one broker
 *   round trip, plus the receiving process's scheduling). `A` within `W` of `tb` is not judged
 *   (the checker cannot tell which side of the revision it fell on).
 *
 * `W` is the checker's `crossWindowMs`. Writes from the same process life are the single-process
 * checks' business (`publishes.ts`). The same judgement, on sets the process refused `stale`,
 * counts the races the SDK caught (`counts.crossProcess.caught`).
 * @module
 */
import type { ConnectionRecord, SdkConnection, SdkLinkRecords } from '../records.js';
import { type Epochs, epochOf } from './connections.js';
import type { SentVia } from './matching.js';
import type { Action, CheckCounts, NearMiss, SetRec, Violate } from './types.js';
import { round } from './util.js';

/** The process life named in a gate connection's client id (`ldf-chaos-L4-dev1` → 4); `undefined` for other ids. */
export function lifeOfClientId(clientId: string | undefined): number | undefined {
  const m = /^ldf-chaos-L(\d+)-/.exec(clientId ?? '');
  return m ? Number(m[1]) : undefined;
}

/** What the cross-process judgement needs from the earlier phases. */
export interface CrossProcessContext {
  /** W, ms. */
  windowMs: number;
  actions: readonly Action[];
  sets: readonly SetRec[];
  connections: readonly ConnectionRecord[];
  epochs: Epochs;
  sdkLink: SdkLinkRecords | undefined;
  sentVia: SentVia;
  counts: CheckCounts;
  violate: Violate;
  nearMisses: NearMiss[];
}

/** `${client}|${epoch}|${field}|${rev}` → when the client was first shown it. */
function firstShowings(connections: readonly ConnectionRecord[], epochs: Epochs): Map<string, number> {
  const first = new Map<string, number>();
  const note = (client: string, epoch: string, field: unknown, rev: unknown, t: number): void => {
    const key = `${client}|${epoch}|${String(field)}|${String(rev)}`;
    const had = first.get(key);
    if (had === undefined || t < had) first.set(key, t);
  };
  for (const c of connections) {
    const epoch = epochOf(epochs, c);
    if (epoch === undefined) continue;
    for (const f of c.frames) {
      const msg = f.msg;
      if (f.dir !== 's2c' || !msg) continue;
      if (msg.type === 'resync') {
        const fields = (msg.fields ?? {}) as Record<string, { rev?: unknown }>;
        for (const [name, st] of Object.entries(fields)) note(c.client, epoch, name, st.rev, f.t);
      } else if (msg.type === 'update' || (msg.type === 'ack' && msg.field !== undefined && msg.rev !== undefined)) {
        note(c.client, epoch, msg.field, msg.rev, f.t);
      }
    }
  }
  return first;
}

/** Judges every published set against the writes other process lives published before it (see the module comment). */
export function judgeCrossProcess(ctx: CrossProcessContext): void {
  const { windowMs: W, counts, violate, nearMisses } = ctx;
  const tally = counts.crossProcess;
  if (!ctx.sdkLink) return;
  const first = firstShowings(ctx.connections, ctx.epochs);
  /** The gate connection an action went out on (the latest PUBLISH of its topic and payload before it), with its process life. */
  const via = (a: Action): { conn: SdkConnection; life: number } | undefined => {
    const conn = ctx.sentVia(a, false);
    const life = lifeOfClientId(conn?.clientId);
    return conn && life !== undefined ? { conn, life } : undefined;
  };
  // Two sets may write one value (a hostile client re-submits a value another client wrote) and two
  // processes publish the same payload; the publish matched to a set may then be the other one. A
  // set's own PUBLISH is the first of its topic and payload its process life sent after the set
  // reached it.
  const gateConn = new Map(ctx.sdkLink.connections.map((c) => [c.id, c]));
  const byPayload = new Map<string, { t: number; conn: SdkConnection }[]>();
  for (const p of ctx.sdkLink.publishes) {
    const conn = gateConn.get(p.conn);
    if (!conn) continue;
    const key = `${p.topic}\u0000${p.payload}`;
    const list = byPayload.get(key) ?? [];
    list.push({ t: p.t, conn });
    byPayload.set(key, list);
  }
  /** The gate connection of process life `life` that carried `a`'s topic and payload first after `since`. */
  const viaLife = (a: Action, life: number, since: number): SdkConnection | undefined => {
    let found: { t: number; conn: SdkConnection } | undefined;
    for (const p of byPayload.get(`ldf-chaos/${a.device}/set/${a.group}\u0000${a.payload}`) ?? [])
      if (p.t >= since && lifeOfClientId(p.conn.clientId) === life && (!found || p.t < found.t)) found = p;
    return found?.conn;
  };
  const foreign = new Map<string, { a: Action; life: number }[]>(); // device → actions with their life
  for (const a of ctx.actions) {
    const v = via(a);
    if (!v) continue;
    const list = foreign.get(a.device) ?? [];
    list.push({ a, life: v.life });
    foreign.set(a.device, list);
  }
  for (const s of ctx.sets) {
    const life = s.conn.serverGeneration;
    if (s.epoch === undefined) continue;
    const tb = first.get(`${s.client}|${s.epoch}|${s.field}|${s.rev}`);
    if (tb === undefined || tb > s.t) continue; // a revision this epoch never showed the client: rule 3's epoch checks
    const published = s.publish !== undefined;
    const refusedStale = s.ackStatus === 'rejected' && s.reason === 'stale';
    if (!published && !refusedStale) continue;
    // For a published set: the connection it went out on must have been subscribed before `A`.
    let subscribedAt: number | undefined;
    if (published) {
      const publish = s.publish as Action;
      if (!via(publish)) continue; // not a run that names process lives
      // None: the publish matched to it was another set's of the same value, and this one was not published.
      const conn = viaLife(publish, life, s.t);
      if (!conn) continue;
      subscribedAt = conn.subscribedAt;
      if (subscribedAt === undefined) continue;
      tally.judged++;
    }
    let offender: Action | undefined;
    let nearest: Action | undefined;
    for (const { a, life: from } of foreign.get(s.device) ?? []) {
      if (from === life || a === s.publish || !(s.field in a.values)) continue;
      if (a.t <= tb + W || a.t >= s.t) continue;
      if (subscribedAt !== undefined && subscribedAt >= a.t - W) continue;
      if (a.t < s.t - W) {
        offender ??= a;
      } else nearest = a;
    }
    if (refusedStale) {
      if (offender) tally.caught++;
      continue;
    }
    if (offender) {
      violate({
        kind: 'stale-cross-process',
        message: `set ${s.id} of ${s.client} on connection ${s.conn.id} (process life ${life}, ${s.field}=${s.value}, rev ${s.rev} first shown at ${round(tb)} ms) was ${s.ackStatus === 'none' ? 'published' : s.ackStatus}, but another process's write ${JSON.stringify(offender.values)} had reached the broker's subscribers ${round(s.t - offender.t)} ms before the set reached its process (which was subscribed to the action topics)`,
        t: s.t,
        client: s.client,
        conn: s.conn.id,
      });
    } else if (nearest) {
      tally.nearMisses++;
      nearMisses.push({
        kind: 'stale-cross-process',
        lagMs: round(s.t - nearest.t),
        afterSet: false,
        inFlight: true,
        where: `set ${s.id} of ${s.client} on connection ${s.conn.id}`,
      });
    }
  }
}
