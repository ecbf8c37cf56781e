/**
 * The in-process lab of the browser figures (1 and 2), on one loopback HTTP server:
 *
 * - an embedded aedes broker, and an mqtt.js publisher playing the hardware;
 * - the project: the MQTT bridge on `packages/server/examples/videoproc.json` and two SDK servers
 *   on it, `/live` (default guard, 500 ms) and `/live-g0` (`guardMs: 0`);
 * - the baseline: a bare relay — an mqtt.js subscriber on `bench/bare/#` and a bare `ws` server on
 *   `/bare` that forwards each message as `"<last topic level> <payload>"` to every socket, and
 *   sends the latest values to a socket when it connects;
 * - the pages (`/ldf.html`, `/bare.html`) and the element bundle (`/ldf.js`).
 *
 * Every upgraded TCP socket is tracked by path, so a figure can make the server close one.
 * @module
 */
import { VIDEOPROC_FILE, whenOnline } from '@live-device-form/testkit';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  createLiveDeviceServer,
  createMqttBridge,
  loadDeviceFile,
  silentLogger,
  startEmbeddedBroker,
  type EmbeddedBroker,
  type LiveDeviceServer,
  type MqttBridge,
} from '@live-device-form/server';
import { now } from './clock.js';
import { BARE_PAGE, LDF_PAGE } from './pages.js';

/** Status topics the figures publish to. */
export const TOPICS = {
  text: 'cy-vp4/videoproc/status/input_signal',
  brightness: 'cy-vp4/videoproc/status/brightness',
  bareText: 'bench/bare/input_signal',
  bareBrightness: 'bench/bare/brightness',
} as const;

/** Retained statuses, so the device is online and every field known. */
const INITIAL: [string, string][] = [
  ['cy-vp4/videoproc/status/volatile/genlock_phase', '-25 10'],
  ['cy-vp4/videoproc/status/freeze', '0'],
  ['cy-vp4/videoproc/status/output_format', '1'],
  [TOPICS.brightness, '50'],
  ['cy-vp4/audio/status/delay', '40'],
  [TOPICS.text, 'init'],
  [TOPICS.bareBrightness, '50'],
  [TOPICS.bareText, 'init'],
  ['cy-vp4/status/online', '1'],
];

export interface Lab {
  readonly origin: string;
  readonly port: number;
  readonly broker: EmbeddedBroker;
  readonly publisher: MqttClient;
  readonly bridge: MqttBridge;
  readonly live: LiveDeviceServer;
  readonly liveG0: LiveDeviceServer;
  /**
   * When upgrade requests arrived (`path`: the request URL), when the SDK servers accepted a
   * session (`open/live`, `open/live-g0`) and when its first frame, the hello, arrived
   * (`hello<request URL>`), on the shared clock; the figures clear it.
   */
  readonly upgrades: { path: string; t: number }[];
  /** Open upgraded sockets by request URL (`/live-g0?p=a`…). */
  readonly sockets: Map<string, Set<Socket>>;
  /** The clock socket a page opened with `?clock=<id>`, once it is open. */
  clockSocket(id: string): Promise<WebSocket>;
  close(): Promise<void>;
}

function publish(client: MqttClient, topic: string, payload: string, retain: boolean): Promise<void> {
  return new Promise((resolve, reject) =>
    client.publish(topic, payload, { qos: 1, retain }, (err) => (err ? reject(err) : resolve())),
  );
}

/**
 * Closes a live WebSocket from the server's side without going through the server's objects: a
 * close frame (1001, going away — what a restarting proxy or server sends) and a TCP FIN.
 */
export function serverClose(socket: Socket): void {
  socket.end(Buffer.from([0x88, 0x02, 0x03, 0xe9]));
}

export async function startLab(elementBundle: string): Promise<Lab> {
  const broker = await startEmbeddedBroker();
  const publisher = mqttConnect(broker.url, { clientId: 'bench-hardware', reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    publisher.once('connect', () => resolve());
    publisher.once('error', reject);
  });
  for (const [topic, payload] of INITIAL) await publish(publisher, topic, payload, true);

  const device = await loadDeviceFile(VIDEOPROC_FILE);
  const bridge = createMqttBridge(device, { url: broker.url, logger: silentLogger });
  await whenOnline(bridge);
  const live = createLiveDeviceServer({ devices: [bridge], logger: silentLogger });
  const liveG0 = createLiveDeviceServer({ devices: [bridge], logger: silentLogger, path: '/live-g0', guardMs: 0 });
  const upgrades: { path: string; t: number }[] = [];
  for (const [name, server] of [
    ['open/live', live],
    ['open/live-g0', liveG0],
  ] as const) {
    server.on('session-open', () => upgrades.length < 10_000 && upgrades.push({ path: name, t: now() }));
  }

  // The baseline relay.
  const latest = new Map<string, string>();
  const bareSockets = new Set<WebSocket>();
  const relay = mqttConnect(broker.url, { clientId: 'bench-bare-relay', reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    relay.once('connect', () => resolve());
    relay.once('error', reject);
  });
  relay.on('message', (topic, payload) => {
    const key = topic.slice(topic.lastIndexOf('/') + 1);
    const frame = `${key} ${payload.toString('utf8')}`;
    latest.set(key, frame);
    for (const ws of bareSockets) ws.send(frame);
  });
  await relay.subscribeAsync('bench/bare/#', { qos: 1 });
  const wss = new WebSocketServer({ noServer: true, clientTracking: false, perMessageDeflate: false });
  // Pages' clock sockets: a dedicated, otherwise idle link for calibrating the shared clock.
  const clocks = new Map<string, WebSocket>();
  const clockWaiters = new Map<string, (ws: WebSocket) => void>();

  const sockets = new Map<string, Set<Socket>>();
  /** Tracked by the request's URL, query included, so pages can tell their sockets apart. */
  const track = (url: string, socket: Socket): void => {
    let set = sockets.get(url);
    if (!set) sockets.set(url, (set = new Set()));
    set.add(socket);
    socket.once('close', () => set.delete(socket));
  };

  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/ldf.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(elementBundle);
    } else if (path === '/ldf.html' || path === '/bare.html') {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
      res.end(path === '/ldf.html' ? LDF_PAGE : BARE_PAGE);
    } else {
      res.writeHead(404).end();
    }
  });
  server.on('upgrade', (req, socket: Socket, head) => {
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    if (upgrades.length < 10_000) upgrades.push({ path: url, t: now() });
    if (live.handleUpgrade(req, socket, head) || liveG0.handleUpgrade(req, socket, head)) {
      track(url, socket);
      // Diagnostics: the first bytes after the upgrade are the page's hello.
      socket.once('data', () => upgrades.length < 10_000 && upgrades.push({ path: `hello${url}`, t: now() }));
      return;
    }
    if (path === '/clock') {
      const id = new URL(req.url ?? '/', 'http://x').searchParams.get('id') ?? '';
      wss.handleUpgrade(req, socket, head, (ws) => {
        ws.on('error', () => {});
        clocks.set(id, ws);
        ws.once('close', () => clocks.get(id) === ws && clocks.delete(id));
        clockWaiters.get(id)?.(ws);
        clockWaiters.delete(id);
      });
      return;
    }
    if (path === '/bare') {
      track(url, socket);
      wss.handleUpgrade(req, socket, head, (ws) => {
        bareSockets.add(ws);
        ws.on('error', () => {});
        ws.on('close', () => bareSockets.delete(ws));
        for (const frame of latest.values()) ws.send(frame);
      });
      return;
    }
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;

  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    broker,
    publisher,
    bridge,
    live,
    liveG0,
    sockets,
    upgrades,
    clockSocket(id) {
      const ws = clocks.get(id);
      if (ws && ws.readyState === ws.OPEN) return Promise.resolve(ws);
      return new Promise((resolve) => clockWaiters.set(id, resolve));
    },
    async close() {
      await Promise.all([live.close(), liveG0.close()]);
      for (const ws of bareSockets) ws.terminate();
      for (const ws of clocks.values()) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await bridge.close();
      await relay.endAsync(true);
      await publisher.endAsync(true);
      await broker.close();
    },
  };
}
