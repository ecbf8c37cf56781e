/**
 * Packs the three publishable packages once per run (`scripts/pack.mjs`) and hands the tarball
 * paths to the tests (`inject('packs')`).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { Packs } from './apps.js';

declare module 'vitest' {
  export interface ProvidedContext {
    packs: Packs;
  }
}

export default function setup(project: TestProject): void {
  // `LDF_PACKS=.artifacts/packs/packs.json`: tarballs packed (and checked) earlier in the same run
  // (scripts/test.sh packs once for the pack check and the examples).
  const reuse = process.env.LDF_PACKS;
  if (reuse) {
    project.provide('packs', JSON.parse(readFileSync(reuse, 'utf8')) as Packs);
    return;
  }
  const script = fileURLToPath(new URL('../../scripts/pack.mjs', import.meta.url));
  const out = execFileSync(process.execPath, [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  project.provide('packs', JSON.parse(out.trim().split('\n').at(-1)!) as Packs);
}
