/**
 * Health: whether a load balancer should send this server new pages. `LiveDeviceServer.health()`
 * reports a {@link HealthState}; {@link healthResponse} turns it into an HTTP answer (200 when
 * ready, 503 otherwise) and {@link healthHandler} serves that from any Node request handler
 * (plain `node:http`, Express, the CLI's `GET /healthz`). See docs/server.md, *Health checks*.
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Where a server is, as a load balancer needs to know it. */
export const HealthState = {
  /** Some device's retained state has not arrived yet, and `readyTimeoutMs` has not passed: not yet (503). */
  Starting: 'starting',
  /** Serving: every device is ready, or its bound passed (those are in `notReady`). Send pages here (200). */
  Ready: 'ready',
  /** `drain()` or `close()` has begun: new upgrades are refused, writes in flight finish (503). */
  Draining: 'draining',
  /** Closed: every session has ended (503). */
  Closed: 'closed',
} as const;
export type HealthState = (typeof HealthState)[keyof typeof HealthState];

/** What `LiveDeviceServer.health()` returns. */
export interface HealthReport {
  state: HealthState;
  /**
   * The ids of the devices whose bridge is not ready: still gathering their state (`starting`), or
   * not ready when `readyTimeoutMs` passed (their pages start with what is known). For the
   * application's logs and probes; {@link healthResponse} leaves them out of the HTTP answer.
   */
  notReady: string[];
}

/** Something that reports its health: a `LiveDeviceServer`. */
export interface HealthSource {
  health(): HealthReport;
}

/** An HTTP answer to a health check, for any framework. */
export interface HealthResponse {
  /** `200` when the state is `ready`, else `503`. */
  statusCode: 200 | 503;
  /** `content-type: text/plain; charset=utf-8` and `cache-control: no-store`. */
  headers: Readonly<Record<string, string>>;
  /** The state and a newline, e.g. `"ready\n"`. */
  body: string;
}

const HEADERS = Object.freeze({ 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });

/**
 * The HTTP answer to a health check: 200 when `ready`, 503 while `starting`, `draining` or
 * `closed`; the body is the state alone. Device ids are left out on purpose: a health path is
 * often open to anyone who reaches the balancer, and a page without the token must not learn
 * which devices exist (docs/protocol.md, Lifecycle step 2).
 *
 * @example
 * // Fastify
 * fastify.get('/healthz', (_req, reply) => {
 *   const { statusCode, headers, body } = healthResponse(live.health());
 *   reply.code(statusCode).headers(headers).send(body);
 * });
 */
export function healthResponse(report: Pick<HealthReport, 'state'>): HealthResponse {
  return {
    statusCode: report.state === HealthState.Ready ? 200 : 503,
    headers: HEADERS,
    body: `${report.state}\n`,
  };
}

/**
 * A Node request handler answering health checks from `source.health()` ({@link healthResponse}).
 * It answers whatever request it is given; route it to your health path (and GET/HEAD) yourself.
 *
 * @example
 * // Express
 * app.get('/healthz', healthHandler(live));
 * // plain node:http
 * http.createServer((req, res) => (req.url === '/healthz' ? health(req, res) : app(req, res)));
 */
export function healthHandler(source: HealthSource): (req: IncomingMessage, res: ServerResponse) => void {
  return (_req, res) => {
    const { statusCode, headers, body } = healthResponse(source.health());
    res.writeHead(statusCode, headers).end(body);
  };
}
