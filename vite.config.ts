/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

/**
 * Root Vite config. Used by vitest for every Node-side suite: the protocol, the server SDK, the demo's
 * end-to-end tests, bench and chaos smoke runs. Workspace packages resolve to their TypeScript
 * sources, so tests never run against a stale build.
 */
export default defineConfig({
  esbuild: { target: 'es2022' },
  resolve: {
    alias: {
      '@live-device-form/protocol': src('protocol'),
      '@live-device-form/server': src('server'),
    },
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts', 'packages/demo/e2e/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**', 'packages/element/**'],
    environment: 'node',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
  },
});
