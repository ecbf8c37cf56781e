/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import root from '../vite.config.js';

/**
 * The chaos package's CI suite: the root config (workspace packages resolved to their sources),
 * restricted to `chaos/test`. `pnpm run test:chaos` at the root runs it. To fold it into the root
 * run instead, add `chaos/test/**\/*.test.ts` to the root `test.include`.
 */
export default defineConfig({
  ...root,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    ...root.test,
    include: ['chaos/test/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
