/**
 * examples/fastify: a Fastify 5 backend with the SDK attached as docs/server.md shows it, closing
 * the SDK in a `preClose` hook. The second test keeps the trap the docs used to show in sight: the
 * SDK closed in `onClose`, which Fastify runs only once every connection has ended, so an open
 * page (whose socket only the SDK ends) holds the shutdown.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { describeApp } from './apps.js';
import { EXIT_WITHIN_MS, backendWorld, exitWithin, itServesAndShutsDown, openLivePage, startApp } from './backend.js';

describeApp('fastify', () => {
  const world = backendWorld('fastify');
  itServesAndShutsDown(world);

  it('with the SDK closed in onClose instead (the former docs snippet), SIGTERM with a page open hangs until the page goes', async () => {
    const w = world();
    const source = readFileSync(join(w.dir, 'server.js'), 'utf8');
    const preClose = "fastify.addHook('preClose', () => live.close());";
    expect(source).toContain(preClose);
    writeFileSync(
      join(w.dir, 'server-onclose.js'),
      source.replace(preClose, "fastify.addHook('onClose', () => live.close());"),
    );
    const app = await startApp(w.dir, { MQTT_URL: w.mosquitto.url }, 'server-onclose.js');
    const page = await openLivePage(w, app);

    app.child.kill('SIGTERM');
    expect(await exitWithin(app, EXIT_WITHIN_MS), app.output()).toBe('still running');
    await page.close(); // the page's socket ends: Fastify's server closes, then its onClose hooks run
    expect(await exitWithin(app, 20_000), app.output()).toEqual({ code: 0, signal: null });
  });
});
