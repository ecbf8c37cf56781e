#!/usr/bin/env node
/**
 * Builds the three publishable packages and packs them with `pnpm pack` (which turns
 * `workspace:*` into the exact version) into `.artifacts/packs/`. Prints one JSON line:
 * `{"protocol": "<abs path>.tgz", "server": "…", "element": "…"}`.
 *
 * Usage: node scripts/pack.mjs [--out DIR]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PNPM = ['-y', 'pnpm@10.34.9'];
export const PACKAGES = ['protocol', 'server', 'element'];

const outFlag = process.argv.indexOf('--out');
const out = resolve(outFlag > 0 ? process.argv[outFlag + 1] : join(ROOT, '.artifacts/packs'));

const run = (cwd, args) => execFileSync('npx', [...PNPM, ...args], { cwd, stdio: ['ignore', 'ignore', 'inherit'] });

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
run(ROOT, ['run', 'build']);
run(join(ROOT, 'packages/element'), ['run', 'build']);
const result = {};
for (const name of PACKAGES) {
  run(join(ROOT, 'packages', name), ['pack', '--pack-destination', out]);
  const file = readdirSync(out).find((f) => f.startsWith(`live-device-form-${name}-`) && f.endsWith('.tgz'));
  if (!file) throw new Error(`pnpm pack left no tarball for ${name} in ${out}`);
  result[name] = join(out, file);
}
console.log(JSON.stringify(result));
