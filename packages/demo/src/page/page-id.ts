/**
 * Who this page is to the demo server: a random id per page load, carried on the socket URL
 * (`/live?page=ID`) so "cut my network" cuts this page's sockets and no one else's.
 * @module
 */

/** This page load's id. */
export const PAGE_ID: string = crypto.randomUUID().slice(0, 8);

/**
 * The socket URL for this page. `?ws=ws://host:port/live` in the page's address overrides the
 * server (the end-to-end tests route the socket through a fault proxy this way); `client` tells the
 * server's log which of the page's clients it is.
 */
export function socketUrl(client: 'element' | 'naive' | 'discovered'): string {
  const override = new URLSearchParams(location.search).get('ws');
  const url = new URL(override ?? '/live', location.href);
  if (url.protocol === 'http:' || url.protocol === 'https:') url.protocol = url.protocol === 'http:' ? 'ws:' : 'wss:';
  url.searchParams.set('page', PAGE_ID);
  url.searchParams.set('client', client);
  return url.href;
}
