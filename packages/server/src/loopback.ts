/**
 * Whether an interface a server binds is reachable from this machine only.
 * @module
 */
import { isIPv4, isIPv6 } from 'node:net';

/**
 * Whether `host` names a loopback interface: `localhost`, an address in 127.0.0.0/8, `::1` or
 * `::ffff:127.x.x.x`. Everything else (`0.0.0.0`, `::`, a LAN address, another host name) may be
 * reachable from other machines.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) {
    if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h)?.[1];
    return mapped !== undefined && mapped.startsWith('127.');
  }
  return false;
}
