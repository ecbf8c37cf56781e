/**
 * examples/vite-vanilla: a plain Vite + TypeScript page that imports the prebuilt bundle exactly as
 * the README says. Its production build must keep that side-effect import (the package's
 * `sideEffects` has to list the bundle, or Vite drops it and the tag is never defined).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import { describeApp, installApp, npm } from './apps.js';
import { type Stack, expectPageWorks, startStack } from './frontend.js';

describeApp('vite-vanilla', () => {
  let dir: string;
  let stack: Stack;

  beforeAll(async () => {
    dir = await installApp('vite-vanilla');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('type-checks under strict settings (events typed through HTMLElementEventMap)', async () => {
    await npm(dir, ['run', 'typecheck']);
  });

  it('builds for production and serves a page with the element registered and live', async () => {
    await npm(dir, ['run', 'build']);
    stack = await startStack(dir, join(dir, 'dist'));
    await expectPageWorks(stack);
  });
});
