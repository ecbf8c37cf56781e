/**
 * `createLiveDeviceServer`: routes WebSocket upgrades on one path to sessions, one per socket, each
 * bound to a device's store. It never owns the HTTP server: `handleUpgrade` or `attach` plug it
 * into whatever the application already runs (plain http, Express, Fastify, Vite's dev server).
 * @module
 */
import type { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { SUBPROTOCOL } from '@live-device-form/protocol';
import { CAP_STATUS, ConnectionCounter, type ConnectionTicket } from './connection-limits.js';
import { Announcement, type DrainOptions, type DrainReport, WriteDrain, checkDrainTimeoutMs } from './drain.js';
import { codedTypeError, ServerErrorCode } from './errors.js';
import { requestFacts } from './forwarded.js';
import { type HealthReport, HealthState } from './health.js';
import { isHostAllowed } from './host.js';
import type { Logger } from './logger.js';
import { checkBoolean } from './option-checks.js';
import { type LiveDeviceServerOptions, type ResolvedOptions, checkGuardMs, resolveOptions } from './options.js';
import { isOriginAllowed, offersSubprotocol } from './origin.js';
import type { DeviceReadiness, ReadyReport } from './readiness.js';
import { type DeviceBinding, type DeviceMember, DeviceRegistry } from './registry.js';
import { type ServerStats, type SessionInfo, Session, type SessionHost } from './session.js';
import { TokenThrottle } from './token-throttle.js';
import { WriteRates } from './write-rate.js';

/** The demo's protection switch: see {@link LiveDeviceServer.setProtection}. */
export interface Protection {
  /** Milliseconds of reconnect guard for sessions that say hello from now on; `0` disables. */
  guardMs: number;
  /** Whether stale writes are refused. */
  checkRevisions: boolean;
}

/** Where a server is in its life. Upgrades are accepted only while `running` or `announcing`. */
export const ServerState = {
  /** Serving: upgrades accepted, sets judged. */
  Running: 'running',
  /** `drain()` began with a delay (`drainDelayMs`): health says draining, everything else as `running`. */
  Announcing: 'announcing',
  /** `drain()`/`close()` began: upgrades refused (503), new sets refused, writes in flight awaited. */
  Draining: 'draining',
  /** The writes have ended (or the bound passed): every session is being closed with 1001. */
  Closing: 'closing',
  /** Every session has closed; the server follows the bridges no more. */
  Closed: 'closed',
} as const;
export type ServerState = (typeof ServerState)[keyof typeof ServerState];

/** A session's end, as reported by the `session-close` event. */
export interface SessionCloseInfo extends SessionInfo {
  /** The WebSocket close code. */
  code: number;
}

/** Events of a {@link LiveDeviceServer}. */
export interface LiveDeviceServerEvents {
  /** A socket was upgraded and its session started (before `hello`). */
  'session-open': (info: SessionInfo) => void;
  /** A session's socket closed. */
  'session-close': (info: SessionCloseInfo) => void;
}

/** A running server SDK instance. */
export interface LiveDeviceServer {
  /** Identifies this instance's revision counter; sent in every `resync`. */
  readonly epoch: string;
  /** Sessions open now. */
  readonly sessionCount: number;
  /** The protection settings now in force. */
  readonly protection: Readonly<Protection>;
  /**
   * Resolves when every device's bridge is ready (its retained state has arrived; see
   * `DeviceBridge.ready`), or when `readyTimeoutMs` since the server's creation has passed, with
   * the devices that were not ready by then. Never rejects. Pages may connect before: their first
   * resync waits for their device the same way (docs/protocol.md, Lifecycle: readiness). With
   * `catalogs`, it first waits for every catalog's `ready()` (the same bound from creation), then for
   * the devices known by then; `ready` is `false` too when a catalog was not ready in time.
   *
   * @example
   * const report = await live.ready();
   * if (!report.ready) logger.warn({ devices: report.notReady }, 'serving devices whose state is not known yet');
   */
  ready(): Promise<ReadyReport>;
  /**
   * Whether a load balancer should send this server new pages, now: `starting` until every device
   * is ready or `readyTimeoutMs` passed (as `ready()` resolves; with `catalogs`, every catalog and the
   * devices it reported before it was ready; one added later never makes it `starting` again), then `ready`, `draining` from the
   * moment `drain()` or `close()` is called, `closed` once closed; with the ids of the devices
   * whose bridge is not ready. `healthResponse`/`healthHandler` answer an HTTP health check from
   * it (200 only when `ready`). See docs/server.md, *Health checks*.
   *
   * @example
   * app.get('/healthz', healthHandler(live)); // 200 "ready", or 503 "starting" / "draining" / "closed"
   */
  health(): HealthReport;
  /**
   * Handles an HTTP upgrade if its path is this server's `path`: returns `true` and takes the socket
   * (upgrading it, or refusing it with 400/403/429/503). Returns `false` and does nothing otherwise, so
   * another handler (Vite's HMR socket, say) can take it.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /**
   * Listens to an HTTP(S) server's `upgrade` events. Upgrades to other paths are left to the
   * server's other `upgrade` listeners; when there are none, they are answered 404. Returns the
   * detach function. `close()` detaches too. The connection caps apply to upgrades only: the
   * server's own TCP connections (which carry the application's requests too) are left to its
   * `maxConnections`, `headersTimeout` and `requestTimeout`, or to a proxy in front.
   */
  attach(httpServer: EventEmitter): () => void;
  /**
   * Shuts the server down without losing an ack (a rolling restart; docs/protocol.md, *Shutdown and
   * drain*). At once: `health()` says `draining`, upgrades are refused with 503 (`Retry-After: 1`),
   * and every `set` that arrives is rejected `offline`, never reaching a device. The writes already
   * in flight finish and are acked as the bridge says (`accepted` on the broker's PUBACK); those
   * still unfinished after `timeoutMs` are answered `unknown`. Then every session is closed with
   * 1001, so pages reconnect at once (to another server behind the balancer), and everything
   * `close()` says follows. Resolves once closed, with what happened to the writes.
   *
   * With `delayMs` (default: the server's `drainDelayMs`, `0`) all that is preceded by an
   * announcement: for `delayMs`, `health()` says `draining` while upgrades and sets are served as
   * before, so that the balancer's checks take the server out before its pages are closed.
   *
   * Called again while draining, it returns the same promise, cuts an announcement short, and a
   * shorter `timeoutMs` brings the bound forward (`drain({ timeoutMs: 0 })`: answer what is in flight `unknown` now, the CLI's
   * second signal).
   *
   * @throws TypeError when `timeoutMs` is not a number of milliseconds (code `ERR_INVALID_OPTION`).
   * @example
   * process.once('SIGTERM', async () => {
   *   const report = await live.drain({ timeoutMs: 5000 });
   *   log.info(report, 'drained'); // { writesInFlight, answeredUnknown, setsRefused }
   *   server.close();
   *   await bridge.close();
   * });
   */
  drain(options?: DrainOptions): Promise<DrainReport>;
  /**
   * `drain()` with the server's `drainTimeoutMs`: writes in flight finish and are acked first;
   * then every session is closed with code 1001 (a socket that does not finish its closing
   * handshake within a second is terminated), the heartbeat stops, and once every socket has
   * closed, it stops following the bridges, detaches from every server and resolves. Upgrades are
   * refused with 503 from the start. Close the HTTP server after it: open pages' sockets hold it
   * open until then. The bridges are the caller's and stay open. Safe to call twice.
   */
  close(): Promise<void>;
  /**
   * **For demos and tests only.** Turns the protections off (or back on) at run time:
   * `guardMs` applies to sessions that say hello afterwards, `checkRevisions` to every write from
   * now on. With `{ guardMs: 0, checkRevisions: false }` a naive client can write stale values to
   * the device — which is what the demo shows. Logged as a warning when a protection is turned off.
   */
  setProtection(protection: Partial<Protection>): void;
  /** A snapshot of every open session. */
  sessions(): SessionInfo[];
  /** Counters across every session; `sets === acks` whenever no write is in flight. */
  stats(): ServerStats;
  /** Registers an event listener. Returns the function that removes it. */
  on<E extends keyof LiveDeviceServerEvents>(event: E, listener: LiveDeviceServerEvents[E]): () => void;
}

/** Milliseconds `close()` waits for a socket's closing handshake before terminating it. */
const CLOSE_GRACE_MS = 1000;

/** The answer to an upgrade while draining or closed: `Retry-After` for clients that read it (browsers do not). */
const UPGRADE_REFUSED =
  'HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\n' +
  'Content-Type: text/plain; charset=utf-8\r\nContent-Length: 21\r\n\r\nServer shutting down\n';

/** Answers an upgrade 503 and ends its socket (as ws does for the refusals of its own gate). */
function refuseUpgrade(socket: Duplex, logger: Logger): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.on('error', (err) => logger.debug({ err }, 'refused upgrade: socket error'));
  socket.end(UPGRADE_REFUSED);
}

function pathOf(url: string | undefined): string {
  const s = url ?? '/';
  const end = s.search(/[?#]/);
  return end < 0 ? s : s.slice(0, end);
}

class LiveServer implements LiveDeviceServer, SessionHost {
  readonly options: ResolvedOptions;
  readonly protection: Protection;
  readonly counters: ServerStats = {
    sessions: 0,
    sets: 0,
    acks: 0,
    undeliveredAcks: 0,
    writesInFlight: 0,
    framesAfterClose: 0,
  };
  readonly writeRates: WriteRates;
  readonly tokenThrottle: TokenThrottle | undefined;
  /** Every device id served (fixed and from catalogs), and the gone ones. */
  private readonly registry: DeviceRegistry;
  /** Every open session, with its place in the connection caps. */
  private readonly open = new Map<Session, ConnectionTicket>();
  private readonly connections: ConnectionCounter;
  private readonly wss: WebSocketServer;
  private readonly detachers = new Set<() => void>();
  private readonly listeners: { [E in keyof LiveDeviceServerEvents]: Set<LiveDeviceServerEvents[E]> } = {
    'session-open': new Set(),
    'session-close': new Set(),
  };
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private state: ServerState = ServerState.Running;
  private readonly writeDrain = new WriteDrain(() => this.counters.writesInFlight);
  private readonly announcement = new Announcement();
  private drained: Promise<DrainReport> | undefined;
  private closed: Promise<void> | undefined;
  private nextId = 0;

  constructor(options: LiveDeviceServerOptions) {
    const o = resolveOptions(options);
    this.options = o;
    this.writeRates = new WriteRates(o);
    this.tokenThrottle =
      o.token !== undefined && o.tokenThrottle ? new TokenThrottle(o.tokenThrottle, o.logger) : undefined;
    this.connections = new ConnectionCounter(o.connectionLimits);
    this.protection = { guardMs: o.guardMs, checkRevisions: o.checkRevisions };
    this.registry = new DeviceRegistry(o.devices, {
      echoTimeoutMs: o.echoTimeoutMs,
      firstRevision: o.firstRevision,
      readyTimeoutMs: o.readyTimeoutMs,
      limits: { lagLimitMs: o.lagLimitMs, fanoutSliceMs: o.fanoutSliceMs },
      logger: o.logger,
    });
    for (const catalog of o.catalogs) this.registry.follow(catalog);
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: o.maxFrameBytes,
      perMessageDeflate: false,
      handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
      verifyClient: (info, done) => {
        const refusal = this.gate(info.req, info.origin);
        if (refusal) done(false, refusal.status, refusal.message);
        else done(true);
      },
    });
    this.wss.on('error', (err) => o.logger.error({ err }, 'WebSocket server error'));
    this.wss.on('wsClientError', (err, socket) => {
      o.logger.warn({ err }, 'bad upgrade request');
      socket.destroy();
    });
    if (o.heartbeatMs > 0) {
      this.heartbeatTimer = setInterval(() => {
        for (const session of this.open.keys()) session.heartbeat();
      }, o.heartbeatMs);
      this.heartbeatTimer.unref();
    }
  }

  get epoch(): string {
    return this.options.epoch;
  }

  /**
   * The upgrade gate, in order: the `Host` (DNS rebinding, host.ts), the `Origin` (cross-site
   * pages, origin.ts), the subprotocol, the connection caps (connection-limits.ts). Returns why an
   * upgrade is refused, or `undefined` to accept it. Refusals are logged at most every 10 s per
   * kind. ws completes an accepted upgrade synchronously, so the caps checked here are the caps
   * counted in `startSession`: no upgrade slips in between.
   */
  private gate(req: IncomingMessage, origin: string | undefined): { status: number; message: string } | undefined {
    const o = this.options;
    const facts = requestFacts(req, o.trustProxy);
    if (!isHostAllowed(facts.host, o.allowedHosts)) {
      this.options.logger.warn(
        { host: facts.host ?? null, remote: facts.address },
        'upgrade refused: host not allowed',
      );
      return { status: 403, message: 'Host not allowed' };
    }
    if (!isOriginAllowed(origin, facts, o.allowedOrigins, o.requireOrigin)) {
      this.options.logger.warn(
        {
          origin: origin ?? null,
          host: facts.host,
          remote: facts.address,
        },
        'upgrade refused: origin not allowed',
      );
      return { status: 403, message: 'Origin not allowed' };
    }
    if (!offersSubprotocol(req.headers['sec-websocket-protocol'], SUBPROTOCOL)) {
      this.options.logger.warn({ remote: facts.address }, `upgrade refused: subprotocol ${SUBPROTOCOL} not offered`);
      return { status: 400, message: `Sec-WebSocket-Protocol must offer ${SUBPROTOCOL}` };
    }
    const cap = this.connections.refusal(facts.address);
    if (cap !== undefined) {
      const status = CAP_STATUS[cap];
      this.options.logger.warn(
        {
          cap,
          limit: o.connectionLimits[cap],
          remote: facts.address,
          ...(status === 429 && !o.trustProxy ? { hint: 'behind a reverse proxy? set trustProxy' } : {}),
        },
        `upgrade refused: connection limit ${cap}`,
      );
      return { status, message: status === 429 ? 'Too many connections from this address' : 'Server full' };
    }
    return undefined;
  }

  get sessionCount(): number {
    return this.open.size;
  }

  stats(): ServerStats {
    return { ...this.counters, sessions: this.open.size };
  }

  get followsCatalogs(): boolean {
    return this.registry.followsCatalogs;
  }

  knowsDevice(id: string): boolean {
    return this.registry.lookup(id) !== undefined;
  }

  whenDeviceKnown(id: string, fn: () => void): () => void {
    return this.registry.whenKnown(id, fn);
  }

  joinDevice(id: string, member: DeviceMember): DeviceBinding | undefined {
    return this.registry.join(id, member);
  }

  leaveDevice(id: string, member: DeviceMember): void {
    this.registry.leave(id, member);
  }

  deviceReadiness(id: string): DeviceReadiness | undefined {
    return this.registry.readiness(id);
  }

  async ready(): Promise<ReadyReport> {
    // The catalogs first: the devices they report meanwhile are waited for too.
    const catalogsReady = await this.registry.catalogsSettled();
    const all = this.registry.liveReadiness();
    await Promise.all(all.map((r) => r.settled));
    const notReady = all.filter((r) => !r.ready).map((r) => r.id);
    return { ready: catalogsReady && notReady.length === 0, notReady };
  }

  get draining(): boolean {
    return this.state === ServerState.Draining;
  }

  health(): HealthReport {
    const notReady = this.registry
      .liveReadiness()
      .filter((r) => !r.ready)
      .map((r) => r.id);
    return { state: this.healthState(), notReady };
  }

  private healthState(): HealthState {
    switch (this.state) {
      case ServerState.Running:
        return this.registry.starting ? HealthState.Starting : HealthState.Ready;
      case ServerState.Announcing:
      case ServerState.Draining:
      case ServerState.Closing:
        return HealthState.Draining;
      case ServerState.Closed:
        return HealthState.Closed;
      default: {
        const never: never = this.state;
        throw new Error(`unknown server state ${String(never)}`);
      }
    }
  }

  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): boolean {
    if (pathOf(request.url) !== this.options.path) return false;
    if (this.state !== ServerState.Running && this.state !== ServerState.Announcing) {
      refuseUpgrade(socket, this.options.logger);
      return true;
    }
    this.wss.handleUpgrade(request, socket, head, (ws) => this.startSession(ws, request));
    return true;
  }

  attach(httpServer: EventEmitter): () => void {
    const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
      if (this.handleUpgrade(request, socket, head)) return;
      // Nobody else listens: answer rather than leave the socket hanging until it times out.
      if (httpServer.listenerCount('upgrade') === 1) {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      }
    };
    httpServer.on('upgrade', onUpgrade);
    const detach = (): void => {
      httpServer.off('upgrade', onUpgrade);
      this.detachers.delete(detach);
    };
    this.detachers.add(detach);
    return detach;
  }

  drain(options: DrainOptions = {}): Promise<DrainReport> {
    const timeoutMs = checkDrainTimeoutMs('timeoutMs', options.timeoutMs ?? this.options.drainTimeoutMs);
    const delayMs = checkDrainTimeoutMs('delayMs', options.delayMs ?? this.options.drainDelayMs);
    if (this.drained) {
      this.announcement.cut();
      this.writeDrain.shorten(timeoutMs);
      return this.drained;
    }
    this.drained = this.shutdown(timeoutMs, delayMs);
    return this.drained;
  }

  close(): Promise<void> {
    this.closed ??= this.drain().then(() => undefined);
    return this.closed;
  }

  writeEnded(): void {
    this.writeDrain.writeEnded();
  }

  setProtection(protection: Partial<Protection>): void {
    if (protection.guardMs !== undefined) this.protection.guardMs = checkGuardMs(protection.guardMs);
    if (protection.checkRevisions !== undefined) {
      this.protection.checkRevisions = checkBoolean('checkRevisions', protection.checkRevisions);
    }
    const off = this.protection.guardMs === 0 || !this.protection.checkRevisions;
    this.options.logger[off ? 'warn' : 'info'](
      { ...this.protection },
      off ? 'protection reduced (demo/test only)' : 'protection set',
    );
  }

  sessions(): SessionInfo[] {
    return [...this.open.keys()].map((s) => s.info());
  }

  on<E extends keyof LiveDeviceServerEvents>(event: E, listener: LiveDeviceServerEvents[E]): () => void {
    const set = this.listeners[event] as Set<LiveDeviceServerEvents[E]> | undefined;
    if (!set)
      throw codedTypeError(
        ServerErrorCode.UnknownEvent,
        `Unknown event "${String(event)}"; expected "session-open" or "session-close"`,
      );
    set.add(listener);
    return () => set.delete(listener);
  }

  sessionStarted(session: Session): void {
    this.open.get(session)?.greeted();
  }

  sessionClosed(session: Session, code: number): void {
    if (!this.open.delete(session)) return;
    this.emit('session-close', { ...session.info(), code });
  }

  private startSession(ws: WebSocket, request: IncomingMessage): void {
    const address = requestFacts(request, this.options.trustProxy).address;
    // Counted from here until the socket closes, whatever the session does.
    const ticket = this.connections.opened(address);
    ws.once('close', () => ticket.closed());
    const session = new Session(String(++this.nextId), ws, request, this);
    this.open.set(session, ticket);
    this.options.logger.debug({ session: session.id, remote: address }, 'socket open');
    this.emit('session-open', session.info());
  }

  private emit<E extends keyof LiveDeviceServerEvents>(event: E, info: Parameters<LiveDeviceServerEvents[E]>[0]): void {
    for (const listener of this.listeners[event]) {
      try {
        (listener as (arg: typeof info) => void)(info);
      } catch (err) {
        this.options.logger.error({ err, event }, 'event listener threw');
      }
    }
  }

  /** Drains (docs/protocol.md, *Shutdown and drain*), then closes every session and lets go of everything. */
  private async shutdown(timeoutMs: number, delayMs: number): Promise<DrainReport> {
    const { logger } = this.options;
    if (delayMs > 0) {
      // Health says draining; everything else goes on until the balancer has taken us out.
      this.state = ServerState.Announcing;
      logger.info({ drainDelayMs: delayMs, sessions: this.open.size }, 'drain announced: health 503');
      await this.announcement.wait(delayMs);
    }
    // From here on `handleUpgrade` refuses upgrades and sessions refuse sets.
    this.state = ServerState.Draining;
    const writesInFlight = this.counters.writesInFlight;
    const setsBefore = this.counters.sets;
    logger.info({ writesInFlight, drainTimeoutMs: timeoutMs, sessions: this.open.size }, 'draining');
    let answeredUnknown = 0;
    if (!(await this.writeDrain.wait(timeoutMs))) {
      for (const session of this.open.keys()) answeredUnknown += session.answerWritesUnknown();
    }
    const report: DrainReport = { writesInFlight, answeredUnknown, setsRefused: this.counters.sets - setsBefore };
    logger.info({ ...report }, 'drained: closing every session (1001)');
    this.state = ServerState.Closing;
    clearInterval(this.heartbeatTimer);
    const wssClosed = new Promise<void>((resolve) => this.wss.close(() => resolve()));
    await Promise.all([...this.open.keys()].map((s) => s.shutdown(CLOSE_GRACE_MS)));
    await wssClosed;
    // Detached last: a page that reconnects while other sessions still close gets that 503 (with
    // `Connection: close`), not the application's answer to a plain request on a keep-alive
    // connection, which would hold the HTTP server's close() for its keepAliveTimeout.
    for (const detach of [...this.detachers]) detach();
    this.registry.close();
    this.tokenThrottle?.close();
    this.state = ServerState.Closed;
    logger.info({}, 'server closed');
    logger.close();
    return report;
  }
}

/**
 * Creates the server SDK: WebSocket sessions with a reconnect guard, revision checks and one ack
 * per write, bridged to devices. It listens to nothing by itself; hand it upgrades with
 * `attach(httpServer)` or `handleUpgrade(req, socket, head)`.
 *
 * At the handshake (before any frame): a `Host` that is neither an IP literal, `localhost` nor an
 * allowed name is refused with HTTP 403 (DNS rebinding); a foreign `Origin` with 403; an upgrade
 * that does not offer the subprotocol `ldf.v1` with 400 (a client of another protocol version
 * must not get a socket whose frames it would misread); one over a per-address connection cap
 * with 429, over a server-wide cap with 503; an upgrade while draining or closed with 503.
 *
 * @throws TypeError when an option is invalid (code `ERR_INVALID_OPTION`); the message names it.
 *
 * @example
 * import http from 'node:http';
 * import { createLiveDeviceServer } from '@live-device-form/server';
 * import { MemoryBridge } from '@live-device-form/server/testing';
 *
 * const device = new MemoryBridge({
 *   id: 'videoproc',
 *   schema: [{ name: 'gain', label: 'Gain', type: 'integer', min: 0, max: 10, writable: true }],
 *   values: { gain: 3 },
 * });
 * const live = createLiveDeviceServer({ devices: [device], allowedOrigins: ['https://panel.example.com'] });
 * const server = http.createServer(app).listen(8080);
 * live.attach(server); // ws://host:8080/live, subprotocol "ldf.v1"
 * // on shutdown:
 * await live.close();
 */
export function createLiveDeviceServer(options: LiveDeviceServerOptions): LiveDeviceServer {
  return new LiveServer(options);
}
