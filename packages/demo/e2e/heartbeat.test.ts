/**
 * Laptop sleep: the socket stays open but nothing is delivered either way. Only the element's
 * heartbeat can notice (docs/protocol.md rule 9: ping every 5 s, no pong within 5 s → dead link), so the
 * form must be read-only within about 10 s, then reconnect and resync once traffic flows again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GENLOCK_STATUS, H } from './scenario.js';
import { type Stack, isAction, recordWrites, startStack, waitForShown, waitForState, writes } from './stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('a link that stays open but delivers nothing (laptop sleep)', () => {
  it('the heartbeat notices within ~10 s, the form goes read-only, then it resyncs when the link is back', async () => {
    stack = await startStack();
    const page = await stack.open('/', { naive: '0' });
    await recordWrites(page);
    const mark = stack.witness.mark();

    const started = Date.now();
    stack.proxy.blackHole();
    // The hardware changes while the page is asleep: the page cannot know.
    await stack.demo.simulator.set(H, -40);
    await stack.witness.waitFor((m) => m.topic === GENLOCK_STATUS && m.payload === '-40 10', 'status "-40 10"', {
      from: mark,
    });
    expect(await page.evaluate(() => document.querySelector('live-device-form')!.state)).toBe('live');

    await page.waitForFunction(() => document.querySelector('live-device-form')!.state !== 'live', null, {
      timeout: 15_000,
      polling: 50,
    });
    const noticedAfter = Date.now() - started;
    // 5 s ping interval + 5 s pong timeout, plus scheduling slack.
    expect(noticedAfter).toBeLessThanOrEqual(10_500);
    expect(await page.locator(`live-device-form #ldf-${H}`).evaluate((el: HTMLInputElement) => el.readOnly)).toBe(true);

    // Connections made while black-holed stay dead; the element's connect timeout and backoff get
    // it a fresh one after the link is back.
    stack.proxy.pass();
    await waitForState(page, 'live', 40_000);
    await waitForShown(page, H, '-40');
    expect(await writes(page)).toEqual([]);
    expect(stack.witness.since(mark).filter(isAction)).toEqual([]);
  }, 60_000);
});
