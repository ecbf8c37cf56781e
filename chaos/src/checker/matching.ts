/**
 * Which publish explains which set: the broker connection that carried each publish (from the
 * gate in front of the broker), and the matching of publishes to the sets whose values they carry.
 * @module
 */
import { GROUPS } from '../chaos-device.js';
import type { SdkConnection, SdkLinkRecords } from '../records.js';
import type { Action, SetRec, Violate } from './types.js';
import { round } from './util.js';

/**
 * The SDK connection the gate forwarded this publish over (the latest matching one before it);
 * with `report` (the default), a publish that did not come through the gate is a checker anomaly.
 * `undefined` when the run recorded no gate.
 */
export type SentVia = (a: Action, report?: boolean) => SdkConnection | undefined;

/** Indexes the gate's records (`undefined` in hand-made records: the checker then judges late publishes by time). */
export function readGate(sdkLink: SdkLinkRecords | undefined, violate: Violate): SentVia {
  const gateConn = new Map((sdkLink?.connections ?? []).map((c) => [c.id, c]));
  const gatePublishes = new Map<string, { t: number; conn: number }[]>();
  for (const p of sdkLink?.publishes ?? []) {
    const key = `${p.topic}\u0000${p.payload}`;
    const list = gatePublishes.get(key) ?? [];
    list.push(p);
    gatePublishes.set(key, list);
  }
  const topicOf = (a: Action): string => `ldf-chaos/${a.device}/set/${a.group}`;
  return (a, report = true) => {
    if (!sdkLink) return undefined;
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
}

/**
 * Matches publishes to sets: each publish to exactly one set whose value it carries (received
 * before it, not refused), preferring sets answered `accepted`; then every `accepted` set must
 * have a publish. Ambiguities are resolved by alternating paths, so a matching that explains
 * everything is found whenever one exists.
 */
export function matchPublishes(
  actions: Action[],
  sets: SetRec[],
  violate: Violate,
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

/** `${device}|${field}|${value}` → the publishes of sets that wrote that value. */
export function publishedWrites(sets: readonly SetRec[]): Map<string, Action[]> {
  const published = new Map<string, Action[]>();
  for (const st of sets) {
    if (!st.publish) continue;
    const key = `${st.device}|${st.field}|${st.value}`;
    const list = published.get(key) ?? [];
    list.push(st.publish);
    published.set(key, list);
  }
  return published;
}
