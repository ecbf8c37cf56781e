/**
 * Connection caps: how many upgraded sockets the server holds at once, in total and from one
 * address, and how many of them may still be waiting for `hello` (the cheap ones: an attacker
 * needs no token to hold them). An upgrade over a cap is refused at the handshake, before any
 * frame: 429 for a cap of one address, 503 for a cap of the whole server. A socket counts from
 * the moment it is accepted until it closes; it stops counting as "before hello" once its hello is
 * accepted (token and `authorize` passed). Also the CLI's guard against TCP connections that never
 * upgrade ({@link guardTcpConnections}).
 * @module
 */
import type { Server, Socket } from 'node:net';
import { addressKey, normaliseAddress } from './forwarded.js';
import type { Logger } from './logger.js';
import type { ConnectionLimits } from './options.js';
import { throttleLogger } from './log-throttle.js';

/** Which cap refused an upgrade. */
export const ConnectionCap = {
  /** `connectionLimits.perAddress`: HTTP 429. */
  PerAddress: 'perAddress',
  /** `connectionLimits.preHelloPerAddress`: HTTP 429. */
  PreHelloPerAddress: 'preHelloPerAddress',
  /** `connectionLimits.total`: HTTP 503. */
  Total: 'total',
  /** `connectionLimits.preHello`: HTTP 503. */
  PreHello: 'preHello',
} as const;
export type ConnectionCap = (typeof ConnectionCap)[keyof typeof ConnectionCap];

/** The HTTP status an upgrade over each cap is refused with. */
export const CAP_STATUS: Readonly<Record<ConnectionCap, 429 | 503>> = Object.freeze({
  perAddress: 429,
  preHelloPerAddress: 429,
  total: 503,
  preHello: 503,
});

interface AddressCount {
  open: number;
  preHello: number;
}

/** One counted socket. Both methods are idempotent. @internal */
export interface ConnectionTicket {
  /** Its hello was accepted: it no longer counts against the pre-hello caps. */
  greeted(): void;
  /** It closed: it no longer counts at all. */
  closed(): void;
}

/** Counts the server's upgraded sockets against its {@link ConnectionLimits}. @internal */
export class ConnectionCounter {
  private open = 0;
  private preHello = 0;
  private readonly byAddress = new Map<string, AddressCount>();

  constructor(private readonly limits: Readonly<ConnectionLimits>) {}

  /** The cap a new socket from `address` would exceed, if any (per-address caps first). */
  refusal(address: string): ConnectionCap | undefined {
    const mine = this.byAddress.get(addressKey(address));
    if (mine !== undefined && mine.open >= this.limits.perAddress) return ConnectionCap.PerAddress;
    if (mine !== undefined && mine.preHello >= this.limits.preHelloPerAddress) return ConnectionCap.PreHelloPerAddress;
    if (this.open >= this.limits.total) return ConnectionCap.Total;
    if (this.preHello >= this.limits.preHello) return ConnectionCap.PreHello;
    return undefined;
  }

  /** Counts a socket from `address` that was just accepted (not yet past hello). */
  opened(address: string): ConnectionTicket {
    const key = addressKey(address);
    let mine = this.byAddress.get(key);
    if (mine === undefined) {
      mine = { open: 0, preHello: 0 };
      this.byAddress.set(key, mine);
    }
    const count = mine;
    count.open++;
    count.preHello++;
    this.open++;
    this.preHello++;
    let waitingForHello = true;
    let open = true;
    const greeted = (): void => {
      if (!waitingForHello) return;
      waitingForHello = false;
      count.preHello--;
      this.preHello--;
    };
    return {
      greeted,
      closed: () => {
        if (!open) return;
        greeted();
        open = false;
        count.open--;
        this.open--;
        if (count.open === 0) this.byAddress.delete(key);
      },
    };
  }

  /** Sockets counted now, for tests and diagnostics. */
  counts(address?: string): { open: number; preHello: number } {
    if (address === undefined) return { open: this.open, preHello: this.preHello };
    const mine = this.byAddress.get(addressKey(address));
    return { open: mine?.open ?? 0, preHello: mine?.preHello ?? 0 };
  }
}

/**
 * Guards a server that takes TCP connections straight from clients (the CLI's) against connections
 * that never upgrade, or never send a request: Node closes those beyond `total` at once
 * (`server.maxConnections`), and this closes, as soon as it is accepted, every connection from an
 * address (IPv6: a /64) that already has `perAddress` open, upgraded or not. Both are logged
 * through a `throttleLogger` (2 lines per kind per 10 s, then a count). Not for a server behind a reverse proxy: every connection comes from the proxy.
 * Returns the function that removes the guard.
 * @internal
 */
export function guardTcpConnections(
  server: Server,
  caps: { readonly total: number; readonly perAddress: number },
  logger: Logger,
): () => void {
  const counts = new Map<string, number>();
  // A flood of refused connections must not become a flood of lines: 2 per 10 s, then a count.
  const log = throttleLogger(logger, { levels: ['warn'] });
  const onConnection = (socket: Socket): void => {
    const key = addressKey(normaliseAddress(socket.remoteAddress ?? 'unknown'));
    const n = counts.get(key) ?? 0;
    if (n >= caps.perAddress) {
      log.warn({ address: key, limit: caps.perAddress }, 'connection closed: too many from one address');
      socket.destroy();
      return;
    }
    counts.set(key, n + 1);
    socket.once('close', () => {
      const left = (counts.get(key) ?? 1) - 1;
      if (left === 0) counts.delete(key);
      else counts.set(key, left);
    });
  };
  const onDrop = (): void => log.warn({ limit: caps.total }, 'connection closed: too many in total');
  const before = server.maxConnections;
  server.maxConnections = caps.total;
  server.on('connection', onConnection);
  server.on('drop', onDrop);
  return () => {
    server.maxConnections = before;
    server.off('connection', onConnection);
    server.off('drop', onDrop);
    log.close();
  };
}
