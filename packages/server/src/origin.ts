/**
 * The upgrade's origin check (docs/protocol.md rule 8): browsers always send `Origin`, so a page on
 * another site can only open a socket to a device if its origin is this host or allow-listed.
 * This stops cross-site WebSocket hijacking of a device through a visitor's browser.
 * @module
 */

const DEFAULT_PORTS: Readonly<Record<string, string>> = { 'http:': '80', 'https:': '443', 'ws:': '80', 'wss:': '443' };

/** `host[:port]` with the scheme's default port made explicit, lower-cased. */
function withPort(hostname: string, port: string, protocol: string): string {
  return `${hostname}:${port || DEFAULT_PORTS[protocol] || ''}`.toLowerCase();
}

/**
 * Whether an upgrade may proceed. Allowed: no `Origin` header unless `requireOrigin`; an origin
 * whose host (and port) is the request's own host; an origin in `allowed` (normalised
 * `scheme://host[:port]` strings). Everything else, including `Origin: null`, is refused.
 *
 * `own` is what the server may believe about the request (forwarded.ts `requestFacts`: with
 * `trustProxy`, the forwarded host and scheme). Its host must already have passed the Host check
 * (host.ts): matching it proves nothing against DNS rebinding. Over a secure connection an `http:`
 * origin of the same name is refused (any network hop can script that page); over a plain one the
 * scheme is not compared, since a TLS-terminating proxy may be in front without `trustProxy`.
 * @internal
 */
export function isOriginAllowed(
  origin: string | undefined,
  own: { readonly host: string | undefined; readonly secure: boolean },
  allowed: ReadonlySet<string>,
  requireOrigin: boolean,
): boolean {
  if (origin === undefined || origin === '') return !requireOrigin;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false;
  }
  if (url.origin === 'null') return false;
  if (allowed.has(url.origin)) return true;
  const { host, secure } = own;
  if (host === undefined || host === '') return false;
  if (secure && url.protocol !== 'https:') return false;
  let ownUrl: URL;
  try {
    // The Host header carries no scheme; the origin's scheme gives the default port to compare.
    ownUrl = new URL(`${url.protocol}//${host}`);
  } catch {
    return false;
  }
  return withPort(url.hostname, url.port, url.protocol) === withPort(ownUrl.hostname, ownUrl.port, ownUrl.protocol);
}

/** Whether a `Sec-WebSocket-Protocol` header offers `protocol`. @internal */
export function offersSubprotocol(header: string | undefined, protocol: string): boolean {
  return header !== undefined && header.split(',').some((p) => p.trim() === protocol);
}
