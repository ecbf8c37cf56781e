/**
 * The bin as shipped serves the element bundle its build copied into `dist/assets/`: the redirect
 * to the version of the element it was built with, the exact bytes, and a real Chromium page on
 * another origin that loads it with one `<script type="module">` and gets the element defined.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  VIDEOPROC_FILE,
  buildCliWithBundle,
  launchChromium,
  listeningUrl,
  runCli,
  stopCliProcesses,
} from '@live-device-form/testkit';

const ASSETS = fileURLToPath(new URL('../dist/assets/', import.meta.url));

beforeAll(buildCliWithBundle, 120_000);

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  await stopCliProcesses();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** The CLI on a free port with its embedded broker; resolves with `http://127.0.0.1:PORT`. */
async function cli(): Promise<string> {
  const url = await listeningUrl(runCli(['--device', VIDEOPROC_FILE, '--port', '0']));
  return `http://127.0.0.1:${new URL(url).port}`;
}

function get(
  url: string,
  headers: http.OutgoingHttpHeaders = {},
): Promise<{ res: http.IncomingMessage; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ res, body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

describe('live-device-server serves the element bundle', () => {
  it('redirects /live-device-form.bundle.js to the version of the element it was built with, and serves those exact bytes', async () => {
    const base = await cli();
    const { version } = JSON.parse(await readFile(`${ASSETS}live-device-form.bundle.json`, 'utf8')) as {
      version: string;
    };
    const element = JSON.parse(
      await readFile(fileURLToPath(new URL('../../element/package.json', import.meta.url)), 'utf8'),
    ) as { version: string };
    expect(version).toBe(element.version);

    const alias = await get(`${base}/live-device-form.bundle.js`);
    expect(alias.res.statusCode).toBe(302);
    expect(alias.res.headers.location).toBe(`/live-device-form@${version}.bundle.js`);

    const bundle = await get(base + alias.res.headers.location, { 'accept-encoding': 'gzip, deflate, br' });
    expect(bundle.res.statusCode).toBe(200);
    expect(bundle.res.headers['content-encoding']).toBe('br');
    const bytes = await readFile(`${ASSETS}live-device-form.bundle.js`);
    expect(brotliDecompressSync(bundle.body).equals(bytes)).toBe(true);
    expect(bytes.toString()).toContain('live-device-form');
  });

  it('answers a plain GET on the WebSocket path with 426, and other paths with 404', async () => {
    const base = await cli();
    expect((await get(`${base}/live`)).res.statusCode).toBe(426);
    expect((await get(`${base}/`)).res.statusCode).toBe(404);
    expect((await get(`${base}/favicon.ico`)).res.statusCode).toBe(404);
  });

  it('a Chromium page on another origin loads it with one <script type="module">, gets <live-device-form> defined, and German from /locales/de.js', async () => {
    const base = await cli();
    const page = http.createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(
          `<!doctype html><meta charset="utf-8">` +
            `<script type="module" src="${base}/live-device-form.bundle.js"></script>` +
            `<live-device-form device="videoproc" src="${base.replace('http:', 'ws:')}/live"></live-device-form>` +
            `<live-device-form lang="de" device="nope" src="ws://127.0.0.1:1/live"></live-device-form>`,
        );
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise<void>((resolve) => page.close(() => resolve())));
    const pageOrigin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
    expect(pageOrigin).not.toBe(base);

    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const tab = await browser.newPage();
    const failed: string[] = [];
    tab.on('requestfailed', (r) => failed.push(`${r.url()}: ${r.failure()?.errorText ?? ''}`));
    tab.on('console', (m) => {
      if (m.type() === 'error') failed.push(m.text());
    });
    await tab.goto(pageOrigin);
    // Evaluated in the page (a string: this package's tests are typed without the DOM).
    await tab
      .waitForFunction(`customElements.get('live-device-form') !== undefined`, undefined, { timeout: 15_000 })
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${failed.join('\n')}`);
      });
    // The German element's words come from /locales/de.js, which the bundle imports from the CLI.
    await tab
      .waitForFunction(
        `document.querySelector('[lang=de]').shadowRoot?.querySelector('[part=status-text]')?.textContent.includes('Verbindung')`,
        undefined,
        { timeout: 15_000 },
      )
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${failed.join('\n')}`);
      });
  }, 60_000);
});
