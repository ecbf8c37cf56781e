/**
 * The chaos proxy: a loopback TCP proxy between WebSocket clients and the server that can cut a
 * connection, black-hole it (open but silent both ways, as a sleeping laptop), delay and split its
 * bytes — and records every WebSocket frame that crosses it, in each direction, on the server's
 * side of every fault:
 *
 * - client → server frames are recorded when their bytes are written to the server's socket (a
 *   frame dropped by a cut or a black hole never reached the server and is not recorded);
 * - server → client frames are recorded when their bytes arrive from the server, whether or not
 *   they are then delivered to the client.
 *
 * A cut resets the client's side at once; the server's side is kept open and silent for a
 * "linger" (0 ms: a plain close) and then half-closed, so the server's answers to frames it had
 * already received are still recorded. A black-holed connection stays open on both sides: the
 * client gives up on its own, and the server's heartbeat has to find out.
 *
 * Each connection's delay and splitting are drawn from a stream named after the client and its
 * connection number (the `c` and `n` query parameters of the upgrade request), so they do not
 * depend on the order connections arrive in.
 * @module
 */
import { type Server, type Socket, connect, createServer } from 'node:net';
import type { Rng } from './prng.js';
import type { ConnectionRecord, FrameRecord } from './records.js';
import { type WsMessage, WsStreamReader } from './ws-frames.js';

/** Fault settings of one connection, fixed when its upgrade request is read. */
export interface LinkShape {
  /** Milliseconds every chunk waits before it is forwarded, both ways (order is kept). */
  delayMs: number;
  /** Whether chunks are forwarded in pieces of 1–16 bytes, one per event-loop turn. */
  split: boolean;
}

/** Options of {@link startChaosProxy}. */
export interface ChaosProxyOptions {
  /** Where the server listens. */
  target: { host: string; port: number };
  /** The run's PRNG; each connection forks its own stream from it. */
  rng: Rng;
  /** Probability that a connection is delayed. Defaults to `0.3`. */
  delayChance?: number;
  /** Largest delay in milliseconds. Defaults to `25`. */
  maxDelayMs?: number;
  /** Probability that a connection's chunks are split. Defaults to `0.3`. */
  splitChance?: number;
  /** Longest a black-holed connection's server side is kept open, in ms. Defaults to `20000`. */
  maxBlackholeMs?: number;
  /** Clients held to the element's contract (the checker applies extra checks to them). */
  isPolite?: (client: string) => boolean;
}

type PairState = 'open' | 'blackholed' | 'lingering' | 'closed';

const now = (): number => performance.now();

/** Forwards chunks to one socket, in order, after a delay, optionally in small pieces. */
class Pipe {
  private queue: { data: Buffer; readyAt: number }[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private busy = false;
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly out: Socket,
    private readonly shape: LinkShape,
    private readonly rng: Rng,
    private readonly written: (data: Buffer) => void,
  ) {}

  push(data: Buffer): void {
    if (this.shape.delayMs === 0 && !this.shape.split && this.queue.length === 0 && !this.busy) {
      this.write(data);
      return;
    }
    this.queue.push({ data, readyAt: now() + this.shape.delayMs });
    this.schedule();
  }

  /** Drops everything not yet forwarded. */
  clear(): void {
    this.queue = [];
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Calls `fn` once everything queued has been forwarded (at once if nothing is). */
  whenDrained(fn: () => void): void {
    if (this.queue.length === 0 && !this.busy) fn();
    else this.onDrained = fn;
  }

  private write(data: Buffer): void {
    if (this.out.destroyed || !this.out.writable) return;
    this.out.write(data);
    this.written(data);
  }

  private schedule(): void {
    if (this.timer !== undefined || this.busy) return;
    const head = this.queue[0];
    if (!head) {
      const done = this.onDrained;
      this.onDrained = undefined;
      done?.();
      return;
    }
    const wait = head.readyAt - now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.forward();
      }, wait);
    } else this.forward();
  }

  private forward(): void {
    const head = this.queue.shift();
    if (!head) return this.schedule();
    if (!this.shape.split) {
      this.write(head.data);
      return this.schedule();
    }
    this.busy = true;
    let offset = 0;
    const step = (): void => {
      if (offset >= head.data.length || this.out.destroyed) {
        this.busy = false;
        this.schedule();
        return;
      }
      const size = this.rng.int(1, 16);
      this.write(head.data.subarray(offset, offset + size));
      offset += size;
      setImmediate(step);
    };
    step();
  }
}

/** One connection through the proxy. */
class Pair {
  state: PairState = 'open';
  readonly record: ConnectionRecord;
  private c2s: Pipe | undefined;
  private s2c: Pipe | undefined;
  private readonly early: Buffer[] = [];
  private headBytes = Buffer.alloc(0);
  private readonly c2sReader: WsStreamReader;
  private readonly s2cReader: WsStreamReader;
  private upstreamConnected = false;
  private blackholeTimer: ReturnType<typeof setTimeout> | undefined;
  private lingerTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly id: number,
    private readonly client: Socket,
    private readonly upstream: Socket,
    private readonly proxy: ChaosProxy,
    generation: number,
  ) {
    this.record = {
      id,
      client: '?',
      n: 0,
      serverGeneration: generation,
      openedAt: now(),
      frames: [],
      polite: false,
    };
    const record = (dir: 'c2s' | 's2c') => (m: WsMessage) => this.recordMessage(dir, m);
    this.c2sReader = new WsStreamReader({ onMessage: record('c2s') });
    this.s2cReader = new WsStreamReader({
      onHead: (head) => {
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.startLine)?.[1]);
        if (Number.isFinite(status)) this.record.httpStatus = status;
      },
      onMessage: record('s2c'),
    });
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', (d: Buffer) => this.fromClient(d));
    upstream.on('data', (d: Buffer) => this.fromServer(d));
    upstream.once('connect', () => {
      this.upstreamConnected = true;
    });
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('close', () => this.onClientClose());
    upstream.on('end', () => this.onServerEnd());
    upstream.on('close', () => this.onServerClose());
  }

  /** Reads the upgrade request's head before anything is forwarded, to name the connection. */
  private fromClient(data: Buffer): void {
    if (this.state !== 'open') return;
    if (!this.c2s) {
      this.early.push(data);
      this.headBytes = Buffer.concat([this.headBytes, data]);
      const end = this.headBytes.indexOf('\r\n\r\n');
      if (end < 0 && this.headBytes.length < 16 * 1024) return;
      const head = this.headBytes.subarray(0, Math.max(0, end)).toString('latin1');
      this.name(head);
      const shape = this.proxy.shapeFor(this.record.client, this.record.n);
      const rng = this.proxy.rng.fork(`split:${this.record.client}:${this.record.n}`);
      this.c2s = new Pipe(this.upstream, shape, rng.fork('c2s'), (b) => this.c2sReader.feed(b));
      this.s2c = new Pipe(this.client, shape, rng.fork('s2c'), () => {});
      for (const chunk of this.early.splice(0)) this.c2s.push(chunk);
      return;
    }
    this.c2s.push(data);
  }

  private name(head: string): void {
    const target = /^GET (\S+) HTTP/.exec(head)?.[1] ?? '/';
    const url = new URL(target, 'http://proxy.invalid');
    const client = url.searchParams.get('c') ?? `anon${this.id}`;
    const n = Number(url.searchParams.get('n') ?? NaN);
    this.record.client = client;
    this.record.n = Number.isInteger(n) ? n : this.proxy.countConnection(client);
    this.record.polite = this.proxy.isPolite(client);
    // The head itself goes through the c2s reader as bytes, like the rest.
  }

  private fromServer(data: Buffer): void {
    // Recorded on the server's side: whatever the server sent, delivered or not.
    this.s2cReader.feed(data);
    if (this.state === 'open') this.s2c?.push(data);
  }

  private recordMessage(dir: 'c2s' | 's2c', m: WsMessage): void {
    const t = now();
    let frame: FrameRecord | undefined;
    if (m.kind === 'text') {
      let msg: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(m.text);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
          msg = parsed as Record<string, unknown>;
      } catch {
        msg = undefined;
      }
      if (msg && msg.type === 'resync') delete msg.schema;
      frame = msg ? { t, dir, msg } : { t, dir, msg: undefined, raw: m.text.slice(0, 200) };
    } else if (m.kind === 'close') {
      frame = { t, dir, msg: undefined, ...(m.code !== undefined ? { closeCode: m.code } : {}) };
    } else if (m.kind === 'binary') {
      frame = { t, dir, msg: undefined, raw: `<binary ${m.bytes} bytes>` };
    }
    if (frame) this.record.frames.push(frame);
  }

  cut(lingerMs: number): void {
    if (this.state !== 'open' && this.state !== 'blackholed') return;
    const wasBlackholed = this.state === 'blackholed';
    this.state = 'lingering';
    this.record.cutAt = now();
    this.c2s?.clear();
    this.s2c?.clear();
    if (!this.client.destroyed) this.client.resetAndDestroy();
    if (wasBlackholed) return; // the server's side waits for the server (heartbeat) or the cap
    this.lingerTimer = setTimeout(() => this.endServerSide(), lingerMs);
  }

  blackhole(maxMs: number): void {
    if (this.state !== 'open') return;
    this.state = 'blackholed';
    this.record.blackholedAt = now();
    this.c2s?.clear();
    this.s2c?.clear();
    this.blackholeTimer = setTimeout(() => this.endServerSide(), maxMs);
  }

  private endServerSide(): void {
    if (this.upstream.destroyed) return;
    this.record.proxyEndedAt ??= now();
    this.upstream.end();
    // A server that never finishes its side is reset after a while.
    setTimeout(() => this.upstream.destroy(), 3000).unref();
  }

  private onClientClose(): void {
    switch (this.state) {
      case 'open':
        // The client closed (or reset) its side: deliver what it sent, then close the server's side.
        this.state = 'lingering';
        if (this.c2s) this.c2s.whenDrained(() => this.endServerSide());
        else this.endServerSide();
        break;
      case 'blackholed':
      case 'lingering':
      case 'closed':
        break;
      default: {
        const never: never = this.state;
        void never;
      }
    }
  }

  private onServerEnd(): void {
    this.record.serverEndedAt ??= now();
    if (this.state === 'open' && this.s2c) this.s2c.whenDrained(() => this.client.end());
  }

  private onServerClose(): void {
    this.record.serverEndedAt ??= now();
    clearTimeout(this.blackholeTimer);
    clearTimeout(this.lingerTimer);
    const finish = (): void => {
      this.state = 'closed';
      this.record.closedAt = now();
      this.client.destroy();
      this.proxy.forget(this);
    };
    if (this.state === 'open' && this.s2c && this.upstreamConnected) this.s2c.whenDrained(finish);
    else finish();
  }
}

/** A running chaos proxy. */
export class ChaosProxy {
  /** Every connection ever made, in order. */
  readonly connections: ConnectionRecord[] = [];
  /** The server process new connections go to; the run bumps it at each restart. */
  serverGeneration = 1;
  readonly rng: Rng;
  private readonly open = new Map<string, Pair>();
  private readonly counts = new Map<string, number>();
  private readonly idleWaiters: (() => void)[] = [];
  private nextId = 0;
  private server: Server | undefined;
  port = 0;

  constructor(private readonly options: ChaosProxyOptions) {
    this.rng = options.rng.fork('proxy');
  }

  /** Starts listening on a free loopback port. */
  async listen(): Promise<void> {
    this.server = createServer((client) => {
      const upstream = connect(this.options.target);
      const pair = new Pair(++this.nextId, client, upstream, this, this.serverGeneration);
      this.connections.push(pair.record);
      this.open.set(String(pair.id), pair);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    this.port = typeof address === 'object' && address !== null ? address.port : 0;
  }

  /** `ws://127.0.0.1:PORT/live?c=CLIENT&n=N` */
  url(client: string, n?: number, path = '/live'): string {
    const query = n === undefined ? `c=${encodeURIComponent(client)}` : `c=${encodeURIComponent(client)}&n=${n}`;
    return `ws://127.0.0.1:${this.port}${path}?${query}`;
  }

  /** @internal */
  shapeFor(client: string, n: number): LinkShape {
    const rng = this.rng.fork(`shape:${client}:${n}`);
    const delayed = rng.chance(this.options.delayChance ?? 0.3);
    return {
      delayMs: delayed ? rng.int(1, this.options.maxDelayMs ?? 25) : 0,
      split: rng.chance(this.options.splitChance ?? 0.3),
    };
  }

  /** @internal */
  countConnection(client: string): number {
    const n = (this.counts.get(client) ?? 0) + 1;
    this.counts.set(client, n);
    return n;
  }

  /** @internal */
  isPolite(client: string): boolean {
    return this.options.isPolite?.(client) ?? false;
  }

  /** @internal */
  forget(pair: Pair): void {
    this.open.delete(String(pair.id));
    if (this.open.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves when no connection is open (black-holed ones end when the server's heartbeat ends them). */
  idle(): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private find(client: string, n?: number): Pair | undefined {
    let found: Pair | undefined;
    for (const pair of this.open.values()) {
      if (pair.record.client !== client || (n !== undefined && pair.record.n !== n)) continue;
      if (pair.state !== 'open') continue;
      if (!found || pair.id > found.id) found = pair;
    }
    return found;
  }

  /** Cuts the client's open connection (its newest one when `n` is not given). Returns whether there was one. */
  cut(client: string, lingerMs: number, n?: number): boolean {
    const pair = this.find(client, n);
    pair?.cut(lingerMs);
    return pair !== undefined;
  }

  /** Black-holes the client's open connection. Returns whether there was one. */
  blackhole(client: string, n?: number): boolean {
    const pair = this.find(client, n);
    pair?.blackhole(this.options.maxBlackholeMs ?? 20_000);
    return pair !== undefined;
  }

  /** Marks every connection open now as served by a process that is being killed. */
  serverKilled(): void {
    for (const pair of this.open.values()) {
      if (pair.record.serverGeneration === this.serverGeneration) pair.record.serverKilled = true;
    }
  }

  /** Connections still open. */
  get openCount(): number {
    return this.open.size;
  }

  /** Stops listening and resets every connection. */
  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    for (const pair of [...this.open.values()]) pair.cut(0);
    await closed;
  }
}

/** Starts a chaos proxy in front of `options.target`. */
export async function startChaosProxy(options: ChaosProxyOptions): Promise<ChaosProxy> {
  const proxy = new ChaosProxy(options);
  await proxy.listen();
  return proxy;
}
