/**
 * One end-to-end environment, all real and all on free loopback ports: the demo (embedded aedes,
 * simulator, MQTT bridge, server SDK, Vite), a fault proxy in front of the SDK's socket, an
 * independent MQTT witness and headless Chromium. Each test starts its own and closes it.
 * @module
 */
import { silentLogger } from '@live-device-form/server';
import {
  type FaultProxy,
  type SeenMessage,
  type Witness,
  freePort,
  launchChromium,
  startFaultProxy,
  startWitness,
} from '@live-device-form/testkit';
import type { Browser, Page } from 'playwright-core';
import { type Demo, type DemoOptions, startDemo } from '../src/demo-server.js';

/** Whether a message went to an action topic (a write to the device). */
export const isAction = (m: SeenMessage): boolean => m.topic.includes('/action/');

export interface Stack {
  demo: Demo;
  /** Sits between the page's sockets and the demo's `/live`. */
  proxy: FaultProxy;
  witness: Witness;
  browser: Browser;
  /** A page's URL on the demo, with its sockets routed through the proxy (`?ws=`). */
  url(path?: string, query?: Record<string, string>): string;
  /** Opens a page (1360×900) and waits for its element to be live. */
  open(path?: string, query?: Record<string, string>): Promise<Page>;
  close(): Promise<void>;
}

export interface StackOptions extends Pick<DemoOptions, 'protection' | 'initial' | 'hmr'> {
  /** Route the page's sockets through the fault proxy. Defaults to `true`. */
  viaProxy?: boolean;
}

/** Attempts at a free port before {@link startDemoOnFreePort} gives up. */
const PORT_ATTEMPTS = 5;

/**
 * Starts the demo on a free port. The port is picked before the demo listens (its allowed origin
 * names it), and another socket may take it in between — an outgoing connection's ephemeral port
 * (seen in CI: `EADDRINUSE`). Then the demo has cleaned up after itself, and it starts again on
 * another port.
 */
async function startDemoOnFreePort(options: (port: number) => DemoOptions): Promise<Demo> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDemo(options(await freePort()));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= PORT_ATTEMPTS) throw err;
    }
  }
}

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const closers: (() => Promise<unknown>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => {});
  };
  try {
    const demo = await startDemoOnFreePort((port) => ({
      port,
      hmr: options.hmr ?? false,
      logger: silentLogger,
      viteLogLevel: 'silent',
      // The page is served by the demo, its socket goes to the proxy's port: a different origin.
      allowedOrigins: [`http://127.0.0.1:${port}`],
      ...(options.protection !== undefined ? { protection: options.protection } : {}),
      ...(options.initial ? { initial: options.initial } : {}),
    }));
    closers.push(() => demo.close());
    const proxy = await startFaultProxy({ target: { port: demo.port } });
    closers.push(() => proxy.close());
    const witness = await startWitness(demo.brokerUrl, 'cy-vp4/#');
    closers.push(() => witness.close());
    const browser = await launchChromium();
    closers.push(() => browser.close());

    const url = (path = '/', query: Record<string, string> = {}): string => {
      const u = new URL(path, demo.url);
      if (options.viaProxy ?? true) u.searchParams.set('ws', `ws://127.0.0.1:${proxy.port}/live`);
      for (const [k, v] of Object.entries(query)) u.searchParams.set(k, v);
      return u.href;
    };
    return {
      demo,
      proxy,
      witness,
      browser,
      url,
      async open(path = '/', query = {}) {
        const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
        await page.goto(url(path, query));
        await waitForState(page, 'live');
        return page;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

// ------------------------------------------------------------------ the element, seen from the page

/** Waits until the (first) `<live-device-form>` is in `state`. */
export async function waitForState(page: Page, state: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction((s) => document.querySelector('live-device-form')?.state === s, state, {
    timeout,
    polling: 50,
  });
}

/** The value a field's number box shows (rendered mode: in the shadow root; bound mode: the vendor's input). */
export function shownValue(page: Page, field: string): Promise<string | null> {
  return page.evaluate((f) => {
    const form = document.querySelector('live-device-form')!;
    const el =
      form.shadowRoot?.querySelector<HTMLInputElement>(`#ldf-${f}`) ??
      form.querySelector<HTMLInputElement>(`[name="${f}"]`);
    return el ? el.value : null;
  }, field);
}

/** Waits until a field's box shows `value`. */
export async function waitForShown(page: Page, field: string, value: string, timeout = 20_000): Promise<void> {
  await page.waitForFunction(
    ([f, v]) => {
      const form = document.querySelector('live-device-form');
      const el =
        form?.shadowRoot?.querySelector<HTMLInputElement>(`#ldf-${f}`) ??
        form?.querySelector<HTMLInputElement>(`[name="${f}"]`);
      return el?.value === v;
    },
    [field, value] as const,
    { timeout, polling: 50 },
  );
}

/** Records every `set` the element sends (its `ldf-write` events) in `window.__writes`. */
export async function recordWrites(page: Page): Promise<void> {
  await page.evaluate(() => {
    const w = window as unknown as { __writes: unknown[] };
    w.__writes = [];
    document.addEventListener('ldf-write', (e) => w.__writes.push((e as CustomEvent).detail));
  });
}

export function writes(page: Page): Promise<{ field: string; value: unknown; rev: number }[]> {
  return page.evaluate(
    () => (window as unknown as { __writes: { field: string; value: unknown; rev: number }[] }).__writes,
  );
}
