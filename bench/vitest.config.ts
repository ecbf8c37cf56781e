/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import root from '../vite.config.js';

/**
 * The bench package's CI suite: the smoke run (`bench/test/smoke.test.ts`), which runs every figure
 * at tiny sizes and fails only on a crash, never on a timing. To fold it into the root run, add
 * `bench/test/**\/*.test.ts` to the root `test.include`.
 */
export default defineConfig({
  ...root,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    ...root.test,
    include: ['bench/test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
});
