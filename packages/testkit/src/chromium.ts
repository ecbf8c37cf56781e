/**
 * Debian's Chromium for every browser test, bench and chaos run, and the screenshot scripts: one
 * path, one set of flags. No tool here downloads a browser.
 * @module
 */
import type { Browser, LaunchOptions } from 'playwright-core';

/** `$CHROME_PATH` when set, else where Debian installs Chromium. */
export const CHROMIUM_PATH = process.env.CHROME_PATH ?? '/usr/bin/chromium';

/**
 * Headless Chromium as root (`--no-sandbox`), without background traffic to hosts this network
 * refuses (without these flags it keeps trying to reach them).
 */
export const CHROMIUM_ARGS: readonly string[] = Object.freeze([
  '--no-sandbox',
  '--headless=new',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
]);

/** Launches Debian's Chromium through playwright-core, with {@link CHROMIUM_ARGS} and any `extraArgs`. */
export async function launchChromium(extraArgs: readonly string[] = [], options: LaunchOptions = {}): Promise<Browser> {
  // Loaded on first use: processes that import the testkit for another helper (a chaos server
  // child, a bench server) do not pay for playwright at start-up.
  const { chromium } = await import('playwright-core');
  return chromium.launch({ ...options, executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** Launch options for @web/test-runner's `chromeLauncher` (puppeteer-style). */
export function chromeLauncherOptions(extraArgs: readonly string[] = []): {
  executablePath: string;
  headless: boolean;
  args: string[];
} {
  return { executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] };
}
