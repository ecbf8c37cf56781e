/**
 * examples/angular: Angular 20 (pinned: `@angular/cli` 21+ refuses Node 20), a standalone component
 * with `CUSTOM_ELEMENTS_SCHEMA` and strict templates. `ng build` type-checks the template (the
 * `(ldf-ack)` handler takes a `CustomEvent<AckDetail>`, and a wrong type fails the build), the
 * production build registers the element, the handler receives acks, and the bound input keeps the
 * device's value across change detection.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, it } from 'vitest';
import { describeApp, installApp, npm } from './apps.js';
import { type Stack, expectCheckNeeds, expectPageWorks, startStack } from './frontend.js';

const NO_ANALYTICS = { NG_CLI_ANALYTICS: 'false' };

describeApp('angular', () => {
  let dir: string;
  let stack: Stack;

  beforeAll(async () => {
    dir = await installApp('angular');
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('strict templates type $event of (ldf-ack) from the element typings: a wrong handler type fails ng build', async () => {
    await expectCheckNeeds(dir, {
      file: 'src/app.ts',
      from: 'onAck(e: CustomEvent<AckDetail>): void {\n    this.lastAck.set(e.detail.status);',
      to: 'onAck(e: CustomEvent<{ nope: string }>): void {\n    void e;',
      script: 'build',
      error: /TS2345: Argument of type 'CustomEvent<AckDetail>' is not assignable/,
      env: NO_ANALYTICS,
      rerun: false, // the next test builds it
    });
  });

  it('builds for production (strict templates) and serves a page whose handler sees the live device', async () => {
    await npm(dir, ['run', 'build'], NO_ANALYTICS);
    stack = await startStack(dir, join(dir, 'dist/browser'));
    await expectPageWorks(stack);
  });
});
