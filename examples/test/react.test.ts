/**
 * examples/react: React 19 + Vite, TypeScript strict. The generated JSX typings make `tsc` pass
 * (and it fails without them), the production build registers the element, the `onldf-ack` prop
 * receives acks, and the bound (uncontrolled) input keeps the device's value across re-renders.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import { describeApp, installApp, npm } from './apps.js';
import { type Stack, expectCheckNeeds, expectPageWorks, startStack } from './frontend.js';

describeApp('react', () => {
  let dir: string;
  let stack: Stack;

  beforeAll(async () => {
    dir = await installApp('react');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('type-checks under strict settings with the generated typings, and fails with TS2339 without them', async () => {
    await expectCheckNeeds(dir, {
      file: 'src/App.tsx',
      from: "import type {} from '@live-device-form/element/react';\n",
      to: '',
      script: 'typecheck',
      error: /TS2339: Property 'live-device-form' does not exist on type 'JSX.IntrinsicElements'/,
    });
  });

  it('builds for production and serves a page whose handlers see the live device', async () => {
    await npm(dir, ['run', 'build']);
    stack = await startStack(dir, join(dir, 'dist'));
    await expectPageWorks(stack);
  });
});
