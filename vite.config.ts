/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const src = (file: string) => fileURLToPath(new URL(`./packages/${file}`, import.meta.url));

/**
 * Root Vite config. Used by vitest for every Node-side suite: the protocol, the server SDK, the demo's
 * end-to-end tests, the testkit, bench and chaos smoke runs. Workspace packages resolve to their
 * TypeScript sources, so tests never run against a stale build.
 */
export default defineConfig({
  esbuild: { target: 'es2022' },
  resolve: {
    alias: [
      { find: /^@live-device-form\/protocol$/, replacement: src('protocol/src/index.ts') },
      { find: /^@live-device-form\/server$/, replacement: src('server/src/index.ts') },
      { find: /^@live-device-form\/server\/testing$/, replacement: src('server/src/testing.ts') },
    ],
  },
  test: {
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'packages/demo/e2e/**/*.test.ts',
      'scripts/**/*.test.mjs',
    ],
    exclude: ['**/node_modules/**', '**/dist/**', 'packages/element/**'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
