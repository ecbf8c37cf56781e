/**
 * The write path's server, in its own process: an embedded aedes broker, the MQTT bridge on
 * `videoproc.json`, and the SDK on `/live` — the real path of a `set` (session checks, store,
 * bridge, QoS 1 publish, PUBACK, ack). The write rate limit is raised (it is 50 writes/s per socket
 * by default, a protection that would otherwise be what this measures). Retained statuses make the
 * device online; nothing echoes writes, so every write stays based on the current revision.
 *
 * Beside it, on a port of its own, the **bare relay** (figure 5's fair baseline): a plain `ws`
 * server that takes the same `set` frame, JSON-parses it, publishes `brightness <value>` to the
 * action topic of a device of its own (the same bytes) at QoS 1 with its own mqtt.js client, awaits the PUBACK and answers an `ack` —
 * no checks, no store, no revisions. It answers the `hello` with a minimal resync, so the same
 * protocol client drives both. Same process, same broker, the same three loopback hops as the SDK.
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect as mqttConnect } from 'mqtt';
import { WebSocketServer } from 'ws';
import { MAX_FRAME_BYTES, SUBPROTOCOL } from '@live-device-form/protocol';
import * as server from '@live-device-form/server';
import { silentLogger, startEmbeddedBroker } from '@live-device-form/server';
import { VIDEOPROC_FILE, whenOnline } from '@live-device-form/testkit';
import { serveCalls } from './proc.js';
import { profileClock } from './profile-summary.js';

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

// ---------------------------------------------------------------- the bare relay

/**
 * The relay's action topic: the SDK's, with a device id of the same length. Not the SDK's own: the
 * SDK's bridge also follows its action topics, and a write there that it did not make is a write
 * from elsewhere (docs/protocol.md, *Several server processes*), which would make its next `set`
 * stale.
 */
const ACTION_TOPIC = 'cy-vp4/relayproc/action/set/brightness';
const relayMqtt = mqttConnect(broker.url, { clientId: 'bench-relay', reconnectPeriod: 0 });
await new Promise<void>((resolve, reject) => {
  relayMqtt.once('connect', () => resolve());
  relayMqtt.once('error', reject);
});
const RELAY_RESYNC = JSON.stringify({
  type: 'resync',
  epoch: 'relay',
  device: 'online',
  schema: [],
  fields: { brightness: { value: 0, rev: 0 } },
});
const relayHttp = http.createServer((_req, res) => res.writeHead(404).end());
// The SDK's `ws` options: no compression, the same frame size limit.
const relay = new WebSocketServer({
  server: relayHttp,
  path: '/live',
  perMessageDeflate: false,
  maxPayload: MAX_FRAME_BYTES,
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});
relay.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data) => {
    const frame = JSON.parse(String(data)) as { type: string; id?: number; value?: unknown };
    if (frame.type === 'hello') {
      ws.send(RELAY_RESYNC);
      return;
    }
    if (frame.type !== 'set') return;
    relayMqtt.publish(ACTION_TOPIC, `brightness ${String(frame.value)}`, { qos: 1 }, (err) => {
      ws.send(JSON.stringify({ type: 'ack', id: frame.id, status: err ? 'unknown' : 'accepted' }));
    });
  });
});
await new Promise<void>((resolve) => relayHttp.listen(0, '127.0.0.1', resolve));

serveCalls(
  {
    info: () => ({
      port: (httpServer.address() as AddressInfo).port,
      relayPort: (relayHttp.address() as AddressInfo).port,
      mqttUrl: broker.url,
    }),
    stats: () => live.stats(),
    cpu: (): NodeJS.CpuUsage => process.cpuUsage(),
    /** This process's profile clock (see profile-summary.ts), to mark the measured part of its profile. */
    clock: (): number => profileClock(),
  },
  async () => {
    await live.close();
    httpServer.close();
    for (const ws of relay.clients) ws.terminate();
    relay.close();
    relayHttp.close();
    await relayMqtt.endAsync(true);
    await bridge.close();
    await hardware.endAsync(true);
    await broker.close();
  },
);
