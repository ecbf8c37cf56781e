/**
 * The in-process lab of the browser figures (1 and 2), on one loopback HTTP server:
 *
 * - an embedded aedes broker, and an mqtt.js publisher playing the hardware;
 * - the project: MQTT bridges on `packages/server/examples/videoproc.json` ({@link DEVICE_COPIES}
 *   copies of it on their own topics, one per measured page) and two SDK servers on them, `/live`
 *   (default guard, 500 ms) and `/live-g0` (`guardMs: 0`);
 * - the baseline: a bare relay — an mqtt.js subscriber on `bench/bare/#` and a bare `ws` server on
 *   `/bare` that forwards each message as `"<last topic level> <payload>"` to every socket of its
 *   device copy (`/bare?d=d<k>` for `bench/bare/d<k>/…`, plain `/bare` for `bench/bare/…`), and
 *   sends that copy's latest values to a socket when it connects;
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
  parseDeviceDescription,
  silentLogger,
  startEmbeddedBroker,
  type EmbeddedBroker,
  type LiveDeviceServer,
  type MqttBridge,
} from '@live-device-form/server';
import { now } from './clock.js';
import { BARE_PAGE, ldfPage } from './pages.js';

/**
 * How many copies of the videoproc device the lab serves (`videoproc`, `videoproc-1`, …), each on
 * its own topics and bridge, with a bare twin each (`/bare?d=<k>`). Every page a figure measures
 * gets a device of its own, so a status published for one page is rendered by that page only —
 * as on the bare side — and never by the other pages open beside it (on a 2-core machine their
 * renders would land in the measured page's time).
 */
export const DEVICE_COPIES = 12;

/** The topics, device id and bare socket query of device copy `k` (0 … DEVICE_COPIES − 1). */
export interface LabDevice {
  /** `videoproc`, `videoproc-1`, … */
  readonly id: string;
  /** `''` for copy 0, else `d<k>`: the bare page's `?d=` and its topics' level. */
  readonly bare: string;
  readonly text: string;
  readonly brightness: string;
  readonly bareText: string;
  readonly bareBrightness: string;
}

export function labDevice(k: number): LabDevice {
  if (!(Number.isInteger(k) && k >= 0 && k < DEVICE_COPIES)) throw new RangeError(`no lab device ${k}`);
  const prefix = k ? `cy-vp4-${k}` : 'cy-vp4';
  const bare = k ? `d${k}` : '';
  const barePrefix = k ? `bench/bare/${bare}` : 'bench/bare';
  return {
    id: k ? `videoproc-${k}` : 'videoproc',
    bare,
    text: `${prefix}/videoproc/status/input_signal`,
    brightness: `${prefix}/videoproc/status/brightness`,
    bareText: `${barePrefix}/input_signal`,
    bareBrightness: `${barePrefix}/brightness`,
  };
}

/** Status topics of device copy 0 (`videoproc`, and the bare sockets without `?d=`). */
export const TOPICS = labDevice(0);

/** Retained statuses of device copy `k`, so it is online and every field known. */
function initialStatuses(k: number): [string, string][] {
  const d = labDevice(k);
  const prefix = k ? `cy-vp4-${k}` : 'cy-vp4';
  return [
    [`${prefix}/videoproc/status/volatile/genlock_phase`, '-25 10'],
    [`${prefix}/videoproc/status/freeze`, '0'],
    [`${prefix}/videoproc/status/output_format`, '1'],
    [d.brightness, '50'],
    [`${prefix}/audio/status/delay`, '40'],
    [d.text, 'init'],
    [d.bareBrightness, '50'],
    [d.bareText, 'init'],
    [`${prefix}/status/online`, '1'],
  ];
}

export interface Lab {
  readonly origin: string;
  readonly port: number;
  readonly broker: EmbeddedBroker;
  readonly publisher: MqttClient;
  /** The bridges of the device copies, `videoproc` first. */
  readonly bridges: readonly MqttBridge[];
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

/**
 * Starts the lab. `elementBundle` is served as `/ldf.js`; each of `candidates` (name → code) as
 * `/ldf-<name>.js`, loaded by `/ldf.html?bundle=<name>` instead (A/B runs of element builds:
 * `ab-browser.ts`). Defaults to none.
 */
export async function startLab(
  elementBundle: string,
  candidates: ReadonlyMap<string, string> = new Map(),
): Promise<Lab> {
  const broker = await startEmbeddedBroker();
  const publisher = mqttConnect(broker.url, { clientId: 'bench-hardware', reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    publisher.once('connect', () => resolve());
    publisher.once('error', reject);
  });
  const copies = Array.from({ length: DEVICE_COPIES }, (_, k) => k);
  for (const k of copies)
    for (const [topic, payload] of initialStatuses(k)) await publish(publisher, topic, payload, true);

  const device = await loadDeviceFile(VIDEOPROC_FILE);
  const bridges = copies.map((k) => {
    const copy = k
      ? parseDeviceDescription(JSON.parse(JSON.stringify(device).replaceAll('cy-vp4/', `cy-vp4-${k}/`)))
      : { ok: true as const, device };
    if (!copy.ok) throw new Error(`lab device ${k}: ${copy.issues.join('; ')}`);
    return createMqttBridge({ ...copy.device, id: labDevice(k).id }, { url: broker.url, logger: silentLogger });
  });
  await Promise.all(bridges.map((b) => whenOnline(b)));
  const live = createLiveDeviceServer({ devices: bridges, logger: silentLogger });
  const liveG0 = createLiveDeviceServer({ devices: bridges, logger: silentLogger, path: '/live-g0', guardMs: 0 });
  const upgrades: { path: string; t: number }[] = [];
  for (const [name, server] of [
    ['open/live', live],
    ['open/live-g0', liveG0],
  ] as const) {
    server.on('session-open', () => upgrades.length < 10_000 && upgrades.push({ path: name, t: now() }));
  }

  // The baseline relay: bench/bare/[d<k>/]<key> → "<key> <payload>" to the bare sockets of that device copy.
  const latest = new Map<string, Map<string, string>>();
  const bareSockets = new Map<string, Set<WebSocket>>();
  const bareOf = (d: string): Set<WebSocket> => {
    let set = bareSockets.get(d);
    if (!set) bareSockets.set(d, (set = new Set()));
    return set;
  };
  const relay = mqttConnect(broker.url, { clientId: 'bench-bare-relay', reconnectPeriod: 0 });
  await new Promise<void>((resolve, reject) => {
    relay.once('connect', () => resolve());
    relay.once('error', reject);
  });
  relay.on('message', (topic, payload) => {
    const levels = topic.split('/');
    const key = levels[levels.length - 1] ?? '';
    const d = levels.length > 3 ? (levels[2] ?? '') : '';
    const frame = `${key} ${payload.toString('utf8')}`;
    let values = latest.get(d);
    if (!values) latest.set(d, (values = new Map()));
    values.set(key, frame);
    for (const ws of bareOf(d)) ws.send(frame);
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
    const url = new URL(req.url ?? '/', 'http://lab');
    // Cross-origin isolated, so the pages' clock ticks in microseconds (5 µs in Chromium) rather
    // than the 100 µs steps of a page that is not.
    res.setHeader('cross-origin-opener-policy', 'same-origin');
    res.setHeader('cross-origin-embedder-policy', 'require-corp');
    const path = url.pathname;
    const candidate = /^\/ldf-([\w-]+)\.js$/.exec(path)?.[1];
    const bundle = url.searchParams.get('bundle');
    if (path === '/ldf.js' || (candidate && candidates.has(candidate))) {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(candidate ? candidates.get(candidate) : elementBundle);
    } else if (path === '/ldf.html' && (!bundle || candidates.has(bundle))) {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
      res.end(ldfPage(bundle ? `/ldf-${bundle}.js` : '/ldf.js'));
    } else if (path === '/bare.html') {
      res.writeHead(200, { 'content-type': 'text/html', 'cache-control': 'no-store' });
      res.end(BARE_PAGE);
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
      const d = new URL(url, 'http://x').searchParams.get('d') ?? '';
      wss.handleUpgrade(req, socket, head, (ws) => {
        const set = bareOf(d);
        set.add(ws);
        ws.on('error', () => {});
        ws.on('close', () => set.delete(ws));
        for (const frame of latest.get(d)?.values() ?? []) ws.send(frame);
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
    bridges,
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
      for (const set of bareSockets.values()) for (const ws of set) ws.terminate();
      for (const ws of clocks.values()) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all(bridges.map((b) => b.close()));
      await relay.endAsync(true);
      await publisher.endAsync(true);
      await broker.close();
    },
  };
}
