/**
 * The original scenario (the one README.md and docs/protocol.md describe), step for step, shared by the tests that run it with
 * the protection on and off: hardware at H=22 and the page shows it; the page's network is cut; the
 * hardware changes to H=-25; the user tries to type 25; the network comes back.
 * @module
 */
import type { Page } from 'playwright-core';
import { expect } from 'vitest';
import { type Stack, recordWrites, waitForShown, waitForState, writes } from './stack.js';

export const H = 'genlock_phase_h';
export const V = 'genlock_phase_v';
export const GENLOCK_STATUS = 'cy-vp4/videoproc/status/volatile/genlock_phase';
export const GENLOCK_ACTION = 'cy-vp4/videoproc/action/set/genlock';

/** Writable fields of the example device: what the naive client's form recovery re-sends. */
export const WRITABLE_FIELDS = 6;

/** The naive client's counters, from its panel. */
export function naiveCounts(page: Page): Promise<{ state: string; sent: number; accepted: number; rejected: number }> {
  return page.evaluate(() => {
    const d = document.querySelector<HTMLElement>('#naive')!.dataset;
    return { state: d.state ?? '', sent: Number(d.sent), accepted: Number(d.accepted), rejected: Number(d.rejected) };
  });
}

/** The naive client's activity lines, newest first. */
export function naiveEvents(page: Page): Promise<string[]> {
  return page.$$eval('#naive .naive-events li', (lis) => lis.map((li) => li.textContent ?? ''));
}

/** What happened, for the assertions each test makes. */
export interface ScenarioResult {
  /** The witness's message count before the cut: everything after it happened during or after the outage. */
  mark: number;
}

/**
 * Runs the scenario up to "network back, page resynced". With `naive`, also waits until the naive
 * client has reconnected, replayed its form and had every replayed write answered. `resetExpected`:
 * the protection is off, so the naive replay may reset the hardware before the element resyncs
 * (the element then rightly shows 22); the caller asserts on that.
 */
export async function runOriginalScenario(
  stack: Stack,
  page: Page,
  { naive, resetExpected = false }: { naive: boolean; resetExpected?: boolean },
): Promise<ScenarioResult> {
  const { demo, proxy, witness } = stack;

  // 1. The hardware is at H=22 and the page shows it.
  await demo.simulator.set(H, 22);
  await waitForShown(page, H, '22');
  if (naive)
    await page.waitForFunction(
      () => document.querySelector<HTMLInputElement>('#naive-genlock_phase_h')?.value === '22',
      null,
      { polling: 50 },
    );
  await recordWrites(page);
  const mark = witness.mark();

  // 2. The network between the page and the server is cut.
  proxy.refuse();
  await waitForState(page, 'reconnecting');
  if (naive)
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#naive')?.dataset.state !== 'open', null, {
      polling: 50,
    });

  // 3. Meanwhile someone at the front panel sets H=-25.
  await demo.simulator.set(H, -25);
  await witness.waitFor((m) => m.topic === GENLOCK_STATUS && m.payload === '-25 10', 'status "-25 10"', { from: mark });

  // 4. The user tries to type 25 during the outage: by keyboard, then by force (value set and
  //    events dispatched, as a script or an autofill would), on the number box and on the slider.
  const box = page.locator(`live-device-form #ldf-${H}`);
  expect(await box.evaluate((el: HTMLInputElement) => el.readOnly)).toBe(true);
  await box.click();
  await page.keyboard.press('End');
  await page.keyboard.type('25');
  await page.keyboard.press('Enter');
  await page.evaluate((field) => {
    const root = document.querySelector('live-device-form')!.shadowRoot!;
    for (const el of [
      root.querySelector<HTMLInputElement>(`#ldf-${field}`)!,
      root.querySelector<HTMLInputElement>(`#ldf-${field}-slider`)!,
    ]) {
      el.value = '25';
      el.dispatchEvent(new Event('input', { bubbles: true, composed: true }));
      el.dispatchEvent(new Event('change', { bubbles: true, composed: true }));
      el.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter', bubbles: true, composed: true }));
    }
  }, H);
  expect(await writes(page)).toEqual([]);
  // The locked form puts the device's last known value back.
  await waitForShown(page, H, '22');

  // 5. The network comes back; the page resyncs and shows the hardware's value: -25 — unless the
  //    naive client, reconnecting first with the protection off, already reset the hardware to 22.
  proxy.pass();
  await waitForState(page, 'live', 30_000);
  if (!resetExpected) await waitForShown(page, H, '-25');
  if (naive) {
    // The naive client reconnects (every second), replays its whole form, and every write is answered.
    await page.waitForFunction(
      (n) => {
        const d = document.querySelector<HTMLElement>('#naive')?.dataset;
        return !!d && Number(d.sent) >= n && Number(d.sent) === Number(d.accepted) + Number(d.rejected);
      },
      WRITABLE_FIELDS,
      { timeout: 20_000, polling: 50 },
    );
  }
  return { mark };
}

/**
 * The user deliberately changes a field in the element after the resync: fills the number box and
 * presses Enter. Returns the payload the witness saw for it.
 */
export async function deliberateEdit(
  stack: Stack,
  page: Page,
  field: string,
  value: number,
  expected: string,
  from: number,
): Promise<void> {
  const box = page.locator(`live-device-form #ldf-${field}`);
  await box.fill(String(value));
  await box.press('Enter');
  await stack.witness.waitFor((m) => m.topic === GENLOCK_ACTION && m.payload === expected, `action "${expected}"`, {
    from,
  });
}

export { waitForState };
