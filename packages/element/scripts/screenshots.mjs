/**
 * Takes screenshots of the element in its main states with Debian's Chromium (playwright-core,
 * never a downloaded browser), against the real server SDK, for a visual check:
 * `.artifacts/element/*.png` at the workspace root. Run `tsc -b ../server .` first, and under tsx
 * for the testkit (`pnpm run screenshots` does both).
 */
import http from 'node:http';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@live-device-form/testkit';
import { bundle } from './bundle.mjs';
import { dispose, makeEnv } from '../test/harness/plugin.mjs';

const out = fileURLToPath(new URL('../../../.artifacts/element/', import.meta.url));
await mkdir(out, { recursive: true });

const code = await bundle({ withLit: true });
const page = (body, dark) => `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>ldf</title>
<style>
  body { margin: 0; padding: 24px; font: 14px system-ui, sans-serif; background: ${dark ? '#0d1117' : '#f4f6f9'}; color: ${dark ? '#e5e9f0' : '#1b2330'}; }
  h1 { font-size: 18px; margin: 0 0 12px; }
  .vendor label { display: block; margin: 6px 0; }
  .vendor input[type=number] { width: 7em; }
</style></head><body>${body}<script type="module" src="/ldf.js"></script></body></html>`;

let html = '';
const server = http.createServer((req, res) => {
  if (req.url === '/ldf.js') {
    res.writeHead(200, { 'content-type': 'text/javascript' });
    res.end(code);
  } else {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await launchChromium();

async function scene(name, { width = 760, dark = false, scale = 1, children = '', device, setup, act } = {}) {
  const env = await makeEnv({ origin, guardMs: 300 });
  const src = `ws://127.0.0.1:${env.proxy.port}/live`;
  html = page(
    `<h1>Video processor</h1><live-device-form src="${src}" device="${device ?? env.id}">${children}</live-device-form>`,
    dark,
  );
  const ctx = await browser.newContext({
    viewport: { width, height: 400 },
    colorScheme: dark ? 'dark' : 'light',
    deviceScaleFactor: scale,
  });
  const p = await ctx.newPage();
  await setup?.(env);
  await p.goto(origin);
  const el = p.locator('live-device-form');
  if (!device)
    await p.waitForFunction(() => document.querySelector('live-device-form')?.getAttribute('state') === 'live');
  await act?.(p, env, el);
  await p.waitForTimeout(100);
  await el.screenshot({ path: `${out}${name}.png` });
  await ctx.close();
  await dispose(env);
  console.log(`${out}${name}.png`);
}

const box = (p, name) =>
  p
    .locator(`live-device-form input[type=number][name=${name}], live-device-form input[type=text][name=${name}]`)
    .first();
const state = (p, s) =>
  p.waitForFunction((s) => document.querySelector('live-device-form')?.getAttribute('state') === s, s);

try {
  await scene('live-light');
  await scene('live-dark', { dark: true });
  await scene('narrow', { width: 380 });
  await scene('notes', {
    scale: 2,
    act: async (p, env) => {
      // Stale: typed while the device changed, then committed.
      await box(p, 'name').fill('Studio B');
      env.bridge.setStatus({ name: 'Control room' });
      await p.waitForTimeout(50);
      await box(p, 'name').press('Enter');
      // Refused: the device went away between the resync and the write.
      env.bridge.writeBehaviour = 'offline';
      await p.locator('live-device-form [part~=switch]').click();
      // Held slider, the device changes meanwhile.
      env.bridge.writeBehaviour = 'accepted';
      const slider = p.locator('live-device-form input[type=range][name=genlock_phase_h]');
      const b = await slider.boundingBox();
      await p.mouse.move(b.x + b.width * 0.3, b.y + b.height / 2);
      await p.mouse.down();
      await p.mouse.move(b.x + b.width * 0.35, b.y + b.height / 2);
      await p.waitForTimeout(100);
      env.bridge.setStatus({ genlock_phase_h: 200 });
      await p.waitForTimeout(100);
    },
  });
  await scene('notes-dark', {
    dark: true,
    act: async (p, env) => {
      await box(p, 'name').fill('Studio B');
      env.bridge.setStatus({ name: 'Control room' });
      await p.waitForTimeout(50);
      await box(p, 'name').press('Enter');
      env.bridge.writeBehaviour = 'hang';
      await box(p, 'genlock_phase_v').fill('12');
      await box(p, 'genlock_phase_v').press('Enter');
      await p.waitForTimeout(50);
      env.proxy.cut();
      await state(p, 'live');
      // Out of range, still in the box.
      await box(p, 'gain').fill('30');
      await box(p, 'gain').press('Enter');
    },
  });
  await scene('reconnecting', {
    act: async (p, env) => {
      env.proxy.refuse();
      await p.waitForFunction(() =>
        /in \d+ s/.test(document.querySelector('live-device-form')?.shadowRoot?.textContent ?? ''),
      );
    },
  });
  await scene('offline', { act: async (p, env) => (env.bridge.setOnline(false), state(p, 'offline')) });
  await scene('failed', { device: 'no-such-device', act: (p) => state(p, 'failed') });
  await scene('bound', {
    children: `<div class="vendor">
      <label>Phase H <input name="genlock_phase_h" type="number"> px</label>
      <label>Phase V <input name="genlock_phase_v" type="range" min="-512" max="511"></label>
      <label><input name="enabled" type="checkbox"> Output enabled</label>
    </div>`,
    act: async (p) => {
      await p.locator('input[name=genlock_phase_h]').fill('9000');
      await p.locator('input[name=genlock_phase_h]').press('Enter');
    },
  });
} finally {
  await browser.close();
  server.close();
}
