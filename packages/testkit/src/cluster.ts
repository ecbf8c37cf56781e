/**
 * A scale-out deployment on loopback, all real (issue 15): a Mosquitto, the simulated video
 * processor on it, N `live-device-server` processes (the built CLI, `--mqtt` to that Mosquitto,
 * `--trust-proxy` by default) and a load balancer in front (HAProxy, or nginx), each on a free
 * 127.0.0.1 port. The processes speak MQTT 5 to Mosquitto (`--mqtt-version 5`), so each tells its
 * own writes on the action topics by the `ldf-origin` user property (docs/protocol.md, *Several
 * server processes*). Pages connect to the balancer ({@link Cluster.url}). A process can be
 * stopped (a crash, or SIGTERM: a drain) and started again on its port ({@link Cluster.start}): a
 * rolling restart. `stop()` tears it all down. The CLI must be built first ({@link buildCli} in
 * `beforeAll`).
 * @module
 */
import { type CliProcess, listeningUrl, runCli } from './cli-process.js';
import { VIDEOPROC_FILE, VP } from './devices.js';
import { type EchoDevice, startEchoDevice } from './echo-device.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { type Haproxy, type HealthCheck, startHaproxy } from './haproxy.js';
import { type ConnectOptions, TestClient } from './harness.js';
import { type Mosquitto, startMosquitto } from './mosquitto.js';
import { type Nginx, startNginx } from './nginx.js';
import type { ResyncFrame } from '@live-device-form/protocol';

/** Which balancer is in front of the processes. */
export const BalancerKind = { Haproxy: 'haproxy', Nginx: 'nginx' } as const;
export type BalancerKind = (typeof BalancerKind)[keyof typeof BalancerKind];

/** Options of {@link startCluster}. */
export interface ClusterOptions {
  /** Server processes behind the balancer. Defaults to `3`. */
  processes?: number;
  /** Defaults to `'haproxy'`. */
  balancer?: BalancerKind;
  /** Start the CLIs with `--trust-proxy`. Defaults to `true`. */
  trustProxy?: boolean;
  /** HAProxy's health check ({@link HealthCheck}). Defaults to `{ path: '/healthz' }`. */
  healthCheck?: HealthCheck;
  /**
   * Origins the CLIs allow besides their own host (`--origin`, repeated); {@link Cluster.connect}
   * sends the first one unless told otherwise. Defaults to `['https://panel.example']`.
   */
  origins?: readonly string[];
  /** More CLI flags, after the cluster's own. Defaults to none. */
  cliArgs?: readonly string[];
  /**
   * Milliseconds every chunk between the processes and Mosquitto waits, each way (a fault proxy in
   * between, {@link Cluster.mqttProxy}): a broker on another machine, so that each write is in
   * flight (published, awaiting its PUBACK) for about twice this. The device and test clients
   * connect to Mosquitto directly. `0`: no proxy. Defaults to `0`.
   */
  mqttDelayMs?: number;
  /** HAProxy's L7 retries of a 503 (`retryOn503` of {@link startHaproxy}). Defaults to `true`. */
  retryOn503?: boolean;
}

/** Defaults of {@link ClusterOptions}. */
export const CLUSTER_DEFAULTS = Object.freeze({
  processes: 3,
  balancer: BalancerKind.Haproxy as BalancerKind,
  trustProxy: true,
  healthCheck: Object.freeze({ path: '/healthz' }) as HealthCheck,
  origins: Object.freeze(['https://panel.example']) as readonly string[],
  cliArgs: Object.freeze([]) as readonly string[],
  mqttDelayMs: 0,
  retryOn503: true,
});

/** The device state retained on the broker before the processes start (what a first resync carries). */
export const CLUSTER_DEVICE_STATE = Object.freeze({ genlock: '-25 10', freeze: '0' });

/** One server process of the cluster. */
export interface ClusterServer {
  /** Its name in the balancer's config: `s1`, `s2`, … */
  readonly name: string;
  /** The process running now (the latest one after {@link Cluster.start}). */
  readonly cli: CliProcess;
  readonly port: number;
  /** Its own `ws://127.0.0.1:PORT/live`, past the balancer. */
  readonly url: string;
  /**
   * The client address of each upgrade it accepted, in order, from its log
   * (`socket open {"remote":…}`, logged at `debug`): the forwarded address with `--trust-proxy`.
   * Every process that ran on this port counts, the earlier ones first.
   */
  remotes(): string[];
  /** Whether its current process is running. */
  running(): boolean;
}

/** A running cluster. */
export interface Cluster {
  readonly mosquitto: Mosquitto;
  readonly device: EchoDevice;
  /** The fault proxy between the processes and Mosquitto when `mqttDelayMs` > 0. */
  readonly mqttProxy: FaultProxy | undefined;
  readonly servers: readonly ClusterServer[];
  /** Set when `balancer` is `'haproxy'`. */
  readonly haproxy: Haproxy | undefined;
  /** Set when `balancer` is `'nginx'`. */
  readonly nginx: Nginx | undefined;
  /** The balancer's generated config. */
  readonly balancerConfig: string;
  /** `ws://127.0.0.1:BALANCER_PORT/live`: what pages connect to. */
  readonly url: string;
  /** The balancer's own origin, `http://127.0.0.1:BALANCER_PORT` (a page served through it). */
  readonly origin: string;
  /** Opens a client to the balancer, `Origin` the first allowed origin unless `options.origin` says otherwise. */
  connect(options?: ConnectOptions): Promise<TestClient>;
  /** {@link connect}, `hello` for `videoproc`, and its first resync. */
  join(options?: ConnectOptions): Promise<{ client: TestClient; resync: ResyncFrame }>;
  /**
   * Signals server `i` (default SIGKILL: a crash; SIGTERM: the CLI's drain) and resolves with its
   * exit code once it has exited (`null` when the signal killed it).
   */
  kill(i: number, signal?: NodeJS.Signals): Promise<number | null>;
  /**
   * Starts server `i` again, after it exited, on its port with its flags; resolves with its new
   * process once it prints `listening on` (HAProxy marks it up after its checks pass: await
   * `haproxy.waitForUp`). Throws while it still runs.
   */
  start(i: number): Promise<CliProcess>;
  /** Closes every client, stops the balancer, the processes, the device and Mosquitto. Safe to call twice. */
  stop(): Promise<void>;
}

const SOCKET_OPEN = /socket open (\{.*\})$/;

const isRunning = (cli: CliProcess): boolean => cli.child.exitCode === null && cli.child.signalCode === null;

/** Starts a cluster; rejects (having stopped what it started) when a part does not come up. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const o = { ...CLUSTER_DEFAULTS, ...options };
  if (!Number.isInteger(o.processes) || o.processes < 1) {
    throw new TypeError(`startCluster: "processes" must be a positive integer, got ${String(o.processes)}`);
  }
  const closers: (() => Promise<unknown>)[] = [];
  const clients = new Set<TestClient>();
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    for (const c of clients) c.ws.terminate();
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  };

  try {
    const mosquitto = await startMosquitto();
    closers.push(() => mosquitto.close());
    const device = await startEchoDevice(mosquitto.url);
    closers.push(() => device.close());
    // What the hardware left retained: the processes' first resyncs carry it.
    await device.client.publishAsync(VP.genlockStatus, CLUSTER_DEVICE_STATE.genlock, { qos: 1, retain: true });
    await device.client.publishAsync(VP.freezeStatus, CLUSTER_DEVICE_STATE.freeze, { qos: 1, retain: true });
    await device.client.publishAsync(VP.online, '1', { qos: 1, retain: true });

    let mqttProxy: FaultProxy | undefined;
    if (o.mqttDelayMs > 0) {
      const delayMs = o.mqttDelayMs;
      const proxy = await startFaultProxy({ target: { port: mosquitto.port }, shape: () => ({ delayMs }) });
      mqttProxy = proxy;
      closers.push(() => proxy.close());
    }

    const args = [
      '--device',
      VIDEOPROC_FILE,
      '--mqtt',
      mqttProxy ? mqttProxy.url('mqtt') : mosquitto.url,
      // Own writes told by their ldf-origin user property, not first in, first out.
      '--mqtt-version',
      '5',
      // `socket open` with the client's address is logged at debug: ClusterServer.remotes reads it.
      '--log-level',
      'debug',
      ...(o.trustProxy ? ['--trust-proxy'] : []),
      ...o.origins.flatMap((origin) => ['--origin', origin]),
      ...o.cliArgs,
    ];
    /** Every process each server has run, the current one last. */
    const generations: CliProcess[][] = [];
    const launch = (i: number, port: number): CliProcess => {
      const cli = runCli([...args, '--port', String(port)]);
      (generations[i] ??= []).push(cli);
      closers.push(async () => {
        if (isRunning(cli)) cli.child.kill('SIGKILL');
        await cli.exited;
      });
      return cli;
    };
    const clis = Array.from({ length: o.processes }, (_x, i) => launch(i, 0));
    const urls = await Promise.all(clis.map((cli) => listeningUrl(cli)));
    const current = (i: number): CliProcess => generations[i]?.at(-1) as CliProcess;
    const servers: ClusterServer[] = urls.map((url, i) => ({
      name: `s${i + 1}`,
      get cli() {
        return current(i);
      },
      port: Number(new URL(url).port),
      url,
      remotes: () =>
        (generations[i] ?? [])
          .flatMap((cli) => cli.stderr().split('\n'))
          .map((l) => SOCKET_OPEN.exec(l)?.[1])
          .filter((j): j is string => j !== undefined)
          .map((j) => String((JSON.parse(j) as { remote?: unknown }).remote)),
      running: () => isRunning(current(i)),
    }));
    const backends = servers.map((s) => ({ port: s.port }));

    let haproxy: Haproxy | undefined;
    let nginx: Nginx | undefined;
    if (o.balancer === BalancerKind.Haproxy) {
      const h = await startHaproxy({ backends, healthCheck: o.healthCheck, retryOn503: o.retryOn503 });
      haproxy = h;
      closers.push(() => h.stop());
      await h.waitForUp(servers.length);
    } else {
      const n = await startNginx({ backends });
      nginx = n;
      closers.push(() => n.stop());
    }
    const balancer = (haproxy ?? nginx) as Haproxy | Nginx;
    const url = balancer.wsUrl('/live');

    const connect = async (connectOptions: ConnectOptions = {}): Promise<TestClient> => {
      const client = await TestClient.connect(url, { origin: o.origins[0], ...connectOptions });
      clients.add(client);
      return client;
    };
    const server = (i: number, what: string): ClusterServer => {
      const found = servers[i];
      if (!found) throw new TypeError(`${what}: no server ${i} (0 to ${servers.length - 1})`);
      return found;
    };
    return {
      mosquitto,
      device,
      mqttProxy,
      servers,
      haproxy,
      nginx,
      balancerConfig: balancer.config,
      url,
      origin: `http://${balancer.host}:${balancer.port}`,
      connect,
      async join(connectOptions = {}) {
        const client = await connect(connectOptions);
        client.hello(0, 'videoproc');
        const resync = await client.next<ResyncFrame>((f) => f.type === 'resync', 10_000);
        return { client, resync };
      },
      async kill(i, signal = 'SIGKILL') {
        const { cli } = server(i, 'kill');
        if (isRunning(cli)) cli.child.kill(signal);
        return cli.exited;
      },
      async start(i) {
        const s = server(i, 'start');
        if (s.running()) throw new Error(`start: ${s.name} is still running; kill it first`);
        await s.cli.exited;
        const cli = launch(i, s.port);
        await listeningUrl(cli);
        return cli;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
