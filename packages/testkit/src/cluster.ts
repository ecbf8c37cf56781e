/**
 * A scale-out deployment on loopback, all real (issue 15): a Mosquitto, the simulated video
 * processor on it, N `live-device-server` processes (the built CLI, `--mqtt` to that Mosquitto,
 * `--trust-proxy` by default) and a load balancer in front (HAProxy, or nginx), each on a free
 * 127.0.0.1 port. Pages connect to the balancer ({@link Cluster.url}). `stop()` tears it all down.
 * The CLI must be built first ({@link buildCli} in `beforeAll`).
 * @module
 */
import { type CliProcess, listeningUrl, runCli } from './cli-process.js';
import { VIDEOPROC_FILE, VP } from './devices.js';
import { type EchoDevice, startEchoDevice } from './echo-device.js';
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
}

/** Defaults of {@link ClusterOptions}. */
export const CLUSTER_DEFAULTS = Object.freeze({
  processes: 3,
  balancer: BalancerKind.Haproxy as BalancerKind,
  trustProxy: true,
  healthCheck: Object.freeze({ path: '/healthz' }) as HealthCheck,
  origins: Object.freeze(['https://panel.example']) as readonly string[],
  cliArgs: Object.freeze([]) as readonly string[],
});

/** The device state retained on the broker before the processes start (what a first resync carries). */
export const CLUSTER_DEVICE_STATE = Object.freeze({ genlock: '-25 10', freeze: '0' });

/** One server process of the cluster. */
export interface ClusterServer {
  /** Its name in the balancer's config: `s1`, `s2`, … */
  readonly name: string;
  readonly cli: CliProcess;
  readonly port: number;
  /** Its own `ws://127.0.0.1:PORT/live`, past the balancer. */
  readonly url: string;
  /**
   * The client address of each upgrade it accepted, in order, from its log
   * (`socket open {"remote":…}`, logged at `debug`): the forwarded address with `--trust-proxy`.
   */
  remotes(): string[];
}

/** A running cluster. */
export interface Cluster {
  readonly mosquitto: Mosquitto;
  readonly device: EchoDevice;
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
  /** Kills server `i` (default SIGKILL: a crash) and waits for its exit. */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Closes every client, stops the balancer, the processes, the device and Mosquitto. Safe to call twice. */
  stop(): Promise<void>;
}

const SOCKET_OPEN = /socket open (\{.*\})$/;

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

    const args = [
      '--device',
      VIDEOPROC_FILE,
      '--mqtt',
      mosquitto.url,
      '--port',
      '0',
      // `socket open` with the client's address is logged at debug: ClusterServer.remotes reads it.
      '--log-level',
      'debug',
      ...(o.trustProxy ? ['--trust-proxy'] : []),
      ...o.origins.flatMap((origin) => ['--origin', origin]),
      ...o.cliArgs,
    ];
    const clis = Array.from({ length: o.processes }, () => runCli(args));
    for (const cli of clis) {
      closers.push(async () => {
        if (cli.child.exitCode === null && cli.child.signalCode === null) cli.child.kill('SIGKILL');
        await cli.exited;
      });
    }
    const urls = await Promise.all(clis.map((cli) => listeningUrl(cli)));
    const servers: ClusterServer[] = clis.map((cli, i) => {
      const url = urls[i] as string;
      return {
        name: `s${i + 1}`,
        cli,
        port: Number(new URL(url).port),
        url,
        remotes: () =>
          cli
            .stderr()
            .split('\n')
            .map((l) => SOCKET_OPEN.exec(l)?.[1])
            .filter((j): j is string => j !== undefined)
            .map((j) => String((JSON.parse(j) as { remote?: unknown }).remote)),
      };
    });
    const backends = servers.map((s) => ({ port: s.port }));

    let haproxy: Haproxy | undefined;
    let nginx: Nginx | undefined;
    if (o.balancer === BalancerKind.Haproxy) {
      const h = await startHaproxy({ backends, healthCheck: o.healthCheck });
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
    return {
      mosquitto,
      device,
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
        const server = servers[i];
        if (!server) throw new TypeError(`kill: no server ${i} (0 to ${servers.length - 1})`);
        if (server.cli.child.exitCode !== null || server.cli.child.signalCode !== null) return;
        server.cli.child.kill(signal);
        await server.cli.exited;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
