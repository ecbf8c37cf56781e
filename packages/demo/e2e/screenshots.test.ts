/**
 * Screenshots of the demo in its live, reconnecting and offline states (and a stale write with the
 * protection off, and the vendor page), written to e2e/screenshots/ (ignored by git) on every run,
 * after checking that each page really is in the state its file is named after.
 */
import { stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SHOTS, captureStates } from './capture.js';

const OUT = fileURLToPath(new URL('./screenshots/', import.meta.url));

const STATE: Record<(typeof SHOTS)[number], string> = {
  reconnecting: 'reconnecting',
  live: 'live',
  offline: 'offline',
  'stale-write': 'live',
  vendor: 'live',
  discovered: 'live',
};

describe('screenshots', () => {
  it('writes the demo in its live, reconnecting and offline states to e2e/screenshots/', async () => {
    const seen: string[] = [];
    const files = await captureStates(OUT, {
      async check(shot, page) {
        expect(await page.evaluate(() => document.querySelector('live-device-form')!.state)).toBe(STATE[shot]);
        if (shot === 'stale-write') expect(await page.locator('#log .row.stale').count()).toBeGreaterThan(0);
        else if (shot === 'discovered')
          expect(await page.locator('#discovered-forms .discovered-card').count()).toBe(2);
        else if (shot !== 'vendor') expect(await page.locator('#log .row.stale').count()).toBe(0);
        seen.push(shot);
      },
    });
    expect(seen).toEqual([...SHOTS]);
    for (const f of files) expect((await stat(f)).size).toBeGreaterThan(10_000);
  }, 90_000);
});
