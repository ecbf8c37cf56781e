/**
 * Builds what the bench measures: the packages' `dist/` (`tsc -b`, quick when up to date) and the
 * element's single-file bundle, made by the element's own `scripts/bundle.mjs` — the code behind
 * `scripts/size.mjs` and `dist/live-device-form.bundle.js`.
 * @module
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** The element package's bundler (`packages/element/scripts/bundle.mjs`). */
export interface ElementBundler {
  bundle(options: { withLit: boolean }): Promise<string>;
}

export async function buildPackages(): Promise<void> {
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
  await promisify(execFile)(process.execPath, [tsc, '-b', 'packages/protocol', 'packages/server', 'packages/element'], {
    cwd: ROOT,
  });
}

export async function elementBundler(): Promise<ElementBundler> {
  const url = pathToFileURL(`${ROOT}packages/element/scripts/bundle.mjs`).href;
  return (await import(url)) as ElementBundler;
}
