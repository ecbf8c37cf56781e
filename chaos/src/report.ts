/**
 * The chaos report: what was tried, how many, what held. Its last line is always `violations: N`.
 * @module
 */
import { CHAOS_DEFAULTS, type ChaosResult } from './run.js';
import type { NearMiss, OldEpochCounts, Violation } from './checker.js';

const n = (x: number): string => x.toLocaleString('en-US');

/** How many violations to print in full. */
const SHOWN = 25;

function byKind<T extends { kind: string }>(items: readonly T[]): string {
  const m = new Map<string, number>();
  for (const x of items) m.set(x.kind, (m.get(x.kind) ?? 0) + 1);
  return [...m].map(([k, c]) => `${k} ${n(c)}`).join(' · ') || 'none';
}

function nearMissLine(all: readonly NearMiss[], windowMs: number): string {
  // The cross-process ones have a line of their own.
  const items = all.filter((x) => x.kind !== 'stale-cross-process');
  if (items.length === 0) return `near-misses: 0`;
  const afterSet = items.filter((x) => x.afterSet).length;
  const inWindow = items.filter((x) => !x.afterSet && x.lagMs < windowMs).length;
  const inFlight = items.filter((x) => !x.afterSet && x.lagMs >= windowMs && x.inFlight);
  const maxLag = Math.max(...inFlight.map((x) => x.lagMs), 0);
  return (
    `near-misses: ${n(items.length)} (${byKind(items)})\n` +
    `  ${n(afterSet)} changed after the set reached the server · ${n(inWindow)} reached the broker < ${windowMs} ms before the publish · ` +
    `${n(inFlight.length)} older, but still in flight to the SDK when the set arrived (no page had been sent it yet; largest ${maxLag} ms)` +
    inFlight
      .filter((x) => x.lagMs > 1000)
      .slice(0, 3)
      .map((x) => `\n    ${x.kind} ${x.lagMs} ms: ${x.where ?? ''}`)
      .join('')
  );
}

/** The spread of the cross-process near-misses' lags: another process's write → the set, ms. */
function crossLags(items: readonly NearMiss[]): string {
  const lags = items.filter((x) => x.kind === 'stale-cross-process').map((x) => x.lagMs);
  return lags.length === 0 ? '-' : `${Math.min(...lags)}–${Math.max(...lags)} ms`;
}

function oldEpochLine(x: OldEpochCounts): string {
  const outcomes = Object.entries(x.outcomes)
    .sort((a, b) => b[1] - a[1])
    .map(([how, k]) => `${how} ${n(k)}`)
    .join(' · ');
  return `${n(x.sets)} (claiming the current epoch ${n(x.claimingCurrentEpoch)} · at a revision repeated in the current epoch ${n(x.repeatedRevision)}) → ${outcomes || 'none'}`;
}

function violationLine(v: Violation): string {
  return `  [${v.kind}] ${v.message}`;
}

/** The CLI flags that reproduce a run's options. */
export function rerunFlags(o: ChaosResult['options']): string {
  const flags = [`--seed ${o.seed}`, `--trials ${o.trials}`];
  const d = CHAOS_DEFAULTS;
  if (o.broker !== d.broker) flags.push(`--broker ${o.broker}`);
  if (o.clients !== d.clients) flags.push(`--clients ${o.clients}`);
  if (o.devices !== d.devices) flags.push(`--devices ${o.devices}`);
  if (o.browsers !== d.browsers) flags.push(`--browsers ${o.browsers}`);
  if (o.guardMs !== d.guardMs) flags.push(`--guard-ms ${o.guardMs}`);
  if (o.heartbeatMs !== d.heartbeatMs) flags.push(`--heartbeat-ms ${o.heartbeatMs}`);
  if (o.windowMs !== d.windowMs) flags.push(`--window-ms ${o.windowMs}`);
  if (o.linkFaults !== d.linkFaults) flags.push(`--link-faults ${o.linkFaults}`);
  if (o.brokerRestarts > 0) flags.push(`--broker-restarts ${o.brokerRestarts}`);
  if (o.serverRestarts > 0) flags.push(`--server-restarts ${o.serverRestarts}`);
  if (o.unsafeEpochs) flags.push('--unsafe-epochs');
  if (!o.deviceEpisodes) flags.push('--no-device-episodes');
  if (o.unsafe) flags.push('--unsafe');
  if (o.processes !== d.processes) flags.push(`--processes ${o.processes}`);
  if (o.rollingRestarts > 0) flags.push(`--rolling-restarts ${o.rollingRestarts}`);
  if (o.mqttVersion !== d.mqttVersion) flags.push(`--mqtt-version ${o.mqttVersion}`);
  if (o.echoDelayMaxMs !== d.echoDelayMaxMs) flags.push(`--echo-delay-max-ms ${o.echoDelayMaxMs}`);
  if (o.crossWindowMs !== d.crossWindowMs) flags.push(`--cross-window-ms ${o.crossWindowMs}`);
  if (o.withholdActions) flags.push('--withhold-actions');
  if (o.duelPairs !== d.duelPairs) flags.push(`--duel-pairs ${o.duelPairs}`);
  return flags.join(' ');
}

/** Formats a run's result as the report the CLI prints. */
export function formatReport(r: ChaosResult): string {
  const o = r.options;
  const c = r.check.counts;
  const s = r.clients;
  const rejected = Object.entries(c.acks.rejected)
    .sort((a, b) => b[1] - a[1])
    .map(([reason, k]) => `${reason} ${n(k)}`)
    .join(' · ');
  const trials = s.trials.cut + s.trials.linger + s.trials.blackHole + s.trials.browser;
  // The busiest server process (the last one with one process).
  const lastServer = r.servers.reduce<(typeof r.servers)[number]>(
    (worst, x) => (x && (!worst || x.loopDelay.max > worst.loopDelay.max) ? x : worst),
    r.servers.at(-1),
  );
  const lines = [
    `live-device-form chaos — ${r.date}`,
    `machine: ${r.machine.cores} cores (${r.machine.cpu}), Node ${r.machine.node}, ${r.machine.platform}`,
    `seed ${o.seed} · broker ${o.broker} · ${o.clients} protocol clients on ${o.devices} devices · browsers ${s.trials.browser > 0 ? o.browsers : 0}${r.browserNote ? ` (${r.browserNote})` : ''}`,
    ...(o.processes > 1
      ? [
          `cross-process: ${o.processes} server processes behind HAProxy (one recording proxy each), MQTT ${o.mqttVersion === 5 ? '5' : '3.1.1'}, device echo ≤ ${o.echoDelayMaxMs} ms${o.withholdActions ? ', ACTION TOPICS WITHHELD BY AN ACL (--withhold-actions)' : ''}`,
        ]
      : []),
    `server: guard ${o.guardMs} ms, heartbeat ${o.heartbeatMs} ms, echo timeout ${o.echoTimeoutMs} ms${o.unsafe ? ', PROTECTION OFF (--unsafe)' : ''}${o.unsafeEpochs ? ', EPOCH RULES OFF (--unsafe-epochs: firstRevision 0, replays forge the epoch)' : ''}`,
    `trials: ${n(trials)} in ${(r.durationMs / 1000).toFixed(1)} s (cut ${n(s.trials.cut)} · cut with lingering server side ${n(s.trials.linger)} · black-holed ${n(s.trials.blackHole)} · browser ${n(s.trials.browser)}; ${n(s.faultsWithWritesInFlight)} with writes in flight)`,
    `time per trial and client: ${Object.entries(s.phaseMs)
      .map(([k, ms]) => `${k} ${Math.round(ms / Math.max(1, trials))}`)
      .join(' · ')} ms`,
    `connections: ${n(c.connections)} (${n(c.upgraded)} upgraded) · reconnects ${n(s.reconnects)} · failed attempts ${n(s.connectFailures)} · hellos lying mounts=0 ${n(s.mountLies)}`,
    `faults: broker link cut ${r.faults.linkCuts} · black-holed ${r.faults.linkBlackHoles} · broker killed ${r.faults.brokerRestarts} · server killed ${r.faults.serverRestarts} ·${o.processes > 1 ? ` rolling restarts ${r.faults.rollingRestarts} (drains ${r.drainsMs.join(', ') || '-'} ms) ·` : ''} device drop-offs ${n(r.devices.offlinePeriods)} (Last Will ${n(r.devices.lastWillDrops)}) · device changes ${n(r.devices.changes)} · clamped echoes ${n(r.devices.clamps)}`,
    ...(s.trials.browser > 0
      ? [
          `browsers: ${n(s.browserForcedEdits)} values forced into read-only inputs while the link was down → ${n(s.browserWritesWhileDown)} writes emitted`,
        ]
      : []),
    `writes tried: ${n(s.setsSent)} (replays ${n(s.replays)} · re-submitted inputs ${n(s.recoveries)} · from pre-outage revisions ${n(s.oldRevisionWrites)} · on dead links ${n(s.setsOnDeadLinks)})`,
    `  reached the server: ${n(c.setsReceived)} → accepted ${n(c.acks.accepted)} · unknown ${n(c.acks.unknown)} · rejected ${rejected || '0'}`,
    `  ack not observable: ${n(c.ackNotObservable.closed)} (connection ended first) · ${n(c.ackNotObservable.serverKilled)} (server process killed)`,
    `publishes: ${n(c.publishes)} · status messages ${n(c.statusMessages)} (${n(c.statusChanges)} changes) · device said offline ${n(c.deviceOfflineMessages)}× · epochs ${c.epochs}`,
    `sets from a revision shown in an earlier epoch: ${oldEpochLine(c.oldEpochSets)} · published from an earlier epoch's basis ${n(c.crossEpochSets)}` +
      (Object.keys(c.errorsFromServer).length ? ` · server error frames ${JSON.stringify(c.errorsFromServer)}` : ''),
    ...(o.serverRestarts > 0
      ? [
          `restart replays: ${n(s.restartReplays)} sent (${n(s.restartReplaysForged)} forging the new epoch) · reached the server ${oldEpochLine(c.restartReplaySets)}`,
        ]
      : []),
    ...(o.processes > 1
      ? [
          ...(r.duels
            ? [
                `duels: ${n(r.duels.duels)} (${n(r.duels.acrossProcesses)} across processes; their second write, from the revision before the first: ${
                  Object.entries(r.duels.second)
                    .sort((a, b) => b[1] - a[1])
                    .map(([how, k]) => `${how} ${n(k)}`)
                    .join(' · ') || '-'
                })`,
              ]
            : []),
          `across processes (window ${o.crossWindowMs} ms): ${n(c.crossProcess.judged)} published sets judged · ${n(c.crossProcess.caught)} refused stale after another process's write · ${n(c.crossProcess.nearMisses)} inside the window (lag ${crossLags(r.check.nearMisses)})`,
        ]
      : []),
    `latency broker status → first update frame: p50 ${c.updateLatency.p50} ms · p99 ${c.updateLatency.p99} ms · max ${c.updateLatency.max} ms (n ${n(c.updateLatency.n)})`,
    `event loop delay: orchestrator p99 ${r.loopDelay.p99} ms (max ${r.loopDelay.max}); server p99 ${lastServer?.loopDelay.p99 ?? '?'} ms (max ${lastServer?.loopDelay.max ?? '?'}) · load average ${r.loadAverage.map((x) => x.toFixed(1)).join(' ')}`,
  ];
  const errors = r.servers.flatMap((x) => x?.errors ?? []);
  if (errors.length > 0)
    lines.push(`SDK error log entries: ${errors.length}`, ...errors.slice(0, 5).map((e) => `  ${e.slice(0, 300)}`));
  lines.push(nearMissLine(r.check.nearMisses, o.windowMs));
  const v = r.check.violations;
  if (v.length > 0) {
    lines.push(`violations by kind: ${byKind(v)}`);
    lines.push(...v.slice(0, SHOWN).map(violationLine));
    if (v.length > SHOWN) lines.push(`  … and ${n(v.length - SHOWN)} more`);
    lines.push(`re-run: pnpm run chaos ${rerunFlags(o)} (same schedule; timing may differ)`);
  }
  lines.push(`violations: ${v.length}`);
  return lines.join('\n');
}
