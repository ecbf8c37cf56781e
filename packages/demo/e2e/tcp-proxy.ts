/**
 * A loopback TCP proxy the end-to-end tests control, to make real network faults between the
 * browser and the server: `cut()` resets every connection and refuses new ones until `restore()`;
 * `blackHole()` keeps connections open but silently drops every byte in both directions, the way a
 * sleeping laptop's link looks to both ends.
 */
import net from 'node:net';

/** How the proxy treats traffic. */
export const ProxyMode = {
  /** Bytes flow both ways. */
  Pass: 'pass',
  /** Existing connections are reset; new ones are accepted and reset at once. */
  Cut: 'cut',
  /** Connections stay open, nothing is delivered in either direction. */
  BlackHole: 'black-hole',
} as const;
export type ProxyMode = (typeof ProxyMode)[keyof typeof ProxyMode];

export interface TcpProxy {
  /** The port the proxy listens on, on 127.0.0.1. */
  readonly port: number;
  readonly mode: ProxyMode;
  /** Connections accepted so far (a reconnecting page makes new ones). */
  readonly connectionCount: number;
  /** Resets every connection and refuses new ones until `restore()`. */
  cut(): void;
  /** Keeps connections open but drops all bytes, both ways, until `restore()`; new connections too. */
  blackHole(): void;
  /** Lets traffic flow again (black-holed connections stay dead: their bytes were lost). */
  restore(): void;
  /** Resolves when the proxy has accepted `n` connections in total. */
  waitForConnections(n: number): Promise<void>;
  close(): Promise<void>;
}

/** Starts a proxy on a free loopback port that forwards to `127.0.0.1:targetPort`. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let mode: ProxyMode = ProxyMode.Pass;
  let connectionCount = 0;
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; dead: boolean }>();
  const waiters: { n: number; resolve: () => void }[] = [];

  const server = net.createServer((client) => {
    connectionCount++;
    for (const w of waiters.splice(0)) {
      if (connectionCount >= w.n) w.resolve();
      else waiters.push(w);
    }
    if (mode === ProxyMode.Cut) {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(targetPort, '127.0.0.1');
    const pair = { client, upstream, dead: mode === ProxyMode.BlackHole };
    pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket) =>
      from.on('data', (chunk) => {
        if (mode === ProxyMode.Pass && !pair.dead) to.write(chunk);
      });
    forward(client, upstream);
    forward(upstream, client);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;

  return {
    port,
    get mode() {
      return mode;
    },
    get connectionCount() {
      return connectionCount;
    },
    cut() {
      mode = ProxyMode.Cut;
      for (const p of pairs) {
        p.client.resetAndDestroy();
        p.upstream.destroy();
      }
      pairs.clear();
    },
    blackHole() {
      mode = ProxyMode.BlackHole;
      for (const p of pairs) p.dead = true;
    },
    restore() {
      mode = ProxyMode.Pass;
    },
    waitForConnections(n) {
      if (connectionCount >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    async close() {
      for (const p of pairs) {
        p.client.destroy();
        p.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
