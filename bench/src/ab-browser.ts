/**
 * A/B tool for element work: the browser figures' samples of the element as built, of candidate
 * builds of its bundle, and of the bare page, interleaved in one run (same lab, same browser).
 *
 *   tsx src/ab-browser.ts reconnect|dom [cycles=30] [name=bundle.js ...]
 *
 * `reconnect`: figure 2's reconnect with guard 0 (`/live-g0`), `copies` pages of each variant
 * taking turns, each page sampled at most every 1.1 s. `dom`: figure 1's status → DOM, `copies`
 * pages of each variant (`AB_COPIES`, default 3; identical pages differ by up to 0.1 ms at p50)
 * taking turns, each on its own device copy. Make a candidate bundle with
 * `node -e "import('./packages/element/scripts/bundle.mjs').then(async (b) => process.stdout.write(await b.bundle({ withLit: true })))" > /tmp/x.js`
 * after `tsc -b packages/element` on the candidate sources. Prints p50 / p90 / p99 per variant
 * and, for reconnect, the medians of the phases (BENCH_DEBUG=1 for every sample's timeline); for
 * dom with BENCH_DEBUG=1, the medians of publish → the page's `message` event and of that event → DOM.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { launchChromium, quantile, round, summarize } from '@live-device-form/testkit';
import { MeasuredPage } from './browser.js';
import { timedSample } from './figures/latency.js';
import { type ReconnectSample, reconnectSample } from './figures/reconnect.js';
import { labDevice, startLab } from './lab.js';
import { elementBundler } from './prepare.js';
import { pause, shuffled } from './util.js';

const mode = process.argv[2] ?? 'reconnect';
const cycles = Number(process.argv[3] ?? 30);
const candidates = new Map<string, string>();
for (const arg of process.argv.slice(4)) {
  const [name, file] = arg.split('=') as [string, string];
  candidates.set(name, await readFile(file, 'utf8'));
}
const variants = ['ldf', ...candidates.keys(), 'bare'];
const code = await (await elementBundler()).bundle({ withLit: true });
const lab = await startLab(code, candidates);
const browser = await launchChromium();
const debug = process.env.BENCH_DEBUG ? '&wsdebug=1' : '';
/** Device copies in use, element side and bare side apart: every page has its own. */
const used = { ldf: 0, bare: 0 };
/** A page of variant `v` on its own device copy: its URL, socket path (with query) and topics. */
function pageOf(v: string, path: string): { url: string; src: string; text: string; brightness: string } {
  const bare = v === 'bare';
  const d = labDevice(used[bare ? 'bare' : 'ldf']++);
  if (bare) {
    const src = `/bare?p=${used.bare}&d=${d.bare}`;
    return {
      url: `${lab.origin}/bare.html?src=${encodeURIComponent(src)}${debug}`,
      src,
      text: d.bareText,
      brightness: d.bareBrightness,
    };
  }
  const src = `${path}?p=${used.ldf}`;
  const bundle = v === 'ldf' ? '' : `&bundle=${v}`;
  return {
    url: `${lab.origin}/ldf.html?src=${encodeURIComponent(src)}&device=${d.id}${bundle}${debug}`,
    src,
    text: d.text,
    brightness: d.brightness,
  };
}

const show = (v: string, xs: number[]): string => {
  const s = summarize(xs);
  const p90 = quantile(
    [...xs].sort((a, b) => a - b),
    0.9,
  );
  return `${v.padEnd(10)} n=${xs.length} p50 ${round(s.p50)} p90 ${round(p90)} p99 ${round(s.p99)} mean ${round(s.mean)}`;
};

try {
  if (mode === 'reconnect') {
    const copies = Number(process.env.AB_COPIES ?? 3);
    const pages: { v: string; src: string; topic: string; page: MeasuredPage }[] = [];
    for (let c = 0; c < copies; c++)
      for (const v of variants) {
        const p = pageOf(v, '/live-g0');
        pages.push({
          v,
          src: p.src,
          topic: p.brightness,
          page: await MeasuredPage.open(browser, p.url, lab.clockSocket),
        });
      }
    await Promise.all(pages.map((p) => p.page.until('window.__allLive()')));
    for (const p of pages) await p.page.calibrate();
    const results = new Map<string, ReconnectSample[]>(variants.map((v) => [v, []]));
    const lastClose = new Map<MeasuredPage, number>();
    for (let i = -1; i < cycles; i++) {
      // A different order each cycle, so no variant always follows the same one.
      const order = shuffled(pages);
      for (const p of order) {
        const wait = (lastClose.get(p.page) ?? -Infinity) + 1100 - performance.now();
        if (wait > 0) await pause(wait);
        lastClose.set(p.page, performance.now());
        const s = await reconnectSample(p.page, lab, p.src, p.topic);
        if (i >= 0) results.get(p.v)!.push(s);
        await pause(5 + Math.random() * 10);
      }
    }
    const med = (xs: number[]): number => round(summarize(xs.filter((x) => !Number.isNaN(x))).p50);
    for (const [v, list] of results) {
      console.log(
        show(
          v,
          list.map((s) => s.total),
        ),
      );
      console.log(
        `           medians: upgrade ${med(list.map((s) => s.upgrade))} accepted ${med(list.map((s) => s.accepted))} opened ${med(list.map((s) => s.opened))} hello ${med(list.map((s) => s.hello))}`,
      );
    }
  } else {
    // Several pages of each variant (AB_COPIES, default 3), sampled in a new order each cycle:
    // identical pages differ by up to 0.1 ms at p50, as much as the differences looked for.
    const copies = Number(process.env.AB_COPIES ?? 3);
    const pages: { v: string; page: MeasuredPage; text: string }[] = [];
    for (let c = 0; c < copies; c++)
      for (const v of variants) {
        const p = pageOf(v, '/live');
        pages.push({ v, page: await MeasuredPage.open(browser, p.url, lab.clockSocket), text: p.text });
      }
    for (const p of pages) await p.page.until('window.__allLive()');
    for (const p of pages) await p.page.calibrate();
    const results = new Map<string, number[]>(variants.map((v) => [v, []]));
    // With BENCH_DEBUG: publish → the page's `message` event, and that event → DOM, per variant.
    const split = new Map<string, { wire: number[]; page: number[] }>(variants.map((v) => [v, { wire: [], page: [] }]));
    for (let i = -10; i < cycles; i++) {
      for (const p of shuffled(pages)) {
        const { ms, publishedAt } = await timedSample(p.page, lab, p.text, `ab-${p.v}-${pages.indexOf(p)}-${i}`);
        if (i >= 0) results.get(p.v)!.push(ms);
        if (debug) {
          const log = await p.page.eval<[string, number][]>('window.__stateLog.splice(0)');
          const message = log.filter((e) => e[0] === 'ws-message').pop();
          if (i >= 0 && message) {
            const wire = p.page.local(message[1]) - publishedAt;
            split.get(p.v)!.wire.push(wire);
            split.get(p.v)!.page.push(ms - wire);
          }
        }
        await pause(4 + Math.random() * 8);
      }
    }
    for (const [v, list] of results) console.log(show(v, list));
    if (debug)
      for (const [v, s] of split)
        console.log(
          `${v.padEnd(10)} medians: publish → message ${round(summarize(s.wire).p50)}, message → DOM ${round(summarize(s.page).p50)}`,
        );
  }
} finally {
  await browser.close();
  await lab.close();
}
