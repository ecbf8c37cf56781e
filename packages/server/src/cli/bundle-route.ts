/**
 * The element bundle route: `GET /live-device-form@<version>.bundle.js` serves the prebuilt
 * `<live-device-form>` bundle (Lit included) that the server's build copied into `dist/assets/`,
 * compressed once at start (brotli and gzip, {@link prepareBundle}) and chosen per `Accept-Encoding`, cached for a year
 * (`immutable`: a new version is a new URL). `/live-device-form.bundle.js` redirects to it and is
 * never cached, so a page always gets the bundle of the server it talks to. The bundle imports
 * each language but English from beside itself, `/locales/<lang>.js`, on first use: those are
 * revalidated on every use (`no-cache` with an ETag), since their URL has no version. All allow any origin
 * (`Access-Control-Allow-Origin: *`): a `<script type="module">` from another origin is fetched in
 * CORS mode, and the bundle is public code. See docs/cli.md, *The element bundle*.
 * @module
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import type http from 'node:http';
import { promisify } from 'node:util';
import { brotliCompress, constants as zlib, gzip as gzipAsync } from 'node:zlib';
import Negotiator from 'negotiator';
import { type Route, sendText } from './router.js';

/** The unversioned path: a redirect to the versioned one. */
export const BUNDLE_ALIAS_PATH = '/live-device-form.bundle.js';

/** The versioned path of the bundle of element `version`. */
export function bundlePath(version: string): string {
  return `/live-device-form@${version}.bundle.js`;
}

/** The prebuilt element bundle and the element version it was built from. */
export interface ElementBundle {
  /** The `@live-device-form/element` version (`package.json`) the bundle was built from. */
  readonly version: string;
  /** The bundle's bytes (UTF-8 JavaScript, an ES module). */
  readonly code: Buffer;
  /** The language modules it loads on demand (`./locales/<lang>.js`), by language tag. Defaults to none. */
  readonly locales?: Readonly<Record<string, Buffer>>;
}

/** A language module's file name in `dist/assets/locales/`, and the tag it is served under. */
const LOCALE_FILE = /^([A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.js$/;

/** Where the server's build puts the bundle (`dist/assets/`, beside `dist/cli/`). */
const ASSETS = new URL('../assets/', import.meta.url);

/**
 * Reads `live-device-form.bundle.js` and its `live-device-form.bundle.json` (`{ "version" }`) from
 * `dir` (the server's `dist/assets/`). Resolves `undefined` when they are missing: a workspace
 * built with `tsc -b` only (the root `build` copies them).
 */
export async function loadElementBundle(dir: URL = ASSETS): Promise<ElementBundle | undefined> {
  let code: Buffer;
  let meta: unknown;
  try {
    code = await readFile(new URL('live-device-form.bundle.js', dir));
    meta = JSON.parse(await readFile(new URL('live-device-form.bundle.json', dir), 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const version = (meta as { version?: unknown } | null)?.version;
  if (typeof version !== 'string' || !/^[0-9A-Za-z.+-]+$/.test(version)) {
    throw new Error(`live-device-form.bundle.json in ${dir.pathname}: no valid "version"`);
  }
  const locales: Record<string, Buffer> = {};
  const localeDir = new URL('locales/', dir);
  const files = await readdir(localeDir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  for (const file of files) {
    const lang = LOCALE_FILE.exec(file)?.[1];
    if (lang !== undefined) locales[lang] = await readFile(new URL(file, localeDir));
  }
  return { version, code, locales };
}

/** One encoding of the bundle, ready to send. */
interface Representation {
  readonly body: Buffer;
  readonly etag: string;
  readonly encoding: 'br' | 'gzip' | 'identity';
}

const ENCODINGS = ['br', 'gzip', 'identity'] as const;

/** Headers every answer of the versioned path carries (200 and 304). */
const CACHED_HEADERS = Object.freeze({
  'cache-control': 'public, max-age=31536000, immutable',
  vary: 'Accept-Encoding',
  'access-control-allow-origin': '*',
});

/** One file in every encoding. */
type Representations = Readonly<Record<(typeof ENCODINGS)[number], Representation>>;

/** The bundle and its language modules compressed once per encoding, ready to serve: see {@link prepareBundle}. */
export interface PreparedBundle {
  readonly version: string;
  readonly representations: Representations;
  /** The language modules, by language tag. */
  readonly locales: Readonly<Record<string, Representations>>;
}

/** Headers of every answer of a language module (200 and 304): revalidated at each use. */
const LOCALE_HEADERS = Object.freeze({
  'cache-control': 'no-cache',
  vary: 'Accept-Encoding',
  'access-control-allow-origin': '*',
});

/** The path of a language module, relative to the bundle's (`./locales/<lang>.js`). */
export function localePath(lang: string): string {
  return `/locales/${lang}.js`;
}

const brotli = promisify(brotliCompress);
const gzip = promisify(gzipAsync);

/**
 * Compresses the bundle once per encoding, at the highest levels. Asynchronous, in libuv's thread
 * pool: brotli at quality 11 takes ~130 ms for the bundle, which must not stall the event loop
 * while the MQTT bridges are settling on their retained messages.
 */
export async function prepareBundle(bundle: ElementBundle): Promise<PreparedBundle> {
  const locales: Record<string, Representations> = {};
  for (const [lang, code] of Object.entries(bundle.locales ?? {})) locales[lang] = await compress(code);
  return { version: bundle.version, representations: await compress(bundle.code), locales };
}

/** `code` in every encoding, with a strong ETag per representation (they differ in bytes). */
async function compress(code: Buffer): Promise<Representations> {
  const hash = createHash('sha256').update(code).digest('base64url').slice(0, 22);
  const [br, gz] = await Promise.all([
    brotli(code, {
      params: {
        [zlib.BROTLI_PARAM_MODE]: zlib.BROTLI_MODE_TEXT,
        [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY,
        [zlib.BROTLI_PARAM_SIZE_HINT]: code.length,
      },
    }),
    gzip(code, { level: 9 }),
  ]);
  return {
    br: { body: br, etag: `"${hash}-br"`, encoding: 'br' },
    gzip: { body: gz, etag: `"${hash}-gz"`, encoding: 'gzip' },
    identity: { body: code, etag: `"${hash}"`, encoding: 'identity' },
  };
}

/**
 * The client's best encoding among {@link ENCODINGS}; on a tie (Chromium sends
 * `gzip, deflate, br, zstd`, all q=1) the smaller, brotli, wins. `undefined` when none is acceptable.
 */
function negotiateEncoding(req: http.IncomingMessage): (typeof ENCODINGS)[number] | undefined {
  // negotiator 1.x takes `{ preferred }` for ties; its @types (0.6) do not know the parameter yet.
  const negotiator = new Negotiator(req);
  const encoding = negotiator.encoding as (
    available: readonly string[],
    options: { preferred: readonly string[] },
  ) => string | undefined;
  return encoding.call(negotiator, ENCODINGS, { preferred: ENCODINGS }) as (typeof ENCODINGS)[number] | undefined;
}

/** Whether an `If-None-Match` list names `etag` (weak comparison, `*` matches). */
function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  return ifNoneMatch.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/**
 * The two routes of `bundle`: the versioned path and the unversioned alias. Without a bundle,
 * the alias answers 404 saying how to build one.
 */
export function bundleRoutes(bundle: PreparedBundle | undefined): Route[] {
  if (bundle === undefined) {
    return [
      {
        path: BUNDLE_ALIAS_PATH,
        methods: ['GET'],
        handle: (_req, res) =>
          sendText(
            res,
            404,
            'live-device-server: this build has no element bundle (dist/assets/); in the workspace, run `pnpm run build`',
          ),
      },
    ];
  }
  const versioned = bundlePath(bundle.version);
  const redirect = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    res
      .writeHead(302, {
        location: versioned,
        // Never kept: after an upgrade of the server, the next page load follows it to the new version.
        'cache-control': 'no-cache',
        // A module script follows the redirect in CORS mode: the redirect must pass the CORS check too.
        'access-control-allow-origin': '*',
        'content-type': 'text/plain; charset=utf-8',
      })
      .end(`${versioned}\n`);
  };
  return [
    { path: versioned, methods: ['GET'], handle: serveFile(bundle.representations, CACHED_HEADERS) },
    { path: BUNDLE_ALIAS_PATH, methods: ['GET'], handle: redirect },
    ...Object.entries(bundle.locales).map(([lang, reps]): Route => ({
      path: localePath(lang),
      methods: ['GET'],
      handle: serveFile(reps, LOCALE_HEADERS),
    })),
  ];
}

/** A handler sending one of `reps` per `Accept-Encoding`, or 304 for a matching `If-None-Match`. */
function serveFile(reps: Representations, headers: Readonly<Record<string, string>>): Route['handle'] {
  return (req, res) => {
    const chosen = negotiateEncoding(req);
    // Nothing acceptable (`identity;q=0` and neither br nor gzip): send it plain all the same
    // (RFC 9110 §12.5.3 allows it), rather than a 406 the browser would not explain.
    const rep = reps[chosen ?? 'identity'];
    if (matches(req.headers['if-none-match'], rep.etag)) {
      res.writeHead(304, { ...headers, etag: rep.etag }).end();
      return;
    }
    res
      .writeHead(200, {
        ...headers,
        'content-type': 'text/javascript; charset=utf-8',
        'content-length': rep.body.length,
        'x-content-type-options': 'nosniff',
        etag: rep.etag,
        ...(rep.encoding === 'identity' ? {} : { 'content-encoding': rep.encoding }),
      })
      .end(rep.body);
  };
}
