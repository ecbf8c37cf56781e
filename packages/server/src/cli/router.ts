/**
 * The CLI's HTTP router: a table of exact paths, each with the methods it answers. WebSocket
 * upgrades never come here (they go to the `upgrade` listener the SDK's `attach` adds); this answers
 * the plain requests: the WebSocket path itself (426), the health check, the element bundle, and
 * 404 for the rest.
 * See docs/cli.md, *HTTP routes*.
 * @module
 */
import type http from 'node:http';
import { type HealthSource, healthHandler } from '../health.js';

/** Answers one request that matched its route's path and methods. */
export type RouteHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** One entry of the route table. */
export interface Route {
  /** The exact path (no query string; one is ignored when matching). */
  readonly path: string;
  /** The methods answered; `HEAD` is answered wherever `GET` is (Node sends no body for it). */
  readonly methods: readonly string[];
  readonly handle: RouteHandler;
}

/** Answers with a short plain-text body. */
export function sendText(
  res: http.ServerResponse,
  status: number,
  text: string,
  headers: http.OutgoingHttpHeaders = {},
): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`);
}

/**
 * A request listener dispatching on the route table: an unknown path is 404, a known path with a
 * method it does not answer is 405 with `Allow`.
 * @throws TypeError when two routes share a path.
 */
export function createRouter(routes: readonly Route[]): http.RequestListener {
  const table = new Map<string, Route>();
  for (const route of routes) {
    if (table.has(route.path)) throw new TypeError(`two routes for the path ${route.path}`);
    table.set(route.path, route);
  }
  return (req, res) => {
    const route = table.get(pathOf(req.url));
    if (route === undefined) {
      sendText(res, 404, 'live-device-server: not found');
      return;
    }
    const methods = route.methods.includes('GET') ? [...route.methods, 'HEAD'] : route.methods;
    if (!methods.includes(req.method ?? '')) {
      sendText(res, 405, `live-device-server: ${req.method} is not answered here`, { allow: methods.join(', ') });
      return;
    }
    route.handle(req, res);
  };
}

/** The path of a request target (origin-form `/a?b`, or absolute-form `http://h/a?b`). */
function pathOf(target: string | undefined): string {
  try {
    return new URL(target ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}

/**
 * The WebSocket path asked for without an upgrade: 426, naming the subprotocol. (An upgrade to an
 * unknown path is the SDK's business: 404 from `attach`.)
 */
export function upgradeRequiredRoute(path: string): Route {
  return {
    path,
    methods: ['GET'],
    handle: (_req, res) =>
      sendText(res, 426, `live-device-server: connect a WebSocket (ldf.v1) to ${path}`, {
        connection: 'Upgrade',
        upgrade: 'websocket',
      }),
  };
}

/**
 * The health check for load balancers (`--health-path`, `/healthz` by default): 200 `ready`, or 503
 * `starting` / `draining` / `closed`, never cached (`healthHandler`, docs/server.md *Health checks*).
 */
export function healthRoute(path: string, source: HealthSource): Route {
  return { path, methods: ['GET'], handle: healthHandler(source) };
}
