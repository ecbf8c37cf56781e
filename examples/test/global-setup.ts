/**
 * Packs the three publishable packages once per run (`scripts/pack.mjs`) and hands the tarball
 * paths to the tests (`inject('packs')`).
 * @module
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import type { Packs } from './apps.js';

declare module 'vitest' {
  export interface ProvidedContext {
    packs: Packs;
  }
}

export default function setup(project: TestProject): void {
  const script = fileURLToPath(new URL('../../scripts/pack.mjs', import.meta.url));
  const out = execFileSync(process.execPath, [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  project.provide('packs', JSON.parse(out.trim().split('\n').at(-1)!) as Packs);
}
