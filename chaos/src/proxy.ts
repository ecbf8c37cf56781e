/**
 * The chaos proxy: the testkit's fault proxy between WebSocket clients and the server, with the
 * chaos run's choices on top — which connection belongs to which client (the `c` and `n` query
 * parameters of the upgrade request), a delay and splitting per connection drawn from the run's
 * PRNG (so they do not depend on the order connections arrive in), and a record of every WebSocket
 * frame that crossed it, each way, on the server's side of every fault:
 *
 * - client → server frames are recorded when their bytes are written to the server's socket (a
 *   frame dropped by a cut or a black hole never reached the server and is not recorded);
 * - server → client frames are recorded when their bytes arrive from the server, whether or not
 *   they are then delivered to the client.
 *
 * The frames are decoded by the testkit's own RFC 6455 reader, never by the `ws` library the
 * server parses with: the recording is a witness, and parsed here as plain JSON, not by the
 * protocol package's parsers.
 * @module
 */
import {
  type FaultProxy,
  type LinkShape,
  type ProxyLink,
  type WsMessage,
  startFaultProxy,
  wsFrameTap,
} from '@live-device-form/testkit';
import type { Rng } from './prng.js';
import type { ConnectionRecord, FrameRecord } from './records.js';

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
  maxBlackHoleMs?: number;
  /** Clients held to the element's contract (the checker applies extra checks to them). */
  isPolite?: (client: string) => boolean;
  /**
   * Added to every connection id, so the records of several proxies (one per server process behind
   * a balancer, `backends.ts`) can be merged. Defaults to `0`.
   */
  idBase?: number;
}

/** What the clients, pages and browsers need of the proxy in front of the server(s). */
export interface ClientProxy {
  /** `ws://HOST:PORT/live?c=CLIENT&n=N`: where client `client` connects for its `n`th connection. */
  url(client: string, n?: number, path?: string): string;
  /** Cuts the client's open connection (its newest one when `n` is not given). Returns whether there was one. */
  cut(client: string, lingerMs: number, n?: number): boolean;
  /** Black-holes the client's open connection. Returns whether there was one. */
  blackHole(client: string, n?: number): boolean;
}

const now = (): number => performance.now();

/** The frame record of one WebSocket message. */
function frameRecord(dir: 'c2s' | 's2c', m: WsMessage): FrameRecord | undefined {
  const t = now();
  switch (m.kind) {
    case 'text': {
      let msg: Record<string, unknown> | undefined;
      try {
        const parsed: unknown = JSON.parse(m.text);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          msg = parsed as Record<string, unknown>;
        }
      } catch {
        msg = undefined;
      }
      if (msg && msg.type === 'resync') delete msg.schema;
      return msg ? { t, dir, msg } : { t, dir, msg: undefined, raw: m.text.slice(0, 200) };
    }
    case 'close':
      return { t, dir, msg: undefined, ...(m.code !== undefined ? { closeCode: m.code } : {}) };
    case 'binary':
      return { t, dir, msg: undefined, raw: `<binary ${m.bytes} bytes>` };
    case 'ping':
    case 'pong':
      return undefined;
    default: {
      const never: never = m;
      return never;
    }
  }
}

/** A running chaos proxy. */
export class ChaosProxy implements ClientProxy {
  /** The server process new connections go to; the run bumps it at each restart. */
  serverGeneration = 1;
  readonly rng: Rng;
  readonly #records = new Map<ProxyLink, ConnectionRecord>();
  readonly #counts = new Map<string, number>();
  #proxy: FaultProxy | undefined;

  constructor(private readonly options: ChaosProxyOptions) {
    this.rng = options.rng.fork('proxy');
  }

  /** Starts listening on a free loopback port. */
  async listen(): Promise<void> {
    this.#proxy = await startFaultProxy({
      target: this.options.target,
      readHead: true,
      shape: (link) => this.#shape(link),
      tap: (link) => {
        const record = this.#record(link);
        return wsFrameTap({
          onMessage: (dir, m) => {
            const frame = frameRecord(dir, m);
            if (frame) record.frames.push(frame);
          },
          onResponseHead: (head) => {
            const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head.startLine)?.[1]);
            if (Number.isFinite(status)) record.httpStatus = status;
          },
        });
      },
    });
    this.#proxy.on('link', (link: ProxyLink) => this.#record(link));
  }

  get #fault(): FaultProxy {
    if (!this.#proxy) throw new Error('chaos proxy: listen() first');
    return this.#proxy;
  }

  get port(): number {
    return this.#fault.port;
  }

  /** `ws://127.0.0.1:PORT/live?c=CLIENT&n=N` */
  url(client: string, n?: number, path = '/live'): string {
    const query = n === undefined ? `c=${encodeURIComponent(client)}` : `c=${encodeURIComponent(client)}&n=${n}`;
    return `ws://127.0.0.1:${this.port}${path}?${query}`;
  }

  /** The record of a connection, made when it is accepted. */
  #record(link: ProxyLink): ConnectionRecord {
    let record = this.#records.get(link);
    if (!record) {
      record = {
        id: (this.options.idBase ?? 0) + link.index + 1,
        client: '?',
        n: 0,
        serverGeneration: this.serverGeneration,
        openedAt: link.openedAt,
        frames: [],
        polite: false,
      };
      this.#records.set(link, record);
    }
    return record;
  }

  /** Names a connection from its upgrade request, once its head has been read. */
  #name(link: ProxyLink): ConnectionRecord {
    const record = this.#record(link);
    const url = new URL(link.target ?? '/', 'http://proxy.invalid');
    const client = url.searchParams.get('c') ?? `anon${record.id}`;
    const n = Number(url.searchParams.get('n') ?? NaN);
    record.client = client;
    record.n = Number.isInteger(n) ? n : this.#countConnection(client);
    record.polite = this.options.isPolite?.(client) ?? false;
    return record;
  }

  #shape(link: ProxyLink): LinkShape {
    const { client, n } = this.#name(link);
    const rng = this.rng.fork(`shape:${client}:${n}`);
    const delayed = rng.chance(this.options.delayChance ?? 0.3);
    const delayMs = delayed ? rng.int(1, this.options.maxDelayMs ?? 25) : 0;
    if (!rng.chance(this.options.splitChance ?? 0.3)) return { delayMs };
    const split = this.rng.fork(`split:${client}:${n}`);
    const toServer = split.fork('c2s');
    const toClient = split.fork('s2c');
    return { delayMs, split: { toServer: () => toServer.int(1, 16), toClient: () => toClient.int(1, 16) } };
  }

  #countConnection(client: string): number {
    const n = (this.#counts.get(client) ?? 0) + 1;
    this.#counts.set(client, n);
    return n;
  }

  /** Every connection ever made, in order, with its fault and close times. */
  get connections(): ConnectionRecord[] {
    for (const [link, record] of this.#records) {
      if (link.cutAt !== undefined) record.cutAt = link.cutAt;
      if (link.blackHoledAt !== undefined) record.blackHoledAt = link.blackHoledAt;
      if (link.proxyEndedAt !== undefined) record.proxyEndedAt = link.proxyEndedAt;
      if (link.serverEndedAt !== undefined) record.serverEndedAt = link.serverEndedAt;
      if (link.closedAt !== undefined) record.closedAt = link.closedAt;
    }
    return [...this.#records.values()]; // made at accept time: already in id order
  }

  #find(client: string, n?: number): ProxyLink | undefined {
    let found: ProxyLink | undefined;
    for (const [link, record] of this.#records) {
      if (record.client !== client || (n !== undefined && record.n !== n)) continue;
      if (link.state !== 'open') continue;
      if (!found || link.index > found.index) found = link;
    }
    return found;
  }

  /** When the client's open connection (its newest one when `n` is not given) was opened; `undefined` if none is open. */
  openSince(client: string, n?: number): number | undefined {
    return this.#find(client, n)?.openedAt;
  }

  /** Cuts the client's open connection (its newest one when `n` is not given). Returns whether there was one. */
  cut(client: string, lingerMs: number, n?: number): boolean {
    const link = this.#find(client, n);
    link?.cut({ lingerMs });
    return link !== undefined;
  }

  /** Black-holes the client's open connection. Returns whether there was one. */
  blackHole(client: string, n?: number): boolean {
    const link = this.#find(client, n);
    link?.blackHole({ maxMs: this.options.maxBlackHoleMs ?? 20_000 });
    return link !== undefined;
  }

  /** Marks every connection open now as served by a process that is being killed. */
  serverKilled(): void {
    for (const [link, record] of this.#records) {
      if (link.state !== 'closed' && record.serverGeneration === this.serverGeneration) record.serverKilled = true;
    }
  }

  /** Connections not yet closed on both sides. */
  get openCount(): number {
    return this.#fault.activeCount;
  }

  /** Resolves when no connection is open (black-holed ones end when the server's heartbeat ends them). */
  idle(): Promise<void> {
    return this.#fault.idle();
  }

  /** Stops listening and resets every connection. */
  async close(): Promise<void> {
    await this.#proxy?.close();
  }
}

/** Starts a chaos proxy in front of `options.target`. */
export async function startChaosProxy(options: ChaosProxyOptions): Promise<ChaosProxy> {
  const proxy = new ChaosProxy(options);
  await proxy.listen();
  return proxy;
}
