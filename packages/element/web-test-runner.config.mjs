/**
 * @web/test-runner for the element: Debian's Chromium (never a downloaded browser), TypeScript via
 * esbuild (target es2022, so standard decorators are lowered), and the real server SDK on
 * loopback behind a fault-injecting proxy (test/harness/plugin.mjs).
 */
import { fileURLToPath } from 'node:url';
import { chromeLauncher } from '@web/test-runner-chrome';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { ldfServerPlugin } from './test/harness/plugin.mjs';

const tsconfig = fileURLToPath(new URL('./tsconfig.test.json', import.meta.url));

export default {
  files: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  testFramework: { config: { timeout: 15000 } },
  testsFinishTimeout: 180000,
  browserStartTimeout: 60000,
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig }), ldfServerPlugin()],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
        headless: true,
        args: [
          '--no-sandbox',
          '--headless=new',
          '--disable-gpu',
          '--disable-dev-shm-usage',
          '--disable-background-networking',
          '--disable-component-update',
          '--no-first-run',
          '--disable-sync',
        ],
      },
    }),
  ],
};
