/**
 * `pnpm run chaos [--trials N] [--seed S] [--broker aedes|mosquitto] [--browsers K] [--cross-process] …`
 *
 * Runs the chaos (and, with `--fuzz-runs`, the fuzzing), prints the report and exits non-zero if
 * anything was violated. `--help` lists every flag.
 * @module
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { formatFuzzReport, runFuzz } from './fuzz.js';
import { formatReport } from './report.js';
import { CHAOS_DEFAULTS, type ChaosOptions, crossProcessPreset, runChaos } from './run.js';

const HELP = `Usage: pnpm run chaos [options]

Randomized reconnect chaos against the live-device-form server SDK, with an independent checker.

  --trials N             trials (disconnect → device changes → reconnect → hostile replays) [${CHAOS_DEFAULTS.trials}]
  --seed S               seed of every random choice; a failing seed re-runs the same schedule [${CHAOS_DEFAULTS.seed}]
  --broker B             aedes (embedded) or mosquitto (Debian's, started here) [${CHAOS_DEFAULTS.broker}]
  --clients N            protocol clients at once [${CHAOS_DEFAULTS.clients}]
  --devices N            simulated devices [${CHAOS_DEFAULTS.devices}]
  --browsers K           real <live-device-form> elements in headless Chromium [${CHAOS_DEFAULTS.browsers}]
  --guard-ms MS          the server's reconnect guard [${CHAOS_DEFAULTS.guardMs}] (the SDK's default is 500)
  --heartbeat-ms MS      the server's WebSocket heartbeat [${CHAOS_DEFAULTS.heartbeatMs}]
  --window-ms MS         the checker's in-flight window W [${CHAOS_DEFAULTS.windowMs}]
  --link-faults K        SDK broker link cut or black-holed K times [${CHAOS_DEFAULTS.linkFaults}]
  --broker-restarts K    Mosquitto killed (SIGKILL) and restarted K times (needs --broker mosquitto) [0]
  --server-restarts K    server process killed (SIGKILL) and restarted K times; the devices change while
                         it is down, and one page per device replays writes from the old revisions [0]
  --no-device-episodes   devices never drop off or change on their own (only during trials)
  --unsafe               server protections off (guardMs 0, checkRevisions false): must end with violations
  --unsafe-epochs        revision rules across restarts off (firstRevision 0, every restart replay forges
                         the new epoch; needs --server-restarts): must end with old-epoch-write violations
 Across server processes (issue 15; docs/reliability.md):
  --cross-process        3 processes behind HAProxy on Mosquitto (MQTT 5), per 1,000 trials a process killed,
                         a rolling restart (SIGTERM → drain) and a broker restart, 2 browsers, device echoes
                         ≤ 200 ms; any flag below or above given beside it wins
  --processes N          server processes behind HAProxy (needs --broker mosquitto) [${CHAOS_DEFAULTS.processes}]
  --rolling-restarts K   every process in turn: out of HAProxy, SIGTERM (drain), a new one, back in; K times [0]
  --mqtt-version V       the processes' bridges speak MQTT 4 (3.1.1) or 5 [${CHAOS_DEFAULTS.mqttVersion}]
  --echo-delay-max-ms MS longest delay before a device echoes a write [${CHAOS_DEFAULTS.echoDelayMaxMs}]
  --cross-window-ms MS   the checker's cross-process window (one broker round trip) [${CHAOS_DEFAULTS.crossWindowMs}]
  --duel-pairs K         pairs of pages on two processes writing one field from the same revision [${CHAOS_DEFAULTS.duelPairs}]
  --withhold-actions     a Mosquitto ACL withholds the action topics from the processes: must end with
                         stale-cross-process violations

  --dump FILE            write the run's records and the checker's verdict as JSON (for src/inspect.ts)
  --fuzz-runs N          also fuzz the parsers, the pattern decoder and a live server with N inputs each
  --fuzz-only            fuzz only (with --fuzz-runs)
  --help                 this text
`;

function int(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const x = Number(v);
  if (!Number.isInteger(x) || x < 0) throw new TypeError(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  return x;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      trials: { type: 'string' },
      seed: { type: 'string' },
      broker: { type: 'string' },
      clients: { type: 'string' },
      devices: { type: 'string' },
      browsers: { type: 'string' },
      'guard-ms': { type: 'string' },
      'heartbeat-ms': { type: 'string' },
      'window-ms': { type: 'string' },
      'link-faults': { type: 'string' },
      'broker-restarts': { type: 'string' },
      'server-restarts': { type: 'string' },
      'no-device-episodes': { type: 'boolean' },
      unsafe: { type: 'boolean' },
      'unsafe-epochs': { type: 'boolean' },
      'fuzz-runs': { type: 'string' },
      'cross-process': { type: 'boolean' },
      processes: { type: 'string' },
      'rolling-restarts': { type: 'string' },
      'mqtt-version': { type: 'string' },
      'echo-delay-max-ms': { type: 'string' },
      'cross-window-ms': { type: 'string' },
      'withhold-actions': { type: 'boolean' },
      'duel-pairs': { type: 'string' },
      dump: { type: 'string' },
      'fuzz-only': { type: 'boolean' },
      help: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const trials = int('trials', values.trials, CHAOS_DEFAULTS.trials);
  const preset: Partial<ChaosOptions> = values['cross-process'] ? crossProcessPreset(trials) : {};
  const d = { ...CHAOS_DEFAULTS, ...preset };
  const broker = values.broker ?? d.broker;
  if (broker !== 'aedes' && broker !== 'mosquitto')
    throw new TypeError(`--broker must be aedes or mosquitto, got ${JSON.stringify(broker)}`);
  const seed = int('seed', values.seed, CHAOS_DEFAULTS.seed);
  let failures = 0;

  const fuzzRuns = int('fuzz-runs', values['fuzz-runs'], 0);
  if (fuzzRuns > 0) {
    const fuzz = await runFuzz({ runs: fuzzRuns, seed, log: (l) => console.log(l) });
    console.log(formatFuzzReport(fuzz));
    failures += fuzz.failures.length;
    if (values['fuzz-only']) return failures > 0 ? 1 : 0;
  }

  const mqttVersion = int('mqtt-version', values['mqtt-version'], d.mqttVersion);
  if (mqttVersion !== 4 && mqttVersion !== 5) throw new TypeError(`--mqtt-version must be 4 or 5, got ${mqttVersion}`);
  const options: Partial<ChaosOptions> = {
    trials,
    seed,
    broker,
    clients: int('clients', values.clients, d.clients),
    devices: int('devices', values.devices, d.devices),
    browsers: int('browsers', values.browsers, d.browsers),
    guardMs: int('guard-ms', values['guard-ms'], d.guardMs),
    heartbeatMs: int('heartbeat-ms', values['heartbeat-ms'], d.heartbeatMs),
    windowMs: int('window-ms', values['window-ms'], d.windowMs),
    linkFaults: int('link-faults', values['link-faults'], d.linkFaults),
    brokerRestarts: int('broker-restarts', values['broker-restarts'], d.brokerRestarts),
    serverRestarts: int('server-restarts', values['server-restarts'], d.serverRestarts),
    processes: int('processes', values.processes, d.processes),
    rollingRestarts: int('rolling-restarts', values['rolling-restarts'], d.rollingRestarts),
    mqttVersion,
    echoDelayMaxMs: int('echo-delay-max-ms', values['echo-delay-max-ms'], d.echoDelayMaxMs),
    crossWindowMs: int('cross-window-ms', values['cross-window-ms'], d.crossWindowMs),
    withholdActions: values['withhold-actions'] === true,
    duelPairs: int('duel-pairs', values['duel-pairs'], d.duelPairs),
    deviceEpisodes: !values['no-device-episodes'],
    unsafe: values.unsafe === true,
    unsafeEpochs: values['unsafe-epochs'] === true,
    log: (line) => console.log(line),
  };
  const result = await runChaos(options);
  console.log(formatReport(result));
  if (values.dump) {
    await mkdir(dirname(values.dump), { recursive: true });
    await writeFile(
      values.dump,
      JSON.stringify({ options: result.options, check: result.check, records: result.records }),
    );
    console.log(`records written to ${values.dump}`);
  }
  return failures + result.check.violations.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(2);
  },
);
