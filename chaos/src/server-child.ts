/**
 * The server under test, as its own process (so the run can kill it with SIGKILL and start a new
 * one, with a new epoch, on the same port): the SDK with one MQTT bridge per chaos device, on a
 * plain `node:http` server on 127.0.0.1. Talks to the run over IPC: `ready` when every bridge is
 * online; answers `stats`; obeys `close` — and SIGTERM, by draining first (the cross-process run's
 * rolling restarts); with `healthPath`, answers the balancer's health check.
 *
 * Started by `server-process.ts` as `node --import tsx server-child.ts '<config JSON>'`.
 * @module
 */
import { whenOnline } from '@live-device-form/testkit';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { type Logger, createLiveDeviceServer, createMqttBridge, healthHandler } from '@live-device-form/server';
import { chaosDevice } from './chaos-device.js';

/** What the run tells a server process. */
export interface ServerChildConfig {
  port: number;
  brokerUrl: string;
  devices: string[];
  guardMs: number;
  heartbeatMs: number;
  echoTimeoutMs: number;
  /** `setProtection({ guardMs: 0, checkRevisions: false })` right after start: the demo's unsafe switch. */
  unsafe: boolean;
  allowedOrigins: string[];
  /** The server's `firstRevision`; the SDK's default (the wall clock in µs) when absent. `0`: revisions repeat across restarts. */
  firstRevision?: number;
  /** The bridges' reconnect backoff base and cap, ms. */
  reconnectPeriodMs: number;
  maxReconnectPeriodMs: number;
  /** MQTT keepalive in seconds (a black-holed broker link is noticed within about 1.5× this). */
  keepalive: number;
  /**
   * The cross-process run's name of this process life (`L4`): the bridges' MQTT client ids are
   * `ldf-chaos-<life>-<device>`, so the gate's records say which life published what. Defaults to
   * none (the SDK's random client ids).
   */
  life?: string;
  /** MQTT protocol version of the bridges: `5` (own writes told by a user property) or `4` (3.1.1). Defaults to `4`. */
  mqttVersion?: 4 | 5;
  /** Broker user name of the bridges (the run's Mosquitto ACL may single them out). Defaults to none. */
  username?: string;
  /** Answer `GET <healthPath>` with the SDK's `healthHandler` (200 ready, 503 starting or draining). Defaults to none (404). */
  healthPath?: string;
}

/** The child's messages. */
export type ServerChildMessage =
  { type: 'ready'; epoch: string } | { type: 'stats'; stats: ServerChildStats } | { type: 'closed' };

/** What a server process reports about itself at the end (informational; the checker does not use it). */
export interface ServerChildStats {
  sets: number;
  acks: number;
  undeliveredAcks: number;
  writesInFlight: number;
  sessions: number;
  /** Log entries at level error (an SDK handler failing is a bug). */
  errors: string[];
  warnings: number;
  /** Event-loop delay of the server process, ms. */
  loopDelay: { p50: number; p99: number; max: number };
  rssMiB: number;
}

const config = JSON.parse(process.argv[2] ?? '{}') as ServerChildConfig;
const errors: string[] = [];
let warnings = 0;
const logger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {
    warnings++;
  },
  error: (obj: unknown, msg?: string) => {
    if (errors.length < 50)
      errors.push(
        `${msg ?? ''} ${JSON.stringify(obj, (_k, v: unknown) => (v instanceof Error ? v.stack : v))}`.slice(0, 2000),
      );
  },
};

const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();

const send = (message: ServerChildMessage): void => {
  process.send?.(message);
};

const bridges = config.devices.map((id) =>
  createMqttBridge(chaosDevice(id), {
    url: config.brokerUrl,
    ...(config.life === undefined ? {} : { clientId: `ldf-chaos-${config.life}-${id}` }),
    ...(config.mqttVersion === 5 ? { mqtt: { protocolVersion: 5 as const } } : {}),
    ...(config.username === undefined ? {} : { username: config.username }),
    logger,
    reconnectPeriodMs: config.reconnectPeriodMs,
    maxReconnectPeriodMs: config.maxReconnectPeriodMs,
    keepalive: config.keepalive,
    closeTimeoutMs: 500,
  }),
);
const live = createLiveDeviceServer({
  devices: bridges,
  logger,
  guardMs: config.guardMs,
  heartbeatMs: config.heartbeatMs,
  echoTimeoutMs: config.echoTimeoutMs,
  allowedOrigins: config.allowedOrigins,
  ...(config.firstRevision === undefined ? {} : { firstRevision: config.firstRevision }),
});
if (config.unsafe) live.setProtection({ guardMs: 0, checkRevisions: false });

const health = healthHandler(live);
const server = http.createServer((req, res) => {
  if (config.healthPath !== undefined && req.url === config.healthPath) health(req, res);
  else res.writeHead(404).end();
});
live.attach(server);

async function main(): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, '127.0.0.1', () => resolve());
  });
  // Ready when every device is online (its retained state arrived), so the first pages get values.
  await Promise.all(bridges.map((b) => whenOnline(b, 60_000)));
  send({ type: 'ready', epoch: live.epoch });
}

process.on('message', (raw: unknown) => {
  const message = raw as { type?: string };
  switch (message.type) {
    case 'stats': {
      const s = live.stats();
      const ms = (ns: number): number => Math.round(ns / 1e5) / 10;
      send({
        type: 'stats',
        stats: {
          ...s,
          errors,
          warnings,
          loopDelay: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
          rssMiB: Math.round(process.memoryUsage().rss / 1048576),
        },
      });
      break;
    }
    case 'close':
      void shutdown();
      break;
    default:
      break;
  }
});

let closing: Promise<void> | undefined;
/** Drains (docs/protocol.md, *Shutdown and drain*: health 503, upgrades 503, writes in flight acked, then 1001) and exits. */
function shutdown(): Promise<void> {
  closing ??= (async () => {
    await live.close();
    await Promise.all(bridges.map((b) => b.close()));
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    send({ type: 'closed' });
    process.exit(0);
  })();
  return closing;
}
// A rolling restart's SIGTERM drains, as the CLI does.
process.on('SIGTERM', () => void shutdown());
process.on('disconnect', () => process.exit(0));

main().catch((err: unknown) => {
  console.error('chaos server failed to start:', err);
  process.exit(1);
});
