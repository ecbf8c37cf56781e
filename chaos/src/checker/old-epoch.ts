/**
 * Writes from an earlier epoch (docs/protocol.md rule 3): a set based on a revision the client
 * had been shown before the server restarted must never get through, whatever epoch it claims.
 * The checker does not trust the claim: it knows from the frames which epochs showed the client
 * that revision of the field.
 *
 * - Shown only in an earlier epoch (before the set): the write can only be based on the old value.
 *   Getting through is an `old-epoch-write`.
 * - Shown in an earlier epoch and again in this one: the revisions repeated across the restart, and
 *   neither the server nor the checker can tell which value the page meant (a page that ignores
 *   the epoch and replays its old revision looks exactly like one writing from the new resync).
 *   Rule 3 promises revisions never repeat, so getting through is a `repeated-revision`.
 * @module
 */
import { isReplayPage } from '../chaos-device.js';
import type { CheckCounts, OldEpochCounts, SetRec, Violate } from './types.js';

/** How a set was answered, as the counts key it. */
function outcomeOf(s: SetRec): string {
  if (s.ackStatus === 'rejected') return `rejected/${s.reason ?? '?'}`;
  return s.ackStatus === 'none' ? 'no ack seen' : s.ackStatus;
}

function tally(into: OldEpochCounts, s: SetRec): void {
  into.sets++;
  if (s.claimedEpoch !== undefined && s.claimedEpoch === s.epoch) into.claimingCurrentEpoch++;
  if (s.oldBasis?.shownInCurrentEpoch) into.repeatedRevision++;
  const how = outcomeOf(s);
  into.outcomes[how] = (into.outcomes[how] ?? 0) + 1;
}

/**
 * Counts the sets based on an earlier epoch's revision (into `counts.oldEpochSets`, and the
 * restart-replay pages' into `counts.restartReplaySets`) and reports each one that was accepted,
 * answered `unknown`, or published as an `old-epoch-write` or a `repeated-revision`. Needs the
 * publishes matched.
 */
export function judgeOldEpochWrites(sets: readonly SetRec[], counts: CheckCounts, violate: Violate): void {
  for (const s of sets) {
    const old = s.oldBasis;
    if (!old) continue;
    tally(counts.oldEpochSets, s);
    if (isReplayPage(s.client)) tally(counts.restartReplaySets, s);
    if (s.ackStatus !== 'accepted' && s.ackStatus !== 'unknown' && !s.publish) continue;
    const claim =
      s.claimedEpoch === s.epoch
        ? 'claiming the current epoch'
        : `claiming epoch ${String(s.claimedEpoch)}${old.epochs.includes(s.claimedEpoch ?? '') ? ' (the old one)' : ''}`;
    const what = `set ${s.id} of ${s.client} on connection ${s.conn.id} (${s.field}=${s.value}, rev ${s.rev}, ${claim}) was ${s.ackStatus === 'none' ? 'published' : s.ackStatus}, but epoch ${old.epochs.join(', ')} had shown ${s.client} ${s.field} at rev ${s.rev} before the server restarted`;
    violate({
      kind: old.shownInCurrentEpoch ? 'repeated-revision' : 'old-epoch-write',
      message: old.shownInCurrentEpoch
        ? `${what}, and the current epoch showed it that revision again: the revisions repeated, so the write may be based on the old value`
        : `${what}, and the current epoch never had: the write was based on the old value`,
      t: s.t,
      client: s.client,
      conn: s.conn.id,
    });
  }
}
