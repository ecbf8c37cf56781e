/**
 * The demo's control API, under `/demo/api/`: what the page's buttons do (cut this page's network,
 * act on the hardware, switch the protection) and a Server-Sent Events stream of the MQTT log and
 * the demo's state.
 *
 * | method | path | body | does |
 * |---|---|---|---|
 * | GET | `/demo/api/state` | | the {@link DemoState} |
 * | GET | `/demo/api/events` | | SSE: `state` events, then the log backlog and every new entry as `log` events |
 * | POST | `/demo/api/cut` | `{ page, seconds }` | drops that page's sockets and refuses its upgrades for `seconds` |
 * | POST | `/demo/api/hardware` | `{ action: 'set', field, value }` or `{ action: 'offline' \| 'online' \| 'crash' }` | acts on the simulator |
 * | POST | `/demo/api/protection` | `{ on }` | the server's guard and revision checks on (defaults) or off |
 * | POST | `/demo/api/lamp` | `{ state?: 'ON' \| 'OFF' \| 'TOGGLE', brightness?, color_temp? }` | the Zigbee2MQTT lamp's wall switch |
 *
 * POSTs must be `application/json` from the page's own origin (a cross-site form cannot send that
 * without a CORS preflight, which this API never answers).
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { LiveDeviceServer } from '@live-device-form/server';
import type { DiscoveredDevice, DiscoveredDevices } from './discovered-devices.js';
import type { MqttLog } from './mqtt-log.js';
import type { PageNetwork } from './page-network.js';
import type { HardwareField, HardwareValue } from './payload-format.js';
import type { Simulator, SimulatorState } from './simulator.js';
import type { LampState, ZigbeeLamp } from './zigbee-lamp.js';

/** The API's path prefix. */
export const API_PREFIX = '/demo/api/';

/** Largest request body accepted, in bytes. */
const MAX_BODY_BYTES = 4096;

/** Milliseconds between SSE keep-alive comments (proxies close silent streams). */
const SSE_KEEPALIVE_MS = 15_000;

/** What the page's panels show. */
export interface DemoState {
  protection: { on: boolean; guardMs: number; checkRevisions: boolean };
  hardware: { state: SimulatorState; values: Record<string, HardwareValue> };
  /** The device's fields, for the hardware panel. */
  fields: HardwareField[];
  staleWrites: number;
  /** Open SDK sessions. */
  sessions: number;
  brokerUrl: string;
  /** The devices the discovery has found now (docs/discovery.md). */
  discovered: DiscoveredDevice[];
  /** The simulated Zigbee2MQTT lamp: its friendly name (= its discovered id) and state. */
  lamp: { name: string; state: LampState };
}

/** What the API acts on. */
export interface ControlApiTarget {
  simulator: Simulator;
  lamp: ZigbeeLamp;
  discovered: DiscoveredDevices;
  server: LiveDeviceServer;
  log: MqttLog;
  network: PageNetwork;
  brokerUrl: string;
  /** Turns the server's protection on (its defaults) or off (`guardMs: 0`, `checkRevisions: false`). */
  setProtection(on: boolean): void;
  isProtected(): boolean;
}

/** The API: an HTTP handler and what it needs to be shut down. */
export interface ControlApi {
  /** Handles a request under {@link API_PREFIX}; returns `false` (untouched) for any other path. */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Tells SSE clients the state changed. */
  stateChanged(): void;
  /** Ends every SSE stream. */
  close(): void;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  if (!/^application\/json\b/i.test(req.headers['content-type'] ?? ''))
    throw new HttpError(415, 'send application/json');
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let host: string | undefined;
    try {
      host = new URL(origin).host;
    } catch {
      host = undefined;
    }
    if (host !== req.headers.host) throw new HttpError(403, 'cross-origin request refused');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'body too large');
    chunks.push(chunk);
  }
  let body: unknown;
  try {
    body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Creates the control API for a running demo. */
export function createControlApi(target: ControlApiTarget): ControlApi {
  const streams = new Set<ServerResponse>();

  const state = (): DemoState => {
    const p = target.server.protection;
    return {
      protection: { on: target.isProtected(), guardMs: p.guardMs, checkRevisions: p.checkRevisions },
      hardware: { state: target.simulator.state, values: { ...target.simulator.values } },
      fields: [...target.simulator.device.fields.values()],
      staleWrites: target.log.staleCount,
      sessions: target.server.sessionCount,
      brokerUrl: target.brokerUrl,
      discovered: target.discovered.list(),
      lamp: { name: target.lamp.name, state: { ...target.lamp.state } },
    };
  };

  const event = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  const broadcast = (text: string): void => {
    for (const res of streams) res.write(text);
  };

  // Coalesced: a burst of changes (a reconnect opens sessions, a composite status changes two
  // fields) becomes one state event.
  let statePending = false;
  const stateChanged = (): void => {
    if (statePending) return;
    statePending = true;
    setImmediate(() => {
      statePending = false;
      if (streams.size > 0) broadcast(event('state', state()));
    });
  };

  const offLog = target.log.subscribe((entry) => {
    broadcast(event('log', entry));
    if (entry.stale) stateChanged();
  });
  const offSim = target.simulator.subscribe(stateChanged);
  const offLamp = target.lamp.subscribe(stateChanged);
  const offDiscovered = target.discovered.subscribe(stateChanged);
  const offOpen = target.server.on('session-open', stateChanged);
  const offClose = target.server.on('session-close', stateChanged);
  const keepalive = setInterval(() => broadcast(': keep-alive\n\n'), SSE_KEEPALIVE_MS);
  keepalive.unref();

  const openStream = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
    });
    res.write(`retry: 1000\n\n${event('state', state())}`);
    for (const entry of target.log.entries()) res.write(event('log', entry));
    streams.add(res);
    req.on('close', () => streams.delete(res));
  };

  const hardware = async (body: Record<string, unknown>): Promise<unknown> => {
    const sim = target.simulator;
    switch (body.action) {
      case 'set': {
        const { field, value } = body;
        if (typeof field !== 'string') throw new HttpError(400, '"field" must be a string');
        if (typeof value !== 'number' && typeof value !== 'boolean' && typeof value !== 'string') {
          throw new HttpError(400, '"value" must be a number, boolean or string');
        }
        try {
          await sim.set(field, value);
        } catch (err) {
          throw new HttpError(400, (err as Error).message);
        }
        return { values: sim.values };
      }
      case 'offline':
        await sim.goOffline();
        return { state: sim.state };
      case 'online':
        await sim.goOnline();
        return { state: sim.state };
      case 'crash':
        await sim.crash();
        return { state: sim.state };
      default:
        throw new HttpError(400, '"action" must be "set", "offline", "online" or "crash"');
    }
  };

  const post = async (route: string, req: IncomingMessage): Promise<unknown> => {
    const body = await readJson(req);
    switch (route) {
      case 'cut': {
        const { page, seconds } = body;
        if (typeof page !== 'string' || typeof seconds !== 'number')
          throw new HttpError(400, 'send { "page": string, "seconds": number }');
        try {
          const dropped = target.network.cut(page, seconds);
          return { dropped, until: Date.now() + seconds * 1000 };
        } catch (err) {
          throw new HttpError(400, (err as Error).message);
        }
      }
      case 'hardware':
        return hardware(body);
      case 'lamp':
        try {
          await target.lamp.set(body);
        } catch (err) {
          if (err instanceof TypeError) throw new HttpError(400, err.message);
          throw err;
        }
        return target.lamp.state;
      case 'protection': {
        if (typeof body.on !== 'boolean') throw new HttpError(400, 'send { "on": boolean }');
        target.setProtection(body.on);
        stateChanged();
        return state().protection;
      }
      default:
        throw new HttpError(404, 'no such endpoint');
    }
  };

  return {
    handle(req, res) {
      const path = (req.url ?? '/').split('?')[0]!;
      if (!path.startsWith(API_PREFIX)) return false;
      const route = path.slice(API_PREFIX.length);
      if (req.method === 'GET' && route === 'state') send(res, 200, state());
      else if (req.method === 'GET' && route === 'events') openStream(req, res);
      else if (req.method === 'POST') {
        post(route, req).then(
          (result) => send(res, 200, result),
          (err: unknown) => send(res, err instanceof HttpError ? err.status : 500, { error: (err as Error).message }),
        );
      } else send(res, 405, { error: 'method not allowed' });
      return true;
    },
    stateChanged,
    close() {
      clearInterval(keepalive);
      offLog();
      offSim();
      offLamp();
      offDiscovered();
      offOpen();
      offClose();
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}
