/**
 * The bare baseline of the figures that bring MQTT statuses to pages: an mqtt.js subscriber and a
 * bare `ws` server, with no protocol, no checks and no flow control. Every message on the topic goes,
 * as its payload text, to every open socket; a socket that connects gets the latest payload first.
 * Whatever a socket cannot take at once waits in `ws`'s own send buffer, without limit. The bench's
 * first-load figure (9) and status-flood figure (10) measure the project beside it.
 * @module
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { connectAsync } from 'mqtt';
import { type WebSocket, WebSocketServer } from 'ws';

/** What to relay, and where to listen. */
export interface BareRelayOptions {
  /** The broker (`mqtt://…`). */
  brokerUrl: string;
  /** The topic relayed (subscribed at QoS 0, as a page's value needs no more). */
  topic: string;
  /** Interface to listen on. Defaults to `'127.0.0.1'`. */
  host?: string;
  /** Port to listen on. Defaults to `0` (a free port). */
  port?: number;
  /** Path of the WebSocket upgrades; other paths are refused. Defaults to `'/bare'`. */
  path?: string;
}

/** A running relay. */
export interface BareRelay {
  /** `ws://HOST:PORT/PATH`. */
  readonly url: string;
  readonly port: number;
  /** Sockets open now. */
  readonly socketCount: number;
  /** Messages received from the broker so far. */
  readonly received: number;
  /** Closes the sockets at once, the server and the MQTT connection. Safe to call twice. */
  close(): Promise<void>;
}

/** Starts a relay; resolves once it listens and its subscription is acknowledged. */
export async function startBareRelay(options: BareRelayOptions): Promise<BareRelay> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/bare';
  const mqtt = await connectAsync(options.brokerUrl, { clean: true, reconnectPeriod: 0 });
  const sockets = new Set<WebSocket>();
  let latest: string | undefined;
  let received = 0;
  mqtt.on('message', (_topic, payload) => {
    received++;
    latest = payload.toString('utf8');
    for (const ws of sockets) ws.send(latest);
  });
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path, perMessageDeflate: false, clientTracking: false });
  wss.on('connection', (ws) => {
    sockets.add(ws);
    ws.on('error', () => {});
    ws.on('close', () => sockets.delete(ws));
    if (latest !== undefined) ws.send(latest);
  });
  await mqtt.subscribeAsync(options.topic, { qos: 0 });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `ws://${host}:${port}${path}`,
    port,
    get socketCount() {
      return sockets.size;
    },
    get received() {
      return received;
    },
    close() {
      closing ??= (async () => {
        for (const ws of sockets) ws.terminate();
        sockets.clear();
        await new Promise<void>((resolve) => wss.close(() => resolve()));
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await mqtt.endAsync(true);
      })();
      return closing;
    },
  };
}
