/**
 * The CLI's router and its element bundle route, on a real HTTP server on loopback: content
 * negotiation (each body decompresses to the exact bundle bytes), the caching and CORS headers,
 * ETag revalidation, HEAD, the unversioned redirect, 404, 405 and the WebSocket path's 426.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BUNDLE_ALIAS_PATH,
  bundlePath,
  bundleRoutes,
  type ElementBundle,
  localePath,
  prepareBundle,
} from './bundle-route.js';
import { createRouter, upgradeRequiredRoute } from './router.js';

/** A stand-in bundle: JavaScript text, large enough for compression to matter, with non-ASCII. */
const BUNDLE: ElementBundle = {
  version: '1.2.3',
  code: Buffer.from(
    Array.from({ length: 2000 }, (_, i) => `export const f${i} = () => 'Genlock phase ${i} – ±';\n`).join(''),
  ),
  locales: { de: Buffer.from(`export default { live: 'Live', offline: 'Gerät offline' };\n`.repeat(20)) },
};
const VERSIONED = bundlePath(BUNDLE.version);

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
});

async function serve(withBundle = true): Promise<string> {
  const routes = [upgradeRequiredRoute('/live'), ...bundleRoutes(withBundle ? await prepareBundle(BUNDLE) : undefined)];
  const server = http.createServer(createRouter(routes));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** One raw request: headers exactly as given (no Accept-Encoding unless given), body as received. */
function request(url: string, headers: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('GET /live-device-form@<version>.bundle.js: content negotiation', () => {
  it('sends brotli when it is accepted, also on a tie with gzip (Chromium lists gzip first)', async () => {
    const base = await serve();
    const r = await request(base + VERSIONED, { 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(r.status).toBe(200);
    expect(r.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(r.body).equals(BUNDLE.code)).toBe(true);
    expect(Number(r.headers['content-length'])).toBe(r.body.length);
    expect(r.body.length).toBeLessThan(BUNDLE.code.length / 4);
  });

  it('sends gzip to a client that takes only gzip, or prefers it by q-value', async () => {
    const base = await serve();
    for (const accept of ['gzip', 'br;q=0.5, gzip']) {
      const r = await request(base + VERSIONED, { 'accept-encoding': accept });
      expect(r.headers['content-encoding'], accept).toBe('gzip');
      expect(gunzipSync(r.body).equals(BUNDLE.code), accept).toBe(true);
    }
  });

  it('sends the bytes as they are without Accept-Encoding, or when nothing offered is acceptable', async () => {
    const base = await serve();
    for (const headers of [
      {},
      { 'accept-encoding': 'zstd' },
      { 'accept-encoding': 'br;q=0, gzip;q=0, identity;q=0' },
    ]) {
      const r = await request(base + VERSIONED, headers);
      expect(r.status).toBe(200);
      expect(r.headers['content-encoding']).toBeUndefined();
      expect(r.body.equals(BUNDLE.code)).toBe(true);
    }
  });
});

describe('GET /live-device-form@<version>.bundle.js: headers', () => {
  it('is JavaScript, cached for a year as immutable, varies on Accept-Encoding, open to every origin', async () => {
    const base = await serve();
    const r = await request(base + VERSIONED, { 'accept-encoding': 'br', origin: 'http://127.0.0.1:9999' });
    expect(r.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(r.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(r.headers.vary).toBe('Accept-Encoding');
    expect(r.headers['access-control-allow-origin']).toBe('*');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('has one strong ETag per encoding, and answers a matching If-None-Match with 304 and no body', async () => {
    const base = await serve();
    const br = await request(base + VERSIONED, { 'accept-encoding': 'br' });
    const gz = await request(base + VERSIONED, { 'accept-encoding': 'gzip' });
    const plain = await request(base + VERSIONED);
    const tags = [br, gz, plain].map((r) => r.headers.etag);
    for (const tag of tags) expect(tag).toMatch(/^"[\w-]+"$/);
    expect(new Set(tags).size).toBe(3);

    const again = await request(base + VERSIONED, { 'accept-encoding': 'br', 'if-none-match': br.headers.etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    expect(again.headers.etag).toBe(br.headers.etag);
    expect(again.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    // Another encoding's tag does not match this representation.
    const other = await request(base + VERSIONED, { 'accept-encoding': 'br', 'if-none-match': gz.headers.etag });
    expect(other.status).toBe(200);
  });

  it('answers HEAD with the GET headers and no body', async () => {
    const base = await serve();
    const get = await request(base + VERSIONED, { 'accept-encoding': 'gzip' });
    const head = await request(base + VERSIONED, { 'accept-encoding': 'gzip' }, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const h of ['content-type', 'content-length', 'content-encoding', 'etag', 'cache-control', 'vary']) {
      expect(head.headers[h], h).toBe(get.headers[h]);
    }
  });
});

describe('GET /live-device-form.bundle.js', () => {
  it('redirects (302) to the versioned path, never cached, open to every origin', async () => {
    const base = await serve();
    for (const method of ['GET', 'HEAD']) {
      const r = await request(base + BUNDLE_ALIAS_PATH, {}, method);
      expect(r.status, method).toBe(302);
      expect(r.headers.location).toBe(VERSIONED);
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.headers['access-control-allow-origin']).toBe('*');
    }
  });

  it('ignores a query string', async () => {
    const base = await serve();
    expect((await request(`${base}${BUNDLE_ALIAS_PATH}?v=1`)).status).toBe(302);
    expect((await request(`${base}${VERSIONED}?v=1`)).status).toBe(200);
  });

  it('answers 404 saying how to build one when the install has no bundle', async () => {
    const base = await serve(false);
    const r = await request(base + BUNDLE_ALIAS_PATH);
    expect(r.status).toBe(404);
    expect(r.body.toString()).toContain('this build has no element bundle');
  });
});

describe('GET /locales/<lang>.js', () => {
  it('serves a language module the bundle imports from beside itself, compressed, revalidated at each use, open to every origin', async () => {
    const base = await serve();
    const a = await request(`${base}${localePath('de')}`, { 'accept-encoding': 'gzip, br' });
    expect(a.status).toBe(200);
    expect(a.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(a.body).equals(BUNDLE.locales!.de!)).toBe(true);
    expect(a.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(a.headers['cache-control']).toBe('no-cache');
    expect(a.headers['access-control-allow-origin']).toBe('*');
    const again = await request(`${base}${localePath('de')}`, {
      'accept-encoding': 'gzip, br',
      'if-none-match': a.headers.etag!,
    });
    expect(again.status).toBe(304);
    expect((await request(`${base}${localePath('fr')}`)).status).toBe(404);
  });
});

describe('the router', () => {
  it('answers 404 for an unknown path, and for another version of the bundle', async () => {
    const base = await serve();
    for (const path of ['/', '/index.html', '/live/', '/live-device-form@0.0.1.bundle.js', '/healthz']) {
      const r = await request(base + path);
      expect(r.status, path).toBe(404);
    }
  });

  it('answers a plain GET on the WebSocket path with 426 and the Upgrade header', async () => {
    const base = await serve();
    const r = await request(`${base}/live`);
    expect(r.status).toBe(426);
    expect(r.headers.upgrade).toBe('websocket');
    expect(r.body.toString()).toContain('connect a WebSocket (ldf.v1) to /live');
  });

  it('answers 405 with Allow for a method a route does not take', async () => {
    const base = await serve();
    const r = await request(base + VERSIONED, {}, 'POST');
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
    expect(r.body.toString()).not.toContain('export const');
  });

  it('refuses two routes for one path when built', () => {
    expect(() => createRouter([upgradeRequiredRoute('/x'), upgradeRequiredRoute('/x')])).toThrow(
      'two routes for the path /x',
    );
  });
});
