/**
 * A real nginx (Debian's `nginx-light`) in front of several server processes: the second tested
 * balancer configuration of the scale-out tests (issue 15; the first is haproxy.ts). Started as a
 * direct child in the foreground (`daemon off`) with a config, pid file, error log (stderr) and
 * temp paths of its own in a temp dir, on a free 127.0.0.1 port; stopped by the test (SIGTERM:
 * the master stops its worker and exits after it, so no process is left). docs/deploy.md quotes
 * the config. Open-source nginx has no active health checks: a server that refuses connections is
 * skipped for `fail_timeout` after a failed attempt (passive), which is all nginx can do.
 * @module
 */
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '@live-device-form/server';
import { freePort } from './free-port.js';
import { startProgram } from './program.js';
import { type Backend, configDuration } from './haproxy.js';

/** Where Debian installs nginx (`nginx-light`, `nginx`). */
export const NGINX_BIN = '/usr/sbin/nginx';

/** Options of {@link startNginx}. */
export interface NginxOptions {
  /** The server processes, in `upstream ldf_servers` in this order. At least one. */
  backends: readonly Backend[];
  /**
   * Milliseconds nginx waits for the next byte from a server (`proxy_read_timeout`) or for a
   * write to it (`proxy_send_timeout`) before closing the WebSocket. Must exceed the servers'
   * heartbeat (a ping every `heartbeatMs`). Defaults to 4 × the SDK's `heartbeatMs` default (`60000`).
   */
  proxyTimeoutMs?: number;
  /** Milliseconds {@link startNginx} waits for the port to accept connections. Defaults to `10000`. */
  startTimeoutMs?: number;
}

/** Defaults of {@link NginxOptions}. */
export const NGINX_DEFAULTS = Object.freeze({
  proxyTimeoutMs: 4 * DEFAULTS.heartbeatMs,
  startTimeoutMs: 10_000,
});

/** A running nginx. */
export interface Nginx {
  readonly host: string;
  readonly port: number;
  /** `ws://127.0.0.1:PORT/live` (or another `path`): what pages connect to. */
  wsUrl(path?: string): string;
  /** The generated config file's text. */
  readonly config: string;
  /** Everything nginx wrote to stderr (its error log). */
  output(): string;
  /** Stops nginx (SIGTERM, fast shutdown: open connections are cut) and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
}

/** The config {@link startNginx} writes, for the test and for docs/deploy.md. */
export function nginxConfig(options: {
  port: number;
  dir: string;
  backends: readonly Backend[];
  proxyTimeoutMs: number;
}): string {
  const { dir } = options;
  return [
    'daemon off;',
    'worker_processes 1;',
    `pid ${join(dir, 'nginx.pid')};`,
    'error_log stderr warn;',
    '',
    'events {',
    '  worker_connections 1024;',
    '}',
    '',
    'http {',
    '  access_log off;',
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${join(dir, t)};`),
    '',
    // `Connection: upgrade` only when the client asked for an upgrade (nginx's WebSocket recipe).
    '  map $http_upgrade $connection_upgrade {',
    '    default upgrade;',
    "    ''      close;",
    '  }',
    '',
    // Round robin (nginx's default), no ip_hash, no sticky cookie: any process serves any page.
    '  upstream ldf_servers {',
    ...options.backends.map((b) => `    server ${b.host ?? '127.0.0.1'}:${b.port} max_fails=1 fail_timeout=2s;`),
    '  }',
    '',
    '  server {',
    `    listen 127.0.0.1:${options.port};`,
    '',
    '    location / {',
    '      proxy_pass http://ldf_servers;',
    '      proxy_http_version 1.1;',
    '      proxy_set_header Upgrade $http_upgrade;',
    '      proxy_set_header Connection $connection_upgrade;',
    // The Host the page asked for, port included ($host drops it): the Origin check compares them.
    '      proxy_set_header Host $http_host;',
    '      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    '      proxy_set_header X-Forwarded-Host $http_host;',
    '      proxy_set_header X-Forwarded-Proto $scheme;',
    // A 503 (a process draining) is tried on the next server, upgrades included; the 503 also
    // counts as a failure (max_fails), so the server is left out for fail_timeout.
    '      proxy_next_upstream error timeout http_503;',
    '      proxy_connect_timeout 2s;',
    // An upgraded WebSocket: longer than the servers' heartbeat (a ping every heartbeatMs).
    `      proxy_read_timeout ${configDuration(options.proxyTimeoutMs)};`,
    `      proxy_send_timeout ${configDuration(options.proxyTimeoutMs)};`,
    '    }',
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Whether something accepts TCP connections on `host:port` now. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Starts nginx in front of `backends`; resolves once its port accepts connections. Throws when
 * nginx is not installed (`apt-get install nginx-light`; scripts/install-system-deps.sh), rejects
 * the config, or does not come up.
 */
export async function startNginx(options: NginxOptions): Promise<Nginx> {
  if (!existsSync(NGINX_BIN)) {
    throw new Error(
      `nginx is not installed at ${NGINX_BIN}: apt-get install -y nginx-light (scripts/install-system-deps.sh)`,
    );
  }
  if (options.backends.length === 0) throw new TypeError('startNginx: "backends" must name at least one server');
  const o = { ...NGINX_DEFAULTS, ...options };
  if (o.proxyTimeoutMs <= DEFAULTS.heartbeatMs) {
    throw new TypeError(
      `startNginx: "proxyTimeoutMs" (${o.proxyTimeoutMs}) must exceed the heartbeat (${DEFAULTS.heartbeatMs} ms), or idle pages are cut`,
    );
  }
  const host = '127.0.0.1';
  const port = await freePort(host);
  const dir = await mkdtemp(join(tmpdir(), 'ldf-nginx-'));
  // Started as root, nginx runs its worker as `nobody`, which must reach the temp paths in here.
  await chmod(dir, 0o755);
  const config = nginxConfig({ ...o, port, dir });
  const configFile = join(dir, 'nginx.conf');
  await writeFile(configFile, config);

  // -e: the error log before the config is read (else /var/log/nginx/error.log); -p: the prefix.
  const program = startProgram(NGINX_BIN, ['-e', 'stderr', '-p', dir, '-c', configFile], dir);
  const { running, stop } = program;

  try {
    const deadline = Date.now() + o.startTimeoutMs;
    for (;;) {
      if (!running()) throw new Error(`nginx exited at start:\n${program.output()}\nconfig:\n${config}`);
      if (await accepts(host, port)) break;
      if (Date.now() > deadline)
        throw new Error(`nginx did not accept connections within ${o.startTimeoutMs} ms:\n${program.output()}`);
      // Polling interval between connection attempts (readiness is the accepted connection).
      await new Promise((r) => setTimeout(r, 20));
    }
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    host,
    port,
    wsUrl: (path = '/live') => `ws://${host}:${port}${path}`,
    config,
    output: program.output,
    stop,
  };
}
