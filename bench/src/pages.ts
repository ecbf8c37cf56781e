/**
 * The pages the browser figures load, and the measuring script they share. Plain JS strings: they
 * run in Chromium as they are.
 *
 * Both pages expose the same hooks on `window`:
 * - `__expectText(tag)`: the next time the status text shows `tag`, report the moment;
 * - `__expectEditable(value)`: the next time the number input is editable and shows `value`, report;
 * - `__clock()`: the shared clock (`performance.timeOrigin + performance.now()`).
 * Reports go to the `__sample(tag, time)` binding the driver exposes. The moment is taken in a
 * MutationObserver callback: the DOM has changed, in the same task that changed it. With
 * `wsdebug=1` either page logs its sockets' events (`ws-new`, `ws-made`, `ws-open`, `ws-message`,
 * `ws-close`) into `__stateLog` (BENCH_DEBUG timelines).
 *
 * - `ldf.html?src=…&device=…&n=…&ping=…&states=1`: `n` `<live-device-form>` elements of `device`
 *   (defaults to `videoproc`; the first element is the one measured); `ping` shortens the element's
 *   heartbeat (smoke runs only); with `states`, each element reports `left-live:<i>:<k>` the k-th
 *   time its state leaves `live`; `bundle=<name>` loads a candidate build (lab.ts).
 * - `bare.html?src=…&n=…`: the baseline — a bare WebSocket per `<output>` + `<input>` pair (the
 *   device copy is in `src`: `/bare?d=d1`); a frame `"input_signal X"` sets the output's
 *   textContent, `"brightness X"` sets the input's value and makes it editable; a close makes it
 *   read-only and reconnects at once.
 * @module
 */

const shared = String.raw`
window.__clock = () => performance.timeOrigin + performance.now();
window.__state = { text: null, editable: null };
window.__stateLog = [];
window.__expectText = (tag) => { window.__state.text = tag; window.__check(); };
window.__expectEditable = (value) => { window.__state.editable = value; window.__check(); };
window.__watch = (root) => {
  new MutationObserver(() => window.__check()).observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
};
{
  // The clock link: answers each message with the page's clock, for calibration.
  const id = new URLSearchParams(location.search).get('clock');
  if (id) {
    const ws = new WebSocket(new URL('/clock?id=' + id, location.href.replace(/^http/, 'ws')));
    ws.onmessage = () => ws.send(String(window.__clock()));
  }
}
if (new URLSearchParams(location.search).get('wsdebug')) {
  // Diagnostics: the raw socket events of the page's sockets (the clock link's aside), beside its state events.
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      const t = window.__clock();
      super(url, protocols);
      window.__stateLog.push(['ws-new', t], ['ws-made', window.__clock()]);
      this.addEventListener('open', () => window.__stateLog.push(['ws-open', window.__clock()]));
      this.addEventListener('message', () => window.__stateLog.push(['ws-message', window.__clock()]));
      this.addEventListener('close', () => window.__stateLog.push(['ws-close', window.__clock()]));
    }
  };
}
window.__check = () => {
  const s = window.__state;
  if (s.text !== null) {
    const out = window.__textNode();
    if (out && out.textContent === window.__shown(s.text)) {
      const t = window.__clock();
      const tag = s.text;
      s.text = null;
      window.__sample(tag, t);
    }
  }
  if (s.editable !== null) {
    const input = window.__numberInput();
    if (input && !input.readOnly && input.getAttribute('aria-readonly') !== 'true' && Number(input.value) === s.editable) {
      const t = window.__clock();
      const v = s.editable;
      s.editable = null;
      window.__sample('editable:' + v, t);
    }
  }
};
`;

const ldfScript = String.raw`
${shared}
const params = new URLSearchParams(location.search);
const n = Number(params.get('n') || 1);
const ping = Number(params.get('ping') || 0);
window.__elements = [];
for (let i = 0; i < n; i++) {
  const el = document.createElement('live-device-form');
  if (ping > 0) el.connectionOptions = { pingIntervalMs: ping, pingTimeoutMs: ping };
  el.setAttribute('device', params.get('device') || 'videoproc');
  el.setAttribute('src', params.get('src'));
  window.__elements.push(el);
  document.body.append(el);
}
const first = window.__elements[0];
window.__textNode = () => first.shadowRoot && first.shadowRoot.getElementById('ldf-input_signal');
window.__numberInput = () => first.shadowRoot && first.shadowRoot.querySelector('input[type=number][name=brightness]');
// The element renders a text field's value in quotes.
window.__shown = (tag) => '\u201c' + tag + '\u201d';
window.__watch(first.renderRoot);
window.__allLive = () => window.__elements.every((el) => el.getAttribute('state') === 'live');
first.addEventListener('ldf-state', (e) => window.__stateLog.push([e.detail.state, window.__clock()]));
first.addEventListener('ldf-resync', () => window.__stateLog.push(['resync-event', window.__clock()]));
// With states=1, each element reports every time it leaves 'live': 'left-live:<element>:<how many times>'.
window.__leftCounts = window.__elements.map(() => 0);
if (params.get('states')) {
  window.__elements.forEach((el, i) => {
    let wasLive = false;
    el.addEventListener('ldf-state', (e) => {
      const t = window.__clock();
      if (e.detail.state === 'live') wasLive = true;
      else if (wasLive) {
        wasLive = false;
        window.__sample('left-live:' + i + ':' + ++window.__leftCounts[i], t);
      }
    });
  });
}
`;

const bareScript = String.raw`
${shared}
const params = new URLSearchParams(location.search);
const n = Number(params.get('n') || 1);
window.__links = [];
for (let i = 0; i < n; i++) {
  const out = document.createElement('output');
  const input = document.createElement('input');
  input.type = 'number';
  input.readOnly = true;
  document.body.append(out, input);
  const link = { out, input, live: false, closedAt: null };
  const connect = () => {
    const ws = new WebSocket(new URL(params.get('src'), location.href.replace(/^http/, 'ws')));
    ws.onopen = () => { link.live = true; if (i === 0) window.__stateLog.push(['open', window.__clock()]); };
    ws.onmessage = (e) => {
      const at = e.data.indexOf(' ');
      const key = e.data.slice(0, at);
      const value = e.data.slice(at + 1);
      if (key === 'input_signal') out.textContent = value;
      // A value alone is no DOM mutation (the page's observer would not see it): check by hand.
      else if (key === 'brightness') { input.value = value; input.readOnly = false; queueMicrotask(window.__check); }
    };
    ws.onclose = () => { link.live = false; link.closedAt = window.__clock(); input.readOnly = true; connect(); };
  };
  connect();
  window.__links.push(link);
}
window.__textNode = () => window.__links[0].out;
window.__numberInput = () => window.__links[0].input;
window.__shown = (tag) => tag;
window.__watch(document.body);
window.__allLive = () => window.__links.every((l) => l.live && !l.input.readOnly);
`;

function html(script: string, head = ''): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title>${head}</head><body><script type="module">${script}</script></body></html>`;
}

/**
 * The element page: the bundle (`/ldf.js`, or a candidate build's URL in A/B runs) is loaded
 * first, so the tag is defined when the script runs.
 */
export function ldfPage(bundle = '/ldf.js'): string {
  return html(`import ${JSON.stringify(bundle)};\n${ldfScript}`);
}
export const BARE_PAGE = html(bareScript);
