/// <reference types="vitest/config" />
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import root from '../vite.config.js';

/**
 * The consumer suite: each test installs one app under `examples/` from the packed tarballs (the
 * global setup packs them once per run) into `.artifacts/examples/<app>` and drives it in Chromium.
 * `pnpm run test:examples` runs every app; `LDF_EXAMPLES=html,react` runs a slice (`.ci/run` runs
 * the slice named in `scripts/test.sh`).
 */
export default defineConfig({
  ...root,
  root: fileURLToPath(new URL('..', import.meta.url)),
  test: {
    ...root.test,
    include: ['examples/test/**/*.test.ts'],
    globalSetup: ['examples/test/global-setup.ts'],
    // npm installs and production builds take minutes on a fresh machine.
    testTimeout: 300_000,
    hookTimeout: 600_000,
    // One app at a time: installs and builds each want both cores.
    fileParallelism: false,
  },
});
