/**
 * The write path's server, in its own process: an embedded aedes broker, the MQTT bridge on
 * `videoproc.json`, and the SDK on `/live` — the real path of a `set` (session checks, store,
 * bridge, QoS 1 publish, PUBACK, ack). The write rate limit is raised (it is 50 writes/s per socket
 * by default, a protection that would otherwise be what this measures). Retained statuses make the
 * device online; nothing echoes writes, so every write stays based on the current revision.
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as mqttConnect } from 'mqtt';
import * as server from '@live-device-form/server';
import { silentLogger, startEmbeddedBroker } from '@live-device-form/server';
import { VIDEOPROC_FILE, whenOnline } from '@live-device-form/testkit';
import { serveCalls } from './proc.js';

const broker = await startEmbeddedBroker();
const hardware = mqttConnect(broker.url, { clientId: 'bench-hardware', reconnectPeriod: 0 });
await new Promise<void>((resolve, reject) => {
  hardware.once('connect', () => resolve());
  hardware.once('error', reject);
});
for (const [topic, payload] of [
  ['cy-vp4/videoproc/status/volatile/genlock_phase', '-25 10'],
  ['cy-vp4/videoproc/status/freeze', '0'],
  ['cy-vp4/videoproc/status/output_format', '1'],
  ['cy-vp4/videoproc/status/brightness', '50'],
  ['cy-vp4/audio/status/delay', '40'],
  ['cy-vp4/videoproc/status/input_signal', 'ok'],
  ['cy-vp4/status/online', '1'],
] as const) {
  await hardware.publishAsync(topic, payload, { qos: 1, retain: true });
}
// BENCH_SDK=<path to a build's dist/index.js> measures another build of the SDK (see ab-write.ts).
const sdk = (process.env.BENCH_SDK ? await import(process.env.BENCH_SDK) : server) as typeof server;
const bridge = sdk.createMqttBridge(await sdk.loadDeviceFile(VIDEOPROC_FILE), {
  url: broker.url,
  logger: silentLogger,
});
await whenOnline(bridge);
const live = sdk.createLiveDeviceServer({
  devices: [bridge],
  logger: silentLogger,
  rateLimit: { burst: 1_000_000, perSecond: 1_000_000 },
  deviceRateLimit: { burst: 1_000_000, perSecond: 1_000_000 },
});
const httpServer = http.createServer((_req, res) => res.writeHead(404).end());
live.attach(httpServer);
await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));

serveCalls(
  {
    info: () => ({ port: (httpServer.address() as AddressInfo).port, mqttUrl: broker.url }),
    stats: () => live.stats(),
    cpu: (): NodeJS.CpuUsage => process.cpuUsage(),
  },
  async () => {
    await live.close();
    httpServer.close();
    await bridge.close();
    await hardware.endAsync(true);
    await broker.close();
  },
);
