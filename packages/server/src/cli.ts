#!/usr/bin/env node
/**
 * `live-device-server`: serves one or more devices described in JSON files to `<live-device-form>`
 * pages, over an external MQTT broker (`--mqtt URL`) or an embedded one. See docs/cli.md.
 *
 * @example
 * live-device-server --device videoproc.json --mqtt mqtt://127.0.0.1:1883 --port 8080 --origin http://localhost:5173
 * @module
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { DeviceBridge } from './bridge.js';
import { bundlePath, bundleRoutes, loadElementBundle, prepareBundle } from './cli/bundle-route.js';
import { createCliHttpServer } from './cli/http-server.js';
import { createRouter, healthRoute, upgradeRequiredRoute } from './cli/router.js';
import { isLoopbackHost } from './loopback.js';
import { mqttUrlProblem } from './cli/mqtt-url.js';
import { hasSecretFlag, readPassword, warnAboutExposedSecretFiles } from './cli/secrets.js';
import { readTlsPair, reloadTls, type TlsFiles, type TlsPair } from './cli/tls.js';
import { loadDeviceFile, type DeviceDescription } from './device/index.js';
import { guardTcpConnections } from './connection-limits.js';
import { EMBEDDED_BROKER_DEFAULTS, startEmbeddedBroker, type EmbeddedBroker } from './embedded-broker.js';
import { isHostRule } from './host.js';
import type { Logger, LogFn } from './logger.js';
import { createDiscovery, type Discovery } from './discovery/discovery.js';
import type { DeviceSourceFactory } from './discovery/source.js';
import { DISCOVERY_SOURCES } from './discovery/sources.js';
import { createMqttBridge, type MqttBridgeOptions } from './mqtt-bridge.js';
import { DEFAULTS } from './options.js';
import { createLiveDeviceServer, type LiveDeviceServer } from './server.js';

/** This package's version (`--version`), from its package.json: one place to bump at a release. */
const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
type Level = (typeof LEVELS)[number];

/** The defaults of the flags that are not the SDK's own (those come from `DEFAULTS` and `EMBEDDED_BROKER_DEFAULTS`). */
const CLI_DEFAULTS = Object.freeze({
  port: 8080,
  host: '127.0.0.1',
  logLevel: 'info' as Level,
  headersTimeoutMs: 10_000,
  healthPath: '/healthz',
  mqttVersion: '3.1.1' as MqttVersion,
});

/** The MQTT versions `--mqtt-version` takes, and the mqtt.js `protocolVersion` of each. */
const MQTT_VERSIONS = Object.freeze({ '3.1.1': 4, '5': 5 } as const);
type MqttVersion = keyof typeof MQTT_VERSIONS;

/** A logger writing one line per entry to stderr, so stdout carries only what scripts read. */
function stderrLogger(minLevel: Level): Logger {
  const min = LEVELS.indexOf(minLevel);
  const make = (level: Level): LogFn =>
    ((a: unknown, b?: unknown) => {
      if (LEVELS.indexOf(level) < min) return;
      const [obj, msg] =
        typeof a === 'string' ? [undefined, a] : [a as Record<string, unknown> | undefined, b as string | undefined];
      const ctx =
        obj && Object.keys(obj).length > 0
          ? ` ${JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`
          : '';
      process.stderr.write(`[live-device-server] ${level}: ${msg ?? ''}${ctx}\n`);
    }) as LogFn;
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('expected a port number from 0 to 65535');
  return n;
}

function milliseconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 2 ** 31 - 1)
    throw new InvalidArgumentError('expected a whole number of milliseconds');
  return n;
}

function positiveMilliseconds(value: string): number {
  const n = milliseconds(value);
  if (n === 0) throw new InvalidArgumentError('expected a whole number of milliseconds, at least 1');
  return n;
}

function urlPath(value: string): string {
  if (!/^\/[^\s?#]*$/.test(value)) throw new InvalidArgumentError('expected a URL path starting with / (no query)');
  return value;
}

function envName(value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw new InvalidArgumentError('expected an environment variable name');
  return value;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** A `--discover NAME[=BASE]` flag, parsed. */
interface DiscoverFlag {
  name: string;
  base: string | undefined;
}

function discoverFlag(value: string, previous: DiscoverFlag[]): DiscoverFlag[] {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  const base = eq < 0 ? undefined : value.slice(eq + 1);
  if (!Object.hasOwn(DISCOVERY_SOURCES, name)) {
    throw new InvalidArgumentError(`expected one of ${Object.keys(DISCOVERY_SOURCES).join(', ')}, optionally =BASE`);
  }
  if (base !== undefined && !/^[^+#$\u0000/][^+#\u0000]*$/.test(base)) {
    throw new InvalidArgumentError('the base topic must not be empty, start with "$" or "/", or contain "+" or "#"');
  }
  if (previous.some((p) => p.name === name && p.base === base)) {
    throw new InvalidArgumentError(`--discover ${value} is given twice`);
  }
  return [...previous, { name, base }];
}

function count(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function allowedHost(value: string, previous: string[]): string[] {
  if (!isHostRule(value))
    throw new InvalidArgumentError(
      'expected a host name like panel.example.com, or .example.com for every subdomain (no scheme, no port)',
    );
  return [...previous, value];
}

/** Parsed command-line options. */
interface CliOptions {
  device: string[];
  discover: DiscoverFlag[];
  discoverAllowTopics: string[];
  mqtt?: string;
  mqttUsername?: string;
  mqttPasswordFile?: string;
  mqttPasswordEnv?: string;
  mqttCa?: string;
  mqttCert?: string;
  mqttKey?: string;
  mqttVersion: MqttVersion;
  brokerPort: number;
  brokerHost: string;
  brokerUsername?: string;
  brokerPasswordFile?: string;
  brokerPasswordEnv?: string;
  port: number;
  host: string;
  tlsCert?: string;
  tlsKey?: string;
  headersTimeoutMs: number;
  path: string;
  healthPath: string;
  drainTimeoutMs: number;
  drainDelayMs: number;
  guardMs: number;
  origin: string[];
  allowedHost: string[];
  maxConnections: number;
  maxConnectionsPerAddress: number;
  trustProxy?: boolean;
  tokenEnv?: string;
  logLevel: Level;
}

function program(): Command {
  return new Command('live-device-server')
    .description(
      'Serve devices described in JSON files to <live-device-form> pages over WebSocket (subprotocol ldf.v1), bridged to MQTT.\n' +
        'Without --mqtt, an embedded MQTT broker (aedes) is started and its URL printed.',
    )
    .option('--device <file>', 'device description (JSON); repeatable', collect, [])
    .option(
      '--discover <source>',
      'serve the devices that announce themselves: homeassistant[=PREFIX], zigbee2mqtt[=BASE] or homie[=BASE]; repeatable (docs/discovery.md)',
      discoverFlag,
      [],
    )
    .option(
      '--discover-allow-topics <prefix>',
      'Home Assistant devices may only use topics starting with this prefix; repeatable (default: any topic)',
      collect,
      [],
    )
    .option(
      '--mqtt <url>',
      'external MQTT broker: mqtt://, mqtts://, ws:// or wss:// (no password in the URL). Default: an embedded broker',
    )
    .option('--mqtt-username <name>', 'MQTT user name')
    .option('--mqtt-password-file <file>', 'read the MQTT password from this file (one trailing newline is dropped)')
    .addOption(
      new Option('--mqtt-password-env <NAME>', 'read the MQTT password from this environment variable').argParser(
        envName,
      ),
    )
    .option('--mqtt-ca <file>', 'CA certificate (PEM) to trust for mqtts:// and wss://')
    .option('--mqtt-cert <file>', 'client certificate (PEM) for mutual TLS')
    .option('--mqtt-key <file>', 'client private key (PEM) for mutual TLS')
    .addOption(
      new Option(
        '--mqtt-version <version>',
        'MQTT version spoken to --mqtt: 5 tags the writes so that several server processes tell theirs apart (Mosquitto 2 speaks it)',
      )
        .choices(['3.1.1', '5'] satisfies MqttVersion[])
        .default(CLI_DEFAULTS.mqttVersion),
    )
    .addOption(
      new Option('--broker-port <port>', 'port of the embedded broker (only without --mqtt); 0 picks a free one')
        .argParser(port)
        .default(EMBEDDED_BROKER_DEFAULTS.port),
    )
    .option(
      '--broker-host <host>',
      'interface of the embedded broker (only without --mqtt); one other than loopback needs --broker-username and a password',
      EMBEDDED_BROKER_DEFAULTS.host,
    )
    .option('--broker-username <name>', 'user name MQTT clients must log in to the embedded broker with')
    .option('--broker-password-file <file>', "read the embedded broker's password from this file")
    .addOption(
      new Option(
        '--broker-password-env <NAME>',
        "read the embedded broker's password from this environment variable",
      ).argParser(envName),
    )
    .addOption(
      new Option('--port <port>', 'HTTP/WebSocket port; 0 picks a free one').argParser(port).default(CLI_DEFAULTS.port),
    )
    .option('--host <host>', 'interface to listen on', CLI_DEFAULTS.host)
    .option(
      '--tls-cert <file>',
      'serve HTTPS/wss:// with this certificate (PEM, with any intermediates); needs --tls-key',
    )
    .option('--tls-key <file>', 'private key (PEM) of --tls-cert; SIGHUP re-reads both')
    .addOption(
      new Option('--headers-timeout-ms <ms>', 'time a client has to send its request headers (and finish TLS)')
        .argParser(positiveMilliseconds)
        .default(CLI_DEFAULTS.headersTimeoutMs),
    )
    .option('--path <path>', 'WebSocket path', DEFAULTS.path)
    .addOption(
      new Option(
        '--health-path <path>',
        'health check for load balancers: 200 when ready, 503 while starting or draining',
      )
        .argParser(urlPath)
        .default(CLI_DEFAULTS.healthPath),
    )
    .addOption(
      new Option(
        '--drain-timeout-ms <ms>',
        'on SIGTERM/SIGINT, time writes in flight have to be acknowledged by the broker before they are answered unknown',
      )
        .argParser(milliseconds)
        .default(DEFAULTS.drainTimeoutMs),
    )
    .addOption(
      new Option(
        '--drain-delay-ms <ms>',
        'on SIGTERM/SIGINT, time the health check answers 503 while pages are still served, before the drain (for balancers that cannot retry a 503 elsewhere)',
      )
        .argParser(milliseconds)
        .default(DEFAULTS.drainDelayMs),
    )
    .addOption(
      new Option('--guard-ms <ms>', 'reconnect guard: writes refused after a page reconnects; 0 disables')
        .argParser(milliseconds)
        .default(DEFAULTS.guardMs),
    )
    .option(
      '--origin <origin>',
      "allow pages from this origin (besides the server's own host); repeatable",
      collect,
      [],
    )
    .option(
      '--allowed-host <host>',
      'accept upgrades whose Host is this name (.example.com: and its subdomains) besides IP addresses and localhost; repeatable',
      allowedHost,
      [],
    )
    .option(
      '--trust-proxy',
      'a reverse proxy in front: believe its X-Forwarded-For/-Host/-Proto (only if every connection comes through it)',
    )
    .addOption(
      new Option('--max-connections <n>', 'connections held at once in total; more are refused')
        .argParser(count)
        .default(DEFAULTS.connectionLimits.total),
    )
    .addOption(
      new Option(
        '--max-connections-per-address <n>',
        'connections held at once from one client address; more are refused',
      )
        .argParser(count)
        .default(DEFAULTS.connectionLimits.perAddress),
    )
    .addOption(
      new Option(
        '--token-env <NAME>',
        'require pages to send the token held in this environment variable in hello',
      ).argParser(envName),
    )
    .addOption(
      new Option('--log-level <level>', 'least severe log level written to stderr')
        .choices(LEVELS)
        .default(CLI_DEFAULTS.logLevel),
    )
    .addHelpText(
      'after',
      [
        '',
        'Passwords and tokens are never taken on the command line (they would show in ps and shell history).',
        '',
        'Examples:',
        '  live-device-server --device videoproc.json --mqtt mqtt://127.0.0.1:1883 --port 8080',
        '  MQTT_PASSWORD=… live-device-server --device videoproc.json --mqtt mqtts://broker:8883 \\',
        '      --mqtt-username panel --mqtt-password-env MQTT_PASSWORD --mqtt-ca ca.pem --origin https://panel.example.com',
        '  live-device-server --device videoproc.json --broker-port 1883   # embedded broker, loopback only',
        '  BROKER_PASSWORD=… live-device-server --device videoproc.json --broker-host 0.0.0.0 --broker-port 1883 \\',
        '      --broker-username panel --broker-password-env BROKER_PASSWORD   # embedded broker for the LAN',
        '  live-device-server --device videoproc.json --host 0.0.0.0 --port 8443 \\',
        '      --tls-cert fullchain.pem --tls-key privkey.pem --origin https://panel.example.com   # wss://',
        '',
        '  live-device-server --mqtt mqtt://127.0.0.1:1883 --discover homeassistant --discover zigbee2mqtt',
        '',
        'With --discover, prints "discovered SOURCE device "ID" with N fields" for every device found (ID is what',
        'a page puts in device=), "changed …" when its description changes and "removed SOURCE device "ID"".',
        'Prints "listening on ws://HOST:PORT/PATH" (wss:// with --tls-cert) once every device\'s retained state is in',
        '(at most 2 s after start; a warning names the devices that were not ready); logs go to stderr.',
        'SIGINT/SIGTERM drain it: health 503 (for --drain-delay-ms, pages still served), then new upgrades refused,',
        'writes in flight acked (within --drain-timeout-ms),',
        'then every page closed with 1001 and exit 0. A second signal cuts the drain short (exit 1), a third exits at once.',
        'SIGHUP re-reads --tls-cert and --tls-key.',
        'Security: docs/security.md.',
      ].join('\n'),
    )
    .version(PACKAGE_VERSION);
}

/** Everything the process holds, for a clean shutdown. */
interface Running {
  live?: LiveDeviceServer;
  httpServer?: http.Server | https.Server;
  bridges: DeviceBridge[];
  discovery?: Discovery;
  broker?: EmbeddedBroker;
  /** Set when shutting down: a start still waiting for readiness prints nothing more. */
  stopping?: boolean;
}

async function shutdown(running: Running): Promise<void> {
  running.stopping = true;
  if (running.live) await running.live.close();
  if (running.httpServer) {
    const server = running.httpServer;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  await Promise.all(running.bridges.map((b) => b.close()));
  if (running.discovery) await running.discovery.close();
  if (running.broker) await running.broker.close();
}

async function start(opts: CliOptions, log: Logger, running: Running, fail: (message: string) => never): Promise<void> {
  if (opts.device.length === 0 && opts.discover.length === 0) {
    fail('at least one --device FILE or --discover SOURCE is needed');
  }
  if (opts.discoverAllowTopics.length > 0 && !opts.discover.some((d) => d.name === 'homeassistant')) {
    fail('--discover-allow-topics restricts Home Assistant discovery: it needs --discover homeassistant');
  }
  if (opts.mqttPasswordFile !== undefined && opts.mqttPasswordEnv !== undefined) {
    fail('use one of --mqtt-password-file and --mqtt-password-env, not both');
  }
  if (opts.brokerPasswordFile !== undefined && opts.brokerPasswordEnv !== undefined) {
    fail('use one of --broker-password-file and --broker-password-env, not both');
  }
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    fail('--tls-cert and --tls-key go together: give both or neither');
  }
  if (opts.healthPath === opts.path) fail(`--health-path and --path are both ${opts.path}: give them different paths`);
  const usesEmbedded = opts.mqtt === undefined;
  const brokerCredentialsGiven =
    opts.brokerUsername !== undefined || opts.brokerPasswordFile !== undefined || opts.brokerPasswordEnv !== undefined;
  if (!usesEmbedded) {
    for (const [flag, given] of [
      ['--broker-port', opts.brokerPort !== EMBEDDED_BROKER_DEFAULTS.port],
      ['--broker-host', opts.brokerHost !== EMBEDDED_BROKER_DEFAULTS.host],
      ['--broker-username/--broker-password-*', brokerCredentialsGiven],
    ] as const) {
      if (given) fail(`${flag} is for the embedded broker; it cannot be combined with --mqtt`);
    }
    const problem = mqttUrlProblem(opts.mqtt as string);
    if (problem !== undefined) fail(problem);
  } else if (
    brokerCredentialsGiven &&
    (opts.mqttUsername !== undefined || opts.mqttPasswordFile !== undefined || opts.mqttPasswordEnv !== undefined)
  ) {
    fail(
      '--mqtt-username/--mqtt-password-* are for an external broker (--mqtt); the CLI logs in to its embedded broker with --broker-username/--broker-password-*',
    );
  }
  if (usesEmbedded && opts.mqttVersion !== CLI_DEFAULTS.mqttVersion) {
    fail(`--mqtt-version ${opts.mqttVersion} needs --mqtt: the embedded broker (aedes) speaks MQTT 3.1.1 only`);
  }
  await warnAboutExposedSecretFiles(
    [opts.mqttPasswordFile, opts.brokerPasswordFile, opts.mqttKey, opts.tlsKey].filter((f) => f !== undefined),
    log,
  );

  const devices: DeviceDescription[] = [];
  const problems: string[] = [];
  for (const file of opts.device) {
    try {
      devices.push(await loadDeviceFile(file));
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (problems.length > 0) fail(problems.join('\n'));
  const ids = devices.map((d) => d.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) fail(`two device files describe the device "${dup}"`);

  // Read and compressed before any MQTT link starts settling on its retained messages.
  const loaded = await loadElementBundle();
  if (loaded === undefined) {
    log.warn(
      'no element bundle in this build (dist/assets/): /live-device-form.bundle.js answers 404; run `pnpm run build`',
    );
  }
  const bundle = loaded === undefined ? undefined : await prepareBundle(loaded);

  let token: string | undefined;
  if (opts.tokenEnv !== undefined) {
    token = process.env[opts.tokenEnv];
    if (!token) fail(`--token-env: the environment variable ${opts.tokenEnv} is empty or not set`);
  }

  const bridgeOptions: MqttBridgeOptions = {
    logger: log,
    mqtt: { protocolVersion: MQTT_VERSIONS[opts.mqttVersion] },
  };
  if (opts.mqttUsername !== undefined) bridgeOptions.username = opts.mqttUsername;
  let brokerPassword: string | undefined;
  let tls: TlsPair | undefined;
  try {
    const mqttPassword = await readPassword('--mqtt-password', opts.mqttPasswordFile, opts.mqttPasswordEnv);
    if (mqttPassword !== undefined) bridgeOptions.password = mqttPassword;
    brokerPassword = await readPassword('--broker-password', opts.brokerPasswordFile, opts.brokerPasswordEnv);
    if (opts.tlsCert !== undefined && opts.tlsKey !== undefined) {
      tls = await readTlsPair({ certFile: opts.tlsCert, keyFile: opts.tlsKey });
    }
  } catch (err) {
    fail((err as Error).message);
  }
  try {
    if (opts.mqttCa !== undefined) bridgeOptions.ca = await readFile(opts.mqttCa);
    if (opts.mqttCert !== undefined) bridgeOptions.cert = await readFile(opts.mqttCert);
    if (opts.mqttKey !== undefined) bridgeOptions.key = await readFile(opts.mqttKey);
  } catch (err) {
    fail(`cannot read a file: ${(err as Error).message}`);
  }

  if (usesEmbedded) {
    if ((opts.brokerUsername === undefined) !== (brokerPassword === undefined)) {
      fail('--broker-username and --broker-password-file/--broker-password-env go together: give both or neither');
    }
    if (opts.brokerUsername === '' || brokerPassword === '') fail('--broker-username/--broker-password-*: empty');
    if (!isLoopbackHost(opts.brokerHost)) {
      // Anyone who reaches the broker can publish to the action topics, past the guard, the
      // revisions, the Origin check and the token.
      if (opts.brokerUsername === undefined) {
        fail(
          `--broker-host ${opts.brokerHost}: an embedded broker reachable from other machines needs credentials: ` +
            'add --broker-username with --broker-password-file or --broker-password-env, or keep it on 127.0.0.1',
        );
      }
      log.warn(
        { host: opts.brokerHost },
        'the embedded MQTT broker listens on a non-loopback interface: other machines can reach it (with its credentials)',
      );
    }
    running.broker = await startEmbeddedBroker({
      port: opts.brokerPort,
      host: opts.brokerHost,
      ...(opts.brokerUsername === undefined ? {} : { username: opts.brokerUsername, password: brokerPassword }),
    });
    if (opts.brokerUsername !== undefined) {
      bridgeOptions.username = opts.brokerUsername;
      bridgeOptions.password = brokerPassword;
    }
    bridgeOptions.url = running.broker.url;
    process.stdout.write(`embedded MQTT broker on ${running.broker.url}\n`);
  } else {
    bridgeOptions.url = opts.mqtt as string;
  }
  for (const device of devices) running.bridges.push(createMqttBridge(device, bridgeOptions));
  if (opts.discover.length > 0) {
    const sources: DeviceSourceFactory[] = opts.discover.map(({ name, base }) => DISCOVERY_SOURCES[name]!(base));
    const discovery = createDiscovery({
      bridgeOptions,
      sources,
      logger: log,
      ...(opts.discoverAllowTopics.length > 0 ? { allowTopics: opts.discoverAllowTopics } : {}),
    });
    running.discovery = discovery;
    const fixed = new Set(ids);
    discovery.on('device-discovered', ({ source, id, fields }) => {
      if (fixed.has(id)) {
        log.error({ source, device: id }, 'discovered device not served: a --device file has this id');
        return;
      }
      process.stdout.write(`discovered ${source} device ${JSON.stringify(id)} with ${fields} fields\n`);
    });
    discovery.on('device-changed', ({ source, id, fields }) => {
      if (!fixed.has(id))
        process.stdout.write(`changed ${source} device ${JSON.stringify(id)} with ${fields} fields\n`);
    });
    discovery.on('device-removed', ({ source, id }) => {
      if (!fixed.has(id)) process.stdout.write(`removed ${source} device ${JSON.stringify(id)}\n`);
    });
  }

  const live = createLiveDeviceServer({
    devices: running.bridges,
    ...(running.discovery ? { catalogs: [running.discovery] } : {}),
    path: opts.path,
    guardMs: opts.guardMs,
    allowedOrigins: opts.origin,
    allowedHosts: opts.allowedHost,
    connectionLimits: { total: opts.maxConnections, perAddress: opts.maxConnectionsPerAddress },
    trustProxy: opts.trustProxy === true,
    drainTimeoutMs: opts.drainTimeoutMs,
    drainDelayMs: opts.drainDelayMs,
    logger: log,
    ...(token === undefined ? {} : { token }),
  });
  running.live = live;
  let onRequest: http.RequestListener;
  try {
    onRequest = createRouter([
      upgradeRequiredRoute(opts.path),
      healthRoute(opts.healthPath, live),
      ...bundleRoutes(bundle),
    ]);
  } catch (err) {
    // Two routes on one path: --path or --health-path names a route of the element bundle.
    fail(`${(err as Error).message}: choose another --path or --health-path`);
  }
  const server = createCliHttpServer({
    headersTimeoutMs: opts.headersTimeoutMs,
    ...(tls === undefined ? {} : { tls }),
    onRequest,
  });
  running.httpServer = server;
  if (server instanceof https.Server && opts.tlsCert !== undefined && opts.tlsKey !== undefined) {
    const files: TlsFiles = { certFile: opts.tlsCert, keyFile: opts.tlsKey };
    process.on('SIGHUP', () => void reloadTls(server, files, log));
  }
  // This server is the CLI's own: the caps apply to its TCP connections too, so connections that never
  // upgrade cannot pile up. Behind a proxy every TCP connection is the proxy's: only the total applies
  // there, and the per-address cap is the SDK's, on the forwarded address.
  guardTcpConnections(
    server,
    { total: opts.maxConnections, perAddress: opts.trustProxy ? Infinity : opts.maxConnectionsPerAddress },
    log,
  );
  live.attach(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // Listening already: a page that connects now (every page, right after a restart) is held until its
  // device's retained state is in. The line comes once every device is ready or the bound passed, so
  // a page connecting after it gets the retained values in its first resync.
  const report = await live.ready();
  if (running.stopping) return;
  if (!report.ready) {
    log.warn(
      { devices: report.notReady, readyTimeoutMs: DEFAULTS.readyTimeoutMs },
      'devices not ready: their pages start with what is known',
    );
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const scheme = tls === undefined ? 'ws' : 'wss';
  if (bundle !== undefined) {
    log.info({ path: bundlePath(bundle.version) }, 'serving the element bundle at /live-device-form.bundle.js');
  }
  process.stdout.write(`listening on ${scheme}://${host}:${address.port}${opts.path}\n`);
}

async function main(argv: readonly string[]): Promise<void> {
  // Refused before parsing, with a useful message: a password on the command line leaks (ps, history).
  if (hasSecretFlag(argv)) {
    process.stderr.write(
      'live-device-server: error: passwords and tokens are never taken on the command line; use --mqtt-password-file, --mqtt-password-env, --broker-password-file, --broker-password-env or --token-env\n',
    );
    process.exit(1);
  }
  const cmd = program();
  cmd.parse(argv as string[], { from: 'node' });
  const opts = cmd.opts<CliOptions>();
  const log = stderrLogger(opts.logLevel);
  const running: Running = { bridges: [] };
  const fail = (message: string): never => cmd.error(`error: ${message}`);

  // The first signal drains (docs/cli.md, Output); the second cuts the drain short; the third exits.
  let signals = 0;
  const stop = (signal: string): void => {
    signals++;
    if (signals === 2 && running.live) {
      log.warn({ signal }, 'second signal: drain cut short, writes still in flight answered unknown');
      void running.live.drain({ timeoutMs: 0 });
      return;
    }
    if (signals >= 2) {
      log.warn({ signal }, 'signal during shutdown: exiting now');
      process.exit(1);
    }
    log.info({ signal, drainTimeoutMs: opts.drainTimeoutMs, drainDelayMs: opts.drainDelayMs }, 'shutting down');
    shutdown(running).then(
      () => process.exit(signals > 1 ? 1 : 0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  try {
    await start(opts, log, running, fail);
  } catch (err) {
    log.error({ err }, 'cannot start');
    await shutdown(running).catch(() => undefined);
    process.exit(1);
  }
}

void main(process.argv);
