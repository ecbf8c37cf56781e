/**
 * examples/angular: Angular 20 (pinned: `@angular/cli` 21+ refuses Node 20), a standalone component
 * with `CUSTOM_ELEMENTS_SCHEMA` and strict templates. `ng build` type-checks the template (the
 * `(ldf-ack)` handler takes a `CustomEvent<AckDetail>`, and a wrong type fails the build), the
 * production build registers the element, the handler receives acks, and the bound input keeps the
 * device's value across change detection.
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
    const app = join(dir, 'src/app.ts');
    const source = readFileSync(app, 'utf8');
    const handler = 'onAck(e: CustomEvent<AckDetail>): void {\n    this.lastAck.set(e.detail.status);';
    expect(source).toContain(handler);
    writeFileSync(app, source.replace(handler, 'onAck(e: CustomEvent<{ nope: string }>): void {\n    void e;'));
    const failed = await npm(dir, ['run', 'build'], NO_ANALYTICS).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(failed).toMatch(/TS2345: Argument of type 'CustomEvent<AckDetail>' is not assignable/);
    writeFileSync(app, source);
  });

  it('builds for production (strict templates) and serves a page whose handler sees the live device', async () => {
    await npm(dir, ['run', 'build'], NO_ANALYTICS);
    stack = await startStack(dir, join(dir, 'dist/browser'));
    const page = await stack.open();
    await expectRegistered(page);
    await expectLiveValues(page);
    await expectEditAcked(page, stack.witness);
    await expectBoundSurvivesRerender(page);
  });
});
