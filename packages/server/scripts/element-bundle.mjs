#!/usr/bin/env node
/**
 * Puts the element's prebuilt bundle into the server's `dist/assets/`, so that one install of
 * `@live-device-form/server` serves the `<live-device-form>` bundle of the element version it was
 * built with (the CLI's `/live-device-form@<version>.bundle.js` route, docs/cli.md):
 *
 * - compiles the element (`tsc -b packages/element`, incremental) and bundles it with the
 *   element's own `scripts/bundle.mjs` into `packages/element/dist/live-device-form.bundle.js`;
 * - copies it to `dist/assets/live-device-form.bundle.js`, and writes
 *   `dist/assets/live-device-form.bundle.json` with the element's version;
 * - writes each language module but English (built into the bundle), minified, to
 *   `dist/assets/locales/<lang>.js`: the bundle imports `./locales/<lang>.js` from beside itself
 *   the first time an element speaks that language (docs/element.md, "Languages").
 *
 * Workspace-only (it reads `../element`): part of the server's `build` and `prepack` and of the root
 * `build`. The server does not depend on the element in package.json: the element's tests use the
 * server (a devDependency), and the other direction would be a cycle.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const server = fileURLToPath(new URL('..', import.meta.url));
const element = fileURLToPath(new URL('../../element/', import.meta.url));
const assets = `${server}dist/assets/`;

const tsc = createRequire(`${element}package.json`).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-b', element], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(`element build failed:\n${r.stdout}${r.stderr}`);

const { bundle, bundleLocale } = await import(pathToFileURL(`${element}scripts/bundle.mjs`).href);
const built = `${element}dist/live-device-form.bundle.js`;
await bundle({ withLit: true, outfile: built });

const { version } = JSON.parse(readFileSync(`${element}package.json`, 'utf8'));
mkdirSync(assets, { recursive: true });
copyFileSync(built, `${assets}live-device-form.bundle.js`);
writeFileSync(
  `${assets}live-device-form.bundle.json`,
  JSON.stringify({ name: '@live-device-form/element', version }, null, 2) + '\n',
);

rmSync(`${assets}locales`, { recursive: true, force: true });
mkdirSync(`${assets}locales`);
for (const file of readdirSync(`${element}dist/locales`)) {
  const lang = /^([\w-]+)\.js$/.exec(file)?.[1];
  if (lang === undefined || lang === 'en') continue;
  writeFileSync(`${assets}locales/${lang}.js`, await bundleLocale(lang));
}
