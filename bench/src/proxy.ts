/**
 * A loopback TCP proxy the bench controls, to black-hole live links: after `blackhole()` the
 * connections already open stay open but forward nothing, either way (a sleeping laptop, a dead
 * Wi-Fi). New connections are forwarded normally.
 * @module
 */
import { connect, createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Connections open now. */
  readonly connections: number;
  /** Stops forwarding on every connection open now, in both directions; returns how many. */
  blackhole(): number;
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
  dead: boolean;
}

export async function startProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  const server = createServer((client) => {
    const upstream = connect(target);
    const pair: Pair = { client, upstream, dead: false };
    pairs.add(pair);
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('data', (d: Buffer) => {
      if (!pair.dead) upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      if (!pair.dead) client.write(d);
    });
    for (const s of [client, upstream]) {
      s.on('close', end);
      s.on('error', end);
      s.setNoDelay(true);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return pairs.size;
    },
    blackhole() {
      for (const p of pairs) p.dead = true;
      return pairs.size;
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
