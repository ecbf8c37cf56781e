#!/usr/bin/env node
/**
 * The `prepack` of each publishable package (run by `pnpm pack` and `pnpm publish` in the package's
 * folder): a clean build of everything the package's `exports`, `types`, `bin` and `customElements`
 * name. It removes `dist/` (so no file of a source deleted since the last build is packed) and the
 * package's tsbuildinfo (so `tsc -b` rebuilds it), then runs the package's own `build` script with
 * the package manager that runs this (the element's bundle and custom-elements.json, the server's
 * copy of that bundle in `dist/assets/` are made there). `scripts/check-packs.mjs` checks the result.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

const generated = ['dist', 'tsconfig.tsbuildinfo', 'custom-elements.json'];
for (const path of generated) rmSync(path, { recursive: true, force: true });

// npm_execpath: the package manager running this lifecycle script (pnpm's or npm's CLI file).
const execPath = process.env.npm_execpath;
const [cmd, args] =
  execPath === undefined
    ? ['npx', ['-y', 'pnpm@10.34.9', 'run', 'build']]
    : /\.[cm]?js$/.test(execPath)
      ? [process.execPath, [execPath, 'run', 'build']]
      : [execPath, ['run', 'build']];
const r = spawnSync(cmd, args, { stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
if (!existsSync('dist')) {
  process.stderr.write('prepack: the build left no dist/\n');
  process.exit(1);
}
