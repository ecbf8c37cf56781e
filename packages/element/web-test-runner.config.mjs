/**
 * @web/test-runner for the element: Debian's Chromium through the testkit's launcher options (never
 * a downloaded browser), TypeScript via esbuild (target es2022), and the real server SDK on loopback
 * behind the testkit's fault proxy (test/harness/plugin.mjs), the manifest check's analyzer run
 * (test/harness/manifest.mjs) and Chromium's accessibility tree (`a11ySnapshot`). Run under tsx
 * (see package.json), so the testkit's TypeScript loads here.
 */
import { fileURLToPath } from 'node:url';
import { chromeLauncher } from '@web/test-runner-chrome';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncherOptions } from '@live-device-form/testkit';
import { a11ySnapshotPlugin } from '@web/test-runner-commands/plugins';
import { manifestPlugin } from './test/harness/manifest.mjs';
import { ldfServerPlugin } from './test/harness/plugin.mjs';

const tsconfig = fileURLToPath(new URL('./tsconfig.test.json', import.meta.url));

export default {
  files: ['src/**/*.test.ts', 'test/**/*.test.ts'],
  nodeResolve: true,
  concurrency: 1,
  testFramework: { config: { timeout: 15000 } },
  testsFinishTimeout: 180000,
  browserStartTimeout: 60000,
  plugins: [
    esbuildPlugin({ ts: true, target: 'es2022', tsconfig }),
    ldfServerPlugin(),
    manifestPlugin(),
    a11ySnapshotPlugin(),
  ],
  browsers: [chromeLauncher({ launchOptions: chromeLauncherOptions() })],
};
