/**
 * A static file server for the consumer suite: serves an app's folder (its page, or its production
 * build) on a free loopback port, the way any static host would, so that the page has an origin of
 * its own. An optional `rewrite` edits HTML as it is served (e.g. to put a test's port into a page
 * written for `127.0.0.1:8080`).
 * @module
 */
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';

/** Content types by file extension; anything else is `application/octet-stream`. */
const TYPES: Readonly<Record<string, string>> = Object.freeze({
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
});

/** Options of {@link startStaticServer}. */
export interface StaticServerOptions {
  /** Edits each HTML file as it is served (called per request). Defaults to none. */
  rewrite?: (html: string, path: string) => string;
  /**
   * A file (relative to the root) served for a path without an extension that matches no file:
   * a single-page app's `index.html`. Defaults to none (404).
   */
  fallback?: string;
}

/** A running static server. */
export interface StaticServer {
  /** `http://127.0.0.1:PORT`: the page's origin. */
  readonly origin: string;
  readonly port: number;
  /** Every path requested so far, in order. */
  readonly requests: readonly string[];
  /** Closes the server and its connections. Safe to call twice. */
  close(): Promise<void>;
}

/** Serves `root` on `127.0.0.1` (a free port); `/` and folders serve their `index.html`. */
export async function startStaticServer(root: string, options: StaticServerOptions = {}): Promise<StaticServer> {
  const base = resolve(root);
  const requests: string[] = [];

  async function file(path: string): Promise<string | undefined> {
    const full = normalize(join(base, decodeURIComponent(path)));
    if (full !== base && !full.startsWith(base + sep)) return undefined; // outside the root
    const s = await stat(full).catch(() => undefined);
    if (s?.isDirectory()) return file(join(path, 'index.html'));
    return s?.isFile() ? full : undefined;
  }

  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    requests.push(path);
    void (async () => {
      let full = await file(path);
      if (full === undefined && options.fallback !== undefined && extname(path) === '') {
        full = await file(options.fallback);
      }
      if (full === undefined) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
        return;
      }
      const type = TYPES[extname(full)] ?? 'application/octet-stream';
      let body: string | Buffer = await readFile(full);
      if (options.rewrite && extname(full) === '.html') body = options.rewrite(body.toString('utf8'), path);
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    })().catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${err.message}\n`);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    close() {
      closed ??= new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      });
      return closed;
    },
  };
}
