/**
 * A real HAProxy (Debian's `haproxy`) in front of several server processes, for the scale-out
 * tests (issue 15): started as a direct child in the foreground (`-db`) with a config generated
 * into a temp dir, on a free 127.0.0.1 port, stopped by the test. Its runtime API (a stats socket
 * in the temp dir, `level admin`) tells when backends are up or down (`show stat`) and sets a
 * server to drain or maintenance (`set server … state …`). docs/deploy.md quotes the config.
 * @module
 */
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '@live-device-form/server';
import { freePort } from './free-port.js';
import { startProgram } from './program.js';

/** Where Debian installs HAProxy. */
export const HAPROXY_BIN = '/usr/sbin/haproxy';

/**
 * How the balancer checks a backend: an HTTP `GET` on `path` that must answer 200
 * (`option httpchk` + `http-check expect status 200`), or `'tcp'`, a TCP connect only (a process
 * that accepts connections is up, also while it starts or drains).
 */
export type HealthCheck = { readonly path: string } | 'tcp';

/** One server process behind the balancer. */
export interface Backend {
  /** Defaults to `127.0.0.1`. */
  readonly host?: string;
  readonly port: number;
}

/** Options of {@link startHaproxy}. */
export interface HaproxyOptions {
  /** The server processes, named `s1`, `s2`, … in this order. At least one. */
  backends: readonly Backend[];
  /** Defaults to `{ path: '/healthz' }`. */
  healthCheck?: HealthCheck;
  /** Milliseconds between two health checks of a server (`inter`, `fastinter`, `downinter`). Defaults to `200`. */
  checkIntervalMs?: number;
  /**
   * Milliseconds a WebSocket may be idle in both directions before HAProxy closes it
   * (`timeout tunnel`). Must exceed the servers' heartbeat, which sends a ping every
   * `heartbeatMs`. Defaults to 4 × the SDK's `heartbeatMs` default (`60000`).
   */
  tunnelTimeoutMs?: number;
  /** Milliseconds {@link startHaproxy} waits for the runtime API to answer. Defaults to `10000`. */
  startTimeoutMs?: number;
  /**
   * Retry a request that a server answered 503 on another server (`retry-on conn-failure
   * empty-response 503`, HAProxy's L7 retries, which work for WebSocket upgrades): a page that
   * reconnects to a draining process, before the health checks have taken it out, lands on another
   * one instead of backing off (docs/deploy.md, *Drain and rolling restarts*). Defaults to `true`.
   */
  retryOn503?: boolean;
}

/** Defaults of {@link HaproxyOptions}. */
export const HAPROXY_DEFAULTS = Object.freeze({
  healthCheck: Object.freeze({ path: '/healthz' }) as HealthCheck,
  checkIntervalMs: 200,
  tunnelTimeoutMs: 4 * DEFAULTS.heartbeatMs,
  startTimeoutMs: 10_000,
  retryOn503: true,
});

/** A server's state as `show stat` reports it (`status` column), first word. */
export const ServerStatus = {
  Up: 'UP',
  Down: 'DOWN',
  Drain: 'DRAIN',
  Maint: 'MAINT',
  NoLb: 'NOLB',
} as const;
export type ServerStatus = (typeof ServerStatus)[keyof typeof ServerStatus];

/** One server's line of `show stat`. */
export interface ServerStat {
  /** `s1`, `s2`, … */
  readonly name: string;
  /** `UP`, `DOWN`, `DRAIN`, `MAINT`, …; a transition shows as `UP 1/2` (first word kept in {@link ServerStat.state}). */
  readonly status: string;
  /** First word of `status`. */
  readonly state: string;
  /** Result of the latest health check: `L4OK`, `L7OK`, `L4CON`, `L7STS`, `INI` (none yet), … */
  readonly checkStatus: string;
  /** Connections open to the server now (`scur`). */
  readonly current: number;
  /** Connections sent to the server since the start (`stot`). */
  readonly total: number;
}

/** The state {@link Haproxy.setState} puts a server in (`set server BACKEND/NAME state …`). */
export const AdminState = { Ready: 'ready', Drain: 'drain', Maint: 'maint' } as const;
export type AdminState = (typeof AdminState)[keyof typeof AdminState];

/** A running HAProxy. */
export interface Haproxy {
  readonly host: string;
  readonly port: number;
  /** `ws://127.0.0.1:PORT/live` (or another `path`): what pages connect to. */
  wsUrl(path?: string): string;
  /** The generated config file's text. */
  readonly config: string;
  /** The backend's name in the config (`ldf_servers`). */
  readonly backend: string;
  /** Server names in the order of {@link HaproxyOptions.backends}: `s1`, `s2`, … */
  readonly servers: readonly string[];
  /** Everything HAProxy wrote to stdout and stderr (warnings: `Server ldf_servers/s2 is DOWN…`). */
  output(): string;
  /** Sends one runtime API command and resolves with the answer. */
  command(line: string): Promise<string>;
  /** The backend's servers, from `show stat`. */
  stats(): Promise<ServerStat[]>;
  /**
   * Resolves once `match` holds for the servers' `show stat` lines (asked every 20 ms: HAProxy
   * pushes no events); rejects after `timeoutMs` (default `10000`) with the last lines.
   */
  waitFor(match: (servers: ServerStat[]) => boolean, what: string, timeoutMs?: number): Promise<ServerStat[]>;
  /** Resolves once `count` servers are `UP` with a passed health check. */
  waitForUp(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once server `name` is in `state` (`DOWN`, `UP`, `DRAIN`, `MAINT`). */
  waitForState(name: string, state: ServerStatus, timeoutMs?: number): Promise<void>;
  /** Puts a server in `drain` (no new connections, open ones stay), `maint` (out) or `ready`. */
  setState(name: string, state: AdminState): Promise<void>;
  /** Stops HAProxy (SIGTERM: open connections are cut) and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** A duration for HAProxy's and nginx's configs: `60s` when whole seconds, else `250ms`. @internal */
export function configDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** The config {@link startHaproxy} writes, for the test and for docs/deploy.md. */
export function haproxyConfig(options: {
  port: number;
  statsSocket: string;
  backends: readonly Backend[];
  healthCheck: HealthCheck;
  checkIntervalMs: number;
  tunnelTimeoutMs: number;
  /** Defaults to `true` ({@link HaproxyOptions.retryOn503}). */
  retryOn503?: boolean;
}): string {
  const every = configDuration(options.checkIntervalMs);
  const check =
    options.healthCheck === 'tcp'
      ? ['  # TCP connect only: a process that accepts connections is up.']
      : [`  option httpchk GET ${options.healthCheck.path}`, '  http-check expect status 200'];
  return [
    'global',
    `  stats socket ${options.statsSocket} mode 600 level admin`,
    '  nbthread 1',
    '',
    'defaults',
    '  mode http',
    // X-Forwarded-For: the client's address, read by the servers with --trust-proxy.
    '  option forwardfor',
    // A connection refused by a server that the checks have not marked down yet goes to another.
    '  option redispatch',
    '  retries 2',
    ...((options.retryOn503 ?? true)
      ? [
          // And one it answers 503 (a process draining, not yet marked down), upgrades included.
          '  retry-on conn-failure empty-response 503',
        ]
      : []),
    '  timeout connect 2s',
    '  timeout http-request 10s',
    '  timeout client 30s',
    '  timeout server 30s',
    // An upgraded WebSocket: longer than the servers' heartbeat (a ping every heartbeatMs).
    `  timeout tunnel ${configDuration(options.tunnelTimeoutMs)}`,
    '  timeout client-fin 5s',
    // A check's own deadline (else `inter`): a busy but healthy server must not be taken out.
    '  timeout check 2s',
    '',
    'frontend ldf',
    `  bind 127.0.0.1:${options.port}`,
    '  default_backend ldf_servers',
    '',
    'backend ldf_servers',
    // Round robin, no cookie, no stick table: any process serves any page (docs/deploy.md).
    '  balance roundrobin',
    ...check,
    `  default-server check inter ${every} fastinter ${every} downinter ${every} fall 2 rise 2`,
    ...options.backends.map((b, i) => `  server s${i + 1} ${b.host ?? '127.0.0.1'}:${b.port}`),
    '',
  ].join('\n');
}

/** Sends one command to the runtime API on `socketPath`; resolves with the whole answer. */
function runtimeCommand(socketPath: string, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path: socketPath });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.once('error', reject);
    // Without `prompt` mode, HAProxy answers one command and closes the connection.
    socket.once('end', () => resolve(answer));
    socket.once('connect', () => socket.write(`${line}\n`));
  });
}

/** Parses `show stat` CSV into the servers of `backend`. */
export function parseShowStat(csv: string, backend: string): ServerStat[] {
  const lines = csv.split('\n').filter((l) => l !== '');
  const header = lines[0]?.replace(/^# /, '').split(',') ?? [];
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`show stat has no column ${name}: ${lines[0] ?? '(empty)'}`);
    return i;
  };
  const [px, sv, status, check, scur, stot] = ['pxname', 'svname', 'status', 'check_status', 'scur', 'stot'].map(col);
  return lines
    .slice(1)
    .map((l) => l.split(','))
    .filter((c) => c[px as number] === backend && c[sv as number] !== 'BACKEND')
    .map((c) => {
      const s = c[status as number] ?? '';
      return {
        name: c[sv as number] ?? '',
        status: s,
        state: s.split(' ')[0] ?? '',
        checkStatus: c[check as number] ?? '',
        current: Number(c[scur as number] ?? 0),
        total: Number(c[stot as number] ?? 0),
      };
    });
}

/**
 * Starts HAProxy in front of `backends`; resolves once its runtime API answers (its listeners are
 * bound by then). Throws when HAProxy is not installed (`apt-get install haproxy`;
 * scripts/install-system-deps.sh), rejects the config, or does not come up.
 */
export async function startHaproxy(options: HaproxyOptions): Promise<Haproxy> {
  if (!existsSync(HAPROXY_BIN)) {
    throw new Error(
      `HAProxy is not installed at ${HAPROXY_BIN}: apt-get install -y haproxy (scripts/install-system-deps.sh)`,
    );
  }
  if (options.backends.length === 0) throw new TypeError('startHaproxy: "backends" must name at least one server');
  const o = { ...HAPROXY_DEFAULTS, ...options };
  if (o.tunnelTimeoutMs <= DEFAULTS.heartbeatMs) {
    throw new TypeError(
      `startHaproxy: "tunnelTimeoutMs" (${o.tunnelTimeoutMs}) must exceed the heartbeat (${DEFAULTS.heartbeatMs} ms), or idle pages are cut`,
    );
  }
  const host = '127.0.0.1';
  const port = await freePort(host);
  const dir = await mkdtemp(join(tmpdir(), 'ldf-haproxy-'));
  const statsSocket = join(dir, 'admin.sock');
  const config = haproxyConfig({ ...o, port, statsSocket });
  const configFile = join(dir, 'haproxy.cfg');
  await writeFile(configFile, config);

  const program = startProgram(HAPROXY_BIN, ['-db', '-f', configFile], dir);
  const { running, stop } = program;

  const command = (line: string): Promise<string> => runtimeCommand(statsSocket, line);
  const stats = async (): Promise<ServerStat[]> => parseShowStat(await command('show stat'), 'ldf_servers');

  const waitFor = async (
    match: (servers: ServerStat[]) => boolean,
    what: string,
    timeoutMs = 10_000,
  ): Promise<ServerStat[]> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!running()) throw new Error(`haproxy exited while waiting for ${what}:\n${program.output()}`);
      const last = await stats();
      if (match(last)) return last;
      if (Date.now() > deadline) {
        throw new Error(
          `haproxy: not ${what} within ${timeoutMs} ms; show stat: ${JSON.stringify(last)}\n${program.output()}`,
        );
      }
      // HAProxy pushes no events: its state is asked again (the answer is the event awaited).
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  try {
    const deadline = Date.now() + o.startTimeoutMs;
    for (;;) {
      if (!running()) throw new Error(`haproxy exited at start:\n${program.output()}\nconfig:\n${config}`);
      const ok = await command('show info').then(
        () => true,
        () => false,
      );
      if (ok) break;
      if (Date.now() > deadline)
        throw new Error(`haproxy's runtime API did not answer within ${o.startTimeoutMs} ms:\n${program.output()}`);
      // Until the socket exists there is nothing to await but its appearance.
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const servers = options.backends.map((_b, i) => `s${i + 1}`);
  return {
    host,
    port,
    wsUrl: (path = '/live') => `ws://${host}:${port}${path}`,
    config,
    backend: 'ldf_servers',
    servers,
    output: program.output,
    command,
    stats,
    waitFor,
    async waitForUp(count, timeoutMs) {
      await waitFor(
        (s) => s.filter((x) => x.state === ServerStatus.Up && /^L\dOK$/.test(x.checkStatus)).length >= count,
        `${count} servers up`,
        timeoutMs,
      );
    },
    async waitForState(name, state, timeoutMs) {
      await waitFor((s) => s.find((x) => x.name === name)?.state === state, `${name} ${state}`, timeoutMs);
    },
    async setState(name, state) {
      if (!servers.includes(name)) throw new TypeError(`setState: no server ${name} (servers: ${servers.join(', ')})`);
      const answer = await command(`set server ldf_servers/${name} state ${state}`);
      if (answer.trim() !== '')
        throw new Error(`haproxy refused "set server ldf_servers/${name} state ${state}": ${answer}`);
    },
    stop,
  };
}
