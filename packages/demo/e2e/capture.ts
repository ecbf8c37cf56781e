/**
 * Screenshots of the demo in its states — live (after an outage, the naive replay refused),
 * reconnecting, offline, a stale write with the protection off, the vendor page, and the
 * discovered devices below the main demo — taken from a
 * real run (demo, proxy, Chromium). The e2e run writes them to `e2e/screenshots/` (ignored by git);
 * `pnpm --filter live-device-form-demo run screenshots` writes the README's copies to `docs/images/`.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { GENLOCK_STATUS, H, WRITABLE_FIELDS } from './scenario.js';
import { type Stack, startStack, waitForShown, waitForState } from './stack.js';

/** The shots, in the order they are taken. */
export const SHOTS = ['reconnecting', 'live', 'offline', 'stale-write', 'vendor', 'discovered'] as const;
export type Shot = (typeof SHOTS)[number];

export interface CaptureOptions {
  /** Viewport of the demo page, in CSS pixels. Defaults to 1360×900. */
  viewport?: { width: number; height: number };
  /** Device pixels per CSS pixel: below 1 makes smaller files (the README's copies). Defaults to `1`. */
  scale?: number;
  /** Called with each state's page just before its shot (tests assert on it). */
  check?: (shot: Shot, page: Page) => Promise<void>;
}

async function naiveAnswered(page: Page, atLeast: number): Promise<void> {
  await page.waitForFunction(
    (n) => {
      const d = document.querySelector<HTMLElement>('#naive')?.dataset;
      return !!d && Number(d.sent) >= n && Number(d.sent) === Number(d.accepted) + Number(d.rejected);
    },
    atLeast,
    { timeout: 20_000, polling: 50 },
  );
}

/** Runs the demo through its states and writes `<shot>.png` files to `outDir`. Returns their paths. */
export async function captureStates(outDir: string, options: CaptureOptions = {}): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const viewport = options.viewport ?? { width: 1360, height: 900 };
  const deviceScaleFactor = options.scale ?? 1;
  const stack: Stack = await startStack();
  const written: string[] = [];
  const shoot = async (shot: Shot, page: Page): Promise<void> => {
    await options.check?.(shot, page);
    // Blinking carets and running transitions are not part of the state.
    await page.evaluate(() => {
      (document.activeElement as HTMLElement | null)?.blur();
      window.scrollTo(0, 0);
    });
    const path = join(outDir, `${shot}.png`);
    // The discovered devices are below the main demo: that section alone.
    if (shot === 'discovered')
      await page.locator('#discovered').screenshot({ path, animations: 'disabled', caret: 'hide' });
    else await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
    written.push(path);
  };
  try {
    const { demo, proxy, witness } = stack;
    const page = await stack.browser.newPage({ viewport, deviceScaleFactor });
    await page.goto(stack.url('/'));
    await waitForState(page, 'live');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#naive')?.dataset.state === 'open', null, {
      polling: 50,
    });

    // Reconnecting: H was 22, the network is cut, the panel sets -25, the user typed 25 into the
    // naive client (queued there; the element's inputs are locked).
    await demo.simulator.set(H, 22);
    await waitForShown(page, H, '22');
    const mark = witness.mark();
    proxy.refuse();
    await waitForState(page, 'reconnecting');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#naive')?.dataset.state === 'down', null, {
      polling: 50,
    });
    await demo.simulator.set(H, -25);
    await witness.waitFor((m) => m.topic === GENLOCK_STATUS && m.payload === '-25 10', 'status "-25 10"', {
      from: mark,
    });
    // The log shows the change at the device (its retained rows, the discovery configs among them, came first).
    await page.locator('#log .row.status[data-payload="-25 10"]').last().waitFor();
    await page.fill('#naive-genlock_phase_v', '12');
    await page.press('#naive-genlock_phase_v', 'Enter');
    await page.waitForFunction(
      () => document.querySelector('#naive .naive-queue')?.textContent?.includes('1 edit queued'),
      null,
      { polling: 50 },
    );
    await shoot('reconnecting', page);

    // Live: the network is back, the form shows -25, the naive replay was refused.
    proxy.pass();
    await waitForState(page, 'live', 30_000);
    await waitForShown(page, H, '-25');
    await naiveAnswered(page, WRITABLE_FIELDS);
    await shoot('live', page);

    // Offline: a power cut at the device; the broker publishes its Will.
    await demo.simulator.crash();
    await waitForState(page, 'offline');
    await page.waitForFunction(
      () => document.querySelector<HTMLElement>('#hardware')?.dataset.device === 'crashed',
      null,
      { polling: 50 },
    );
    await shoot('offline', page);
    await demo.simulator.goOnline();
    await waitForState(page, 'live');

    // Protection off, the same outage: the naive client's replay resets the hardware; the log flags it.
    await page.click('#protection + .track');
    await page.waitForFunction(() => document.body.dataset.protection === 'off', null, { polling: 50 });
    await demo.simulator.set(H, 22);
    await waitForShown(page, H, '22');
    await page.waitForFunction(
      () => document.querySelector<HTMLInputElement>('#naive-genlock_phase_h')?.value === '22',
      null,
      { polling: 50 },
    );
    const before = await page.evaluate(() => Number(document.querySelector<HTMLElement>('#naive')!.dataset.sent));
    proxy.refuse();
    await waitForState(page, 'reconnecting');
    await demo.simulator.set(H, -25);
    proxy.pass();
    await waitForState(page, 'live', 30_000);
    await naiveAnswered(page, before + WRITABLE_FIELDS);
    await page.locator('#log .row.stale').first().waitFor();
    await page.waitForFunction(() => document.querySelector('#stale-count')?.textContent !== '0', null, {
      polling: 50,
    });
    // Show the first stale line near the top of the log, below the change at the device it undoes.
    await page.evaluate(() => {
      const log = document.querySelector<HTMLElement>('#log')!;
      const row = log.querySelector<HTMLElement>('.row.stale')!;
      log.scrollTop += row.getBoundingClientRect().top - log.getBoundingClientRect().top - 90;
    });
    await shoot('stale-write', page);

    // The vendor page.
    const vendor = await stack.browser.newPage({ viewport: { width: 1100, height: 580 }, deviceScaleFactor });
    await vendor.goto(stack.url('/vendor.html'));
    await waitForState(vendor, 'live');
    await shoot('vendor', vendor);

    // The discovered devices: the cy-vp4 from its Home Assistant config, the Zigbee2MQTT lamp.
    const discovered = await stack.browser.newPage({ viewport, deviceScaleFactor });
    await discovered.goto(stack.url('/', { naive: '0' }));
    await waitForState(discovered, 'live');
    await discovered.waitForFunction(
      () => {
        const forms = [
          ...document.querySelectorAll<HTMLElementTagNameMap['live-device-form']>('#discovered-forms live-device-form'),
        ];
        return forms.length === 2 && forms.every((f) => f.state === 'live');
      },
      null,
      { timeout: 20_000, polling: 50 },
    );
    await shoot('discovered', discovered);
  } finally {
    await stack.close();
  }
  return written;
}
