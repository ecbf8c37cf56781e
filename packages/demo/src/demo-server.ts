/**
 * The whole demo on one port: an MQTT broker (embedded aedes unless a URL is given), the simulated
 * cy-vp4 (which also announces itself over Home Assistant discovery), a simulated Zigbee2MQTT lamp,
 * the SDK's MQTT bridge for the hand-written videoproc description and a discovery
 * (`createDiscovery`, Home Assistant and Zigbee2MQTT) beside it, the server, the MQTT log, the
 * control API and the pages served by Vite in middleware mode — one `http.Server`, whose upgrades
 * go to the SDK (`/live`) or to Vite's HMR socket.
 * @module
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import {
  type Discovery,
  type LiveDeviceServer,
  type Logger,
  type MqttBridge,
  DEFAULTS,
  consoleLogger,
  createDiscovery,
  createLiveDeviceServer,
  createMqttBridge,
  homeAssistant,
  loadDeviceFile,
  startEmbeddedBroker,
  zigbee2mqtt,
} from '@live-device-form/server';
import { createServer as createViteServer, type ViteDevServer } from 'vite';
import { type ControlApi, createControlApi } from './control-api.js';
import { type DiscoveredDevices, trackDiscovered } from './discovered-devices.js';
import { HA_DEVICE } from './ha-discovery.js';
import { type MqttLog, startMqttLog } from './mqtt-log.js';
import { PAGE_ID_PATTERN, PageNetwork } from './page-network.js';
import { type HardwareValue, VIDEOPROC_FILE, readDeviceFile } from './payload-format.js';
import { type Simulator, startSimulator } from './simulator.js';
import { LAMP_TITLE, type ZigbeeLamp, startZigbeeLamp } from './zigbee-lamp.js';

/** The SDK's WebSocket path. */
export const SOCKET_PATH = '/live';

/** The device id of the example device. */
export const DEVICE_ID = 'videoproc';

/** Home Assistant's discovery prefix the demo's discovery reads (Home Assistant's default). */
export const HA_PREFIX = 'homeassistant';

/** The simulated Zigbee2MQTT's base topic (Zigbee2MQTT's default). */
export const Z2M_BASE = 'zigbee2mqtt';

const DEMO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const source = (pkg: string): string => fileURLToPath(new URL(`../../${pkg}/src/index.ts`, import.meta.url));

/** Milliseconds `startDemo` waits for the bridge to see the device online. */
const READY_TIMEOUT_MS = 10_000;

/** Options of {@link startDemo}. */
export interface DemoOptions {
  /** HTTP port; `0` picks a free one. Defaults to `0`. */
  port?: number;
  /** Interface to listen on. Defaults to `'127.0.0.1'`. */
  host?: string;
  /** An external broker (`mqtt://…`); defaults to an embedded aedes on a free loopback port. */
  mqttUrl?: string;
  /** Origins allowed to open the SDK socket besides the page's own (e.g. a page served through a proxy). Defaults to `[]`. */
  allowedOrigins?: string[];
  /** Vite's HMR socket (on the same port). Defaults to `true`; tests turn it off. */
  hmr?: boolean;
  /** Whether the server's protection starts on. Defaults to `true`. */
  protection?: boolean;
  /** Hardware values at power-on (see the simulator's defaults). */
  initial?: Record<string, HardwareValue>;
  /** Where the SDK and the bridge log. Defaults to `consoleLogger('warn')`; tests pass the SDK's `silentLogger`. */
  logger?: Logger;
  /** Vite's own log output. Defaults to `'info'`. */
  viteLogLevel?: 'info' | 'warn' | 'error' | 'silent';
}

/** A running demo. */
export interface Demo {
  /** `http://host:port/`, the page to open. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The SDK instance. */
  readonly server: LiveDeviceServer;
  /** The SDK's MQTT bridge for the device. */
  readonly bridge: MqttBridge;
  /** The simulated hardware. */
  readonly simulator: Simulator;
  /** The simulated Zigbee2MQTT lamp. */
  readonly lamp: ZigbeeLamp;
  /** The discovery the server follows (Home Assistant and Zigbee2MQTT). */
  readonly discovery: Discovery;
  /** The devices it has found, as the page lists them. */
  readonly discovered: DiscoveredDevices;
  /** The MQTT log behind the page's log panel. */
  readonly log: MqttLog;
  /** Per-page sockets and cuts. */
  readonly network: PageNetwork;
  /** The broker's URL (the embedded one, or `mqttUrl`). */
  readonly brokerUrl: string;
  /** Turns the protection on (the SDK's defaults) or off (`guardMs: 0`, `checkRevisions: false`). */
  setProtection(on: boolean): void;
  /** Stops everything, in reverse order. Safe to call twice. */
  close(): Promise<void>;
}

/** Resolves once the bridge is subscribed and the device says online. */
function bridgeReady(bridge: MqttBridge): Promise<void> {
  if (bridge.online) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`the MQTT bridge did not see the device online within ${READY_TIMEOUT_MS} ms`));
    }, READY_TIMEOUT_MS);
    const off = bridge.subscribe(() => {
      if (!bridge.online) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

function refuse(socket: Duplex, status: string): void {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/**
 * Starts the demo. Everything it starts is stopped by `close()`, also when start-up fails halfway.
 *
 * @example
 * const demo = await startDemo({ port: 5173 });
 * console.log(`open ${demo.url}`);
 * process.on('SIGINT', () => demo.close());
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? consoleLogger('warn');
  const cleanup: (() => Promise<void> | void)[] = [];
  const stop = async (): Promise<void> => {
    for (const step of cleanup.splice(0).reverse()) {
      try {
        await step();
      } catch (err) {
        logger.error({ err }, 'demo shutdown step failed');
      }
    }
  };

  try {
    let brokerUrl = options.mqttUrl;
    if (brokerUrl === undefined) {
      const broker = await startEmbeddedBroker({ host: '127.0.0.1' });
      cleanup.push(() => broker.close());
      brokerUrl = broker.url;
    }

    const hardware = readDeviceFile(VIDEOPROC_FILE);
    const simulator = await startSimulator({
      url: brokerUrl,
      device: hardware,
      haDiscovery: true,
      ...(options.initial ? { initial: options.initial } : {}),
    });
    cleanup.push(() => simulator.close());

    const lamp = await startZigbeeLamp({ url: brokerUrl, base: Z2M_BASE });
    cleanup.push(() => lamp.close());

    const log = await startMqttLog({
      url: brokerUrl,
      device: hardware,
      discovery: { homeAssistantPrefix: HA_PREFIX, zigbee2mqttBase: Z2M_BASE },
    });
    cleanup.push(() => log.close());

    const bridge = createMqttBridge(await loadDeviceFile(fileURLToPath(VIDEOPROC_FILE)), { url: brokerUrl, logger });
    cleanup.push(() => bridge.close());
    await bridgeReady(bridge);

    // The same cy-vp4 once more, from its own Home Assistant discovery config, and the lamp, from
    // Zigbee2MQTT's bridge/devices: no description file for either (docs/discovery.md).
    const discovery = createDiscovery({
      url: brokerUrl,
      sources: [homeAssistant({ prefix: HA_PREFIX }), zigbee2mqtt({ base: Z2M_BASE })],
      logger,
    });
    cleanup.push(() => discovery.close());
    const discovered = trackDiscovered(discovery, { [HA_DEVICE.id]: HA_DEVICE.name, [lamp.name]: LAMP_TITLE });
    cleanup.push(() => discovered.close());

    const server = createLiveDeviceServer({
      devices: [bridge],
      catalogs: [discovery],
      path: SOCKET_PATH,
      allowedOrigins: options.allowedOrigins ?? [],
      logger,
    });
    cleanup.push(() => server.close());
    // The retained configs are applied (bounded by the discovery's readyTimeoutMs), so the first
    // page load lists the devices; later ones arrive live.
    await discovery.ready();
    let protectedNow = true;
    const setProtection = (on: boolean): void => {
      protectedNow = on;
      server.setProtection(
        on
          ? { guardMs: DEFAULTS.guardMs, checkRevisions: DEFAULTS.checkRevisions }
          : { guardMs: 0, checkRevisions: false },
      );
    };
    if (options.protection === false) setProtection(false);

    const network = new PageNetwork();
    const httpServer = http.createServer();
    const hmr = options.hmr ?? true;
    const vite: ViteDevServer = await createViteServer({
      configFile: false,
      root: DEMO_ROOT,
      appType: 'mpa',
      logLevel: options.viteLogLevel ?? 'info',
      clearScreen: false,
      esbuild: { target: 'es2022' },
      resolve: {
        // The element and the protocol from their sources: edits show up at once (HMR), no build needed.
        alias: { '@live-device-form/element': source('element'), '@live-device-form/protocol': source('protocol') },
      },
      // Lit is plain ESM and served as it is: no pre-bundling, so no "new dependencies optimized,
      // reloading" in the middle of someone's first visit (or of a test).
      optimizeDeps: { noDiscovery: true, include: [] },
      server: { middlewareMode: true, hmr: hmr ? { server: httpServer } : false },
    });
    cleanup.push(() => vite.close());

    const api: ControlApi = createControlApi({
      simulator,
      lamp,
      discovered,
      server,
      log,
      network,
      brokerUrl,
      setProtection,
      isProtected: () => protectedNow,
    });
    cleanup.push(() => api.close());

    httpServer.on('request', (req, res) => {
      if (api.handle(req, res)) return;
      vite.middlewares(req, res, () => {
        res.statusCode = 404;
        res.end('Not found');
      });
    });
    httpServer.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://demo.invalid');
      if (url.pathname !== SOCKET_PATH) {
        // Vite's HMR socket has its own `upgrade` listener; answer whatever nobody will.
        const protocol = req.headers['sec-websocket-protocol'] ?? '';
        if (!hmr || (protocol !== 'vite-hmr' && protocol !== 'vite-ping')) refuse(socket, '404 Not Found');
        return;
      }
      const page = url.searchParams.get('page');
      const pageId = page !== null && PAGE_ID_PATTERN.test(page) ? page : undefined;
      // This page's network is "cut": refused like a dead route, before any WebSocket handshake.
      if (pageId !== undefined && network.isCut(pageId)) {
        socket.destroy();
        return;
      }
      if (server.handleUpgrade(req, socket, head) && pageId !== undefined) network.track(pageId, socket);
    });

    const sockets = new Set<Duplex>();
    httpServer.on('connection', (s) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      httpServer.once('error', reject);
      httpServer.listen(options.port ?? 0, host, () => {
        httpServer.off('error', reject);
        resolve();
      });
    });
    cleanup.push(
      () =>
        new Promise<void>((resolve) => {
          httpServer.close(() => resolve());
          // Keep-alive page loads and the SSE stream would hold `close()` open.
          for (const s of sockets) s.destroy();
        }),
    );
    // After Vite (pushed earlier, so closed later): the SDK says 1001 to pages before the port goes.
    cleanup.push(() => server.close());

    const address = httpServer.address();
    const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
    const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;

    let closing: Promise<void> | undefined;
    return {
      url: `http://${urlHost}:${port}/`,
      port,
      host,
      server,
      bridge,
      simulator,
      lamp,
      discovery,
      discovered,
      log,
      network,
      brokerUrl,
      setProtection: (on) => {
        setProtection(on);
        api.stateChanged();
      },
      close() {
        closing ??= stop();
        return closing;
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
