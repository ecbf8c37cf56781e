/**
 * examples/vue: Vue 3 + Vite, `vue-tsc` with `strictTemplates`. The generated `GlobalComponents`
 * typings make `vue-tsc` pass, the production build registers the element, the `@ldf-ack` listener
 * receives acks, and the bound input keeps the device's value across re-renders — which `v-model`
 * on it does not (`?variant=trap`: the trap the docs warn of).
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
  expectTrapOverwrites,
  startStack,
} from './frontend.js';

describeApp('vue', () => {
  let dir: string;
  let stack: Stack;

  beforeAll(async () => {
    dir = await installApp('vue');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('type-checks with vue-tsc strictTemplates thanks to the generated typings, and fails without them', async () => {
    const tsconfig = join(dir, 'tsconfig.json');
    const source = readFileSync(tsconfig, 'utf8');
    const typings = ', "@live-device-form/element/vue"';
    expect(source).toContain(typings);
    writeFileSync(tsconfig, source.replace(typings, ''));
    const failed = await npm(dir, ['run', 'typecheck']).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(failed).toMatch(/Property 'live-device-form' does not exist/);
    writeFileSync(tsconfig, source);
    await npm(dir, ['run', 'typecheck']);
  });

  it('builds for production and serves a page whose listeners see the live device', async () => {
    await npm(dir, ['run', 'build']);
    stack = await startStack(dir, join(dir, 'dist'));
    const page = await stack.open();
    await expectRegistered(page);
    await expectLiveValues(page);
    await expectEditAcked(page, stack.witness);
    await expectBoundSurvivesRerender(page);
  });

  it('v-model on a bound input writes the model over the device value on re-render (the trap the docs warn of)', async () => {
    const page = await stack.open({ variant: 'trap' });
    await expectTrapOverwrites(page);
  });
});
