/**
 * The cross-process run's front (issue 15): a real HAProxy (the testkit's `startHaproxy`: round
 * robin, no stickiness, `GET /healthz` checks) in front of one recording chaos proxy per server
 * process — client → HAProxy → chaos proxy *i* → server process *i* — so every WebSocket frame is
 * still recorded on the server's side of every fault, now per process, and the client faults (cut,
 * black hole) happen between the balancer and the process, where a dying process or network would
 * make them.
 *
 * To the clients it looks like one {@link ChaosProxy} ({@link ClientProxy}): they connect to
 * HAProxy's port with their `c=`/`n=` query, which HAProxy passes on; a cut or black hole goes to
 * whichever backend proxy holds the client's open connection. The records of all backend proxies
 * are merged in opening order (their connection ids are apart by {@link ID_STRIDE}). HAProxy's
 * health checks cross the proxies too (they are the backends' addresses); their connections are
 * left out of the records.
 * @module
 */
import { type Haproxy, startHaproxy } from '@live-device-form/testkit';
import { type ChaosProxy, type ChaosProxyOptions, type ClientProxy, startChaosProxy } from './proxy.js';
import type { ConnectionRecord } from './records.js';

/** Connection ids of backend proxy `i` start at `i × ID_STRIDE + 1`. */
export const ID_STRIDE = 1_000_000;

/** Options of {@link startBackends}. */
export interface BackendsOptions {
  /** The server processes' ports on 127.0.0.1, in order (`s1`, `s2`, … in HAProxy's config). */
  serverPorts: readonly number[];
  /** Each backend proxy's options but its target and id base. */
  proxy: Omit<ChaosProxyOptions, 'target' | 'idBase'>;
  /** The servers' health check path. Defaults to `/healthz`. */
  healthPath?: string;
  /** HAProxy's `timeout tunnel`, ms (above the servers' heartbeat). Defaults to HAProxy's helper default. */
  tunnelTimeoutMs?: number;
}

/** HAProxy and the recording proxies behind it. */
export class Backends implements ClientProxy {
  private constructor(
    /** Backend proxy `i` is in front of server process `i` (`s${i + 1}` in HAProxy). */
    readonly proxies: readonly ChaosProxy[],
    readonly haproxy: Haproxy,
  ) {}

  /** Starts the backend proxies, then HAProxy in front of them, and waits until every backend is up. */
  static async start(options: BackendsOptions): Promise<Backends> {
    const proxies: ChaosProxy[] = [];
    try {
      for (const [i, port] of options.serverPorts.entries()) {
        proxies.push(
          await startChaosProxy({
            ...options.proxy,
            // Each proxy forks its own streams, so a client's shape does not depend on its backend.
            rng: options.proxy.rng.fork(`backend:${i}`),
            target: { host: '127.0.0.1', port },
            idBase: i * ID_STRIDE,
          }),
        );
      }
      const haproxy = await startHaproxy({
        backends: proxies.map((p) => ({ port: p.port })),
        healthCheck: { path: options.healthPath ?? '/healthz' },
        ...(options.tunnelTimeoutMs === undefined ? {} : { tunnelTimeoutMs: options.tunnelTimeoutMs }),
      });
      const backends = new Backends(proxies, haproxy);
      await haproxy.waitForUp(proxies.length, 30_000);
      return backends;
    } catch (err) {
      await Promise.all(proxies.map((p) => p.close()));
      throw err;
    }
  }

  /** HAProxy's name of server process `i` (0-based). */
  serverName(i: number): string {
    return this.haproxy.servers[i] as string;
  }

  url(client: string, n?: number, path = '/live'): string {
    const query = n === undefined ? `c=${encodeURIComponent(client)}` : `c=${encodeURIComponent(client)}&n=${n}`;
    return `${this.haproxy.wsUrl(path)}?${query}`;
  }

  /** The backend proxy holding the client's open connection (the newest across backends when `n` is not given). */
  #holder(client: string, n?: number): ChaosProxy | undefined {
    let best: { proxy: ChaosProxy; since: number } | undefined;
    for (const proxy of this.proxies) {
      const since = proxy.openSince(client, n);
      if (since !== undefined && (!best || since > best.since)) best = { proxy, since };
    }
    return best?.proxy;
  }

  /** Which server process (0-based) holds the client's newest open connection; `undefined` if none is open. */
  backendOf(client: string): number | undefined {
    const holder = this.#holder(client);
    return holder === undefined ? undefined : this.proxies.indexOf(holder);
  }

  cut(client: string, lingerMs: number, n?: number): boolean {
    return this.#holder(client, n)?.cut(client, lingerMs, n) ?? false;
  }

  blackHole(client: string, n?: number): boolean {
    return this.#holder(client, n)?.blackHole(client, n) ?? false;
  }

  /** Every page connection through any backend proxy, in opening order (health checks left out). */
  get connections(): ConnectionRecord[] {
    return this.proxies
      .flatMap((p) => p.connections)
      .filter((c) => c.httpStatus === 101 || !(c.client.startsWith('anon') || c.client === '?'))
      .sort((x, y) => x.openedAt - y.openedAt || x.id - y.id);
  }

  /**
   * Resolves when every page connection has closed on both sides (polled every 100 ms: HAProxy's
   * health checks keep opening connections, so the proxies themselves are never idle).
   */
  async idle(): Promise<void> {
    while (this.connections.some((c) => c.closedAt === undefined)) await new Promise((r) => setTimeout(r, 100));
  }

  /** Stops HAProxy, then the backend proxies. */
  async close(): Promise<void> {
    await this.haproxy.stop();
    await Promise.all(this.proxies.map((p) => p.close()));
  }
}

/** Starts HAProxy and the recording proxies behind it. */
export function startBackends(options: BackendsOptions): Promise<Backends> {
  return Backends.start(options);
}
