/**
 * The fault proxy: one loopback TCP proxy for every test, bench and chaos run that needs a real
 * network fault between two real peers (a browser or `ws` client and the server, the SDK and its
 * MQTT broker). It never touches either end; it only decides what happens to their bytes:
 *
 * - **pass**: bytes flow both ways (optionally delayed and split into small pieces per link);
 * - **cut**: open links are reset (the client's side at once; the server's side either at once, or
 *   kept open and silent for a linger and then half-closed, so the server's answers to what it had
 *   already received can still be observed);
 * - **refuse**: like cut, and every new connection is reset as soon as it arrives (the peer looks down);
 * - **black-hole**: links stay open but nothing crosses in either direction, the way a sleeping
 *   laptop's or a dead Wi-Fi's link looks to both ends; new links too, until `pass()`. A
 *   black-holed link stays dead after `pass()`: its bytes were lost, as over a broken network.
 *
 * Taps see the server's side of every fault: bytes to the server when they are written to it (a
 * byte dropped by a cut or a black hole never reached the server), bytes from the server when they
 * arrive, whether or not they are then delivered. {@link wsFrameTap} and {@link mqttPacketTap}
 * decode them.
 * @module
 */
import { EventEmitter } from 'node:events';
import { type Server, type Socket, connect, createServer } from 'node:net';

/** What the proxy does with new connections. */
export const ProxyMode = {
  /** Forwarded. */
  Pass: 'pass',
  /** Reset as soon as they arrive. */
  Refuse: 'refuse',
  /** Accepted and kept open; nothing crosses. */
  BlackHole: 'black-hole',
} as const;
export type ProxyMode = (typeof ProxyMode)[keyof typeof ProxyMode];

/** Where one link is in its life. */
export const ProxyLinkState = {
  /** Forwarding (after its head was read, when the proxy reads heads). */
  Open: 'open',
  /** Open on both sides; nothing crosses. */
  BlackHoled: 'black-holed',
  /** The client's side is gone; the server's side is kept open and silent until it is ended. */
  Lingering: 'lingering',
  /** Both sides are closed. */
  Closed: 'closed',
} as const;
export type ProxyLinkState = (typeof ProxyLinkState)[keyof typeof ProxyLinkState];

/** How one link's bytes travel while it is open. */
export interface LinkShape {
  /** Milliseconds every chunk waits before it is forwarded, both ways (order is kept). Defaults to `0`. */
  delayMs?: number;
  /**
   * When given, chunks are forwarded in pieces, one per event-loop turn, of the sizes these return
   * (one function per direction, so a seeded run splits the same way whatever the timing).
   */
  split?: { toServer: () => number; toClient: () => number };
}

/** What a tap is given: the bytes on the server's side of the proxy. */
export interface LinkTap {
  /** Bytes written to the server (after every fault: what the server really received). */
  toServer?(bytes: Buffer): void;
  /** Bytes the server sent (before any fault: what the server really sent). */
  fromServer?(bytes: Buffer): void;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Where the proxied server listens. `host` defaults to `127.0.0.1`. */
  target: { host?: string; port: number };
  /**
   * Hold a link's first bytes until its HTTP request head (`…\r\n\r\n`) has arrived, so `shape`
   * and `tap` can read {@link ProxyLink.head} (a WebSocket upgrade's path and query). Defaults to `false`.
   */
  readHead?: boolean;
  /** Delay and splitting of a link, decided when it opens (after its head, with `readHead`). Defaults to none. */
  shape?: (link: ProxyLink) => LinkShape;
  /** Taps for a link, decided when it opens (after its head, with `readHead`). */
  tap?: (link: ProxyLink) => LinkTap | undefined;
  /** How long after `end()` a server that does not close its side is reset. Defaults to `3000`. */
  endGraceMs?: number;
}

/** Options of {@link ProxyLink.cut}. */
export interface CutOptions {
  /**
   * Keep the server's side open and silent for this long, then half-close it. Without it the
   * server's side is destroyed at once with the client's.
   */
  lingerMs?: number;
}

const now = (): number => performance.now();

/** Forwards chunks to one socket, in order, after a delay, optionally in small pieces. */
class Pipe {
  #queue: { data: Buffer; readyAt: number }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #splitting = false;
  #onDrained: (() => void) | undefined;

  constructor(
    private readonly out: Socket,
    private readonly delayMs: number,
    private readonly pieceSize: (() => number) | undefined,
    private readonly written: (data: Buffer) => void,
  ) {}

  push(data: Buffer): void {
    if (this.delayMs === 0 && !this.pieceSize && this.#queue.length === 0 && !this.#splitting) {
      this.#write(data);
      return;
    }
    this.#queue.push({ data, readyAt: now() + this.delayMs });
    this.#schedule();
  }

  /** Drops everything not yet forwarded. */
  clear(): void {
    this.#queue = [];
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Calls `fn` once everything queued has been forwarded (at once if nothing is). */
  whenDrained(fn: () => void): void {
    if (this.#queue.length === 0 && !this.#splitting) fn();
    else this.#onDrained = fn;
  }

  #write(data: Buffer): void {
    if (this.out.destroyed || !this.out.writable) return;
    this.out.write(data);
    this.written(data);
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#splitting) return;
    const head = this.#queue[0];
    if (!head) {
      const done = this.#onDrained;
      this.#onDrained = undefined;
      done?.();
      return;
    }
    const wait = head.readyAt - now();
    if (wait > 0) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#forward();
      }, wait);
    } else this.#forward();
  }

  #forward(): void {
    const head = this.#queue.shift();
    if (!head) return this.#schedule();
    const pieceSize = this.pieceSize;
    if (!pieceSize) {
      this.#write(head.data);
      return this.#schedule();
    }
    this.#splitting = true;
    let offset = 0;
    const step = (): void => {
      if (offset >= head.data.length || this.out.destroyed) {
        this.#splitting = false;
        this.#schedule();
        return;
      }
      const size = Math.max(1, pieceSize());
      this.#write(head.data.subarray(offset, offset + size));
      offset += size;
      setImmediate(step);
    };
    step();
  }
}

/** One client connection through the proxy, and its connection to the server. */
export class ProxyLink {
  /** Position among every connection the proxy accepted (refused ones included), from 0. */
  readonly index: number;
  /** `performance.now()` when the client connected. */
  readonly openedAt = now();
  /** `performance.now()` when both sides were closed. */
  closedAt: number | undefined;
  /** When the client's side was cut or black-holed by the proxy. */
  cutAt: number | undefined;
  blackHoledAt: number | undefined;
  /** When the proxy ended the server's side, and when the server ended it. */
  proxyEndedAt: number | undefined;
  serverEndedAt: number | undefined;
  /** Whether the proxy reset it on arrival (mode refuse). */
  readonly refused: boolean;
  /** The HTTP request head (with `readHead`), once it has arrived. */
  head: string | undefined;
  #state: ProxyLinkState = ProxyLinkState.Open;
  #toServer: Pipe | undefined;
  #toClient: Pipe | undefined;
  #tap: LinkTap | undefined;
  #early: Buffer[] = [];
  #headBytes = 0;
  #upstreamConnected = false;
  #endTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #client: Socket;
  readonly #upstream: Socket | undefined;
  readonly #proxy: FaultProxy;

  /** @internal */
  constructor(proxy: FaultProxy, index: number, client: Socket, mode: ProxyMode) {
    this.#proxy = proxy;
    this.index = index;
    this.#client = client;
    client.setNoDelay(true);
    client.on('error', () => {});
    this.refused = mode === ProxyMode.Refuse;
    if (this.refused) {
      this.#state = ProxyLinkState.Closed;
      this.closedAt = now();
      client.resetAndDestroy();
      return;
    }
    const { host = '127.0.0.1', port } = proxy.options.target;
    const upstream = connect({ host, port });
    this.#upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('error', () => {});
    upstream.once('connect', () => {
      this.#upstreamConnected = true;
      proxy.emit('upstream', this);
    });
    client.on('data', (d: Buffer) => this.#fromClient(d));
    upstream.on('data', (d: Buffer) => this.#fromServer(d));
    client.on('close', () => this.#onClientClose());
    upstream.on('end', () => this.#onServerEnd());
    upstream.on('close', () => this.#onServerClose());
    if (!proxy.options.readHead) this.#start();
    if (mode === ProxyMode.BlackHole) this.blackHole();
  }

  /** The link's state. */
  get state(): ProxyLinkState {
    return this.#state;
  }

  /** Whether the client's side is still open (forwarding or black-holed). */
  get open(): boolean {
    return this.#state === ProxyLinkState.Open || this.#state === ProxyLinkState.BlackHoled;
  }

  /** The request target of the HTTP head (`/live?c=a&n=2`), with `readHead`. */
  get target(): string | undefined {
    return this.head === undefined ? undefined : /^[A-Z]+ (\S+) HTTP/.exec(this.head)?.[1];
  }

  #start(): void {
    const proxy = this.#proxy;
    const shape = proxy.options.shape?.(this) ?? {};
    this.#tap = proxy.options.tap?.(this);
    const tap = this.#tap;
    const upstream = this.#upstream as Socket;
    this.#toServer = new Pipe(upstream, shape.delayMs ?? 0, shape.split?.toServer, (b) => {
      tap?.toServer?.(b);
      proxy.emit('data', this);
    });
    this.#toClient = new Pipe(this.#client, shape.delayMs ?? 0, shape.split?.toClient, () => {});
    for (const chunk of this.#early.splice(0)) this.#toServer.push(chunk);
  }

  #fromClient(data: Buffer): void {
    if (this.#state !== ProxyLinkState.Open) return;
    if (this.#toServer) {
      this.#toServer.push(data);
      return;
    }
    // Reading the head: hold the bytes until it is complete (or clearly is not coming).
    this.#early.push(data);
    this.#headBytes += data.length;
    const bytes = Buffer.concat(this.#early);
    const end = bytes.indexOf('\r\n\r\n');
    if (end < 0 && this.#headBytes < 16 * 1024) return;
    this.head = bytes.subarray(0, Math.max(0, end)).toString('latin1');
    this.#start();
  }

  #fromServer(data: Buffer): void {
    this.#tap?.fromServer?.(data);
    this.#proxy.emit('data', this);
    if (this.#state === ProxyLinkState.Open) this.#toClient?.push(data);
  }

  /**
   * Resets the client's side. The server's side is destroyed too, or with `lingerMs` kept open
   * and silent that long and then half-closed. A black-holed link's server side is left to the
   * server's heartbeat (or the black hole's own limit).
   */
  cut(options: CutOptions = {}): void {
    if (!this.open) return;
    const wasBlackHoled = this.#state === ProxyLinkState.BlackHoled;
    this.cutAt = now();
    this.#toServer?.clear();
    this.#toClient?.clear();
    if (!this.#client.destroyed) this.#client.resetAndDestroy();
    if (options.lingerMs === undefined) {
      this.#upstream?.destroy();
      this.#finish();
      return;
    }
    this.#state = ProxyLinkState.Lingering;
    if (wasBlackHoled) return;
    this.#endTimer = setTimeout(() => this.#endServerSide(), options.lingerMs);
  }

  /**
   * Keeps both sides open and lets nothing through either way. With `maxMs`, the server's side is
   * half-closed after that long (a server without a heartbeat would otherwise keep it forever).
   */
  blackHole(options: { maxMs?: number } = {}): void {
    if (this.#state !== ProxyLinkState.Open) return;
    this.#state = ProxyLinkState.BlackHoled;
    this.blackHoledAt = now();
    this.#toServer?.clear();
    this.#toClient?.clear();
    this.#early = [];
    if (options.maxMs !== undefined) this.#endTimer = setTimeout(() => this.#endServerSide(), options.maxMs);
    this.#proxy.emit('change', this);
  }

  /** Destroys both sides now. */
  destroy(): void {
    this.#client.destroy();
    this.#upstream?.destroy();
    this.#finish();
  }

  #endServerSide(): void {
    const upstream = this.#upstream;
    if (!upstream || upstream.destroyed) return;
    this.proxyEndedAt ??= now();
    upstream.end();
    // A server that never finishes its side is reset after a while.
    setTimeout(() => upstream.destroy(), this.#proxy.options.endGraceMs ?? 3000).unref();
  }

  #onClientClose(): void {
    switch (this.#state) {
      case ProxyLinkState.Open:
        // The client closed its side: deliver what it sent, then close the server's side.
        this.#state = ProxyLinkState.Lingering;
        if (this.#toServer) this.#toServer.whenDrained(() => this.#endServerSide());
        else this.#endServerSide();
        this.#proxy.emit('change', this);
        break;
      case ProxyLinkState.BlackHoled:
        // Nothing reaches the server from a black hole, not even the close.
        this.#state = ProxyLinkState.Lingering;
        this.#proxy.emit('change', this);
        break;
      case ProxyLinkState.Lingering:
      case ProxyLinkState.Closed:
        break;
      default: {
        const never: never = this.#state;
        void never;
      }
    }
  }

  #onServerEnd(): void {
    this.serverEndedAt ??= now();
    if (this.#state === ProxyLinkState.Open && this.#toClient) this.#toClient.whenDrained(() => this.#client.end());
  }

  #onServerClose(): void {
    this.serverEndedAt ??= now();
    if (this.#state === ProxyLinkState.Open && this.#toClient && this.#upstreamConnected) {
      this.#toClient.whenDrained(() => {
        this.#client.destroy();
        this.#finish();
      });
    } else {
      this.#client.destroy();
      this.#finish();
    }
  }

  #finish(): void {
    if (this.#state === ProxyLinkState.Closed) return;
    clearTimeout(this.#endTimer);
    this.#state = ProxyLinkState.Closed;
    this.closedAt = now();
    this.#proxy.forget(this);
  }
}

/** A running fault proxy. Events: `link` (accepted), `upstream` (reached the server), `change`, `data`. */
export class FaultProxy extends EventEmitter {
  /** Every connection ever accepted, in order (refused ones included). */
  readonly links: ProxyLink[] = [];
  /** The port it listens on, on 127.0.0.1. */
  port = 0;
  #mode: ProxyMode = ProxyMode.Pass;
  readonly #open = new Set<ProxyLink>();
  #server: Server | undefined;

  /** @internal */
  constructor(readonly options: FaultProxyOptions) {
    super();
    this.setMaxListeners(0);
  }

  /** What happens to new connections. */
  get mode(): ProxyMode {
    return this.#mode;
  }

  /** Links whose client side is still open. */
  get openLinks(): ProxyLink[] {
    return this.links.filter((l) => l.open);
  }

  /** The number of links not yet fully closed (lingering ones included). */
  get activeCount(): number {
    return this.#open.size;
  }

  /** `SCHEME://127.0.0.1:PORT` followed by `path`. */
  url(scheme: 'ws' | 'mqtt' | 'http' = 'ws', path = ''): string {
    return `${scheme}://127.0.0.1:${this.port}${path}`;
  }

  /** @internal */
  async listen(): Promise<void> {
    this.#server = createServer((client) => {
      const link = new ProxyLink(this, this.links.length, client, this.#mode);
      this.links.push(link);
      if (!link.refused) this.#open.add(link);
      this.emit('link', link);
      this.emit('change', link);
    });
    const server = this.#server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** @internal */
  forget(link: ProxyLink): void {
    if (this.#open.delete(link)) this.emit('change', link);
  }

  /** Sets what happens to new connections only; open links are left as they are. */
  setMode(mode: ProxyMode): void {
    this.#mode = mode;
  }

  /** Cuts every open link (see {@link ProxyLink.cut}); new connections are still accepted. */
  cut(options: CutOptions = {}): void {
    for (const link of this.openLinks) link.cut(options);
  }

  /** Cuts every open link and resets every new connection until {@link pass}. */
  refuse(): void {
    this.#mode = ProxyMode.Refuse;
    this.cut();
  }

  /** Black-holes every open link and every new one until {@link pass}. */
  blackHole(): void {
    this.#mode = ProxyMode.BlackHole;
    for (const link of this.openLinks) link.blackHole();
  }

  /** New connections are forwarded again (links black-holed before stay dead). */
  pass(): void {
    this.#mode = ProxyMode.Pass;
  }

  /** Resolves once `predicate()` holds, re-checked at every link event and every byte tapped; rejects after `timeoutMs`. */
  until<T>(predicate: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        let value: T | undefined | false;
        try {
          value = predicate();
        } catch (err) {
          done();
          reject(err as Error);
          return;
        }
        if (value) {
          done();
          resolve(value);
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`fault proxy: timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.off('change', check);
        this.off('data', check);
        this.off('upstream', check);
      };
      this.on('change', check);
      this.on('data', check);
      this.on('upstream', check);
      check();
    });
  }

  /** Resolves when `n` connections in all have been accepted (refused ones included). */
  waitForLinks(n: number, timeoutMs = 10_000): Promise<number> {
    return this.until(() => this.links.length >= n && this.links.length, `${n} connections`, timeoutMs);
  }

  /** Resolves at the next connection that reaches the server. */
  nextUpstream(): Promise<ProxyLink> {
    return new Promise((resolve) => this.once('upstream', resolve));
  }

  /** Resolves at the next connection accepted, refused or not. */
  nextLink(): Promise<ProxyLink> {
    return new Promise((resolve) => this.once('link', resolve));
  }

  /** Resolves when no link is left, lingering ones included. */
  idle(): Promise<void> {
    if (this.#open.size === 0) return Promise.resolve();
    return this.until(() => this.#open.size === 0, 'every link to close', 2 ** 31 - 1).then(() => undefined);
  }

  /** Stops listening and destroys every link. Safe to call twice. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    for (const link of [...this.#open]) link.destroy();
    await closed;
  }
}

/** Starts a fault proxy on a free loopback port in front of `options.target`. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const proxy = new FaultProxy(options);
  await proxy.listen();
  return proxy;
}
