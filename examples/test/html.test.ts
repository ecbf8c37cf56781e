/**
 * examples/html: a plain HTML page with no build, installed from the packed tarballs. The
 * installed `live-device-server` command serves both the element's bundle and the WebSocket,
 * against a real Mosquitto; the page comes from a static server on another port (another origin),
 * and Chromium drives it.
 */
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import {
  VP,
  launchChromium,
  listeningUrl,
  runCli,
  startMosquitto,
  startWitness,
  stopCliProcesses,
} from '@live-device-form/testkit';
import { describeApp, installApp } from './apps.js';
import { startStaticServer } from './static-server.js';

/** The CLI's address as index.html is written (`npm start` in the example). */
const WRITTEN_FOR = '127.0.0.1:8080';

describeApp('html', () => {
  let dir: string;
  const cleanups: (() => Promise<unknown> | unknown)[] = [];

  beforeAll(async () => {
    dir = await installApp('html');
  });
  afterAll(async () => {
    await stopCliProcesses();
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('one script tag and one element: the live value is shown, an edit reaches the broker, ldf-ack arrives through addEventListener, and the command exits within 5 s on SIGTERM with the page open', async () => {
    const broker = await startMosquitto();
    cleanups.push(() => broker.close());
    const witness = await startWitness(broker.url, ['cy-vp4/#']);
    cleanups.push(() => witness.close());
    await witness.publish(VP.genlockStatus, '-25 10', { retain: true });
    await witness.publish(VP.freezeStatus, '0', { retain: true });
    await witness.publish(VP.online, '1', { retain: true });

    // The page as written, with the test's port for the command's.
    let cliHost = WRITTEN_FOR;
    const site = await startStaticServer(dir, { rewrite: (html) => html.replaceAll(WRITTEN_FOR, cliHost) });
    cleanups.push(() => site.close());

    const cli = runCli(
      [
        '--device',
        join(dir, 'node_modules/@live-device-form/server/examples/videoproc.json'),
        '--mqtt',
        broker.url,
        '--port',
        '0',
        '--origin',
        site.origin,
      ],
      {},
      { bin: join(dir, 'node_modules/.bin/live-device-server'), cwd: dir },
    );
    cliHost = new URL(await listeningUrl(cli)).host;
    expect(cliHost).not.toBe(new URL(site.origin).host);

    const browser: Browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    page.on('requestfailed', (r) => problems.push(`${r.url()}: ${r.failure()?.errorText ?? ''}`));
    await page.goto(`${site.origin}/`);

    const box = page.locator('live-device-form #ldf-genlock_phase_h');
    await expect
      .poll(() => box.inputValue({ timeout: 1000 }).catch(() => problems.join('\n')), { timeout: 20_000 })
      .toBe('-25');
    await page.waitForFunction(
      () => (document.querySelector('live-device-form') as unknown as { state: string } | null)?.state === 'live',
    );
    // The element came from the command's route, not from the static server.
    expect(site.requests.filter((path) => path.endsWith('.js'))).toEqual([]);

    const mark = witness.mark();
    await box.fill('22');
    await box.press('Enter');
    await witness.waitFor((m) => m.topic === VP.genlockSet && m.payload === 'genlock 22 10', 'the edit', {
      from: mark,
    });
    await expect
      .poll(() => page.textContent('#last-write'), { timeout: 10_000 })
      .toBe('genlock_phase_h = 22: accepted');

    // Shutdown with the page still open (and about to reconnect).
    const started = Date.now();
    cli.child.kill('SIGTERM');
    const code = await Promise.race([
      cli.exited,
      new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 5000)),
    ]);
    expect(code, cli.stderr()).toBe(0);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
