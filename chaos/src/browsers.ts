/**
 * A few real `<live-device-form>` elements in headless Chromium (Debian's, via playwright-core;
 * nothing is downloaded), in the same chaos: their sockets go through the chaos proxy, which cuts
 * and black-holes them; the device changes while they are away; a page script even forces values
 * into the inputs while the link is down (the element must send nothing then). The checker holds
 * their connections to the element's contract: no `set` before the socket's resync, and every
 * `set`'s revision one that this very socket showed (never a revision from another epoch).
 *
 * Needs `packages/element` built (`dist/live-device-form.bundle.js`); without it the fleet is not
 * started and the report says why.
 * @module
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CHROMIUM_PATH, launchChromium } from '@live-device-form/testkit';
import type { Browser, Page } from 'playwright-core';
import { type ChaosField, FIELDS, clientValue } from './chaos-device.js';
import type { ClientStats, TrialBudget } from './client.js';
import type { DeviceSimulator } from './device-sim.js';
import type { Rng } from './prng.js';
import type { ClientProxy } from './proxy.js';

const BUNDLE = fileURLToPath(new URL('../../packages/element/dist/live-device-form.bundle.js', import.meta.url));

/** Client indexes of browsers start here, so their values never collide with protocol clients'. */
const BROWSER_INDEX_BASE = 900;

function pageHtml(device: string, ws: string): string {
  const inputs = FIELDS.map((f) => `<label>${f} <input name="${f}" type="number"></label>`).join('\n');
  return `<!doctype html><meta charset="utf-8"><title>chaos ${device}</title>
<script type="module" src="/bundle.js"></script>
<live-device-form id="form" device="${device}">
${inputs}
</live-device-form>
<script type="module">
  const form = document.getElementById('form');
  await customElements.whenDefined('live-device-form');
  window.__writes = [];
  document.addEventListener('ldf-write', (e) => window.__writes.push(e.detail));
  // Short heartbeat so a black-holed link is noticed in well under a second.
  form.connectionOptions = { pingIntervalMs: 300, pingTimeoutMs: 300, backoff: { initialMs: 50, maxMs: 500 } };
  form.src = ${JSON.stringify(ws)};
</script>`;
}

/** A started fleet (browser and page server up, pages not yet open). */
export class BrowserFleet {
  private readonly pages: { page: Page; label: string; device: string; index: number; seq: number; rng: Rng }[] = [];

  constructor(
    private readonly browser: Browser,
    private readonly server: http.Server,
    readonly origin: string,
    readonly count: number,
    private readonly devices: readonly string[],
    private readonly rng: Rng,
  ) {}

  /** Opens the pages; each element's socket goes to `wsUrl(label)`. */
  async open(wsUrl: (client: string) => string): Promise<void> {
    for (let i = 0; i < this.count; i++) {
      const label = `b${i}`;
      const device = this.devices[i % this.devices.length] as string;
      const page = await this.browser.newPage();
      const url = `${this.origin}/page?device=${encodeURIComponent(device)}&ws=${encodeURIComponent(wsUrl(label))}`;
      await page.goto(url);
      this.pages.push({
        page,
        label,
        device,
        index: BROWSER_INDEX_BASE + i,
        seq: 0,
        rng: this.rng.fork(`browser:${i}`),
      });
    }
  }

  /** Runs browser trials until the budget is exhausted or the run stops. */
  async run(
    budget: TrialBudget,
    stats: ClientStats,
    stopped: () => boolean,
    proxy: ClientProxy,
    devices: DeviceSimulator,
  ): Promise<void> {
    await Promise.all(this.pages.map((p) => this.loop(p, budget, stats, stopped, proxy, devices)));
  }

  private async loop(
    p: BrowserFleet['pages'][number],
    budget: TrialBudget,
    stats: ClientStats,
    stopped: () => boolean,
    proxy: ClientProxy,
    devices: DeviceSimulator,
  ): Promise<void> {
    const waitState = async (live: boolean, timeout: number): Promise<boolean> => {
      try {
        await p.page.waitForFunction(
          (want) => ((document.getElementById('form') as unknown as { state: string }).state === 'live') === want,
          live,
          {
            timeout,
            polling: 20,
          },
        );
        return true;
      } catch {
        return false;
      }
    };
    const live = (): Promise<boolean> => waitState(true, 15_000);
    const edit = async (field: ChaosField): Promise<void> => {
      const value = clientValue(p.index, p.seq++);
      await p.page.evaluate(
        ([f, v]) => {
          const el = document.querySelector<HTMLInputElement>(`input[name="${f}"]`);
          if (!el) return;
          el.value = String(v);
          el.dispatchEvent(new Event('input', { bubbles: true }));
          el.dispatchEvent(new Event('change', { bubbles: true }));
        },
        [field, value] as const,
      );
    };
    while (!stopped() && !budget.exhausted) {
      if (!(await live())) continue;
      await edit(p.rng.pick(FIELDS));
      if (!budget.take()) break;
      stats.trials.browser++;
      if (p.rng.chance(0.5)) proxy.cut(p.label, p.rng.int(0, 300));
      else proxy.blackHole(p.label);
      // Once the element has noticed (at once for a cut, by its heartbeat for a black hole), a
      // script forces values into the inputs: the element must send nothing until its resync.
      if (await waitState(false, 3000)) {
        // Checked in one go inside the page: still not live, force a value in, let the element's
        // handlers and microtasks run, and count writes only if it stayed not live throughout.
        const seen = await p.page.evaluate(
          async ([f, v]) => {
            const form = document.getElementById('form') as unknown as { state: string };
            const w = (window as unknown as { __writes: unknown[] }).__writes;
            if (form.state === 'live') return undefined;
            const before = w.length;
            const el = document.querySelector<HTMLInputElement>(`input[name="${f}"]`);
            if (!el) return undefined;
            el.value = String(v);
            el.dispatchEvent(new Event('input', { bubbles: true }));
            el.dispatchEvent(new Event('change', { bubbles: true }));
            await new Promise((r) => setTimeout(r, 0));
            return form.state === 'live' ? undefined : w.length - before;
          },
          [p.rng.pick(FIELDS), clientValue(p.index, p.seq++)] as const,
        );
        if (seen !== undefined) {
          stats.browserForcedEdits++;
          if (seen > 0) stats.browserWritesWhileDown++;
        }
      }
      await devices.change(p.device, p.rng.someOf(FIELDS));
      if (await live()) await edit(p.rng.pick(FIELDS));
      budget.complete();
    }
  }

  async close(): Promise<void> {
    await this.browser.close().catch(() => undefined);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export type PreparedFleet = { ok: true; fleet: BrowserFleet; bundleBuilt: Date } | { ok: false; reason: string };

/** Starts the page server and Chromium, or says why it cannot. */
export async function startBrowserFleet(options: {
  count: number;
  devices: readonly string[];
  rng: Rng;
  seed: number;
}): Promise<PreparedFleet> {
  if (!existsSync(BUNDLE))
    return {
      ok: false,
      reason: 'packages/element is not built (no dist/live-device-form.bundle.js): run `pnpm run build` first',
    };
  if (!existsSync(CHROMIUM_PATH)) {
    return { ok: false, reason: `no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium` };
  }
  const bundle = await readFile(BUNDLE);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/bundle.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
      return;
    }
    if (url.pathname === '/page') {
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end(pageHtml(url.searchParams.get('device') ?? '', url.searchParams.get('ws') ?? ''));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (err) {
    server.close();
    return { ok: false, reason: `Chromium did not start: ${(err as Error).message.split('\n')[0]}` };
  }
  return {
    ok: true,
    fleet: new BrowserFleet(browser, server, origin, options.count, options.devices, options.rng.fork('browsers')),
    bundleBuilt: (await stat(BUNDLE)).mtime,
  };
}
