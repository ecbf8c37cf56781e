/**
 * Figure 9: first load → first live value. A page opened in a fresh browser context (no cache, no
 * open connections), measured from navigation start (`performance.timeOrigin`) until the device's
 * value is in an input on the page, and the bytes that crossed the wire for it.
 *
 * - Project: the real `live-device-server` CLI (its embedded broker, a one-field device file) and a
 *   page with one `<script type="module">` of the CLI's versioned bundle route
 *   (`/live-device-form@<version>.bundle.js`, compressed: brotli for Chromium) and one
 *   `<live-device-form>`. The element connects, says `hello`, gets the `resync` and renders the input.
 * - Baseline: a bare page whose inline script opens a `WebSocket` to the bare relay (`ws` + mqtt.js,
 *   in its own process like the CLI, subscribed to the same topic on the same broker), which sends
 *   the latest value when a socket connects; the script writes it into an `<input>`.
 *
 * A simulated device published the value, retained, before the pages load. Both pages come from
 * one static server in the driver (uncompressed, the same markup but for what differs). Samples
 * alternate, each in a new context; the first two of each kind warm up and are dropped.
 *
 * The moment is taken in the page, in the same task that set the value (the bare page's `onmessage`;
 * for the element, a MutationObserver on its shadow root, or its `ldf-resync` event once the update
 * is complete); painting is not included for either. Bytes come from the DevTools protocol: each
 * HTTP response's `encodedDataLength` (headers and body as received), each request's headers as
 * sent, the WebSocket handshake both ways and every frame both ways (payload + frame header) up to
 * and including the frame that carried the value. TCP/IP overhead is not counted.
 * @module
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import type { Browser, CDPSession } from 'playwright-core';
import {
  buildCliWithBundle,
  launchChromium,
  listeningUrl,
  round,
  runCli,
  stopCliProcesses,
  type Summary,
  summarize,
} from '@live-device-form/testkit';
import type { BenchContext, FigureOutput } from '../context.js';
import { ROOT } from '../prepare.js';
import { Child } from '../proc.js';
import { type Figure, latencyFields, ratio } from '../results.js';
import { withTimeout } from '../util.js';

/** The device's value, and where it is published. */
const VALUE = 42;
const TOPIC = 'bench/first-load/status/level';
/** A one-field device: what a page shows first. */
const DEVICE = {
  id: 'meter',
  topics: [
    {
      status: TOPIC,
      pattern: '{level}',
      set: 'bench/first-load/set/level',
      template: '{level}',
    },
  ],
  fields: { level: { label: 'Level', type: 'integer', min: 0, max: 100, unit: '%', writable: true } },
};
/** Target: bytes over the wire (20 kB). */
const MAX_BYTES = 20_000;
/** Target: p50 time at most this × the bare page's. */
const MAX_RATIO = 1.15;

type Kind = 'ldf' | 'bare';

/** The shared markup: the same for both pages (no favicon request). */
function page(head: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>first load</title><link rel="icon" href="data:,">${head}</head><body>${body}</body></html>`;
}

/** The element page, as docs/cli.md shows it: the bundle from the CLI, one element. */
function ldfPage(bundleUrl: string, wsUrl: string): string {
  return page(
    `<script type="module" src="${bundleUrl}"></script>`,
    `<live-device-form src="${wsUrl}" device="meter"></live-device-form>`,
  );
}

/** The bare page: one input, one socket, the value written in. */
function barePage(wsUrl: string): string {
  return page(
    '',
    `<input type="number" name="level" readonly><script>
const input = document.querySelector('input');
const ws = new WebSocket('${wsUrl}');
ws.onmessage = (e) => { input.value = e.data; input.readOnly = false; };
</script>`,
  );
}

/**
 * The probe, the same in both pages and never sent over the wire (a DevTools init script, run
 * before the page's own): `__first` is the moment an `input[type=number][name=level]` in the
 * document (the element's shadow root included) is given the value, taken inside the setter of
 * `HTMLInputElement.prototype.value` — the task that writes it. `__marks` notes when the page's
 * socket was created, opened, first sent (the element's `hello`) and got its first message, and the element's
 * milestones.
 */
const PROBE = String.raw`
window.__marks = {};
const mark = (name) => { window.__marks[name] ??= performance.now(); };
const value = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value');
const shows = (input) => input.name === 'level' && input.type === 'number' && input.isConnected && value.get.call(input) !== '' && Number(value.get.call(input)) === ${VALUE};
Object.defineProperty(HTMLInputElement.prototype, 'value', {
  ...value,
  set(v) {
    value.set.call(this, v);
    if (window.__first !== undefined) return;
    if (shows(this)) window.__first = performance.now();
    // Set before being inserted (a template being filled in): judged once the task's DOM work is done.
    else queueMicrotask(() => { if (window.__first === undefined && shows(this)) window.__first = performance.now(); });
  },
});
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(url, protocols) {
    super(url, protocols);
    mark('wsCreated');
    this.addEventListener('open', () => mark('wsOpen'));
    this.addEventListener('message', () => mark('wsMessage'));
  }
  send(data) {
    mark('wsSent');
    super.send(data);
  }
};
customElements.whenDefined('live-device-form').then(() => {
  mark('defined');
  const el = document.querySelector('live-device-form');
  el.addEventListener('ldf-state', (e) => mark(e.detail.state));
  el.addEventListener('ldf-resync', () => mark('resync'));
});
`;

/** What one page load cost on the wire, in bytes, by part. */
interface Bytes {
  html: number;
  script: number;
  other: number;
  requestHeaders: number;
  wsHandshake: number;
  wsFramesIn: number;
  wsFramesOut: number;
  total: number;
}

/** A WebSocket frame's size on the wire: header (+ mask from the client) and payload. */
function frameBytes(payloadLength: number, masked: boolean): number {
  const ext = payloadLength < 126 ? 0 : payloadLength < 65536 ? 2 : 8;
  return 2 + ext + (masked ? 4 : 0) + payloadLength;
}

function headerBytes(firstLine: string, headers: Record<string, string>): number {
  let n = firstLine.length + 2 + 2;
  for (const [k, v] of Object.entries(headers)) n += k.length + 2 + Buffer.byteLength(v) + 2;
  return n;
}

/** Whether a frame's payload carries the device's value. */
function carriesValue(kind: Kind, payload: string): boolean {
  if (kind === 'bare') return Number(payload) === VALUE;
  try {
    const f = JSON.parse(payload) as {
      type?: string;
      fields?: { level?: { value?: unknown } };
      field?: string;
      value?: unknown;
    };
    return (
      (f.type === 'resync' && f.fields?.level?.value === VALUE) ||
      (f.type === 'update' && f.field === 'level' && f.value === VALUE)
    );
  } catch {
    return false;
  }
}

/** Counts the bytes of one page load from DevTools' Network events, up to the frame that carried the value. */
function countBytes(cdp: CDPSession, kind: Kind): { bytes: Bytes; valueFrame: Promise<void> } {
  const bytes: Bytes = {
    html: 0,
    script: 0,
    other: 0,
    requestHeaders: 0,
    wsHandshake: 0,
    wsFramesIn: 0,
    wsFramesOut: 0,
    total: 0,
  };
  const requests = new Map<string, { url: string; method: string; type: string }>();
  const sentHeaders = new Map<string, Record<string, string>>();
  let done = false;
  let seen!: () => void;
  const valueFrame = new Promise<void>((resolve) => (seen = resolve));
  cdp.on('Network.requestWillBeSent', (e) => {
    requests.set(e.requestId, { url: e.request.url, method: e.request.method, type: e.type ?? 'Other' });
  });
  cdp.on('Network.requestWillBeSentExtraInfo', (e) =>
    sentHeaders.set(e.requestId, e.headers as Record<string, string>),
  );
  cdp.on('Network.loadingFinished', (e) => {
    const r = requests.get(e.requestId);
    if (!r || done) return;
    const u = new URL(r.url);
    bytes.requestHeaders += headerBytes(
      `${r.method} ${u.pathname}${u.search} HTTP/1.1`,
      sentHeaders.get(e.requestId) ?? {},
    );
    const key = r.type === 'Document' ? 'html' : r.type === 'Script' ? 'script' : 'other';
    bytes[key] += e.encodedDataLength;
  });
  cdp.on('Network.webSocketWillSendHandshakeRequest', (e) => {
    if (done) return;
    bytes.wsHandshake += headerBytes('GET / HTTP/1.1', e.request.headers as Record<string, string>);
  });
  cdp.on('Network.webSocketHandshakeResponseReceived', (e) => {
    if (done) return;
    const r = e.response;
    bytes.wsHandshake += r.headersText
      ? Buffer.byteLength(r.headersText)
      : headerBytes(`HTTP/1.1 ${r.status} ${r.statusText}`, r.headers as Record<string, string>);
  });
  const payloadLength = (f: { opcode: number; payloadData: string }): number =>
    f.opcode === 1 ? Buffer.byteLength(f.payloadData) : Buffer.from(f.payloadData, 'base64').length;
  cdp.on('Network.webSocketFrameSent', (e) => {
    if (!done) bytes.wsFramesOut += frameBytes(payloadLength(e.response), true);
  });
  cdp.on('Network.webSocketFrameReceived', (e) => {
    if (done) return;
    bytes.wsFramesIn += frameBytes(payloadLength(e.response), false);
    if (e.response.opcode === 1 && carriesValue(kind, e.response.payloadData)) {
      done = true;
      seen();
    }
  });
  return { bytes, valueFrame };
}

/** One page load in a fresh context: milliseconds from navigation start to the value, and its bytes. */
async function sample(
  browser: Browser,
  url: string,
  kind: Kind,
  withBytes: boolean,
): Promise<{ ms: number; bytes: Bytes | undefined; marks: Record<string, number> }> {
  const context = await browser.newContext();
  await context.addInitScript(PROBE);
  try {
    const p = await context.newPage();
    let counted: ReturnType<typeof countBytes> | undefined;
    if (withBytes) {
      const cdp = await context.newCDPSession(p);
      counted = countBytes(cdp, kind);
      await cdp.send('Network.enable');
    }
    await p.goto(url, { waitUntil: 'commit' });
    await p.waitForFunction(() => (window as { __first?: number }).__first !== undefined, undefined, {
      polling: 20,
      timeout: 20_000,
    });
    const { ms, marks } = await p.evaluate(() => {
      const w = window as unknown as { __first: number; __marks: Record<string, number> };
      const entries = performance.getEntriesByType('resource') as PerformanceResourceTiming[];
      const script = entries.find((e) => e.initiatorType === 'script');
      const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      return {
        ms: w.__first,
        marks: {
          ...w.__marks,
          ...(nav ? { htmlLoaded: nav.responseEnd, domInteractive: nav.domInteractive } : {}),
          ...(script ? { scriptLoaded: script.responseEnd } : {}),
        },
      };
    });
    if (!counted) return { ms, bytes: undefined, marks };
    await withTimeout(counted.valueFrame, 5000, `${kind}: the DevTools event of the frame with the value`);
    const b = counted.bytes;
    b.total = b.html + b.script + b.other + b.requestHeaders + b.wsHandshake + b.wsFramesIn + b.wsFramesOut;
    return { ms, bytes: b, marks };
  } finally {
    await context.close();
  }
}

/** Static server for both pages; `pages` is filled in once the servers' URLs are known. */
async function startStatic(pages: Map<string, string>): Promise<{ origin: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const body = pages.get((req.url ?? '/').split('?')[0] ?? '/');
    if (body === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const median = (xs: number[]): number => summarize(xs).p50;
const BARE_MARKS = ['htmlLoaded', 'domInteractive', 'wsCreated', 'wsOpen', 'wsMessage'];
const LDF_MARKS = [
  'htmlLoaded',
  'domInteractive',
  'scriptLoaded',
  'defined',
  'wsCreated',
  'wsOpen',
  'wsSent',
  'wsMessage',
  'live',
  'resync',
];

export async function firstLoad(ctx: BenchContext): Promise<FigureOutput> {
  const samples = ctx.smoke ? 3 : 30;
  const warmUp = ctx.smoke ? 1 : 2;
  const byteSamples = ctx.smoke ? 1 : 3;
  if (ctx.build) {
    ctx.log('first load: building the CLI and the element bundle it serves');
    buildCliWithBundle();
  }
  const assets = join(ROOT, 'packages/server/dist/assets');
  const meta = await readFile(join(assets, 'live-device-form.bundle.json'), 'utf8').catch(() => {
    throw new Error(`no element bundle in ${assets}: run the bench without --no-build, or pnpm run build`);
  });
  const { version } = JSON.parse(meta) as { version: string };

  const cleanup: (() => Promise<unknown> | unknown)[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'ldf-first-load-'));
  cleanup.unshift(() => rm(dir, { recursive: true, force: true }));
  try {
    const deviceFile = join(dir, 'meter.json');
    await writeFile(deviceFile, JSON.stringify(DEVICE, null, 2));
    const pages = new Map<string, string>();
    const statics = await startStatic(pages);
    cleanup.unshift(() => statics.close());

    const cli = runCli(['--device', deviceFile, '--port', '0', '--origin', statics.origin, '--log-level', 'warn']);
    cleanup.unshift(() => stopCliProcesses());
    const brokerUrl = /^embedded MQTT broker on (mqtt:\/\/\S+)$/.exec(await cli.line(/^embedded MQTT broker on /))?.[1];
    if (!brokerUrl) throw new Error('the CLI printed no broker URL');
    // The simulated device: its value, retained, as a device publishes its state.
    const device = await connectAsync(brokerUrl, { clean: true, reconnectPeriod: 0 });
    cleanup.unshift(() => device.endAsync(true));
    await device.publishAsync(TOPIC, String(VALUE), { qos: 1, retain: true });
    const wsUrl = await listeningUrl(cli);
    const cliOrigin = `http://127.0.0.1:${new URL(wsUrl).port}`;

    const relay = await Child.start('bare-relay', './bare-relay-proc.ts');
    cleanup.unshift(() => relay.stop());
    const { url: bareWsUrl } = await relay.call<{ url: string }>('listen', { brokerUrl, topic: TOPIC });

    pages.set('/ldf.html', ldfPage(`${cliOrigin}/live-device-form@${version}.bundle.js`, wsUrl));
    pages.set('/bare.html', barePage(bareWsUrl));
    const browser = await launchChromium();
    cleanup.unshift(() => browser.close());

    type Sample = Awaited<ReturnType<typeof sample>>;
    const timed: Record<Kind, Sample[]> = { ldf: [], bare: [] };
    const weighed: Record<Kind, Bytes[]> = { ldf: [], bare: [] };
    // Timed samples run without DevTools' Network domain (its bookkeeping would be in the time);
    // the bytes come from separate samples with it.
    for (let i = 0; i < warmUp + samples + byteSamples; i++) {
      const order: Kind[] = i % 2 === 0 ? ['ldf', 'bare'] : ['bare', 'ldf'];
      const withBytes = i >= warmUp + samples;
      for (const kind of order) {
        const s = await sample(browser, `${statics.origin}/${kind}.html`, kind, withBytes);
        if (s.bytes) weighed[kind].push(s.bytes);
        else if (i >= warmUp) timed[kind].push(s);
      }
    }
    ctx.log(`first load: ${samples} timed samples and ${byteSamples} weighed of each`);

    const time = (k: Kind): Summary => summarize(timed[k].map((s) => s.ms));
    const bytesOf = (k: Kind, part: keyof Bytes): number => median(weighed[k].map((b) => b[part]));
    const markOf = (k: Kind, mark: string): number | null => {
      const xs = timed[k].map((s) => s.marks[mark]).filter((x): x is number => typeof x === 'number');
      return xs.length ? round(median(xs)) : null;
    };
    const parts = (k: Kind): Record<string, number> =>
      Object.fromEntries((Object.keys(weighed[k][0] ?? {}) as (keyof Bytes)[]).map((p) => [p, round(bytesOf(k, p))]));
    const ldfTime = time('ldf');
    const bareTime = time('bare');
    const timeFigure: Figure = {
      id: 'first-load/time',
      figure: 9,
      name: 'First load → first live value (navigation start to the value in an input, fresh context)',
      ...latencyFields(ldfTime, bareTime),
      target: `p50 ≤ ${MAX_RATIO} × bare`,
      met: ctx.smoke ? null : ldfTime.p50 <= MAX_RATIO * bareTime.p50,
      notes:
        `${samples} alternating samples of each after ${warmUp} warm-up, each in a new browser context (DevTools' Network domain off); ` +
        `element page: bundle from the CLI's /live-device-form@${version}.bundle.js (brotli), one-field device; ` +
        `medians from navigation start, element page: HTML loaded ${markOf('ldf', 'htmlLoaded') ?? '—'} ms, bundle loaded ${markOf('ldf', 'scriptLoaded') ?? '—'} ms, ` +
        `element defined ${markOf('ldf', 'defined') ?? '—'} ms, socket created ${markOf('ldf', 'wsCreated') ?? '—'} / open ${markOf('ldf', 'wsOpen') ?? '—'} / hello sent ${markOf('ldf', 'wsSent') ?? '—'} / first frame ${markOf('ldf', 'wsMessage') ?? '—'} ms, ` +
        `resync ${markOf('ldf', 'resync') ?? '—'} ms; bare page: HTML loaded ${markOf('bare', 'htmlLoaded') ?? '—'} ms, socket created ${markOf('bare', 'wsCreated') ?? '—'} / open ${markOf('bare', 'wsOpen') ?? '—'} / first frame ${markOf('bare', 'wsMessage') ?? '—'} ms. ` +
        'The moment is taken when the input is given the value (before paint), by the same probe in both pages.',
      extra: {
        marksLdf: Object.fromEntries(LDF_MARKS.map((m) => [m, markOf('ldf', m)])),
        marksBare: Object.fromEntries(BARE_MARKS.map((m) => [m, markOf('bare', m)])),
        maxMs: round(ldfTime.max),
        baselineMaxMs: round(bareTime.max),
      },
    };
    const ldfBytes = bytesOf('ldf', 'total');
    const bareBytes = bytesOf('bare', 'total');
    const bytesFigure: Figure = {
      id: 'first-load/bytes',
      figure: 9,
      name: 'First load → first live value: bytes over the wire',
      value: round(ldfBytes / 1000),
      unit: 'kB',
      baseline: round(bareBytes / 1000),
      ratio: ratio(ldfBytes, bareBytes),
      better: 'lower',
      target: `≤ ${MAX_BYTES / 1000} kB`,
      met: ctx.smoke ? null : ldfBytes <= MAX_BYTES,
      notes:
        `median of ${byteSamples} samples of each (separate from the timed ones), both directions, ` +
        'from DevTools Network events: HTTP responses (headers + body as received), ' +
        'request headers as sent, the WebSocket handshake and frames (header + payload) up to the one with the value; no TCP/IP overhead; ' +
        `element page ${round(bytesOf('ldf', 'script'))} B of script, ${round(bytesOf('ldf', 'html'))} B of HTML, ${round(bytesOf('ldf', 'wsFramesIn'))} B of frames in.`,
      extra: { partsLdf: parts('ldf'), partsBare: parts('bare') },
    };
    return { figures: [timeFigure, bytesFigure] };
  } finally {
    for (const step of cleanup) await step();
  }
}
