/**
 * Figure 1: status change → DOM. A status is published on the broker (embedded aedes) until the
 * value is visible in the page, in real headless Chromium, with 1 and with 100 open sessions.
 *
 * Project: hardware publisher → aedes → MQTT bridge → store → session → WebSocket →
 * `<live-device-form>` (parse, field model, Lit render) → the read-only text field's `<output>`.
 * Baseline: hardware publisher → aedes → bare relay (mqtt.js + bare `ws`) → bare page → `textContent`.
 *
 * Time: Node reads the shared clock just before `publish()`; the page reads it in a
 * MutationObserver callback once the text is in the DOM. The page clock's offset is calibrated
 * (best of 30 round trips) and subtracted. Samples alternate project/baseline, in blocks of a fresh
 * page pair each ({@link BLOCKS}). With 100 sessions
 * the other 99 of each are Node clients (raw WebSocket, reading every frame) in a second process,
 * connected before the measured pages open, so the page's socket is the last one served.
 * Target ({@link TARGET}): p50 ≤ 1.15 × bare and p99 ≤ 1.2 × bare, with 1 and with 100 sessions.
 * @module
 */
import type { Browser } from 'playwright-core';
import { MeasuredPage } from '../browser.js';
import { Child } from '../proc.js';
import { now } from '../clock.js';
import type { BenchContext, FigureOutput } from '../context.js';
import { type Lab, TOPICS } from '../lab.js';
import { type Figure, latencyFields } from '../results.js';
import { round, summarize } from '@live-device-form/testkit';
import { pause } from '../util.js';

/** The target, as ratios to the bare baseline measured in the same run (issue 14). */
export const TARGET = { p50: 1.15, p99: 1.2 } as const;

/** One sample: publish `tag` on `topic` until the page shows it; ms, and when it was published (shared clock). */
export async function timedSample(
  page: MeasuredPage,
  lab: Lab,
  topic: string,
  tag: string,
): Promise<{ ms: number; publishedAt: number }> {
  await page.eval(`window.__expectText(${JSON.stringify(tag)})`);
  const reported = page.next(tag);
  const t0 = now();
  lab.publisher.publish(topic, tag, { qos: 0 });
  return { ms: page.local(await reported) - t0, publishedAt: t0 };
}

export async function sample(page: MeasuredPage, lab: Lab, topic: string, tag: string): Promise<number> {
  return (await timedSample(page, lab, topic, tag)).ms;
}

/**
 * Samples are taken in blocks, each with a fresh pair of pages (new browser contexts): two
 * identical pages measured in one run differ by up to 0.1 ms at p50 (publish → the page's
 * `message` event; `ab-browser.ts dom` with twin bundles), as much as the difference being
 * measured, so one pair for the whole figure decided its ratio by which page drew the slower lot.
 * Still one measured page of each kind open at a time.
 */
const BLOCKS = 8;

export async function statusToDom(ctx: BenchContext, lab: Lab, browser: Browser): Promise<FigureOutput> {
  const samples = ctx.smoke ? 6 : 400;
  const blocks = ctx.smoke ? 2 : BLOCKS;
  const figures: Figure[] = [];
  let extra: Child | undefined;
  try {
    for (const sessions of [1, 100]) {
      if (sessions > 1) {
        extra = await Child.start('extra-sessions', './clients-proc.ts');
        const common = { n: sessions - 1, concurrency: 32 };
        await extra.call('connect', {
          ...common,
          target: { host: '127.0.0.1', port: lab.port, path: '/live', protocol: 'ldf.v1' },
          hello: JSON.stringify({ type: 'hello', device: 'videoproc', mounts: 0 }),
        });
        await extra.call('connect', {
          ...common,
          target: { host: '127.0.0.1', port: lab.port, path: '/bare', protocol: 'ldf.v1' },
          hello: 'hi',
          waitFor: 'any',
        });
      }
      const mine: number[] = [];
      const base: number[] = [];
      /** Each block's p50s, ms: how far pages differ. */
      const blockP50s: [number, number][] = [];
      let uncertainty = 0;
      for (let block = 0; block < blocks; block++) {
        // Opened after the other sessions connected: the page's socket is the last one served.
        const ldf = await MeasuredPage.open(browser, `${lab.origin}/ldf.html?src=/live`, lab.clockSocket);
        const bare = await MeasuredPage.open(browser, `${lab.origin}/bare.html?src=/bare`, lab.clockSocket);
        try {
          await Promise.all([ldf.until('window.__allLive()'), bare.until('window.__allLive()')]);
          const offsets = [await ldf.calibrate(), await bare.calibrate()];
          uncertainty = Math.max(uncertainty, ...offsets.map((o) => o.uncertaintyMs));
          if (block === 0)
            ctx.log(
              `status → DOM, ${sessions} session(s): ${blocks} blocks of fresh pages; clock offsets ${offsets.map((o) => `${o.offsetMs.toFixed(3)}±${o.uncertaintyMs.toFixed(3)} ms`).join(', ')}`,
            );
          const m: number[] = [];
          const b: number[] = [];
          // A few unrecorded rounds first: JIT, connection pools.
          const per = Math.ceil(samples / blocks);
          for (let i = ctx.smoke ? -2 : -5; i < per; i++) {
            const tag = `s${sessions}-${block}-${i}`;
            const pair = [
              async () => m.push(await sample(ldf, lab, TOPICS.text, `${tag}-ldf`)),
              async () => b.push(await sample(bare, lab, TOPICS.bareText, `${tag}-bare`)),
            ];
            if (i % 2) pair.reverse();
            for (const run of pair) {
              await run();
              // Jittered gap, so samples do not lock to a timer's phase.
              await pause(4 + Math.random() * 8);
            }
            if (i < 0) {
              m.length = 0;
              b.length = 0;
            }
          }
          mine.push(...m);
          base.push(...b);
          blockP50s.push([round(summarize(m).p50), round(summarize(b).p50)]);
        } finally {
          await Promise.all([ldf.close(), bare.close()]);
        }
      }
      const m = summarize(mine);
      const b = summarize(base);
      figures.push({
        id: `status-to-dom/${sessions}`,
        figure: 1,
        name: `Status change → DOM, ${sessions} open session${sessions > 1 ? 's' : ''}`,
        ...latencyFields(m, b),
        target: `p50 ≤ ${TARGET.p50} × bare, p99 ≤ ${TARGET.p99} × bare`,
        met: ctx.smoke ? null : m.p50 <= TARGET.p50 * b.p50 && m.p99 <= TARGET.p99 * b.p99,
        notes:
          (sessions > 1
            ? `the other ${sessions - 1} sessions (and ${sessions - 1} bare sockets) are Node WebSocket clients in a second process, the page served last; `
            : '') +
          `${blocks} blocks of fresh pages; clock offset ±${uncertainty.toFixed(3)} ms; broker, bridge, SDK and relay share the driver process.`,
        extra: {
          maxMs: round(m.max),
          baselineMaxMs: round(b.max),
          meanMs: round(m.mean),
          baselineMeanMs: round(b.mean),
          blockP50s,
        },
      });
    }
  } finally {
    await extra?.stop();
  }
  return { figures };
}
