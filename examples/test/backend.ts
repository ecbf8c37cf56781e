/**
 * The backend examples' shared end-to-end test: an app (Express, Fastify, Koa) installed from the
 * tarballs, run with plain `node server.js` against a real Mosquitto and a simulated device, its own
 * page driven in Chromium, then SIGTERM with the page still open.
 * @module
 */
import type { ChildProcess } from 'node:child_process';
import {
  launchChromium,
  spawnWatched,
  startEchoDevice,
  stopCliProcesses,
  startMosquitto,
  startWitness,
  VP,
  type EchoDevice,
  type Mosquitto,
  type Witness,
} from '@live-device-form/testkit';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { installApp } from './apps.js';

/** How long a backend may take to exit after SIGTERM with a page open (issue 13: "within 5 s"). */
export const EXIT_WITHIN_MS = 5000;

/** How a process ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A backend example running as a child process. */
export interface AppProcess {
  readonly child: ChildProcess;
  /** `http://127.0.0.1:PORT`, from the app's `listening on …` line. */
  readonly url: string;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when it has exited. */
  readonly exited: Promise<Exit>;
}

/**
 * Starts `node <script>` in `dir` on a free port (`PORT=0`, `HOST=127.0.0.1`) with `env`, and waits
 * for its `listening on http://…` line. Rejects with its output if it exits first or prints nothing
 * within `timeoutMs`. The testkit's `stopCliProcesses` stops it.
 */
export async function startApp(
  dir: string,
  env: Record<string, string>,
  script = 'server.js',
  timeoutMs = 30_000,
): Promise<AppProcess> {
  const app = spawnWatched(process.execPath, [script], {
    cwd: dir,
    env: { ...env, PORT: '0', HOST: '127.0.0.1' },
    name: script,
  });
  const exited = new Promise<Exit>((resolve) => app.child.once('exit', (code, signal) => resolve({ code, signal })));
  const output = (): string => app.stdout() + app.stderr();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const line = await Promise.race([
    app.line(/^listening on http:\/\/127\.0\.0\.1:\d+$/),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${script} printed no "listening on" line within ${timeoutMs} ms:\n${output()}`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  return { child: app.child, url: line.slice('listening on '.length), output, exited };
}

/** Resolves with how the process ended, or `'still running'` after `ms`. */
export function exitWithin(app: AppProcess, ms: number): Promise<Exit | 'still running'> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    app.exited.finally(() => clearTimeout(timer)),
    new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), ms))),
  ]);
}

/** The world a backend example runs in: a broker with the device's retained state, the device, a browser. */
export interface BackendWorld {
  mosquitto: Mosquitto;
  /** Subscribed to the device's action topic: what really reached the broker. */
  witness: Witness;
  device: EchoDevice;
  browser: Browser;
  /** The installed app's directory. */
  dir: string;
}

/** The audio delay the simulated device starts with (retained), shown by the page once live. */
export const START_DELAY = '40';

/** Publishes the device's starting state (retained): online, genlock -25 10, audio delay {@link START_DELAY}. */
export async function resetDevice(world: BackendWorld): Promise<void> {
  await world.witness.publish(VP.online, '1', { retain: true });
  await world.witness.publish(VP.genlockStatus, '-25 10', { retain: true });
  await world.witness.publish(VP.delayStatus, START_DELAY, { retain: true });
}

/**
 * Sets up {@link BackendWorld} for `app` in `beforeAll` (and tears it down, with every app started,
 * in `afterAll`); the returned function gives it to the tests.
 */
export function backendWorld(app: string): () => BackendWorld {
  let world: Partial<BackendWorld> = {};
  beforeAll(async () => {
    world.dir = await installApp(app);
    world.mosquitto = await startMosquitto();
    world.witness = await startWitness(world.mosquitto.url, [VP.delaySet]);
    await resetDevice(world as BackendWorld);
    world.device = await startEchoDevice(world.mosquitto.url);
    world.browser = await launchChromium();
  });
  afterAll(async () => {
    await stopCliProcesses();
    await world.browser?.close();
    await world.device?.close();
    await world.witness?.close();
    await world.mosquitto?.close();
    world = {};
  });
  return () => world as BackendWorld;
}

/**
 * Resets the device ({@link resetDevice}), opens the app's page and waits until the element is live
 * and shows the device's audio delay.
 */
export async function openLivePage(world: BackendWorld, app: AppProcess): Promise<Page> {
  await resetDevice(world);
  const page = await world.browser.newPage();
  await page.goto(app.url);
  // Playwright's CSS locators pierce the element's (open) shadow root.
  await expect.poll(() => page.locator('#ldf-audio_delay').inputValue(), { timeout: 20_000 }).toBe(START_DELAY);
  await page.waitForFunction(`document.querySelector('live-device-form')?.state === 'live'`, undefined, {
    timeout: 20_000,
  });
  return page;
}

/**
 * The one test of a backend example: the page shows the live value, an edit reaches the broker and
 * its `ldf-ack` reaches the page, and SIGTERM with the page open ends the process with code 0
 * within {@link EXIT_WITHIN_MS}.
 */
export function itServesAndShutsDown(world: () => BackendWorld): void {
  it(`serves its page live, an edit reaches the broker and is acked, and SIGTERM with the page open exits 0 within ${EXIT_WITHIN_MS / 1000} s`, async () => {
    const w = world();
    const app = await startApp(w.dir, { MQTT_URL: w.mosquitto.url });
    const page = await openLivePage(w, app);

    const mark = w.witness.mark();
    const box = page.locator('#ldf-audio_delay');
    await box.fill('120');
    await box.press('Enter');
    await w.witness.waitFor((m) => m.topic === VP.delaySet && m.payload === 'delay 120', 'action "delay 120"', {
      from: mark,
    });
    await expect
      .poll(() => page.locator('#last-ack').textContent(), { timeout: 10_000 })
      .toBe('audio_delay 120 accepted');

    app.child.kill('SIGTERM');
    const exit = await exitWithin(app, EXIT_WITHIN_MS);
    expect(exit, app.output()).toEqual({ code: 0, signal: null });
    await page.close();
  });
}
