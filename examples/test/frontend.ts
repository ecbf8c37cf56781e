/**
 * What every frontend example (vite-vanilla, react, vue, angular) is checked for, in Chromium
 * against its production build: a real Mosquitto playing the device, the packed CLI from the app's
 * own `node_modules/.bin`, and the page served from its build output.
 *
 * Each app follows the same page contract, so one driver checks them all:
 * - `<live-device-form id="auto">` renders the device's fields from the schema;
 * - `<live-device-form id="bound">` binds the app's own `<input name="genlock_phase_h">` (bound mode);
 * - `#last-ack` shows the `status` of the last `ldf-ack`, written by the framework's
 *   own event handler;
 * - `#rerender` re-renders the component that holds the bound input, and
 *   `#renders` shows how many times it did;
 * - the WebSocket URL comes from `?src=` (the test's CLI port); `?variant=trap` (where an app has it)
 *   binds the input the wrong way (`v-model`, a controlled `value`), which the docs warn against.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { expect } from 'vitest';
import {
  type CliProcess,
  type Mosquitto,
  type Witness,
  launchChromium,
  listeningUrl,
  runCli,
  startMosquitto,
  startWitness,
} from '@live-device-form/testkit';
import { npm } from './apps.js';
import { type StaticServer, startStaticServer } from './static-server.js';

/** The device of every frontend app's `device.json`. */
export const TOPICS = {
  status: 'cy-vp4/videoproc/status/volatile/genlock_phase',
  set: 'cy-vp4/videoproc/action/set/genlock',
  online: 'cy-vp4/status/online',
} as const;

/** The device's value of `genlock_phase_h` (negative: a value a model's `0` would hide). */
export const DEVICE_H = -55;
const DEVICE_V = 10;

/** Everything one app's test runs against. */
export interface Stack {
  readonly browser: Browser;
  readonly witness: Witness;
  readonly cli: CliProcess;
  readonly site: StaticServer;
  /** The CLI's `ws://127.0.0.1:PORT/live`. */
  readonly src: string;
  /** Opens the app's page (`query` is added to `?src=…`) and waits for it to load. */
  open(query?: Record<string, string>): Promise<Page>;
  close(): Promise<void>;
}

/**
 * Serves `distDir`, starts Mosquitto with the device's retained status, the app's own packed CLI
 * (`--origin` exactly the page's origin) and Chromium.
 */
export async function startStack(appDir: string, distDir: string): Promise<Stack> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const site = await startStaticServer(distDir);
    closers.push(() => site.close());
    const mosquitto: Mosquitto = await startMosquitto();
    closers.push(() => mosquitto.close());
    const witness = await startWitness(mosquitto.url, [TOPICS.set]);
    closers.push(() => witness.close());
    await witness.publish(TOPICS.status, `${DEVICE_H} ${DEVICE_V}`, { retain: true });
    await witness.publish(TOPICS.online, '1', { retain: true });
    const cli = runCli(
      ['--device', 'device.json', '--mqtt', mosquitto.url, '--port', '0', '--origin', site.origin],
      {},
      { bin: join(appDir, 'node_modules/.bin/live-device-server'), cwd: appDir },
    );
    closers.push(async () => {
      if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      await cli.exited;
    });
    const src = await listeningUrl(cli);
    const browser = await launchChromium();
    closers.push(() => browser.close());
    const open = async (query: Record<string, string> = {}): Promise<Page> => {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${site.origin}/?${new URLSearchParams({ src, ...query })}`);
      await page.waitForLoadState('load');
      expect(errors, 'uncaught errors on the page').toEqual([]);
      return page;
    };
    return { browser, witness, cli, site, src, open, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The production build defined the element (not tree-shaken away). */
export async function expectRegistered(page: Page): Promise<void> {
  await page.waitForFunction(() => document.readyState === 'complete');
  expect(await page.evaluate(() => typeof customElements.get('live-device-form'))).toBe('function');
}

/** The rendered form shows the device's retained value, and the bound input shows it too. */
export async function expectLiveValues(page: Page): Promise<void> {
  await expect.poll(() => page.inputValue('#auto input[type=number][name=genlock_phase_h]')).toBe(String(DEVICE_H));
  await expect.poll(() => page.inputValue('#bound input[name=genlock_phase_h]')).toBe(String(DEVICE_H));
}

/**
 * An edit in the rendered form reaches the broker (the witness sees the `set`), and the app's
 * framework-idiomatic `ldf-ack` handler wrote the status into the page.
 */
export async function expectEditAcked(page: Page, witness: Witness): Promise<void> {
  const mark = witness.mark();
  const box = page.locator('#auto input[type=number][name=genlock_phase_v]');
  await box.fill('42');
  await box.press('Enter');
  const m = await witness.waitFor((x) => x.topic === TOPICS.set, 'the set from the page', { from: mark });
  expect(m.payload).toBe(`genlock ${DEVICE_H} 42`);
  await expect.poll(() => page.textContent('#last-ack')).toBe('accepted');
}

/** Clicks the app's re-render button and waits until the component has rendered again. */
export async function rerender(page: Page): Promise<void> {
  const before = await page.textContent('#renders');
  await page.click('#rerender');
  await expect.poll(() => page.textContent('#renders')).not.toBe(before);
}

/** The bound input's value and what the element knows as the device's value. */
export async function boundState(page: Page): Promise<{ input: string; device: unknown }> {
  return {
    input: await page.inputValue('#bound input[name=genlock_phase_h]'),
    device: await page.evaluate(
      () => (document.querySelector('#bound') as unknown as { values: Record<string, unknown> }).values.genlock_phase_h,
    ),
  };
}

/** After a re-render of its component, the bound input still shows the device's value. */
export async function expectBoundSurvivesRerender(page: Page): Promise<void> {
  await expect.poll(() => boundState(page)).toEqual({ input: String(DEVICE_H), device: DEVICE_H });
  await rerender(page);
  expect(await boundState(page)).toEqual({ input: String(DEVICE_H), device: DEVICE_H });
}

/**
 * The trap (`?variant=trap`): the element shows the device's value in the input, then a re-render
 * writes the framework's model (`0`) over it; the input shows 0 while the device has -55.
 */
export async function expectTrapOverwrites(page: Page): Promise<void> {
  // The element did show the device's value in the input…
  await expect.poll(() => boundState(page)).toEqual({ input: String(DEVICE_H), device: DEVICE_H });
  // …until the framework rendered its model over it.
  await rerender(page);
  expect(await boundState(page)).toEqual({ input: '0', device: DEVICE_H });
}

/** Opens the app's page and checks everything every frontend app must do (see the module's comment). */
export async function expectPageWorks(stack: Stack): Promise<void> {
  const page = await stack.open();
  await expectRegistered(page);
  await expectLiveValues(page);
  await expectEditAcked(page, stack.witness);
  await expectBoundSurvivesRerender(page);
}

/**
 * Shows that a check of the app depends on something in its sources: with `from` replaced by `to`
 * in `file`, `npm run <script>` fails with `error`; with the file restored, it passes (run again
 * unless `rerun` is false: when the next test runs it anyway).
 */
export async function expectCheckNeeds(
  dir: string,
  check: {
    file: string;
    from: string;
    to: string;
    script: string;
    error: RegExp;
    env?: NodeJS.ProcessEnv;
    rerun?: boolean;
  },
): Promise<void> {
  const path = join(dir, check.file);
  const source = readFileSync(path, 'utf8');
  expect(source).toContain(check.from);
  writeFileSync(path, source.replace(check.from, check.to));
  try {
    const failed = await npm(dir, ['run', check.script], check.env).then(
      () => '',
      (e: Error) => e.message,
    );
    expect(failed).toMatch(check.error);
  } finally {
    writeFileSync(path, source);
  }
  if (check.rerun !== false) await npm(dir, ['run', check.script], check.env);
}
