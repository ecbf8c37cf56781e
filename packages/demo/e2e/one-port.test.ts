/**
 * The demo itself: one port for the page, the SDK's socket, the control API and Vite's HMR socket;
 * the page's own "cut network" button; the hardware going offline.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { H } from './scenario.js';
import { type Stack, startStack, waitForShown, waitForState } from './stack.js';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.close();
  stack = undefined;
});

describe('the demo on one port', () => {
  it("serves the page, the SDK socket and Vite's HMR socket on the same port", async () => {
    stack = await startStack({ hmr: true, viaProxy: false });
    const page = await stack.browser.newPage();
    const port = new URL(stack.demo.url).port;
    // Vite's client opens its HMR socket (subprotocol vite-hmr) and the server greets it with
    // {"type":"connected"}: only a working HMR upgrade on this port gets that far.
    const hmrGreeting = new Promise<string>((resolve) => {
      page.on('websocket', (ws) => {
        ws.on('framereceived', (f) => {
          if (typeof f.payload === 'string' && f.payload.includes('"type":"connected"')) resolve(ws.url());
        });
      });
    });
    await page.goto(stack.url('/'));
    await waitForState(page, 'live');
    const hmrUrl = new URL(await hmrGreeting);
    expect(hmrUrl.port).toBe(port);
    expect(hmrUrl.pathname).toBe('/');
    // The element's socket went to /live on the same port (no proxy in this test).
    expect(stack.demo.server.sessionCount).toBeGreaterThanOrEqual(1);
    expect(stack.proxy.links.length).toBe(0);
    // Other upgrade paths are answered, not left hanging.
    const status = await page.evaluate(
      (p) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://127.0.0.1:${p}/elsewhere`);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        }),
      port,
    );
    expect(status).toBe('refused');
  });

  it("'Cut network' drops only this page's sockets and refuses its reconnects for N seconds", async () => {
    stack = await startStack({ viaProxy: false });
    const page = await stack.open('/');
    const other = await stack.open('/', { naive: '0' });
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#naive')?.dataset.state === 'open', null, {
      polling: 50,
    });

    await page.fill('#cut-seconds', '2');
    const cutAt = Date.now();
    await page.click('#cut');
    await waitForState(page, 'reconnecting');
    await page.waitForFunction(() => document.querySelector<HTMLElement>('#naive')?.dataset.state !== 'open', null, {
      polling: 50,
    });
    expect(await other.evaluate(() => document.querySelector('live-device-form')!.state)).toBe('live');

    // The hardware changes during the cut; after it the page resyncs to it.
    await stack.demo.simulator.set(H, 99);
    await waitForShown(other, H, '99');
    await waitForState(page, 'live', 30_000);
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(2000);
    await waitForShown(page, H, '99');
  });

  it('the hardware panel takes the device offline and online: the form follows', async () => {
    stack = await startStack({ viaProxy: false });
    const page = await stack.open('/', { naive: '0' });
    await page.click('button[data-hw-action="offline"]');
    await waitForState(page, 'offline');
    expect(await page.locator(`live-device-form #ldf-${H}`).evaluate((el: HTMLInputElement) => el.readOnly)).toBe(true);
    await page.click('button[data-hw-action="online"]');
    await waitForState(page, 'live');

    // A power cut: the broker publishes the Will, the form goes offline; back on, it is live again.
    await page.click('button[data-hw-action="crash"]');
    await waitForState(page, 'offline');
    await stack.witness.waitFor(
      (m) => m.topic === 'cy-vp4/status/online' && m.payload === '0' && !m.retain,
      'the Will ("0")',
    );
    await page.click('button[data-hw-action="online"]');
    await waitForState(page, 'live');
  });
});
