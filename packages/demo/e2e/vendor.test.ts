/**
 * Drop-in use: the vendor page wraps its own light-DOM inputs in <live-device-form>; the element
 * binds them by name, writes their edits and shows the device's changes in them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GENLOCK_ACTION, GENLOCK_STATUS } from './scenario.js';
import { type Stack, isAction, startStack, waitForShown, waitForState } from './stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('the vendor page with its own inputs', () => {
  it('binds the inputs: an edit is published, a device change shows up, a lost link locks them', async () => {
    stack = await startStack();
    const page = await stack.open('/vendor.html');
    const h = page.locator('input[name="genlock_phase_h"]');
    const v = page.locator('input[name="genlock_phase_v"]');
    await waitForShown(page, 'genlock_phase_h', '-25');
    expect(await page.locator('select[name="output_format"]').inputValue()).toBe('1080p50');
    expect(await page.locator('input[name="input_signal"]').inputValue()).toBe('1080p50 locked');
    const mark = stack.witness.mark();

    // An edit in the vendor's own input goes to the device.
    await h.fill('40');
    await h.press('Enter');
    await stack.witness.waitFor(
      (m) => m.topic === GENLOCK_ACTION && m.payload === 'genlock 40 10',
      'action "genlock 40 10"',
      { from: mark },
    );
    await stack.witness.waitFor((m) => m.topic === GENLOCK_STATUS && m.payload === '40 10', 'status "40 10"', {
      from: mark,
    });

    // A select and a checkbox work the same way.
    await page.locator('select[name="output_format"]').selectOption('2160p50');
    await stack.witness.waitFor(
      (m) => m.topic === 'cy-vp4/videoproc/action/set/output_format' && m.payload === 'format 3',
      'action "format 3"',
      { from: mark },
    );

    // A change at the device shows up in the vendor's input.
    await stack.demo.simulator.set('genlock_phase_v', -7);
    await waitForShown(page, 'genlock_phase_v', '-7');

    // The link drops: the vendor's inputs are read-only until the resync.
    stack.proxy.refuse();
    await waitForState(page, 'reconnecting');
    expect(await v.evaluate((el: HTMLInputElement) => el.readOnly)).toBe(true);
    await stack.demo.simulator.set('genlock_phase_v', 3);
    stack.proxy.pass();
    await waitForState(page, 'live', 30_000);
    await waitForShown(page, 'genlock_phase_v', '3');
    expect(await v.evaluate((el: HTMLInputElement) => el.readOnly)).toBe(false);
    expect(
      stack.witness
        .since(mark)
        .filter(isAction)
        .map((m) => m.payload),
    ).toEqual(['genlock 40 10', 'format 3']);
  });
});
