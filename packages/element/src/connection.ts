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
  type ResyncFrame,
  type SetFrame,
  type UpdateFrame,
  type WritableValue,
  Backoff,
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
 * - `offline`: connected, but the device or its broker is unavailable. Inputs are read-only.
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

/** Tunables of the connection. Every field is optional; defaults are given per field. */
export interface ConnectionOptions {
  /** Milliseconds between app-level pings. Defaults to `5000`. */
  pingInterval?: number;
  /** Milliseconds to wait for a `pong` before the link counts as dead. Defaults to `5000`. */
  pingTimeout?: number;
  /** Milliseconds a socket may take to open. Defaults to `10000`. */
  connectTimeout?: number;
  /** Delays between failed attempts (exponential, full jitter). */
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

/** Why the connection stopped for good, for the status line and `ldf-error`. */
export interface ConnectionError {
  /** The WebSocket close code, or `0` when `src` is unusable. */
  code: number;
  /** The server's `error` message, the close reason, or a description. */
  message: string;
}

/** The real clock: `Date.now` and the global timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * A socket that closes and is replaced within this many milliseconds of the last immediate
 * reconnect goes through the backoff instead, so a server that resyncs and then drops every socket
 * is not hammered in a tight loop.
 */
const IMMEDIATE_RETRY_GAP = 1000;

/** Close code the client uses when it gives up on a socket itself (heartbeat, bad frame). */
const CLIENT_DROP = 4000;

/**
 * Resolves the element's `src` against the page: `ws:`/`wss:` URLs as they are, `http(s):` URLs
 * and paths mapped to `ws(s):`. Throws a `TypeError` for anything else.
 *
 * @example
 * resolveSocketUrl('/ldf', 'https://example.com/settings') // 'wss://example.com/ldf'
 */
export function resolveSocketUrl(src: string, base: string): string {
  const url = new URL(src, base);
  if (url.protocol === 'http:' || url.protocol === 'https:') url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw new TypeError(`src must be a ws: or wss: URL or a path, not "${src}"`);
  return url.href;
}

/**
 * One logical connection of one element instance: a sequence of sockets.
 *
 * - `hello.mounts` is the number of this instance's earlier sockets that completed a `resync`.
 * - After a socket that had been resynced dies, the next attempt is immediate; failed attempts
 *   after that wait `Backoff.next()`. `online` and `visibilitychange` cut a wait short.
 * - A `ping` every `pingInterval`; no `pong` within `pingTimeout` drops the socket.
 * - `set`s are sent only while `live`; nothing is queued, nothing is re-sent. Sets unanswered when
 *   their socket dies go to `onUnconfirmed`.
 * - A fatal close code stops it in `failed`.
 *
 * As a Lit `ReactiveController` it starts when the host is connected (or gets an endpoint) and
 * closes everything, timers included, when the host is disconnected.
 */
export class Connection implements ReactiveController {
  readonly #o: Required<Omit<ConnectionOptions, 'backoff' | 'events'>> & Pick<ConnectionOptions, 'events'>;
  readonly #backoff: Backoff;
  #st: ConnectionState = ConnectionState.Closed;
  #ws: SocketLike | null = null;
  /** Bumped by every attempt and by `stop()`; async results of an older attempt are dropped. */
  #gen = 0;
  #opened = false;
  #synced = false;
  #completed = 0;
  #attached = false;
  #key: string | undefined;
  #timer: unknown;
  #beat: unknown;
  #pongDue = false;
  #pingId = 0;
  #setId = 0;
  #lastImmediate = -Infinity;
  #serverMessage = '';
  readonly #inflight = new Map<number, SetFrame>();
  readonly #h: ConnectionHandlers;
  #err: ConnectionError | null = null;
  #due = 0;

  constructor(host: ReactiveControllerHost | null, handlers: ConnectionHandlers, options: ConnectionOptions = {}) {
    this.#h = handlers;
    this.#o = {
      pingInterval: options.pingInterval ?? 5000,
      pingTimeout: options.pingTimeout ?? 5000,
      connectTimeout: options.connectTimeout ?? 10_000,
      socket: options.socket ?? ((url, protocol) => new WebSocket(url, protocol) as unknown as SocketLike),
      clock: options.clock ?? systemClock,
      events: options.events === undefined ? (globalThis.window ?? null) : options.events,
    };
    this.#backoff = new Backoff(options.backoff);
    host?.addController(this);
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#st;
  }

  /** Why the connection is `failed`, else `null`. */
  get error(): ConnectionError | null {
    return this.#err;
  }

  /** The `mounts` the next `hello` carries: how many earlier sockets completed a resync. */
  get mounts(): number {
    return this.#completed;
  }

  /** When `reconnecting`: the clock time of the next attempt (equal to now or earlier once it is under way). */
  get retryAt(): number {
    return this.#due;
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
    let ep: Endpoint | null;
    try {
      ep = this.#h.endpoint();
    } catch (e) {
      if (this.#key === '!') return;
      this.stop();
      this.#key = '!';
      this.#fail(0, (e as Error).message);
      return;
    }
    const key = ep ? `${ep.device} ${ep.url}` : '';
    if (key === this.#key) return;
    // A different device or server: nothing this instance showed belongs to it.
    if (this.#key !== undefined) this.#completed = 0;
    this.stop();
    this.#key = key;
    if (key) this.#start();
  }

  /** Attaches to the page as if the host had been connected (for use without a Lit host). */
  attach(): void {
    this.#attached = true;
    this.sync();
  }

  /** Starts over after `failed` (e.g. with a new token), keeping the mount counter. */
  reconnect(): void {
    const key = this.#key;
    this.stop();
    if (!this.#attached || !key || key === '!') return this.sync();
    this.#key = key;
    this.#start();
  }

  /** Closes the socket, cancels every timer and listener. Safe to call twice. */
  stop(): void {
    this.#gen++;
    this.#key = undefined;
    this.#clearTimers();
    this.#listen(false);
    const ws = this.#ws;
    if (ws) {
      this.#detach(ws);
      try {
        ws.close(1000, 'element removed');
      } catch {
        /* already closing */
      }
      this.#lost();
    }
    this.#setState(ConnectionState.Closed);
  }

  /**
   * Sends a user edit if the connection is `live`. Returns the frame sent (with its `id`), or
   * `null` when nothing was sent: writes are never queued.
   */
  send(field: string, value: WritableValue, rev: number): SetFrame | null {
    if (this.#st !== ConnectionState.Live || !this.#ws) return null;
    const set: SetFrame = { type: 'set', id: ++this.#setId, field, value, rev };
    this.#inflight.set(set.id, set);
    this.#out(set);
    return set;
  }

  /** Tries at once if waiting to retry; checks a seemingly live link with a ping. */
  wake = (): void => {
    if (globalThis.document?.visibilityState === 'hidden') return;
    if (this.#st === ConnectionState.Reconnecting && !this.#ws && this.#timer !== undefined) this.#connect();
    else if (this.#opened && !this.#pongDue) this.#ping();
  };

  #start(): void {
    this.#err = null;
    this.#serverMessage = '';
    this.#backoff.reset();
    this.#listen(true);
    this.#connect();
  }

  #connect(): void {
    const gen = ++this.#gen;
    this.#clearTimers();
    this.#setState(this.#completed ? ConnectionState.Reconnecting : ConnectionState.Connecting);
    let token: ReturnType<NonNullable<ConnectionHandlers['token']>>;
    try {
      token = this.#h.token?.();
    } catch {
      this.#retry(false);
      return;
    }
    if (token instanceof Promise) {
      token.then(
        (t) => gen === this.#gen && this.#open(t),
        () => gen === this.#gen && this.#retry(false),
      );
    } else this.#open(token);
  }

  #open(token: string | undefined | null): void {
    const ep = this.#h.endpoint();
    if (!ep) return this.stop();
    let ws: SocketLike;
    try {
      ws = this.#o.socket(ep.url, SUBPROTOCOL);
    } catch (e) {
      return this.#fail(0, (e as Error).message);
    }
    this.#ws = ws;
    this.#opened = this.#synced = false;
    this.#timer = this.#o.clock.setTimeout(() => this.#drop('connect timeout'), this.#o.connectTimeout);
    ws.onopen = () => {
      this.#clearTimers();
      this.#opened = true;
      this.#out(
        token
          ? { type: 'hello', device: ep.device, mounts: this.#completed, token }
          : { type: 'hello', device: ep.device, mounts: this.#completed },
      );
      this.#setState(this.#completed ? ConnectionState.Resyncing : ConnectionState.Connecting);
      this.#schedulePing();
    };
    ws.onmessage = (ev) => this.#receive(ev.data);
    ws.onclose = (ev) => this.#closed(ev.code, ev.reason);
    ws.onerror = null;
  }

  #receive(data: unknown): void {
    const r = parseServerFrame(data);
    if (!r.ok) return this.#drop(`bad frame from server: ${r.message}`);
    const f = r.frame;
    switch (f.type) {
      case 'pong':
        if (f.id === this.#pingId && this.#pongDue) this.#schedulePing();
        return;
      case 'error':
        // The close that follows says whether it is fatal; keep the words for the status line.
        this.#serverMessage = f.message;
        return;
      case 'resync':
        if (!this.#synced) {
          this.#synced = true;
          this.#completed++;
        }
        this.#h.onFrame(f);
        return this.#setState(f.device === 'online' ? ConnectionState.Live : ConnectionState.Offline);
      case 'device':
        this.#h.onFrame(f);
        if (this.#synced) this.#setState(ConnectionState.Offline);
        return;
      case 'update':
        return this.#h.onFrame(f);
      case 'ack': {
        const set = this.#inflight.get(f.id);
        if (!set) return;
        this.#inflight.delete(f.id);
        return this.#h.onAck(set, f);
      }
      default: {
        const never: never = f;
        return never;
      }
    }
  }

  #closed(code: number, reason: string): void {
    const ws = this.#ws;
    if (ws) this.#detach(ws);
    this.#ws = null;
    this.#gen++;
    this.#clearTimers();
    const wasSynced = this.#synced;
    this.#opened = this.#synced = false;
    this.#lost();
    if (isFatalCloseCode(code)) return this.#fail(code, this.#serverMessage || reason);
    this.#serverMessage = '';
    this.#retry(wasSynced);
  }

  #retry(wasSynced: boolean): void {
    const now = this.#o.clock.now();
    let delay: number;
    if (wasSynced && now - this.#lastImmediate >= IMMEDIATE_RETRY_GAP) {
      this.#lastImmediate = now;
      this.#backoff.reset();
      delay = 0;
    } else delay = this.#backoff.next();
    this.#due = now + delay;
    this.#setState(ConnectionState.Reconnecting);
    if (delay === 0) this.#connect();
    else this.#timer = this.#o.clock.setTimeout(() => this.#connect(), delay);
  }

  /** Gives up on the current socket without waiting for its closing handshake (which a dead link never completes). */
  #drop(reason: string): void {
    const ws = this.#ws;
    if (!ws) return;
    this.#detach(ws);
    try {
      ws.close(CLIENT_DROP, reason);
    } catch {
      /* nothing to close */
    }
    this.#closed(1006, reason);
  }

  #fail(code: number, message: string): void {
    this.#clearTimers();
    this.#listen(false);
    this.#err = { code, message };
    this.#setState(ConnectionState.Failed);
  }

  #lost(): void {
    if (!this.#inflight.size) return;
    const sets = [...this.#inflight.values()];
    this.#inflight.clear();
    this.#h.onUnconfirmed(sets);
  }

  #schedulePing(): void {
    this.#o.clock.clearTimeout(this.#beat);
    this.#pongDue = false;
    this.#beat = this.#o.clock.setTimeout(() => this.#ping(), this.#o.pingInterval);
  }

  #ping(): void {
    this.#o.clock.clearTimeout(this.#beat);
    this.#pongDue = true;
    this.#out({ type: 'ping', id: ++this.#pingId });
    this.#beat = this.#o.clock.setTimeout(() => this.#drop('heartbeat timeout'), this.#o.pingTimeout);
  }

  #out(frame: ClientFrame): void {
    this.#ws?.send(encodeFrame(frame));
  }

  #detach(ws: SocketLike): void {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }

  #clearTimers(): void {
    const c = this.#o.clock;
    c.clearTimeout(this.#timer);
    c.clearTimeout(this.#beat);
    this.#timer = this.#beat = undefined;
    this.#pongDue = false;
  }

  #listen(on: boolean): void {
    const t = this.#o.events;
    if (!t) return;
    const m = on ? 'addEventListener' : 'removeEventListener';
    t[m]('online', this.wake);
    t[m]('visibilitychange', this.wake);
  }

  #setState(s: ConnectionState): void {
    if (s === this.#st && s !== ConnectionState.Reconnecting) return;
    this.#st = s;
    this.#h.onState(s);
  }
}
