#!/usr/bin/env node
/**
 * Packs the three publishable packages with `pnpm pack` into `.artifacts/packs/`. Each package's
 * `prepack` (scripts/prepack.mjs) makes a clean build of everything its manifest names; `pnpm pack`
 * turns `workspace:*` into the exact version, and the workspace's `.pnpmfile.cjs` leaves
 * `devDependencies` and `scripts` out of the packed manifest. Writes `packs.json` beside the
 * tarballs and prints it as one JSON line: `{"protocol": "<abs path>.tgz", "server": "…", "element": "…"}`.
 * `scripts/check-packs.mjs` checks them.
 *
 * Usage: node scripts/pack.mjs [--out DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PNPM = ['-y', 'pnpm@10.34.9'];
/** The publishable packages, in the order they are packed (the server's build bundles the element). */
export const PACKAGES = ['protocol', 'server', 'element'];

const outFlag = process.argv.indexOf('--out');
const out = resolve(outFlag > 0 ? process.argv[outFlag + 1] : join(ROOT, '.artifacts/packs'));

// The packages' own output goes to stderr, so stdout carries only the JSON line.
const run = (cwd, args) => execFileSync('npx', [...PNPM, ...args], { cwd, stdio: ['ignore', 2, 'inherit'] });

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const result = {};
for (const name of PACKAGES) {
  run(join(ROOT, 'packages', name), ['pack', '--pack-destination', out]);
  const file = readdirSync(out).find((f) => f.startsWith(`live-device-form-${name}-`) && f.endsWith('.tgz'));
  if (!file) throw new Error(`pnpm pack left no tarball for ${name} in ${out}`);
  result[name] = join(out, file);
}
writeFileSync(join(out, 'packs.json'), JSON.stringify(result, null, 2) + '\n');
console.log(JSON.stringify(result));
