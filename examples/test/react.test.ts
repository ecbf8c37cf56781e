/**
 * examples/react: React 19 + Vite, TypeScript strict. The generated JSX typings make `tsc` pass
 * (and it fails without them), the production build registers the element, the `onldf-ack` prop
 * receives acks, and the bound (uncontrolled) input keeps the device's value across re-renders.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeApp, installApp, npm } from './apps.js';
import {
  type Stack,
  expectBoundSurvivesRerender,
  expectEditAcked,
  expectLiveValues,
  expectRegistered,
  startStack,
} from './frontend.js';

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
    const app = join(dir, 'src/App.tsx');
    const source = readFileSync(app, 'utf8');
    const typings = "import type {} from '@live-device-form/element/react';\n";
    expect(source).toContain(typings);
    writeFileSync(app, source.replace(typings, ''));
    const failed = await npm(dir, ['run', 'typecheck']).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(failed).toMatch(/TS2339: Property 'live-device-form' does not exist on type 'JSX.IntrinsicElements'/);
    writeFileSync(app, source);
    await npm(dir, ['run', 'typecheck']);
  });

  it('builds for production and serves a page whose handlers see the live device', async () => {
    await npm(dir, ['run', 'build']);
    stack = await startStack(dir, join(dir, 'dist'));
    const page = await stack.open();
    await expectRegistered(page);
    await expectLiveValues(page);
    await expectEditAcked(page, stack.witness);
    await expectBoundSurvivesRerender(page);
  });
});
