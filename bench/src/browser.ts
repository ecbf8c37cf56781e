/**
 * Pages in Debian's Chromium (launched by the testkit) that report measurements through the
 * `__sample(tag, time)` binding.
 * @module
 */
import type { Browser, Page } from 'playwright-core';
import type { WebSocket } from 'ws';
import { type ClockOffset, calibrate } from './clock.js';
import { withTimeout } from './util.js';

let pages = 0;

/** A page whose `__sample` reports can be awaited by tag. */
export class MeasuredPage {
  private readonly waiting = new Map<string, (t: number) => void>();
  private readonly early = new Map<string, number>();
  offset: ClockOffset = { offsetMs: 0, uncertaintyMs: 0 };

  private constructor(
    readonly page: Page,
    private readonly clockLink: (id: string) => Promise<WebSocket>,
    private readonly id: string,
  ) {}

  /**
   * Opens `url` (with `clock=<id>` added) in a fresh browser context. `clockLink` gives the
   * server side of the page's clock socket.
   */
  static async open(
    browser: Browser,
    url: string,
    clockLink: (id: string) => Promise<WebSocket>,
  ): Promise<MeasuredPage> {
    const context = await browser.newContext();
    const page = await context.newPage();
    const id = `p${++pages}`;
    const mp = new MeasuredPage(page, clockLink, id);
    await page.exposeBinding('__sample', (_source, tag: string, t: number) => mp.report(tag, t));
    await page.goto(`${url}${url.includes('?') ? '&' : '?'}clock=${id}`);
    return mp;
  }

  /** Resolves with the page's time of the report `tag` (shared clock, page side). */
  next(tag: string, timeoutMs = 10_000): Promise<number> {
    const t = this.early.get(tag);
    if (t !== undefined) {
      this.early.delete(tag);
      return Promise.resolve(t);
    }
    return withTimeout(
      new Promise<number>((resolve) => this.waiting.set(tag, resolve)),
      timeoutMs,
      `page report "${tag}"`,
    ).finally(() => this.waiting.delete(tag));
  }

  /**
   * Measures the page clock's offset from ours over the page's clock socket (a loopback
   * WebSocket round trip is ~0.1 ms, a DevTools evaluate ~2 ms); call when the page is idle.
   */
  async calibrate(rounds = 50): Promise<ClockOffset> {
    const ws = await withTimeout(this.clockLink(this.id), 10_000, 'clock socket');
    this.offset = await calibrate(
      () =>
        withTimeout(
          new Promise<number>((resolve) => {
            ws.once('message', (data) => resolve(Number(String(data))));
            ws.send('c');
          }),
          5000,
          'clock round trip',
        ),
      rounds,
    );
    return this.offset;
  }

  /** Page time → our clock. */
  local(pageTime: number): number {
    return pageTime - this.offset.offsetMs;
  }

  /** Waits until `expression` is true in the page (polling on animation frames; setup only). */
  async until(expression: string, timeoutMs = 15_000): Promise<void> {
    await this.page.waitForFunction(expression, undefined, { timeout: timeoutMs });
  }

  eval<T>(expression: string): Promise<T> {
    return this.page.evaluate(expression) as Promise<T>;
  }

  async close(): Promise<void> {
    await this.page.context().close();
  }

  private report(tag: string, t: number): void {
    const resolve = this.waiting.get(tag);
    if (resolve) resolve(t);
    else this.early.set(tag, t);
  }
}
