/**
 * Who is on the other end of an upgrade: the client's address, the `Host` it asked for and whether
 * it came over TLS. Read from the socket and the `Host` header; behind a reverse proxy, and only
 * when `trustProxy` is set, from the `X-Forwarded-For`, `X-Forwarded-Host` and `X-Forwarded-Proto`
 * headers the proxy adds. Without `trustProxy` those headers are ignored: any client can send them.
 * Also the key an address is counted under by the per-address limits (`addressKey`).
 * @module
 */
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** What the server may believe about an upgrade request's client. @internal */
export interface RequestFacts {
  /**
   * The client's IP address: the socket's peer, or (with `trustProxy`) the last `X-Forwarded-For`
   * entry, the one the proxy in front of this server appended. IPv4-mapped IPv6 addresses
   * (`::ffff:127.0.0.1`) are given as IPv4. `'unknown'` when the socket has already closed.
   */
  readonly address: string;
  /** The `Host` the client asked for (with `trustProxy`, `X-Forwarded-Host` if present); `undefined` if none. */
  readonly host: string | undefined;
  /** Whether the client's connection is TLS (with `trustProxy`, `X-Forwarded-Proto: https`/`wss`). */
  readonly secure: boolean;
}

/** The last entry of a header that proxies append to (several header lines are joined with `, `). */
function lastEntry(header: string | string[] | undefined): string | undefined {
  const joined = Array.isArray(header) ? header.join(',') : header;
  if (joined === undefined) return undefined;
  const entries = joined.split(',');
  const last = entries[entries.length - 1]?.trim();
  return last === '' ? undefined : last;
}

/** An IP address in its canonical form for limits and logs: IPv4-mapped IPv6 as IPv4, lower case. */
export function normaliseAddress(address: string): string {
  const lower = address.toLowerCase();
  if (lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4) return lower.slice(7);
  return lower;
}

/**
 * An `X-Forwarded-For` entry as an address: a bare IP, an `[IPv6]` or `[IPv6]:port`, or an
 * `IPv4:port`. `undefined` for anything else (`unknown`, obfuscated identifiers, garbage).
 */
function forwardedAddress(entry: string): string | undefined {
  if (isIP(entry)) return entry;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed?.[1] !== undefined && isIP(bracketed[1]) === 6) return bracketed[1];
  const withPort = /^([\d.]+):\d+$/.exec(entry);
  if (withPort?.[1] !== undefined && isIP(withPort[1]) === 4) return withPort[1];
  return undefined;
}

/**
 * The facts about `request` that limits and origin checks use. With `trustProxy`, a forwarded
 * header that is missing or malformed falls back to what the socket says (the proxy's address: a
 * client hiding behind a bad header shares the proxy's limits rather than escaping them).
 * @internal
 */
export function requestFacts(request: IncomingMessage, trustProxy: boolean): RequestFacts {
  const socket = request.socket;
  const peer = socket.remoteAddress;
  let address = peer === undefined ? 'unknown' : normaliseAddress(peer);
  let host = request.headers.host;
  let secure = (socket as Partial<TLSSocket>).encrypted === true;
  if (trustProxy) {
    const forwardedFor = lastEntry(request.headers['x-forwarded-for']);
    const forwarded = forwardedFor === undefined ? undefined : forwardedAddress(forwardedFor);
    if (forwarded !== undefined) address = normaliseAddress(forwarded);
    host = lastEntry(request.headers['x-forwarded-host']) ?? host;
    const proto = lastEntry(request.headers['x-forwarded-proto'])?.toLowerCase();
    if (proto !== undefined) secure = proto === 'https' || proto === 'wss';
  }
  return { address, host: host === '' ? undefined : host, secure };
}

/**
 * The key a client's address is counted under: an IPv4 address as it is, an IPv6 address by its
 * /64 prefix (`2001:db8:1:2::/64`), since one IPv6 host usually holds a whole /64 and could
 * otherwise take a new address for every connection. `address` is normalised (forwarded.ts).
 * Shared by the connection caps and the token throttle.
 * @internal
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address;
  const bare = address.split('%')[0] as string;
  const [head = '', tail] = bare.split('::');
  // A dotted IPv4 tail (`64:ff9b::192.0.2.1`) stands for two groups; only the count matters here.
  const groups = (s: string): string[] =>
    s === '' ? [] : s.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g]));
  const first = groups(head);
  const last = tail === undefined ? [] : groups(tail);
  const all = [...first, ...Array<string>(Math.max(0, 8 - first.length - last.length)).fill('0'), ...last];
  return `${all
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}
