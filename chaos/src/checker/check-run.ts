/**
 * `checkRun`: the checker's phases, in order. Violations are reported in the order the phases
 * find them, so the order of the calls is part of the result.
 * @module
 */
import type { RunRecords } from '../records.js';
import { attributeWrites, basisShowings, readPagesShown } from './attribution.js';
import { readBroker } from './broker-side.js';
import { initialCounts, readConnections, readEpochs } from './connections.js';
import { updateLatency } from './latency.js';
import { matchPublishes, publishedWrites, readGate } from './matching.js';
import { judgeCrossProcess } from './cross-process.js';
import { judgeOldEpochWrites } from './old-epoch.js';
import { judgePublishes } from './publishes.js';
import { checkTold } from './told.js';
import type { CheckResult, CheckerConfig, NearMiss, Violation } from './types.js';

/** Checks a run's records. */
export function checkRun(records: RunRecords, config: CheckerConfig): CheckResult {
  const ackDeadline = config.ackDeadlineMs ?? 5000;
  const resyncDeadline = config.resyncDeadlineMs ?? 8000;
  const lateMs = config.lateMs ?? 5000;
  const violations: Violation[] = [];
  const nearMisses: NearMiss[] = [];
  const violate = (v: Violation): void => {
    violations.push(v);
  };

  // The broker's side, then the connections' side.
  const broker = readBroker(records.broker, violate);
  const epochs = readEpochs(records.connections, violate);
  const counts = initialCounts(records, broker, epochs);
  const { sets, connDevice } = readConnections(records.connections, epochs, counts, ackDeadline, violate);

  // Which broker connection carried a publish; publishes ↔ sets.
  const sentVia = readGate(records.sdkLink, violate);
  matchPublishes(broker.actions, sets, violate, (a) => sentVia(a, false)?.openedAt);

  // Writes from an earlier epoch's revisions: none may get through.
  judgeOldEpochWrites(sets, counts, violate);

  // Who caused which value, what pages were shown, and the showings needed for bases.
  const causedBy = attributeWrites(sets);
  const pages = readPagesShown(records.connections, connDevice, epochs);
  const showings = basisShowings(records.connections, sets, epochs);

  // Each publish.
  judgePublishes({
    windowMs: config.windowMs,
    echoTimeoutMs: config.echoTimeoutMs,
    lateMs,
    broker,
    outages: records.outages,
    sets,
    sentVia,
    published: publishedWrites(sets),
    causedBy,
    pages,
    showings,
    counts,
    violate,
    nearMisses,
  });

  // Writes across server processes (the cross-process run; nothing to judge with one process).
  judgeCrossProcess({
    windowMs: config.crossWindowMs ?? config.windowMs,
    actions: broker.actions,
    sets,
    connections: records.connections,
    epochs,
    sdkLink: records.sdkLink,
    sentVia,
    counts,
    violate,
    nearMisses,
  });

  // Faults: were pages told?
  checkTold(records, connDevice, broker.availability, resyncDeadline, violate);

  // Update latency (informational).
  counts.updateLatency = updateLatency(pages.firstUpdate, broker, records.outages);

  return { violations, nearMisses, counts };
}
