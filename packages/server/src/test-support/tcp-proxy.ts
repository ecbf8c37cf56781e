/**
 * A loopback TCP proxy the test controls, to cut or black-hole a client's connection to a broker
 * without touching the broker.
 * @module
 */
import { createServer, connect, type Socket } from 'node:net';

/** A running proxy. */
export interface TcpProxy {
  readonly port: number;
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  /** Stops forwarding client→broker bytes on current connections: they are dropped, the link stays open. */
  blackhole(): void;
  /** Destroys every current connection (both sides). */
  cut(): void;
  /** While on, new connections are closed at once (the broker looks down). */
  refuse(on: boolean): void;
  /** Resolves at the next connection that reaches the broker. */
  nextConnection(): Promise<void>;
  /** Resolves at the next incoming connection, refused or not. */
  nextAttempt(): Promise<void>;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  blackholed: boolean;
}

/** Starts a proxy on a free loopback port forwarding to `target`. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let refusing = false;
  let waiters: (() => void)[] = [];
  let attemptWaiters: (() => void)[] = [];
  const server = createServer((client) => {
    const a = attemptWaiters;
    attemptWaiters = [];
    for (const resolve of a) resolve();
    if (refusing) {
      client.destroy();
      return;
    }
    const upstream = connect(target);
    const pair: Pair = { client, upstream, blackholed: false };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => {
      if (!pair.blackholed) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => client.write(d));
    client.on('close', end);
    upstream.on('close', end);
    client.on('error', end);
    upstream.on('error', end);
    upstream.once('connect', () => {
      const w = waiters;
      waiters = [];
      for (const resolve of w) resolve();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    get connections() {
      return pairs.size;
    },
    blackhole() {
      for (const p of pairs) p.blackholed = true;
    },
    cut() {
      for (const p of [...pairs]) {
        pairs.delete(p);
        p.client.destroy();
        p.upstream.destroy();
      }
    },
    refuse(on) {
      refusing = on;
    },
    nextConnection() {
      return new Promise((resolve) => waiters.push(resolve));
    },
    nextAttempt() {
      return new Promise((resolve) => attemptWaiters.push(resolve));
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const p of [...pairs]) {
        p.client.destroy();
        p.upstream.destroy();
      }
      pairs.clear();
      await closed;
    },
  };
}
