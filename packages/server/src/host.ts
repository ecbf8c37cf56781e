/**
 * The upgrade's `Host` check, against DNS rebinding: a page on `attacker.example` whose name the
 * attacker re-points at this server's address sends `Host: attacker.example` and an `Origin` of
 * the same name, so the Origin rule's "own host" match (origin.ts) would let it in. Rebinding needs
 * a name the attacker controls, so the `Host` itself is checked first: IP literals, `localhost`
 * and `*.localhost` (browsers resolve those to loopback themselves, RFC 6761 §6.3, never through
 * DNS), the host names of `allowedOrigins` and those of `allowedHosts` are allowed; any other name
 * (or no `Host`) is refused with 403 before any frame. Vite's dev server (`server.allowedHosts`)
 * draws the same line.
 * @module
 */
import { isIP } from 'node:net';

/** The host names an upgrade's `Host` may carry besides IP literals and `localhost`. @internal */
export interface HostRules {
  /** Exact names, lower case, without a trailing dot. */
  readonly names: ReadonlySet<string>;
  /** Domains whose subdomains are allowed too (from `.example.com`): `example.com`, lower case. */
  readonly domains: readonly string[];
}

/** One label-separated DNS name (letters, digits, `-`, `_`), optionally with a trailing dot. */
const NAME = /^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/i;

/** `host`, `host:port`, `[v6]` or `[v6]:port`: the shapes a `Host` header may take. */
const HOST_HEADER = /^(?:\[([0-9a-f:.]+)\]|([a-z0-9._-]+))(?::\d{1,5})?$/i;

/** A name in the form rules and headers are compared in: lower case, no trailing dot. */
function canonical(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower.slice(0, -1) : lower;
}

/**
 * Whether `entry` is a valid `allowedHosts` entry: a host name (`panel.example.com`), or a domain
 * with a leading dot (`.example.com`: the domain and every subdomain). No scheme, no port.
 * @internal
 */
export function isHostRule(entry: unknown): entry is string {
  return typeof entry === 'string' && NAME.test(entry.startsWith('.') ? entry.slice(1) : entry);
}

/**
 * The rules for `allowedHosts` entries (checked with {@link isHostRule}) and the host names of the
 * normalised `allowedOrigins`.
 * @internal
 */
export function hostRules(allowedHosts: readonly string[], allowedOrigins: Iterable<string>): HostRules {
  const names = new Set<string>();
  const domains: string[] = [];
  for (const entry of allowedHosts) {
    if (entry.startsWith('.')) domains.push(canonical(entry.slice(1)));
    else names.add(canonical(entry));
  }
  for (const origin of allowedOrigins) names.add(canonical(new URL(origin).hostname));
  return { names, domains };
}

/**
 * Whether an upgrade's `Host` (with `trustProxy`, the forwarded one) is one this server answers
 * to: an IPv4 literal, a bracketed IPv6 literal, `localhost` or a subdomain of it, or a name the
 * rules allow. The port is not looked at (rebinding keeps the port; the Origin check compares it).
 * A missing or malformed `Host` is refused.
 * @internal
 */
export function isHostAllowed(host: string | undefined, rules: HostRules): boolean {
  if (host === undefined) return false;
  const match = HOST_HEADER.exec(host);
  if (!match) return false;
  const [, v6, name] = match;
  if (v6 !== undefined) return isIP(v6) === 6;
  const hostname = canonical(name as string);
  if (hostname === '') return false;
  if (isIP(hostname) === 4) return true;
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (rules.names.has(hostname)) return true;
  return rules.domains.some((d) => hostname === d || hostname.endsWith(`.${d}`));
}
