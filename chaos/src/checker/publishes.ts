/**
 * Each publish, judged against the set it was matched to: not while the device was offline, not
 * after a broker reconnect for a write made before it, not after its session ended, not held
 * back; its written field not stale; the other fields of a composite payload the freshest values.
 * The numbers (1), (4a)… are those of the promises in docs/reliability.md, "The checker".
 * @module
 */
import { GROUPS } from '../chaos-device.js';
import type { LinkOutage } from '../records.js';
import type { CausedBy, PagesShown, Showing } from './attribution.js';
import { type BrokerSide, availabilityAt } from './broker-side.js';
import { offending } from './field-history.js';
import type { SentVia } from './matching.js';
import type { Action, CheckCounts, NearMiss, SetRec, Violate } from './types.js';
import { round } from './util.js';

/** What judging the publishes needs from the earlier phases. */
export interface PublishContext {
  /** The in-flight window W, ms. */
  windowMs: number;
  /** The server's echo timeout, ms. */
  echoTimeoutMs: number;
  /** A publish this long after its set reached the server was held back, ms. */
  lateMs: number;
  broker: BrokerSide;
  outages: readonly LinkOutage[];
  sets: readonly SetRec[];
  sentVia: SentVia;
  /** `${device}|${field}|${value}` → the publishes of sets that wrote that value. */
  published: Map<string, Action[]>;
  causedBy: CausedBy;
  pages: PagesShown;
  /** `${client}|${field}|${rev}` → the showings a set may be based on. */
  showings: Map<string, Showing[]>;
  /** Its `crossEpochSets` is counted here. */
  counts: CheckCounts;
  violate: Violate;
  nearMisses: NearMiss[];
}

/** Judges every publish that was matched to a set, in publish order. */
export function judgePublishes(ctx: PublishContext): void {
  for (const a of ctx.broker.actions) {
    const s = a.set;
    if (!s) continue;
    const label = `publish ${JSON.stringify(a.values)} at ${round(a.t)} ms for set ${s.id} of ${s.client} on connection ${s.conn.id}`;
    judgeWhen(ctx, a, s, label);
    judgeWrittenField(ctx, a, s, label);
    judgeOtherFields(ctx, a, s, label);
  }
}

/** (4a–c) and lateness: when the publish went out, relative to the device, the broker link, the session and its set. */
function judgeWhen(ctx: PublishContext, a: Action, s: SetRec, label: string): void {
  const { windowMs: W, lateMs, broker, outages, sentVia, pages, violate, nearMisses } = ctx;
  const { onlineResyncs, offlineKnownBefore } = pages;
  // (4a) nothing while the device is offline.
  const avail = availabilityAt(broker.availability, a.device, a.t);
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
    for (const o of outages) {
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
}

/** (1) The written field was not stale. */
function judgeWrittenField(ctx: PublishContext, a: Action, s: SetRec, label: string): void {
  const { windowMs: W, broker, causedBy, pages, showings, counts, violate, nearMisses } = ctx;
  const { shownAbove } = pages;
  const key = `${s.client}|${s.field}|${s.rev}`;
  const candidates = (showings.get(key) ?? []).filter((x) => x.t < s.t);
  const sameEpoch = candidates.filter((x) => x.epoch === s.epoch);
  const basis = (sameEpoch.length > 0 ? sameEpoch : candidates).at(-1);
  if (basis && basis.epoch !== s.epoch) {
    // Based on an earlier epoch's revision: an old-epoch-write already (old-epoch.ts), and that
    // epoch's showings say nothing about what this one had shown pages.
    counts.crossEpochSets++;
    return;
  }
  const h = broker.history.of(s.device, s.field);
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
      const inFlight = !shownAbove(s.device, s.epoch, s.field, s.rev, s.t, (v) => v === worst.value);
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
}

/**
 * (1, rule 4) The other fields of a composite payload carried the freshest value: the device's
 * latest status, or a write published and still awaiting its echo.
 */
function judgeOtherFields(ctx: PublishContext, a: Action, s: SetRec, label: string): void {
  const { windowMs: W, echoTimeoutMs, broker, sets, published, pages, violate, nearMisses } = ctx;
  const { latestShown, shownBetween } = pages;
  for (const g of GROUPS[a.group]) {
    if (g === s.field) continue;
    const w = a.values[g] as number;
    const hg = broker.history.of(s.device, g);
    const latest = hg.valueBefore(a.t);
    if (latest?.value === w) continue;
    // The device had moved on (or w never was its value). What had the SDK shown pages by then?
    const known = latestShown(s.device, s.epoch, g, s.t);
    if (known?.value === w || shownBetween(s.device, s.epoch, g, w, s.t, a.t)) {
      // The SDK's own value was w when the set arrived, or became w while it was being judged
      // (the server reads the set some time after the proxy delivered it): the change away from
      // w was still in flight to it. (Without any status of the field before the publish, nothing
      // moved away from w as far as the broker's records go: not stale at all.)
      const away = latest;
      if (away === undefined) continue;
      nearMisses.push({
        kind: 'stale-composite',
        lagMs: round(a.t - away.t),
        afterSet: away.t >= s.t,
        inFlight: true,
        where: label,
      });
      continue;
    }
    // Otherwise only a write of w still awaiting its echo (docs/protocol.md rule 4) may explain
    // it: one published within the echo timeout whose echo (a status of w, changed or not) had not
    // reached the broker before the set reached the server.
    let nearest = Number.NEGATIVE_INFINITY;
    const awaiting = (published.get(`${s.device}|${g}|${w}`) ?? []).some((p) => {
      if (p === a || p.t >= a.t || (p.set as SetRec).t < s.t - echoTimeoutMs - W) return false;
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
