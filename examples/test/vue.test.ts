/**
 * examples/vue: Vue 3 + Vite, `vue-tsc` with `strictTemplates`. The generated `GlobalComponents`
 * typings make `vue-tsc` pass, the production build registers the element, the `@ldf-ack` listener
 * receives acks, and the bound input keeps the device's value across re-renders — which `v-model`
 * on it does not (`?variant=trap`: the trap the docs warn of).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import { describeApp, installApp, npm } from './apps.js';
import { type Stack, expectCheckNeeds, expectTrapOverwrites, expectPageWorks, startStack } from './frontend.js';

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
    await expectCheckNeeds(dir, {
      file: 'tsconfig.json',
      from: ', "@live-device-form/element/vue"',
      to: '',
      script: 'typecheck',
      error: /Property 'live-device-form' does not exist/,
    });
  });

  it('builds for production and serves a page whose listeners see the live device', async () => {
    await npm(dir, ['run', 'build']);
    stack = await startStack(dir, join(dir, 'dist'));
    await expectPageWorks(stack);
  });

  it('v-model on a bound input writes the model over the device value on re-render (the trap the docs warn of)', async () => {
    const page = await stack.open({ variant: 'trap' });
    await expectTrapOverwrites(page);
  });
});
