/**
 * The element's WebSocket: hello with the mount counter, heartbeat, reconnects with backoff, fatal
 * close codes. It knows nothing about rendering; the element feeds it an endpoint and receives
 * frames and state changes.
 * @module
 */
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import {
  type AckFrame,
  type BackoffOptions,
  type ClientFrame,
  type DeviceFrame,
  type ErrorCode,
  type ErrorFrame,
  type ResyncFrame,
  type SetFrame,
  type Unrecognized,
  type UpdateFrame,
  type WritableValue,
  BACKOFF_DEFAULTS,
  Backoff,
  ERROR_CLOSE_CODES,
  SUBPROTOCOL,
  encodeFrame,
  isFatalCloseCode,
  parseServerFrame,
} from '@live-device-form/protocol';

/**
 * Where the connection is. One value at a time; every transition is reported.
 *
 * - `connecting`: opening the first socket of this instance, or waiting for its first `resync`
 *   (`hello.mounts` is 0). Inputs are read-only.
 * - `resyncing`: a later socket is open and its `hello` (`mounts` > 0) sent; the server holds the
 *   reconnect guard until it sends `resync`. Inputs are read-only.
 * - `live`: `resync` received and the device is online. Inputs are editable.
 * - `offline`: connected, but the device or its broker is unavailable (or the server sent a
 *   device status this version does not know). Inputs are read-only.
 * - `lagging`: connected, but the server fell behind the device's broker (docs/protocol.md
 *   rule 11); the values shown may be late. Inputs are read-only until its fresh `resync`.
 * - `gone`: connected, but the device was removed from the server (`device gone`, docs/protocol.md
 *   *Devices that come and go*). Inputs are read-only; the socket stays open, and the fresh
 *   `resync` the server sends if the device comes back makes it live again. It may come right after
 *   `hello`, before any resync: then there are no fields to show.
 * - `reconnecting`: the link was lost; waiting for the next attempt or opening it. Read-only.
 * - `failed`: the server closed with a fatal code (4400, 4401, 4403, 4404) or `src` is unusable;
 *   no further attempts until `src`/`device` change or `reconnect()` is called.
 * - `closed`: not connected on purpose: the element is not in the page, or `src`/`device` is empty.
 */
export const ConnectionState = {
  Connecting: 'connecting',
  Resyncing: 'resyncing',
  Live: 'live',
  Offline: 'offline',
  Lagging: 'lagging',
  Gone: 'gone',
  Reconnecting: 'reconnecting',
  Failed: 'failed',
  Closed: 'closed',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** Timers and time, injectable so tests can drive them by hand. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The part of `WebSocket` the connection uses. */
export interface SocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Opens a socket. The default is `new WebSocket(url, protocol)`. */
export type SocketFactory = (url: string, protocol: string) => SocketLike;

/**
 * Tunables of the connection. Every field is optional; defaults are given per field and are
 * {@link CONNECTION_DEFAULTS}. An option given as `undefined` keeps its default.
 */
export interface ConnectionOptions {
  /** Milliseconds between app-level pings. Defaults to `5000`. */
  pingIntervalMs?: number;
  /** Milliseconds to wait for a `pong` before the link counts as dead. Defaults to `5000`. */
  pingTimeoutMs?: number;
  /** Milliseconds a socket may take to open. Defaults to `10000`. */
  connectTimeoutMs?: number;
  /**
   * Delays between failed attempts (exponential, full jitter). Defaults to
   * `{ initialMs: 500, maxMs: 15000, factor: 2 }`.
   */
  backoff?: BackoffOptions;
  /** Opens sockets. Defaults to the browser's `WebSocket`. */
  socket?: SocketFactory;
  /** Time source. Defaults to `Date.now` and the global timers. */
  clock?: Clock;
  /**
   * Where `online` and `visibilitychange` are heard (both trigger an attempt at once).
   * Defaults to `window`; `null` disables.
   */
  events?: EventTarget | null;
}

/** Where to connect and as whom. */
export interface Endpoint {
  /** Absolute `ws:` or `wss:` URL. */
  url: string;
  /** `hello.device`. */
  device: string;
}

/** What the connection tells its owner. */
export interface ConnectionHandlers {
  /** The endpoint to use now, or `null` when there is nothing to connect to. May throw a `TypeError` for an unusable `src`. */
  endpoint(): Endpoint | null;
  /** The credential for the next `hello`; read at every attempt and never logged. */
  token?(): string | undefined | null | Promise<string | undefined | null>;
  /** A frame that changes what the form shows. `resync` comes before the state turns `live`. */
  onFrame(frame: ResyncFrame | UpdateFrame | DeviceFrame): void;
  /** The answer to one of this connection's `set`s. */
  onAck(set: SetFrame, ack: AckFrame): void;
  /** `set`s that were sent but never answered when their socket died. They are never re-sent. */
  onUnconfirmed(sets: SetFrame[]): void;
  /** Every state change; `reconnecting` is reported again whenever a new retry is scheduled. */
  onState(state: ConnectionState): void;
}

/**
 * Why the connection stopped for good, as a stable string: the wire error code (`bad-frame`,
 * `unauthorized`, `forbidden`, `unknown-device`, …; see `ErrorCode` in the protocol package, or a
 * code from a newer server that this version does not know), or `bad-src` when `src` is unusable.
 */
export type ConnectionErrorReason = ErrorCode | 'bad-src' | Unrecognized;

/** Why the connection stopped for good, for the status line and `ldf-error`. */
export interface ConnectionError {
  /** The WebSocket close code, or `0` when `src` is unusable. */
  code: number;
  /** The server's `error` frame `code`, else the one that goes with the close code, or `bad-src`. */
  reason: ConnectionErrorReason;
  /** The server's `error` message, the close reason, or a description. */
  message: string;
}

/** The code of every error the element throws (a `TypeError` with this `code`). */
export type ThrownErrorCode = 'bad-src' | 'bad-option';

/** The real clock: `Date.now` and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** The defaults of {@link ConnectionOptions}, merged under the options once, in the `Connection` constructor. */
export const CONNECTION_DEFAULTS = Object.freeze({
  pingIntervalMs: 5000,
  pingTimeoutMs: 5000,
  connectTimeoutMs: 10_000,
  backoff: BACKOFF_DEFAULTS as BackoffOptions,
  socket: ((url, protocol) => new WebSocket(url, protocol) as unknown as SocketLike) as SocketFactory,
  clock: systemClock,
  /** Read when the module loads: `window` in a page, `null` elsewhere. */
  events: (globalThis.window ?? null) as EventTarget | null,
});

/** The longest delay timers accept (2³¹ − 1 ms, about 24.8 days); longer ones would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A socket that closes and is replaced within this many milliseconds of the last immediate
 * reconnect goes through the backoff instead, so a server that resyncs and then drops every socket
 * is not hammered in a tight loop.
 */
const IMMEDIATE_RETRY_GAP_MS = 1000;

/**
 * After this many handshake failures in a row (sockets that closed without ever opening, the
 * connect timeout aside) the connection reports `refused` and the element shows its hint. Browsers
 * do not tell a page why a handshake failed: an HTTP 403 for an `Origin` or `Host` the server does
 * not allow, a draining server's 503 and a closed port all look the same, so none of them is
 * fatal and the attempts go on with backoff (docs/element.md, "When the server refuses").
 */
export const REFUSED_AFTER_FAILURES = 3;

/** Close code the client uses when it gives up on a socket itself (heartbeat, bad frame). */
const CLIENT_DROP_CODE = 4000;

/**
 * The close code of a server that drained (docs/protocol.md, *Shutdown and drain*): it answered
 * every `set` it read before its close frame and read nothing after it, so a set still unanswered
 * was never read and never reached the device.
 */
const DRAINED_CLOSE_CODE = 1001;

/** The most UTF-8 bytes a close reason may have (RFC 6455 §5.5: 125 less the code); `close()` throws on more. */
const MAX_CLOSE_REASON_BYTES = 123;

/** `reason` cut to fit a close frame, at a code point boundary. */
function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return reason;
  let end = MAX_CLOSE_REASON_BYTES;
  while ((bytes[end]! & 0xc0) === 0x80) end--; // not inside a multi-byte character
  return new TextDecoder().decode(bytes.subarray(0, end));
}

/** The endpoint key while `endpoint()` throws (a real key is `device url`, never this). */
const UNUSABLE_ENDPOINT = '!';

/** A `TypeError` with a stable `code`, as every error the element throws. */
function typeError(code: ThrownErrorCode, message: string): TypeError & { code: ThrownErrorCode } {
  return Object.assign(new TypeError(message), { code });
}

/**
 * Checks a duration option after the merge: `undefined` (given explicitly) keeps its default.
 * Throws a `TypeError` naming the option.
 */
function checkMs(name: 'pingIntervalMs' | 'pingTimeoutMs' | 'connectTimeoutMs', value: number | undefined): number {
  const ms = value ?? CONNECTION_DEFAULTS[name];
  if (typeof ms !== 'number' || !(ms >= 1 && ms <= MAX_TIMER_MS)) {
    throw typeError(
      'bad-option',
      `The "${name}" option must be a number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${String(value)}`,
    );
  }
  return ms;
}

/**
 * The state of a device status that is not `online`: `lagging`, `gone`, or `offline` for `offline`
 * and for any status from a newer server this version does not know (inputs held all the same).
 */
function heldState(status: string): ConnectionState {
  return status === 'lagging'
    ? ConnectionState.Lagging
    : status === 'gone'
      ? ConnectionState.Gone
      : ConnectionState.Offline;
}

/** The error code that goes with a close code (`ERROR_CLOSE_CODES` read backwards). */
function errorCodeOfClose(closeCode: number): ErrorCode | undefined {
  return (Object.keys(ERROR_CLOSE_CODES) as ErrorCode[]).find((code) => ERROR_CLOSE_CODES[code] === closeCode);
}

/**
 * Resolves the element's `src` against the page: `ws:`/`wss:` URLs as they are, `http(s):` URLs
 * and paths mapped to `ws(s):`. Throws a `TypeError` with `code: 'bad-src'` for anything else.
 *
 * @example
 * resolveSocketUrl('/ldf', 'https://example.com/settings') // 'wss://example.com/ldf'
 */
export function resolveSocketUrl(src: string, base: string): string {
  let url: URL | undefined;
  try {
    url = new URL(src, base);
  } catch {
    // Not a URL at all: refused below like any other scheme.
  }
  if (url?.protocol === 'http:' || url?.protocol === 'https:') url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  if (url?.protocol !== 'ws:' && url?.protocol !== 'wss:')
    throw typeError('bad-src', `src must be a ws: or wss: URL or a path, not "${src}"`);
  return url.href;
}

/**
 * One logical connection of one element instance: a sequence of sockets.
 *
 * - `hello.mounts` is the number of this instance's earlier sockets that completed a `resync`.
 * - After a socket that had been resynced dies, the next attempt is immediate; failed attempts
 *   after that wait `Backoff.next()`. `online` and `visibilitychange` cut a wait short.
 * - A `ping` every `pingIntervalMs`; no `pong` within `pingTimeoutMs` drops the socket.
 * - `set`s are sent only while `live`; nothing is queued, nothing is re-sent. Sets unanswered when
 *   their socket dies go to `onUnconfirmed`.
 * - A fatal close code stops it in `failed`.
 *
 * As a Lit `ReactiveController` it starts when the host is connected (or gets an endpoint) and
 * closes everything, timers included, when the host is disconnected.
 */
export class Connection implements ReactiveController {
  readonly #handlers: ConnectionHandlers;
  readonly #pingIntervalMs: number;
  readonly #pingTimeoutMs: number;
  readonly #connectTimeoutMs: number;
  readonly #backoff: Backoff;
  readonly #openSocket: SocketFactory;
  readonly #clock: Clock;
  /** Where `online` and `visibilitychange` are heard, or `null`. */
  readonly #wakeEvents: EventTarget | null;

  #state: ConnectionState = ConnectionState.Closed;
  #error: ConnectionError | null = null;
  #socket: SocketLike | null = null;
  /** Bumped by every attempt and by `stop()`; async results of an older attempt are dropped. */
  #generation = 0;
  /** The current socket is open (its `hello` is sent). */
  #opened = false;
  /** The current socket received its first `resync`. */
  #synced = false;
  /** How many of this instance's sockets received a `resync`: the next `hello.mounts`. */
  #mounts = 0;
  /**
   * The epoch of the current socket's latest `resync`: every revision the form holds came from it
   * or from the updates that followed, so every `set` carries it (docs/protocol.md rule 3).
   */
  #epoch: string | null = null;
  /** The host is in the page. */
  #attached = false;
  /** `device url` of the endpoint in use, `''` for none, `UNUSABLE_ENDPOINT`; `undefined` when stopped. */
  #endpointKey: string | undefined;
  /** The connect timeout while a socket opens, or the wait before the next attempt. */
  #attemptTimer: unknown;
  /** The next ping, or the wait for its pong. */
  #heartbeatTimer: unknown;
  #awaitingPong = false;
  #pingId = 0;
  #setId = 0;
  #lastImmediateRetryAt = -Infinity;
  #retryAt = 0;
  /** Sockets in a row that closed before they opened (see {@link REFUSED_AFTER_FAILURES}); 0 after an open. */
  #handshakeFailures = 0;
  /** `refused` as last reported with a state: a change is reported even when the state stays. */
  #reportedRefused = false;
  /** The current socket's `error` frame: the close that follows says whether it is fatal. */
  #serverError: ErrorFrame | null = null;
  /** Sets sent on the current socket and not answered yet, by id. */
  readonly #unanswered = new Map<number, SetFrame>();

  /**
   * Merges `options` over {@link CONNECTION_DEFAULTS} and checks them: an unusable one throws a
   * `TypeError` (`code: 'bad-option'`) that names it, before anything else happens.
   */
  constructor(host: ReactiveControllerHost | null, handlers: ConnectionHandlers, options: ConnectionOptions = {}) {
    const o = { ...CONNECTION_DEFAULTS, ...options };
    this.#handlers = handlers;
    this.#pingIntervalMs = checkMs('pingIntervalMs', o.pingIntervalMs);
    this.#pingTimeoutMs = checkMs('pingTimeoutMs', o.pingTimeoutMs);
    this.#connectTimeoutMs = checkMs('connectTimeoutMs', o.connectTimeoutMs);
    this.#backoff = new Backoff(o.backoff);
    this.#openSocket = o.socket ?? CONNECTION_DEFAULTS.socket;
    this.#clock = o.clock ?? CONNECTION_DEFAULTS.clock;
    this.#wakeEvents = o.events === undefined ? CONNECTION_DEFAULTS.events : o.events;
    host?.addController(this);
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Why the connection is `failed`, else `null`. */
  get error(): ConnectionError | null {
    return this.#error;
  }

  /** The `mounts` the next `hello` carries: how many earlier sockets completed a resync. */
  get mounts(): number {
    return this.#mounts;
  }

  /**
   * Whether the last {@link REFUSED_AFTER_FAILURES} or more attempts in a row failed their
   * handshake: the server (or something before it) refuses the connection, most often for its
   * `Origin` or `Host`. The attempts go on; it is `false` again once a socket opens.
   */
  get refused(): boolean {
    return this.#handshakeFailures >= REFUSED_AFTER_FAILURES;
  }

  /** When `reconnecting`: the clock time of the next attempt (equal to now or earlier once it is under way). */
  get retryAt(): number {
    return this.#retryAt;
  }

  /** @internal */
  hostConnected(): void {
    this.#attached = true;
    this.sync();
  }

  /**
   * Before the host renders: a changed `src` or `device` takes effect in the same update, so the
   * state change it causes is rendered by it rather than scheduling another update from inside one.
   * @internal
   */
  hostUpdate(): void {
    this.sync();
  }

  /** @internal */
  hostDisconnected(): void {
    this.#attached = false;
    this.stop();
  }

  /**
   * Re-reads the endpoint; starts, or restarts with a fresh mount counter, when it changed.
   * Called by the host's lifecycle; call it yourself when not using a Lit host.
   */
  sync(): void {
    if (!this.#attached) return;
    let endpoint: Endpoint | null;
    try {
      endpoint = this.#handlers.endpoint();
    } catch (e) {
      if (this.#endpointKey === UNUSABLE_ENDPOINT) return;
      this.stop();
      this.#endpointKey = UNUSABLE_ENDPOINT;
      this.#fail(0, 'bad-src', (e as Error).message);
      return;
    }
    const key = endpoint ? `${endpoint.device} ${endpoint.url}` : '';
    if (key === this.#endpointKey) return;
    // A different device or server: nothing this instance showed belongs to it.
    if (this.#endpointKey !== undefined) this.#mounts = 0;
    this.stop();
    this.#endpointKey = key;
    if (key) this.#start();
  }

  /** Attaches to the page as if the host had been connected (for use without a Lit host). */
  attach(): void {
    this.#attached = true;
    this.sync();
  }

  /** Starts over after `failed` (e.g. with a new token), keeping the mount counter. */
  reconnect(): void {
    const key = this.#endpointKey;
    this.stop();
    if (!this.#attached || !key || key === UNUSABLE_ENDPOINT) return this.sync();
    this.#endpointKey = key;
    this.#start();
  }

  /** Closes the socket, cancels every timer and listener. Safe to call twice. */
  stop(): void {
    this.#generation++;
    this.#endpointKey = undefined;
    this.#clearTimers();
    this.#listenForWake(false);
    const socket = this.#socket;
    if (socket) {
      this.#detach(socket);
      try {
        socket.close(1000, 'element removed');
      } catch {
        /* already closing */
      }
      this.#reportUnanswered();
    }
    this.#setState(ConnectionState.Closed);
  }

  /**
   * Sends a user edit (`value` `null`: an action's press) if the connection is `live`. Returns the
   * frame sent (with its `id`), or `null` when nothing was sent: writes are never queued.
   */
  send(field: string, value: WritableValue | null, rev: number): SetFrame | null {
    if (this.#state !== ConnectionState.Live || !this.#socket || this.#epoch === null) return null;
    const set: SetFrame = { type: 'set', id: ++this.#setId, field, value, rev, epoch: this.#epoch };
    this.#unanswered.set(set.id, set);
    this.#sendFrame(set);
    return set;
  }

  /** Tries at once if waiting to retry; checks a seemingly live link with a ping. */
  wake = (): void => {
    if (globalThis.document?.visibilityState === 'hidden') return;
    if (this.#state === ConnectionState.Reconnecting && !this.#socket && this.#attemptTimer !== undefined) {
      this.#connect();
    } else if (this.#opened && !this.#awaitingPong) this.#ping();
  };

  #start(): void {
    this.#error = null;
    this.#handshakeFailures = 0;
    this.#serverError = null;
    this.#backoff.reset();
    this.#listenForWake(true);
    this.#connect();
  }

  #connect(): void {
    const generation = ++this.#generation;
    this.#clearTimers();
    this.#setState(this.#mounts ? ConnectionState.Reconnecting : ConnectionState.Connecting);
    let token: ReturnType<NonNullable<ConnectionHandlers['token']>>;
    try {
      token = this.#handlers.token?.();
    } catch {
      this.#retry(false);
      return;
    }
    if (token instanceof Promise) {
      token.then(
        (t) => generation === this.#generation && this.#open(t),
        () => generation === this.#generation && this.#retry(false),
      );
    } else this.#open(token);
  }

  #open(token: string | undefined | null): void {
    const endpoint = this.#handlers.endpoint();
    if (!endpoint) return this.stop();
    let socket: SocketLike;
    try {
      socket = this.#openSocket(endpoint.url, SUBPROTOCOL);
    } catch (e) {
      return this.#fail(0, 'bad-src', (e as Error).message);
    }
    this.#socket = socket;
    this.#opened = this.#synced = false;
    this.#epoch = null;
    this.#attemptTimer = this.#clock.setTimeout(() => this.#drop('connect timeout', false), this.#connectTimeoutMs);
    socket.onopen = () => {
      this.#clearTimers();
      this.#opened = true;
      this.#handshakeFailures = 0;
      this.#sendFrame(
        token
          ? { type: 'hello', device: endpoint.device, mounts: this.#mounts, token }
          : { type: 'hello', device: endpoint.device, mounts: this.#mounts },
      );
      this.#setState(this.#mounts ? ConnectionState.Resyncing : ConnectionState.Connecting);
      this.#schedulePing();
    };
    socket.onmessage = (ev) => this.#receive(ev.data);
    socket.onclose = (ev) => this.#onClose(ev.code, ev.reason);
    socket.onerror = null;
  }

  #receive(data: unknown): void {
    const result = parseServerFrame(data);
    if (!result.ok) return this.#drop(`bad frame from server: ${result.message}`);
    const frame = result.frame;
    switch (frame.type) {
      case 'pong':
        if (frame.id === this.#pingId && this.#awaitingPong) this.#schedulePing();
        return;
      case 'error':
        // The close that follows says whether it is fatal; keep the code and words for `failed`.
        this.#serverError = frame;
        return;
      case 'resync':
        if (!this.#synced) {
          this.#synced = true;
          this.#mounts++;
        }
        this.#epoch = frame.epoch;
        this.#handlers.onFrame(frame);
        return this.#setState(frame.device === 'online' ? ConnectionState.Live : heldState(frame.device));
      case 'device':
        this.#handlers.onFrame(frame);
        // `gone` may come before any resync (the device was gone when the page said hello).
        if (this.#synced || frame.status === 'gone') this.#setState(heldState(frame.status));
        return;
      case 'update':
        return this.#handlers.onFrame(frame);
      case 'ack': {
        const set = this.#unanswered.get(frame.id);
        if (!set) return;
        this.#unanswered.delete(frame.id);
        return this.#handlers.onAck(set, frame);
      }
      default: {
        const never: never = frame;
        return never;
      }
    }
  }

  /** `handshake`: a close before the socket opened counts as a handshake failure (not after a connect timeout). */
  #onClose(code: number, reason: string, handshake = true): void {
    const socket = this.#socket;
    if (socket && !this.#opened && handshake) this.#handshakeFailures++;
    if (socket) this.#detach(socket);
    this.#socket = null;
    this.#generation++;
    this.#clearTimers();
    const wasSynced = this.#synced;
    this.#opened = this.#synced = false;
    this.#epoch = null;
    if (code === DRAINED_CLOSE_CODE) this.#refuseUnread();
    else this.#reportUnanswered();
    const serverError = this.#serverError;
    this.#serverError = null;
    if (isFatalCloseCode(code)) {
      // Every fatal close code has its error code.
      return this.#fail(code, serverError?.code ?? errorCodeOfClose(code)!, serverError?.message || reason);
    }
    this.#retry(wasSynced);
  }

  #retry(wasSynced: boolean): void {
    const now = this.#clock.now();
    let delay: number;
    if (wasSynced && now - this.#lastImmediateRetryAt >= IMMEDIATE_RETRY_GAP_MS) {
      this.#lastImmediateRetryAt = now;
      this.#backoff.reset();
      delay = 0;
    } else delay = this.#backoff.next();
    this.#retryAt = now + delay;
    this.#setState(ConnectionState.Reconnecting);
    if (delay === 0) this.#connect();
    else this.#attemptTimer = this.#clock.setTimeout(() => this.#connect(), delay);
  }

  /** Gives up on the current socket without waiting for its closing handshake (which a dead link never completes). */
  #drop(reason: string, handshake = true): void {
    const socket = this.#socket;
    if (!socket) return;
    this.#detach(socket);
    try {
      socket.close(CLIENT_DROP_CODE, closeReason(reason));
    } catch {
      /* nothing to close */
    }
    this.#onClose(1006, reason, handshake);
  }

  #fail(code: number, reason: ConnectionErrorReason, message: string): void {
    this.#clearTimers();
    this.#listenForWake(false);
    this.#error = { code, reason, message };
    this.#setState(ConnectionState.Failed);
  }

  /** The socket is gone: its unanswered sets go to `onUnconfirmed`, never to be re-sent. */
  #reportUnanswered(): void {
    if (!this.#unanswered.size) return;
    const sets = [...this.#unanswered.values()];
    this.#unanswered.clear();
    this.#handlers.onUnconfirmed(sets);
  }

  /**
   * The server drained and closed (1001): its unanswered sets were not read, so they are answered
   * here as it answers a set that arrives while it drains — `rejected` / `offline`.
   */
  #refuseUnread(): void {
    const sets = [...this.#unanswered.values()];
    this.#unanswered.clear();
    for (const set of sets) {
      this.#handlers.onAck(set, {
        type: 'ack',
        id: set.id,
        status: 'rejected',
        reason: 'offline',
        message: 'not read: the server closed the connection to restart (1001)',
      });
    }
  }

  #schedulePing(): void {
    this.#clock.clearTimeout(this.#heartbeatTimer);
    this.#awaitingPong = false;
    this.#heartbeatTimer = this.#clock.setTimeout(() => this.#ping(), this.#pingIntervalMs);
  }

  #ping(): void {
    this.#clock.clearTimeout(this.#heartbeatTimer);
    this.#awaitingPong = true;
    this.#sendFrame({ type: 'ping', id: ++this.#pingId });
    this.#heartbeatTimer = this.#clock.setTimeout(() => this.#drop('heartbeat timeout'), this.#pingTimeoutMs);
  }

  #sendFrame(frame: ClientFrame): void {
    this.#socket?.send(encodeFrame(frame));
  }

  #detach(socket: SocketLike): void {
    socket.onopen = socket.onmessage = socket.onclose = socket.onerror = null;
  }

  #clearTimers(): void {
    this.#clock.clearTimeout(this.#attemptTimer);
    this.#clock.clearTimeout(this.#heartbeatTimer);
    this.#attemptTimer = this.#heartbeatTimer = undefined;
    this.#awaitingPong = false;
  }

  #listenForWake(on: boolean): void {
    const target = this.#wakeEvents;
    if (!target) return;
    const method = on ? 'addEventListener' : 'removeEventListener';
    target[method]('online', this.wake);
    target[method]('visibilitychange', this.wake);
  }

  #setState(state: ConnectionState): void {
    const refused = this.refused;
    if (state === this.#state && state !== ConnectionState.Reconnecting && refused === this.#reportedRefused) return;
    this.#state = state;
    this.#reportedRefused = refused;
    this.#handlers.onState(state);
  }
}
