/**
 * Options of `createLiveDeviceServer`: the interface with every default documented where it is
 * declared, the frozen defaults, and the one place they are merged and checked.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { type HelloFrame, MAX_FRAME_BYTES, MAX_SERVER_FRAME_BYTES, maxResyncBytes } from '@live-device-form/protocol';
import type { DeviceBridge } from './bridge.js';
import type { DeviceCatalog } from './catalog.js';
import { type HostRules, hostRules, isHostRule } from './host.js';
import { checkDrainTimeoutMs } from './drain.js';
import { type ThrottledLogger, throttleLogger } from './log-throttle.js';
import { type Logger, consoleLogger } from './logger.js';
import { checkBoolean, checkNumber, invalidOption, MAX_TIMER_MS, withDefaults } from './option-checks.js';
import { TOKEN_THROTTLE_DEFAULTS, type TokenThrottleOptions } from './token-throttle.js';

/** What `authorize` grants a user who may connect. */
export interface AuthorizeGrant {
  /** Who the user is, for logs and {@link SessionInfo}. */
  user?: string;
  /** Whether the user may write a field (checked after the schema's `writable`). Defaults to every field. */
  canWrite?: (field: string) => boolean;
}

/** `true` or a grant: let the user in. `false` (or anything else): refuse with 4403. */
export type AuthorizeResult = boolean | AuthorizeGrant;

/**
 * Decides who may use a device, once per socket, after `hello` (and after the shared `token`, if
 * set, matched). `request` is the HTTP upgrade request (cookies, headers, remote address); `hello`
 * carries `device`, `mounts` and the client's `token`. May be async; it must settle within
 * `helloTimeoutMs` of the connection, or the socket is closed with 4408. Returning `false`,
 * `undefined` or anything that is not `true` or an object, or throwing/rejecting, refuses the user:
 * `error forbidden` and close 4403 (a throw is logged).
 */
export type AuthorizeHook = (request: IncomingMessage, hello: HelloFrame) => AuthorizeResult | Promise<AuthorizeResult>;

/** A token bucket for `set` frames: per socket (`rateLimit`), per device or per user. */
export interface RateLimit {
  /** Writes that may come at once. Defaults to `50` for a socket. */
  burst: number;
  /** Writes per second that may be sustained. Defaults to `50` for a socket. */
  perSecond: number;
}

/**
 * Frames of any kind a socket may send, as a multiple of the write rate limit, before it is
 * closed for flooding (`error flooding`, close 4429). With the default limit: a burst of 200
 * frames, or more than 200 frames a second sustained. Below that, excess writes are only
 * answered `rejected/rate`.
 */
export const FLOOD_FACTOR = 4;

/**
 * Caps on the sockets a server holds at once (connection-limits.ts). An upgrade over a cap is
 * refused at the handshake: 429 for a per-address cap, 503 for a server-wide one. A socket counts
 * from its upgrade until it closes, and as "before hello" until its hello is accepted (token and
 * `authorize` passed). The address is the socket's peer (with `trustProxy`, the forwarded client);
 * an IPv6 client is counted by its /64. `Infinity` turns a cap off.
 *
 * The defaults are sized for a process allowed 20,000 file descriptors (`ulimit -n`; one socket is
 * one descriptor): 15,000 sockets leave 5,000 for connections not yet upgraded, the broker link,
 * files and the application's own HTTP traffic, so a flood fills a cap, not the process's table.
 * One address gets at most 1,000 (a NAT'd site of many pages; a lone attacker address can take a
 * fifteenth of the total, not all of it). Behind a reverse proxy without `trustProxy`, every page
 * comes from the proxy's address: set `trustProxy`, or raise `perAddress`. Raise the caps with
 * the process's descriptor limit.
 */
export interface ConnectionLimits {
  /** Sockets at once in total; more → 503. Defaults to `15000`. */
  total: number;
  /** Sockets at once from one address; more → 429. Defaults to `1000`. */
  perAddress: number;
  /**
   * Sockets at once that have not had their hello accepted yet, in total; more → 503. Pages pass
   * this phase in a round trip; sockets that linger in it (until `helloTimeoutMs`) are the ones an
   * attacker without the token can hold, so they get a small share: the rest stays for pages that
   * said hello. Defaults to `2000`.
   */
  preHello: number;
  /** Sockets at once from one address that have not had their hello accepted yet; more → 429. Defaults to `200`. */
  preHelloPerAddress: number;
}

/** Options of {@link createLiveDeviceServer}. Only `devices` is required. */
export interface LiveDeviceServerOptions {
  /** The devices this server serves; `hello.device` picks one by its `id`. Ids must be unique. */
  devices: DeviceBridge[];
  /**
   * Devices that come and go at run time (discovery, docs/server.md *Devices that come and go*),
   * served beside `devices`. A catalog device whose id is already served (a fixed device, or
   * another catalog's) is refused with an error log: the first one keeps the id. While the server
   * has a catalog, a `hello` for an id it does not know waits for it, at most `readyTimeoutMs`.
   * Defaults to `[]`.
   */
  catalogs?: readonly DeviceCatalog[];
  /** URL path of the WebSocket endpoint; upgrades to any other path are left alone. Defaults to `'/live'`. */
  path?: string;
  /** Milliseconds every write is refused (`guard`) after a reconnect (`hello.mounts > 0`); `0` disables. Defaults to `500`. */
  guardMs?: number;
  /** Milliseconds a socket has to send `hello` (and be authorized); else close 4408. Defaults to `5000`. */
  helloTimeoutMs?: number;
  /**
   * Milliseconds, from the server's creation, that a first resync waits at most for its device's
   * bridge to be ready (`DeviceBridge.ready`: the device's retained state has arrived); after that it
   * goes out with what is known. Also the bound of `LiveDeviceServer.ready()`. With `catalogs`:
   * also how long, from the server's creation, `ready()` and `health()` wait for every catalog's
   * `ready()`; how long a device added at run time is waited for, from when it was added; and how
   * long, from its hello, a page naming an id not known yet waits for it before 4404. `0`: never wait.
   * Defaults to `2000`.
   */
  readyTimeoutMs?: number;
  /** Milliseconds a write waits for its echo before a matching change counts as external. Defaults to `2000`. */
  echoTimeoutMs?: number;
  /**
   * Milliseconds `close()` (and `drain()` without its own `timeoutMs`) waits for the writes in
   * flight to be acknowledged by their bridge (the broker's PUBACK) before answering them `unknown`
   * and closing the sessions (docs/protocol.md, *Shutdown and drain*). `0` waits for none.
   * Defaults to `5000`.
   */
  drainTimeoutMs?: number;
  /**
   * Milliseconds `close()` (and `drain()` without its own `delayMs`) first only announce the
   * drain: `health()` says `draining` (503 to the balancer's checks) while upgrades and sets are
   * served as before; then the drain proper begins. Give the balancer's time to mark a server down
   * (HAProxy: `fall` × `inter`), as a Kubernetes preStop sleep does, when the balancer cannot retry
   * an upgrade refused 503 elsewhere: the pages closed by the drain then reconnect to the other
   * servers, not to this one's 503 (docs/deploy.md, *Drain and rolling restarts*). A second
   * `drain()` call cuts it short. Defaults to `0`.
   */
  drainDelayMs?: number;
  /** Whether stale writes are refused. Turn off only to demonstrate the bug. Defaults to `true`. */
  checkRevisions?: boolean;
  /**
   * Origins (`scheme://host[:port]`) allowed besides the request's own host. An upgrade from any
   * other origin is refused with HTTP 403. Defaults to `[]`.
   */
  allowedOrigins?: string[];
  /** Whether an upgrade without an `Origin` header (a non-browser client) is refused with 403. Defaults to `false`. */
  requireOrigin?: boolean;
  // -- The upgrade gate: Host check (host.ts) and connection caps (connection-limits.ts).
  /**
   * Host names, besides IP literals, `localhost`, `*.localhost` and the hosts of `allowedOrigins`,
   * that an upgrade's `Host` header (with `trustProxy`, `X-Forwarded-Host`) may name; any other
   * `Host` is refused with HTTP 403 whatever its `Origin` (DNS rebinding: an attacker's page whose
   * name now points at this server would pass the Origin rule's "own host" match). A leading dot
   * (`.example.com`) allows the domain and every subdomain. Ports are not compared. List the name
   * pages reach this server by when it is a name. Defaults to `[]`.
   */
  allowedHosts?: string[];
  /** Caps on the sockets held at once; see {@link ConnectionLimits}. Defaults to `{ total: 15000, perAddress: 1000, preHello: 2000, preHelloPerAddress: 200 }`. */
  connectionLimits?: Partial<ConnectionLimits>;
  /**
   * Whether this server sits behind a reverse proxy whose `X-Forwarded-For`, `X-Forwarded-Host`
   * and `X-Forwarded-Proto` headers are to be believed: the client's address (for per-address
   * limits and logs) is then the last `X-Forwarded-For` entry, its host and scheme (for the Host
   * and Origin checks) the forwarded ones. Set it only when every connection comes through that
   * proxy (bind to loopback or firewall the port): otherwise any client can claim any address.
   * Defaults to `false` (the headers are ignored).
   */
  trustProxy?: boolean;
  /** Who may connect and write what; see {@link AuthorizeHook}. Defaults to everyone, every writable field. */
  authorize?: AuthorizeHook;
  /** A shared secret every `hello.token` must equal; else close 4401. Checked before `authorize`. Defaults to none. */
  token?: string;
  /** Per-socket write rate limit. Defaults to `{ burst: 50, perSecond: 50 }`. */
  rateLimit?: Partial<RateLimit>;
  /**
   * Write rate limit of each device, shared by every socket of the device: a swarm of sockets,
   * each within `rateLimit`, cannot add up to more. Sized at four sockets writing at the full
   * per-socket rate at once, so one operator with a few tabs (or a few operators on one device)
   * never meets it. Excess → `rejected`/`rate`. Defaults to `{ burst: 200, perSecond: 200 }`.
   */
  deviceRateLimit?: Partial<RateLimit>;
  /**
   * Write rate limit of each user `authorize` named, shared by every socket of the user (whatever
   * the device); dropped when the user's last session ends. Sized at two sockets at the full
   * per-socket rate: a person drives one page at a time. Excess → `rejected`/`rate`. Defaults to
   * `{ burst: 100, perSecond: 100 }`.
   */
  userRateLimit?: Partial<RateLimit>;
  /**
   * Throttles guessing of `token`, per client address (with `trustProxy`, the forwarded one; IPv6 by
   * its /64): after `failures` bad or missing tokens, every `hello` from the address is refused
   * (`error flooding`, close 4429) without its token being compared, for 1 s doubling with each
   * further failure up to 60 s; a right token, or 10 minutes without a failure, clears the address.
   * Failures are logged as one summary line per address per interval. `false` turns it off (only for
   * a server behind a proxy that cannot forward the client's address: every client would share one).
   * Used only with `token`. Defaults to `{ failures: 5, firstDelayMs: 1000, maxDelayMs: 60000,
   * forgetAfterMs: 600000, maxAddresses: 10000, summaryIntervalMs: 10000 }`.
   */
  tokenThrottle?: Partial<TokenThrottleOptions> | false;
  /** Largest frame in bytes a client may send; larger closes with 1009. At most 16384. Defaults to `16384`. */
  maxFrameBytes?: number;
  /** Milliseconds between WebSocket pings; a socket that did not pong since the last one is terminated. `0` disables. Defaults to `15000`. */
  heartbeatMs?: number;
  /**
   * Bytes a socket may have waiting to be sent before it only gets the latest value of each field
   * (slow reader, docs/protocol.md rule 10). A socket whose backlog still grows beyond this plus 1 MiB
   * (acks and pongs to a client that writes but never reads) is terminated. Defaults to `262144` (256 KiB).
   */
  sendBufferLimit?: number;
  /**
   * Milliseconds a page's values may fall behind the broker before it is told `device lagging`
   * (docs/protocol.md rule 11): when a device's fan-out has had a change waiting that long, every
   * page of the device; when a slow reader has had an update held back that long, that page. Its
   * sets are refused `guard` until a fresh resync, sent as soon as it has caught up. Defaults to `1000`.
   */
  lagLimitMs?: number;
  /**
   * Milliseconds a fan-out round may run before it yields to the event loop (pings, acks, new
   * connections and the broker link are served between slices). Defaults to `5`.
   */
  fanoutSliceMs?: number;
  /** Where everything is logged; pino-compatible. Defaults to `consoleLogger()`. */
  logger?: Logger;
  /**
   * Milliseconds of the window in which repeated warnings and errors of one kind (same level and
   * message) are rate-limited: the first 2 are logged, the rest counted into one summary line when
   * the window ends ("… (and 19,998 more in the last 10 s)"). Info and debug entries always pass.
   * `0` logs every entry. Defaults to `10000`.
   */
  logThrottleMs?: number;
  /**
   * Identifies this server instance's revision counter; sent in every `resync`. Defaults to a new
   * random string for every server instance (so it changes whenever the process restarts).
   */
  epoch?: string;
  /**
   * The revision every field starts at in this server instance; each change counts up from it
   * (docs/protocol.md rule 3). Defaults to the wall clock in microseconds when the server is
   * created, so that a restarted process's revisions start above any its predecessor could have
   * reached (at under a million changes a second): defence in depth behind the epoch, for a
   * client that ignores it. An integer from 0 to 2^52; `0` gives the small revisions of a test.
   */
  firstRevision?: number;
}

/**
 * The defaults of {@link LiveDeviceServerOptions}, each documented on its option; merged once in
 * `createLiveDeviceServer`. `logger` (a new `consoleLogger()`) and `epoch` (random per instance)
 * are not constants, so they are not here.
 */
export const DEFAULTS = Object.freeze({
  catalogs: Object.freeze([] as DeviceCatalog[]),
  path: '/live',
  guardMs: 500,
  helloTimeoutMs: 5000,
  readyTimeoutMs: 2000,
  echoTimeoutMs: 2000,
  drainTimeoutMs: 5000,
  drainDelayMs: 0,
  checkRevisions: true,
  allowedOrigins: Object.freeze([] as string[]),
  requireOrigin: false,
  allowedHosts: Object.freeze([] as string[]),
  connectionLimits: Object.freeze({ total: 15_000, perAddress: 1000, preHello: 2000, preHelloPerAddress: 200 }),
  trustProxy: false,
  rateLimit: Object.freeze({ burst: 50, perSecond: 50 }),
  deviceRateLimit: Object.freeze({ burst: 200, perSecond: 200 }),
  userRateLimit: Object.freeze({ burst: 100, perSecond: 100 }),
  tokenThrottle: TOKEN_THROTTLE_DEFAULTS,
  maxFrameBytes: MAX_FRAME_BYTES,
  heartbeatMs: 15_000,
  sendBufferLimit: 256 * 1024,
  lagLimitMs: 1000,
  fanoutSliceMs: 5,
  logThrottleMs: 10_000,
});

/** Options after the merge: every default filled in, origins normalised. @internal */
export interface ResolvedOptions {
  readonly devices: readonly DeviceBridge[];
  readonly catalogs: readonly DeviceCatalog[];
  readonly path: string;
  readonly guardMs: number;
  readonly helloTimeoutMs: number;
  readonly readyTimeoutMs: number;
  readonly echoTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly drainDelayMs: number;
  readonly checkRevisions: boolean;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly requireOrigin: boolean;
  readonly allowedHosts: HostRules;
  readonly connectionLimits: Readonly<ConnectionLimits>;
  readonly trustProxy: boolean;
  readonly authorize: AuthorizeHook | undefined;
  readonly token: string | undefined;
  readonly rateLimit: Readonly<RateLimit>;
  readonly deviceRateLimit: Readonly<RateLimit>;
  readonly userRateLimit: Readonly<RateLimit>;
  readonly tokenThrottle: Readonly<TokenThrottleOptions> | false;
  readonly maxFrameBytes: number;
  readonly heartbeatMs: number;
  readonly sendBufferLimit: number;
  readonly lagLimitMs: number;
  readonly fanoutSliceMs: number;
  /** The caller's logger, behind the `logThrottleMs` rate limit; closed with the server. */
  readonly logger: ThrottledLogger;
  readonly epoch: string;
  readonly firstRevision: number;
}

/** Largest `firstRevision`: half the counters' range is left to count up in. */
const MAX_FIRST_REVISION = 2 ** 52;

/** Checks a millisecond duration that is also a guard/protection setting (shared with `setProtection`). @internal */
export function checkGuardMs(value: number): number {
  return checkNumber('guardMs', value, 0, MAX_TIMER_MS);
}

/** Checks a cap of `connectionLimits`: a whole number of at least 1, or `Infinity`. */
function checkCap(name: keyof ConnectionLimits, value: unknown): number {
  if (value === Infinity) return value;
  return checkNumber(`connectionLimits.${name}`, value, 1, Number.MAX_SAFE_INTEGER, { integer: true });
}

function normaliseOrigin(origin: string): string {
  let url: URL | undefined;
  try {
    url = new URL(origin);
  } catch {
    url = undefined;
  }
  const bare = url && url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  if (!url || !bare || url.origin === 'null') {
    throw invalidOption(
      `The "allowedOrigins" option must hold origins like "https://example.com:8443", got "${origin}"`,
    );
  }
  return url.origin;
}

/** Merges a rate limit over its defaults and checks it. */
function resolveRateLimit(name: string, defaults: RateLimit, given: Partial<RateLimit> | undefined): RateLimit {
  if (given !== undefined && (typeof given !== 'object' || given === null))
    throw invalidOption(`The "${name}" option must be an object { burst, perSecond }`);
  const rates = withDefaults(defaults, given ?? {});
  return Object.freeze({
    burst: checkNumber(`${name}.burst`, rates.burst, 1),
    perSecond: checkNumber(`${name}.perSecond`, rates.perSecond, 0.001),
  });
}

/** Merges `tokenThrottle` over its defaults and checks it; `false` stays `false`. */
function resolveTokenThrottle(given: Partial<TokenThrottleOptions> | false | undefined): TokenThrottleOptions | false {
  if (given === false) return false;
  if (given !== undefined && (typeof given !== 'object' || given === null))
    throw invalidOption('The "tokenThrottle" option must be an object or false');
  const o = withDefaults(TOKEN_THROTTLE_DEFAULTS, given ?? {});
  const integer = { integer: true };
  const firstDelayMs = checkNumber('tokenThrottle.firstDelayMs', o.firstDelayMs, 1, MAX_TIMER_MS);
  const maxDelayMs = checkNumber('tokenThrottle.maxDelayMs', o.maxDelayMs, 1, MAX_TIMER_MS);
  const forgetAfterMs = checkNumber('tokenThrottle.forgetAfterMs', o.forgetAfterMs, 1);
  if (maxDelayMs < firstDelayMs)
    throw invalidOption('The "tokenThrottle.maxDelayMs" option must be at least "tokenThrottle.firstDelayMs"');
  if (forgetAfterMs < maxDelayMs)
    throw invalidOption('The "tokenThrottle.forgetAfterMs" option must be at least "tokenThrottle.maxDelayMs"');
  return Object.freeze({
    failures: checkNumber('tokenThrottle.failures', o.failures, 1, Number.MAX_SAFE_INTEGER, integer),
    firstDelayMs,
    maxDelayMs,
    forgetAfterMs,
    maxAddresses: checkNumber('tokenThrottle.maxAddresses', o.maxAddresses, 1, Number.MAX_SAFE_INTEGER, integer),
    summaryIntervalMs: checkNumber('tokenThrottle.summaryIntervalMs', o.summaryIntervalMs, 1, MAX_TIMER_MS),
  });
}

/**
 * What is wrong with a device bridge the server is handed (in `devices`, or by a catalog at run
 * time), or `undefined` when it can be served.
 * @internal
 */
export function bridgeProblem(d: DeviceBridge): string | undefined {
  if (typeof d?.id !== 'string' || typeof d.write !== 'function' || typeof d.subscribe !== 'function') {
    return 'The "devices" option must hold DeviceBridge objects (id, schema, write, subscribe, …)';
  }
  // Any bridge, described or built in code: a resync no client accepts would never reach a page.
  const bytes = maxResyncBytes(d.schema);
  if (bytes > MAX_SERVER_FRAME_BYTES) {
    return (
      `The device "${d.id}" could need a resync of ${bytes} bytes (its schema, every value at its longest), ` +
      `over the ${MAX_SERVER_FRAME_BYTES}-byte frame limit of every client: use fewer fields or options, or shorter ones`
    );
  }
  return undefined;
}

/**
 * Merges options over {@link DEFAULTS} once and checks them. Never writes into `options`.
 * Throws a `TypeError` (code `ERR_INVALID_OPTION`) naming the option at fault.
 * @internal
 */
export function resolveOptions(options: LiveDeviceServerOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw invalidOption('createLiveDeviceServer needs an options object with "devices"');
  const o = withDefaults(DEFAULTS, options);
  const { devices } = o;
  if (!Array.isArray(devices)) throw invalidOption('The "devices" option must be an array of DeviceBridge');
  const ids = new Set<string>();
  for (const d of devices) {
    const problem = bridgeProblem(d);
    if (problem !== undefined) throw invalidOption(problem);
    if (ids.has(d.id))
      throw invalidOption(`Two entries of the "devices" option have the id "${d.id}"; ids must be unique`);
    ids.add(d.id);
  }
  const { catalogs } = o;
  if (!Array.isArray(catalogs)) throw invalidOption('The "catalogs" option must be an array of DeviceCatalog');
  for (const c of catalogs as unknown[]) {
    const catalog = c as Partial<DeviceCatalog> | null | undefined;
    if (
      typeof catalog?.devices !== 'function' ||
      typeof catalog.subscribe !== 'function' ||
      typeof catalog.ready !== 'function'
    ) {
      throw invalidOption('The "catalogs" option must hold DeviceCatalog objects (devices, subscribe, ready)');
    }
  }
  if (new Set(catalogs).size !== catalogs.length)
    throw invalidOption('The "catalogs" option holds the same catalog twice');
  const { path } = o;
  if (typeof path !== 'string' || !path.startsWith('/') || path.includes('?') || path.includes('#')) {
    throw invalidOption(`The "path" option must be a URL path starting with "/", got ${JSON.stringify(path)}`);
  }
  if (o.authorize !== undefined && typeof o.authorize !== 'function')
    throw invalidOption('The "authorize" option must be a function');
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token === '')) {
    throw invalidOption('The "token" option must be a non-empty string');
  }
  const given = o.logger ?? consoleLogger();
  for (const level of ['debug', 'info', 'warn', 'error'] as const) {
    if (typeof given[level] !== 'function') throw invalidOption(`The "logger" option must have a "${level}" method`);
  }
  const logger = throttleLogger(given, {
    intervalMs: checkNumber('logThrottleMs', o.logThrottleMs, 0, MAX_TIMER_MS, { integer: true }),
    levels: ['warn', 'error'],
  });
  const epoch = o.epoch ?? randomBytes(9).toString('base64url');
  if (typeof epoch !== 'string' || epoch === '' || epoch.length > 128)
    throw invalidOption('The "epoch" option must be a string of 1 to 128 characters');
  const firstRevision = o.firstRevision ?? Date.now() * 1000;
  if (!Number.isSafeInteger(firstRevision) || firstRevision < 0 || firstRevision > MAX_FIRST_REVISION)
    throw invalidOption(`The "firstRevision" option must be an integer from 0 to ${MAX_FIRST_REVISION}`);
  const { allowedOrigins } = o;
  if (!Array.isArray(allowedOrigins)) throw invalidOption('The "allowedOrigins" option must be an array of origins');
  const origins = new Set(allowedOrigins.map(normaliseOrigin));
  const { allowedHosts } = o;
  if (!Array.isArray(allowedHosts)) throw invalidOption('The "allowedHosts" option must be an array of host names');
  for (const entry of allowedHosts) {
    if (!isHostRule(entry)) {
      throw invalidOption(
        `The "allowedHosts" option must hold host names like "panel.example.com" or ".example.com" (no scheme, no port), got ${JSON.stringify(entry)}`,
      );
    }
  }
  const caps = withDefaults(DEFAULTS.connectionLimits, options.connectionLimits ?? {});
  const connectionLimits: ConnectionLimits = {
    total: checkCap('total', caps.total),
    perAddress: checkCap('perAddress', caps.perAddress),
    preHello: checkCap('preHello', caps.preHello),
    preHelloPerAddress: checkCap('preHelloPerAddress', caps.preHelloPerAddress),
  };
  return Object.freeze({
    devices: Object.freeze([...devices]),
    catalogs: Object.freeze([...catalogs]),
    path,
    guardMs: checkGuardMs(o.guardMs),
    helloTimeoutMs: checkNumber('helloTimeoutMs', o.helloTimeoutMs, 1, MAX_TIMER_MS),
    readyTimeoutMs: checkNumber('readyTimeoutMs', o.readyTimeoutMs, 0, MAX_TIMER_MS),
    echoTimeoutMs: checkNumber('echoTimeoutMs', o.echoTimeoutMs, 1, MAX_TIMER_MS),
    drainTimeoutMs: checkDrainTimeoutMs('drainTimeoutMs', o.drainTimeoutMs),
    drainDelayMs: checkDrainTimeoutMs('drainDelayMs', o.drainDelayMs),
    checkRevisions: checkBoolean('checkRevisions', o.checkRevisions),
    allowedOrigins: origins,
    requireOrigin: checkBoolean('requireOrigin', o.requireOrigin),
    allowedHosts: hostRules(allowedHosts, origins),
    connectionLimits: Object.freeze(connectionLimits),
    trustProxy: checkBoolean('trustProxy', o.trustProxy),
    authorize: o.authorize,
    token: o.token,
    rateLimit: resolveRateLimit('rateLimit', DEFAULTS.rateLimit, options.rateLimit),
    deviceRateLimit: resolveRateLimit('deviceRateLimit', DEFAULTS.deviceRateLimit, options.deviceRateLimit),
    userRateLimit: resolveRateLimit('userRateLimit', DEFAULTS.userRateLimit, options.userRateLimit),
    tokenThrottle: resolveTokenThrottle(options.tokenThrottle),
    maxFrameBytes: checkNumber('maxFrameBytes', o.maxFrameBytes, 64, MAX_FRAME_BYTES),
    heartbeatMs: checkNumber('heartbeatMs', o.heartbeatMs, 0, MAX_TIMER_MS),
    sendBufferLimit: checkNumber('sendBufferLimit', o.sendBufferLimit, 0),
    lagLimitMs: checkNumber('lagLimitMs', o.lagLimitMs, 1, MAX_TIMER_MS),
    fanoutSliceMs: checkNumber('fanoutSliceMs', o.fanoutSliceMs, 0, MAX_TIMER_MS),
    logger,
    epoch,
    firstRevision,
  });
}
