/**
 * One server process of the scale-out figure (11), run with `--expose-gc`: the SDK
 * (`createLiveDeviceServer`) on a real MQTT bridge (`createMqttBridge`) to the run's broker, with a
 * health check on `GET /healthz` (the SDK's `healthHandler`, as the CLI answers it) for HAProxy,
 * and the WebSocket path `/live`, on one loopback port.
 *
 * Usage: `scale-server-proc.ts <broker URL> <topic prefix> <counter fields> <lagLimitMs> [trust-proxy]`.
 * Its device is `scaleDevice(prefix, fields)` (scale-device.ts); each configuration of the figure
 * has a prefix of its own, so an update published for one configuration reaches only its processes. As in the fan-out figure (server-proc.ts), update `k` of a run changes field
 * `n{k mod fields}` to `k`, so every update reaches every socket as a frame of its own, and
 * `lagLimitMs` is raised (a round falling behind on a loaded machine would resync its pages).
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createLiveDeviceServer,
  createMqttBridge,
  healthHandler,
  parseDeviceDescription,
  silentLogger,
} from '@live-device-form/server';
import { type MemoryReading, settledMemory } from './memory.js';
import { scaleDevice } from './scale-device.js';
import { serveCalls } from './proc.js';

const [url, prefix, fieldsArg, lagArg, trust] = process.argv.slice(2);
const fields = Number(fieldsArg);
const lagLimitMs = Number(lagArg);
if (!url || !prefix || !Number.isInteger(fields) || fields < 1 || !(lagLimitMs > 0))
  throw new Error(
    `usage: scale-server-proc.ts <broker URL> <topic prefix> <counter fields> <lagLimitMs> [trust-proxy] (got ${process.argv.slice(2).join(' ')})`,
  );

const parsed = parseDeviceDescription(scaleDevice(prefix, fields));
if (!parsed.ok) throw new Error(`scale device: ${parsed.issues.join('; ')}`);
const bridge = createMqttBridge(parsed.device, { url, logger: silentLogger });
// Every bench client connects from 127.0.0.1: the connection caps (which protect a deployment from
// one address's flood) are lifted for this fleet, as in server-proc.ts. Their checks still run.
const NO_CAPS = { total: Infinity, perAddress: Infinity, preHello: Infinity, preHelloPerAddress: Infinity };
const live = createLiveDeviceServer({
  devices: [bridge],
  logger: silentLogger,
  connectionLimits: NO_CAPS,
  lagLimitMs,
  trustProxy: trust === 'trust-proxy',
});
const health = healthHandler(live);
const httpServer = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') health(req, res);
  else res.writeHead(404).end();
});
httpServer.keepAliveTimeout = 1000;
live.attach(httpServer);

const sessionWaiters = new Set<{ n: number; resolve: () => void }>();
const checkWaiters = (): void => {
  for (const w of sessionWaiters) {
    if (live.sessionCount !== w.n) continue;
    sessionWaiters.delete(w);
    w.resolve();
  }
};
live.on('session-open', checkWaiters);
live.on('session-close', checkWaiters);

serveCalls(
  {
    async listen(): Promise<{ port: number }> {
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
      return { port: (httpServer.address() as AddressInfo).port };
    },
    /** Resolves once the bridge holds the device's retained state (what `/healthz` answers 200 on). */
    async ready(): Promise<{ ready: boolean; health: string }> {
      const report = await live.ready();
      return { ready: report.ready, health: live.health().state };
    },
    sessions: (): number => live.sessionCount,
    /** Resolves when exactly `n` sessions are open. */
    waitSessions(args: { n: number }): Promise<void> | void {
      if (live.sessionCount === args.n) return;
      return new Promise<void>((resolve) => sessionWaiters.add({ n: args.n, resolve }));
    },
    mem: (): Promise<MemoryReading> => settledMemory(),
    cpu: (): NodeJS.CpuUsage => process.cpuUsage(),
  },
  async () => {
    await live.close();
    httpServer.closeAllConnections();
    httpServer.close();
    await bridge.close();
  },
);
