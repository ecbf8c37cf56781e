/**
 * One chaos run: a real broker (embedded aedes, or Mosquitto), the simulated devices on it, the
 * server SDK in a child process behind the chaos proxy, many hostile clients (and optionally real
 * elements in Chromium), the checker's own subscription — and faults on top: device drop-offs,
 * broker link cuts and black holes, Mosquitto killed and restarted, the server process killed and
 * restarted while the restart-replay pages replay writes from the old process's revisions. When the trials are done the run drains, stops everything and hands the records to
 * the checker.
 * @module
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startEmbeddedBroker } from '@live-device-form/server';
import {
  AdminState,
  type Mosquitto,
  ProxyMode,
  ServerStatus,
  freePort,
  startFaultProxy,
  startMosquitto,
} from '@live-device-form/testkit';
import { type Backends, startBackends } from './backends.js';
import { type BrowserFleet, startBrowserFleet } from './browsers.js';
import { FIELDS, REPLAY_PAGE_INDEX_BASE, deviceIds } from './chaos-device.js';
import { type CheckResult, checkRun } from './checker.js';
import { type ClientStats, HostileClient, TrialBudget, newClientStats } from './client.js';
import { type DeviceCounts, startDeviceSimulator } from './device-sim.js';
import { type DuelStats, DuelPages } from './duel-pages.js';
import { startObserver } from './observer.js';
import { Rng } from './prng.js';
import { type ChaosProxy, startChaosProxy } from './proxy.js';
import { ReplayPages } from './replay-pages.js';
import { startSdkGate } from './sdk-gate.js';
import type { LinkOutage, RunRecords, ServerLife } from './records.js';
import type { ServerChildConfig, ServerChildStats } from './server-child.js';
import { ServerProcess } from './server-process.js';

/** Options of {@link runChaos}. Every default is the one `pnpm run chaos` uses. */
export interface ChaosOptions {
  /** Trials (one client's disconnect → device changes → reconnect → hostile replays). Defaults to `1000`. */
  trials: number;
  /** Seed of every random choice. Defaults to `1`. */
  seed: number;
  /** The broker. Defaults to `'aedes'` (embedded). */
  broker: 'aedes' | 'mosquitto';
  /** Protocol clients running at once. Defaults to `128`. */
  clients: number;
  /** Devices (each client uses one; a device's changes reach its clients only). Defaults to `16`. */
  devices: number;
  /** Real `<live-device-form>` elements in headless Chromium. Defaults to `0`. */
  browsers: number;
  /** The server's reconnect guard, ms. Defaults to `150` (volume); the SDK's default is 500. */
  guardMs: number;
  /** The server's WebSocket heartbeat, ms (black-holed sessions end after one or two). Defaults to `1000`. */
  heartbeatMs: number;
  /** The server's echo timeout, ms. Defaults to `2000` (the SDK's default). */
  echoTimeoutMs: number;
  /** The checker's in-flight window W, ms. Defaults to `50`. */
  windowMs: number;
  /** Turn the protections off (`setProtection({ guardMs: 0, checkRevisions: false })`): violations must follow. */
  unsafe: boolean;
  /** Mosquitto killed (SIGKILL) and restarted this many times. Needs `broker: 'mosquitto'`. Defaults to `0`. */
  brokerRestarts: number;
  /**
   * The server process killed (SIGKILL) and restarted this many times; the devices change while it
   * is down, and the restart-replay pages (one per device) replay writes from the old process's
   * revisions after the new one has resynced them. Defaults to `0`.
   */
  serverRestarts: number;
  /**
   * Both revision rules of docs/protocol.md rule 3 off for the restarts: the server counts from
   * `firstRevision: 0` (its revisions repeat across restarts) and every restart replay forges the
   * new epoch (the epoch check cannot tell it apart). Needs `serverRestarts`. Violations must follow.
   * Defaults to `false`.
   */
  unsafeEpochs: boolean;
  /** The SDK's broker link cut or black-holed this many times. Defaults to `2`. */
  linkFaults: number;
  /** Devices drop off (announced, or by Last Will) and change on their own at random. Defaults to `true`. */
  deviceEpisodes: boolean;
  /** Longest extra outage after the device changed, ms. Defaults to `120`. */
  outageMaxMs: number;
  /** Longest delay before a simulated device echoes a write, ms. Defaults to `20`. */
  echoDelayMaxMs: number;
  /**
   * Server processes. `1`: one process behind the chaos proxy. More: the cross-process run (issue
   * 15) — that many processes behind a real HAProxy (`backends.ts`: one recording chaos proxy per
   * process behind it, `GET /healthz` checks) on one Mosquitto; `serverRestarts` then kills one
   * process at a time, in turn. Needs `broker: 'mosquitto'`. Defaults to `1`.
   */
  processes: number;
  /**
   * Rolling restarts: each takes every process out of HAProxy (`drain`), stops it with SIGTERM (it
   * drains: writes in flight acked, sessions closed 1001), starts a new one and puts it back, one
   * process after the other. Needs `processes` > 1. Defaults to `0`.
   */
  rollingRestarts: number;
  /** MQTT protocol version of the server processes' bridges (`5`: own writes told by a user property). Defaults to `4`. */
  mqttVersion: 4 | 5;
  /**
   * A Mosquitto ACL lets the server processes subscribe to the action topics but withholds their
   * messages (docs/protocol.md, *Several server processes*: the process then works as it would
   * without the subscription). Needs `processes` > 1. `stale-cross-process` violations must follow.
   * Defaults to `false`.
   */
  withholdActions: boolean;
  /** The checker's cross-process window (one broker round trip and the receiving process's scheduling), ms. Defaults to `100`. */
  crossWindowMs: number;
  /**
   * Pairs of duelling pages (`duel-pages.ts`): two pages on two processes write one field from the
   * same revision, the second after the first's ack and a random pause. Needs `processes` > 1.
   * Defaults to `0`.
   */
  duelPairs: number;
  /** Prints progress lines. Defaults to none. */
  log?: (line: string) => void;
}

export const CHAOS_DEFAULTS: Readonly<Omit<ChaosOptions, 'log'>> = Object.freeze({
  trials: 1000,
  seed: 1,
  broker: 'aedes',
  clients: 128,
  devices: 16,
  browsers: 0,
  guardMs: 150,
  heartbeatMs: 1000,
  echoTimeoutMs: 2000,
  windowMs: 50,
  unsafe: false,
  brokerRestarts: 0,
  serverRestarts: 0,
  unsafeEpochs: false,
  linkFaults: 2,
  deviceEpisodes: true,
  outageMaxMs: 120,
  echoDelayMaxMs: 20,
  processes: 1,
  rollingRestarts: 0,
  mqttVersion: 4,
  withholdActions: false,
  crossWindowMs: 100,
  duelPairs: 0,
});

/**
 * What `pnpm run chaos --cross-process` sets (flags given beside it win): 3 processes behind
 * HAProxy on Mosquitto with MQTT 5, a kill and a rolling restart of every process and a broker
 * restart per 1,000 trials, two real elements, and devices slow enough to echo (up to 200 ms) that
 * a write from another process is often still unechoed when the next write comes.
 */
export function crossProcessPreset(trials: number): Partial<ChaosOptions> {
  const per1000 = Math.max(1, Math.round(trials / 1000));
  return {
    processes: 3,
    broker: 'mosquitto',
    mqttVersion: 5,
    serverRestarts: per1000,
    rollingRestarts: per1000,
    brokerRestarts: per1000,
    browsers: 2,
    echoDelayMaxMs: 200,
    duelPairs: 4,
  };
}

/** The Mosquitto ACL of `withholdActions`: the server processes (user `ldf-chaos-server`) may subscribe to the action topics but get none of their messages. */
export const WITHHOLD_ACTIONS_ACL: readonly string[] = Object.freeze([
  'topic readwrite #',
  'user ldf-chaos-server',
  'topic read ldf-chaos/+/online',
  'topic read ldf-chaos/+/status/#',
  'topic write ldf-chaos/+/set/#',
]);

/** What a run produced. */
export interface ChaosResult {
  options: Omit<ChaosOptions, 'log'>;
  check: CheckResult;
  clients: ClientStats;
  devices: DeviceCounts;
  /** Each server process's own counters at its end (informational). */
  servers: (ServerChildStats | undefined)[];
  records: RunRecords;
  faults: {
    linkCuts: number;
    linkBlackHoles: number;
    brokerRestarts: number;
    serverRestarts: number;
    rollingRestarts: number;
    deviceEpisodes: number;
  };
  /** Each rolling restart's SIGTERM → exit time per process (its drain), ms. */
  drainsMs: number[];
  /** What the duelling pages did (cross-process runs with `duelPairs`). */
  duels?: DuelStats;
  durationMs: number;
  /** Event-loop delay of the orchestrating process (proxy, clients, checker's subscription), ms. */
  loopDelay: { p50: number; p99: number; max: number };
  machine: { cores: number; node: string; platform: string; cpu: string };
  /** 1, 5 and 15 minute load averages at the end (other work on the machine shows here). */
  loadAverage: number[];
  date: string;
  /** Why there were no browsers although some were asked for. */
  browserNote?: string;
}

/** The server processes' health check path in the cross-process run (HAProxy's `GET` check). */
const HEALTH_PATH = '/healthz';
/** The server processes' MQTT user name in the cross-process run (`WITHHOLD_ACTIONS_ACL` singles it out). */
const SERVER_MQTT_USER = 'ldf-chaos-server';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A run in which no trial finishes for this long stops itself (and counts it as a violation). */
const STALL_MS = 60_000;

/** Runs the chaos and checks it. Never throws for a violation: they are in the result. */
export async function runChaos(input: Partial<ChaosOptions> = {}): Promise<ChaosResult> {
  const { log = () => {}, ...rest } = input;
  const options: Omit<ChaosOptions, 'log'> = { ...CHAOS_DEFAULTS, ...rest };
  if (options.brokerRestarts > 0 && options.broker !== 'mosquitto') {
    throw new TypeError('"brokerRestarts" needs "broker": "mosquitto" (the embedded broker lives in this process)');
  }
  if (options.unsafeEpochs && options.serverRestarts === 0) {
    throw new TypeError('"unsafeEpochs" needs "serverRestarts" > 0 (the replays happen at restarts)');
  }
  const cross = options.processes > 1;
  if (!Number.isInteger(options.processes) || options.processes < 1) {
    throw new TypeError(`"processes" must be a whole number ≥ 1, got ${options.processes}`);
  }
  if (cross && options.broker !== 'mosquitto') {
    throw new TypeError('"processes" > 1 needs "broker": "mosquitto" (the processes share one real broker)');
  }
  if ((options.rollingRestarts > 0 || options.withholdActions || options.duelPairs > 0) && !cross) {
    throw new TypeError('"rollingRestarts", "withholdActions" and "duelPairs" need "processes" > 1');
  }
  if (options.unsafeEpochs && cross) {
    throw new TypeError('"unsafeEpochs" is for one process (firstRevision 0 would repeat revisions across processes)');
  }
  if (options.clients > REPLAY_PAGE_INDEX_BASE) {
    throw new TypeError(
      `"clients" must be at most ${REPLAY_PAGE_INDEX_BASE} (their values would collide with the replay pages')`,
    );
  }
  const rng = new Rng(options.seed);
  const started = performance.now();
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const closers: (() => Promise<unknown>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
  };
  const outages: LinkOutage[] = [];
  const servers: ServerLife[] = [];
  const faults = {
    linkCuts: 0,
    linkBlackHoles: 0,
    brokerRestarts: 0,
    serverRestarts: 0,
    rollingRestarts: 0,
    deviceEpisodes: 0,
  };
  const drainsMs: number[] = [];
  let stopping = false;

  try {
    // The broker, and the checker's subscription before anyone publishes.
    let mosquitto: Mosquitto | undefined;
    let brokerTarget: { host: string; port: number };
    if (options.broker === 'mosquitto') {
      mosquitto = await startMosquitto(options.withholdActions ? { acl: WITHHOLD_ACTIONS_ACL } : {});
      const m = mosquitto;
      closers.push(() => m.close());
      brokerTarget = { host: m.host, port: m.port };
    } else {
      const aedes = await startEmbeddedBroker();
      closers.push(() => aedes.close());
      brokerTarget = { host: aedes.host, port: aedes.port };
    }
    const brokerUrl = `mqtt://${brokerTarget.host}:${brokerTarget.port}`;
    const observer = await startObserver(brokerUrl);
    closers.push(() => observer.close());
    // Gates in front of the broker: the SDK's links and the devices' go through them.
    const gate = await startSdkGate(brokerTarget);
    const sdkGate = gate.proxy;
    closers.push(() => sdkGate.close());
    const devGate = await startFaultProxy({ target: brokerTarget });
    closers.push(() => devGate.close());

    const ids = deviceIds(options.devices);
    const devices = await startDeviceSimulator({
      url: devGate.url('mqtt'),
      devices: ids,
      rng,
      echoDelayMaxMs: options.echoDelayMaxMs,
    });
    closers.push(() => devices.close());

    // Browsers need the page server's origin in the server's allow-list before it starts.
    let fleet: BrowserFleet | undefined;
    let browserNote: string | undefined;
    const pageOrigins: string[] = [];
    let fleetPrepared: Awaited<ReturnType<typeof startBrowserFleet>> | undefined;
    if (options.browsers > 0) {
      fleetPrepared = await startBrowserFleet({ count: options.browsers, devices: ids, rng, seed: options.seed });
      if (fleetPrepared.ok) {
        pageOrigins.push(fleetPrepared.fleet.origin);
        browserNote = `element bundle built ${fleetPrepared.bundleBuilt.toISOString()}`;
      } else browserNote = fleetPrepared.reason;
    }

    const serverConfig: Omit<ServerChildConfig, 'port'> = {
      brokerUrl: sdkGate.url('mqtt'),
      devices: ids,
      guardMs: options.guardMs,
      heartbeatMs: options.heartbeatMs,
      echoTimeoutMs: options.echoTimeoutMs,
      unsafe: options.unsafe,
      allowedOrigins: pageOrigins,
      reconnectPeriodMs: 200,
      maxReconnectPeriodMs: 1000,
      keepalive: 2,
      mqttVersion: options.mqttVersion,
    };
    if (options.unsafeEpochs) serverConfig.firstRevision = 0;
    if (cross) {
      serverConfig.healthPath = HEALTH_PATH;
      serverConfig.username = SERVER_MQTT_USER;
    }
    // One slot per process; a slot's process is replaced at kills and rolling restarts. Each process
    // life has a number (`ServerLife.generation`, the proxies' `serverGeneration`): 1, 2, … in
    // order of start, whatever its slot. Processes start one after the other, so the wall-clock
    // first revisions of two processes are far apart (docs/protocol.md rule 3).
    let lives = 0;
    const startLife = async (port: number): Promise<{ server: ServerProcess; life: number }> => {
      const life = ++lives;
      const config: ServerChildConfig = { ...serverConfig, port, ...(cross ? { life: `L${life}` } : {}) };
      const server = await ServerProcess.start(config);
      servers.push({ generation: life, startedAt: server.startedAt });
      return { server, life };
    };
    const slots: { port: number; server: ServerProcess; life: number }[] = [];
    for (let i = 0; i < options.processes; i++) {
      const port = await freePort();
      slots.push({ port, ...(await startLife(port)) });
    }
    const serverStats: (ServerChildStats | undefined)[] = [];
    closers.push(async () => {
      await Promise.all(slots.map((x) => x.server.close()));
    });

    // The front the clients connect to: the chaos proxy, or HAProxy in front of one per process.
    const proxyOptions = { rng, isPolite: (c: string) => c.startsWith('b') };
    let backends: Backends | undefined;
    let single: ChaosProxy | undefined;
    if (cross) {
      backends = await startBackends({
        serverPorts: slots.map((x) => x.port),
        proxy: proxyOptions,
        healthPath: HEALTH_PATH,
      });
      const b = backends;
      closers.push(() => b.close());
      for (const [i, x] of slots.entries()) (b.proxies[i] as ChaosProxy).serverGeneration = x.life;
    } else {
      single = await startChaosProxy({
        target: { host: '127.0.0.1', port: (slots[0] as (typeof slots)[0]).port },
        ...proxyOptions,
      });
      const p = single;
      closers.push(() => p.close());
    }
    const proxy = (backends ?? single) as ChaosProxy | Backends;
    /** The recording proxy in front of slot `i`. */
    const proxyOf = (i: number): ChaosProxy =>
      backends ? (backends.proxies[i] as ChaosProxy) : (single as ChaosProxy);

    const budget = new TrialBudget(options.trials);
    const stats = newClientStats();
    const timing = {
      outageMaxMs: options.outageMaxMs,
      deadLinkMs: 250,
      lingerMaxMs: 600,
      ackTimeoutMs: 4000,
      liveTimeoutMs: 10_000,
    };
    const env = { proxy, devices, budget, stats, timing, stopped: () => stopping };
    // The restart-replay pages take the values they hold from the first process right away.
    let replayPages: ReplayPages | undefined;
    if (options.serverRestarts > 0) {
      const pages = new ReplayPages({
        proxy,
        devices: ids,
        rng: rng.fork('replay-pages'),
        stats,
        forgeShare: options.unsafeEpochs ? 1 : 0.5,
      });
      replayPages = pages;
      closers.push(() => pages.close());
      await pages.open();
    }
    let duels: DuelPages | undefined;
    if (backends && options.duelPairs > 0) {
      const b = backends;
      const d = new DuelPages({
        proxy: b,
        backendOf: (c) => b.backendOf(c),
        devices: ids,
        pairs: options.duelPairs,
        rng: rng.fork('duels'),
        settleMs: Math.max(600, options.echoDelayMaxMs * 3),
      });
      duels = d;
      closers.push(async () => d.close());
    }
    const clients = Array.from(
      { length: options.clients },
      (_, i) => new HostileClient(i, ids[i % ids.length] as string, rng.fork(`client:${i}`), env),
    );

    if (fleetPrepared?.ok) {
      fleet = fleetPrepared.fleet;
      const f = fleet;
      closers.push(() => f.close());
      await f.open((client) => proxy.url(client));
    }

    log(
      `chaos: seed ${options.seed}, ${options.trials} trials, ${options.clients} clients on ${options.devices} devices, ` +
        `broker ${options.broker}, guard ${options.guardMs} ms${options.unsafe ? ', UNSAFE' : ''}${options.unsafeEpochs ? ', UNSAFE EPOCHS' : ''}, browsers ${fleet ? fleet.count : 0}`,
    );

    // ------------------------------------------------------------ faults, at fixed points of progress
    type FaultKind = 'link' | 'server' | 'broker' | 'rolling';
    const schedule: { at: number; kind: FaultKind }[] = [];
    // Across processes the faults take seconds each (a rolling restart starts three processes):
    // they are spread over the first 60% of the trials, so that all of them happen during the run.
    const span = cross ? 0.6 : 1;
    const spread = (k: number, kind: FaultKind, offset: number): void => {
      for (let i = 0; i < k; i++)
        schedule.push({ at: Math.floor((options.trials * span * (i + 1 - offset)) / (k + 1)), kind });
    };
    spread(options.linkFaults, 'link', 0);
    spread(options.serverRestarts, 'server', 0.33);
    spread(options.brokerRestarts, 'broker', 0.66);
    // After the other faults of its round: the longest fault, it would otherwise hold them back.
    spread(options.rollingRestarts, 'rolling', -0.5);
    schedule.sort((x, y) => x.at - y.at);
    const faultRng = rng.fork('faults');

    const linkFault = async (): Promise<void> => {
      const blackHoled = faultRng.chance(0.5);
      const outage: LinkOutage = {
        kind: blackHoled ? 'link-black-hole' : 'link-cut',
        start: performance.now(),
        // A black-holed link is noticed by the bridge's keepalive (1.5 × keepalive), a cut at once.
        noticeWithinMs: blackHoled ? serverConfig.keepalive * 1500 + 1000 : 1000,
      };
      outages.push(outage);
      const back = sdkGate.nextUpstream();
      if (blackHoled) {
        faults.linkBlackHoles++;
        // Silent both ways, open on both sides; the bridges notice by their keepalive.
        for (const link of sdkGate.openLinks) link.blackHole();
      } else {
        faults.linkCuts++;
        sdkGate.cut();
      }
      await back;
      outage.back = performance.now();
      log(
        `  fault: broker link ${blackHoled ? 'black-holed' : 'cut'} at ${Math.round(outage.start)} ms, back after ${Math.round(outage.back - outage.start)} ms`,
      );
    };

    const brokerRestart = async (): Promise<void> => {
      const m = mosquitto as Mosquitto;
      faults.brokerRestarts++;
      // New connections are refused while the broker is down; open ones die with it.
      sdkGate.setMode(ProxyMode.Refuse);
      devGate.setMode(ProxyMode.Refuse);
      const outage: LinkOutage = { kind: 'broker-killed', start: performance.now(), noticeWithinMs: 1000 };
      outages.push(outage);
      await m.stop('SIGKILL');
      await sleep(faultRng.int(100, 400)); // how long the broker stays down
      await m.start();
      // The checker subscribes before anyone else may reach the new broker.
      await observer.reconnect();
      const back = sdkGate.nextUpstream();
      sdkGate.pass();
      devGate.pass();
      await back;
      outage.back = performance.now();
      log(
        `  fault: mosquitto killed (SIGKILL) at ${Math.round(outage.start)} ms, SDK reconnected after ${Math.round(outage.back - outage.start)} ms`,
      );
    };

    const serverRestart = async (): Promise<void> => {
      // One process at a time, in turn (one process: always that one).
      const i = faults.serverRestarts % slots.length;
      faults.serverRestarts++;
      const slot = slots[i] as (typeof slots)[number];
      const lifeRec = servers.find((x) => x.generation === slot.life) as ServerLife;
      const front = proxyOf(i);
      front.serverKilled();
      lifeRec.killedAt = performance.now();
      serverStats.push(undefined);
      await slot.server.kill();
      // The devices move while the server is down (the new process reads their retained statuses).
      await Promise.all(ids.map((d) => devices.change(d, faultRng.someOf(FIELDS))));
      await sleep(faultRng.int(0, 300)); // how long the server stays down
      front.serverGeneration = lives + 1;
      Object.assign(slot, await startLife(slot.port));
      // Right after the new process's resyncs, writes from the old process's revisions.
      await replayPages?.replay(slot.server.epoch);
      log(
        `  fault: server process ${cross ? `s${i + 1} ` : ''}killed (SIGKILL) at ${Math.round(lifeRec.killedAt)} ms, new epoch ${slot.server.epoch}`,
      );
    };

    /** Every process in turn: out of HAProxy, SIGTERM (it drains), a new one, back in (docs/deploy.md). */
    const rollingRestart = async (): Promise<void> => {
      const b = backends as Backends;
      faults.rollingRestarts++;
      const rollStart = performance.now();
      for (const [i, slot] of slots.entries()) {
        const name = b.serverName(i);
        await b.haproxy.setState(name, AdminState.Drain);
        serverStats.push(await slot.server.stats().catch(() => undefined));
        drainsMs.push(Math.round(await slot.server.terminate()));
        proxyOf(i).serverGeneration = lives + 1;
        Object.assign(slot, await startLife(slot.port));
        await b.haproxy.setState(name, AdminState.Ready);
        await b.haproxy.waitForState(name, ServerStatus.Up, 15_000);
      }
      log(
        `  fault: rolling restart of ${slots.length} processes (SIGTERM → drain) in ${Math.round(performance.now() - rollStart)} ms, drains ${drainsMs.slice(-slots.length).join(', ')} ms`,
      );
    };

    const faultLoop = (async () => {
      for (const item of schedule) {
        await budget.reached(item.at);
        if (stopping) return;
        if (item.kind === 'link') await linkFault();
        else if (item.kind === 'server') await serverRestart();
        else if (item.kind === 'rolling') await rollingRestart();
        else await brokerRestart();
      }
    })();

    // ------------------------------------------------------------ devices living their own lives
    const episodeRng = rng.fork('episodes');
    const episodeLoop = (async () => {
      if (!options.deviceEpisodes) return;
      while (!stopping) {
        await sleep(episodeRng.int(300, 1500)); // time between episodes: the schedule itself
        if (stopping) return;
        const device = episodeRng.pick(ids);
        const roll = episodeRng.float();
        if (roll < 0.5) {
          await devices.change(device, episodeRng.someOf(FIELDS));
          continue;
        }
        faults.deviceEpisodes++;
        const lwt = roll < 0.75;
        if (lwt) devices.dropOff(device);
        else await devices.announceOffline(device);
        await sleep(episodeRng.int(50, 400)); // how long the device is away
        if (episodeRng.chance(0.5)) await devices.change(device, episodeRng.someOf(FIELDS));
        await devices.comeBack(device);
      }
    })();

    // ------------------------------------------------------------ progress
    const progress = setInterval(() => {
      log(
        `  ${budget.done}/${options.trials} trials, ${proxy.connections.length} connections, ${observer.messages.length} broker messages`,
      );
    }, 5000);
    progress.unref();

    // A run that stops making progress ends by itself, and says so.
    let stalledAt: number | undefined;
    let lastDone = -1;
    let lastChange = performance.now();
    const watchdog = setInterval(() => {
      if (budget.done !== lastDone) {
        lastDone = budget.done;
        lastChange = performance.now();
      } else if (performance.now() - lastChange > STALL_MS && stalledAt === undefined) {
        stalledAt = budget.done;
        log(`  no trial finished for ${STALL_MS / 1000} s: stopping`);
        stopping = true;
        budget.release();
      }
    }, 1000);
    watchdog.unref();

    const duelLoop = duels ? duels.run(() => stopping) : Promise.resolve();
    const browserLoop = fleet ? fleet.run(budget, stats, () => stopping, proxy, devices) : Promise.resolve();
    await Promise.all(clients.map((c) => c.run()));
    stopping = true;
    budget.release();
    clearInterval(progress);
    clearInterval(watchdog);
    await browserLoop;
    await Promise.all([faultLoop, episodeLoop, duelLoop]);
    duels?.close();
    // Every device back and reporting before the end, so its pages can be held to "resync after return".
    await devices.settled();

    // ------------------------------------------------------------ drain
    await fleet?.close();
    fleet = undefined;
    await replayPages?.close();
    await Promise.race([proxy.idle(), sleep(options.heartbeatMs * 3 + 5000)]);
    // Let the last echoes reach the broker: quiet for 300 ms (bounded).
    for (let i = 0; i < 50; i++) {
      const n = observer.messages.length;
      await sleep(300);
      if (observer.messages.length === n) break;
    }
    const endedAt = performance.now();
    for (const slot of slots) serverStats.push(await slot.server.stats().catch(() => undefined));

    const records: RunRecords = {
      connections: proxy.connections,
      broker: observer.messages,
      sdkLink: gate.records(),
      outages,
      servers,
      endedAt,
    };
    await closeAll();
    loop.disable();
    const check = checkRun(records, {
      windowMs: options.windowMs,
      echoTimeoutMs: options.echoTimeoutMs,
      crossWindowMs: options.crossWindowMs,
    });
    if (stalledAt !== undefined) {
      check.violations.push({
        kind: 'run-stalled',
        message: `no trial finished for ${STALL_MS / 1000} s after ${stalledAt} of ${options.trials}: the server stopped serving`,
      });
    }
    if (stats.browserWritesWhileDown > 0) {
      // Seen in the page (the proxy cannot see what an element sends into a dead link).
      check.violations.push({
        kind: 'element-contract',
        message: `an element emitted ${stats.browserWritesWhileDown} write(s) for values forced into its inputs while its link was down`,
      });
    }
    const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
    const cpu = os.cpus()[0]?.model ?? 'unknown';
    const result: ChaosResult = {
      options,
      check,
      clients: stats,
      devices: devices.counts,
      servers: serverStats,
      records,
      faults,
      drainsMs,
      ...(duels ? { duels: duels.stats } : {}),
      durationMs: performance.now() - started,
      loopDelay: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
      machine: { cores: os.cpus().length, node: process.version, platform: `${os.type()} ${os.release()}`, cpu },
      loadAverage: os.loadavg(),
      date: new Date().toISOString(),
    };
    if (browserNote !== undefined) result.browserNote = browserNote;
    return result;
  } finally {
    stopping = true;
    await closeAll();
  }
}
