/**
 * The demo page (index.html): the element, the naive client, the network cut, the hardware panel,
 * the protection switch and the MQTT log, wired to the demo's control API; below them, the devices
 * the server discovered, each with its own form.
 * @module
 */
import '@live-device-form/element';
import type { LiveDeviceForm } from '@live-device-form/element';
import { type DemoState, follow, post } from './api.js';
import { DiscoveredPanel } from './discovered-panel.js';
import { showFormState } from './form-state.js';
import { HardwarePanel } from './hardware-panel.js';
import { LogView } from './log-view.js';
import { mountNaivePanel } from './naive-panel.js';
import { PAGE_ID, socketUrl } from './page-id.js';

const DEVICE = 'videoproc';
const $ = <T extends HTMLElement = HTMLElement>(sel: string): T => document.querySelector<T>(sel)!;

// ------------------------------------------------------------------ the element

const form = $<LiveDeviceForm>('live-device-form');
form.device = DEVICE;
form.src = socketUrl('element');
const elementState = $('#element-state');
showFormState(form, elementState);

// ------------------------------------------------------------------ the naive client

const naiveRoot = $('#naive');
let naive: ReturnType<typeof mountNaivePanel> | undefined;
const naiveToggle = $<HTMLInputElement>('#naive-on');
const startNaive = (): void => {
  naive ??= mountNaivePanel(naiveRoot, socketUrl('naive'), DEVICE);
};
const stopNaive = (): void => {
  naive?.close();
  naive = undefined;
  naiveRoot.replaceChildren();
  naiveRoot.dataset.state = 'off';
};
// `?naive=0` starts the page without it (the screenshots of the element alone use this).
naiveToggle.checked = new URLSearchParams(location.search).get('naive') !== '0';
naiveToggle.addEventListener('change', () => (naiveToggle.checked ? startNaive() : stopNaive()));
if (naiveToggle.checked) startNaive();
else stopNaive();

// ------------------------------------------------------------------ network cut

const cutButton = $<HTMLButtonElement>('#cut');
const cutSeconds = $<HTMLInputElement>('#cut-seconds');
const cutStatus = $('#cut-status');
let cutTimer: ReturnType<typeof setInterval> | undefined;
cutButton.addEventListener('click', async () => {
  const seconds = Number(cutSeconds.value);
  try {
    const { until } = await post<{ until: number; dropped: number }>('cut', { page: PAGE_ID, seconds });
    cutButton.disabled = true;
    document.body.dataset.cut = 'true';
    const tick = (): void => {
      const left = Math.ceil((until - Date.now()) / 1000);
      if (left > 0) {
        cutStatus.textContent = `Network cut: ${left} s left. This page's sockets were dropped and its reconnects are refused.`;
        return;
      }
      clearInterval(cutTimer);
      cutButton.disabled = false;
      delete document.body.dataset.cut;
      cutStatus.textContent = 'Network back: both clients reconnect on their next attempt.';
    };
    clearInterval(cutTimer);
    cutTimer = setInterval(tick, 250);
    tick();
  } catch (err) {
    cutStatus.textContent = (err as Error).message;
  }
});

// ------------------------------------------------------------------ protection

const protection = $<HTMLInputElement>('#protection');
const protectionText = $('#protection-text');
protection.addEventListener('change', () => {
  void post('protection', { on: protection.checked }).catch((err: Error) => {
    protectionText.textContent = err.message;
  });
});

// ------------------------------------------------------------------ hardware, log, state

const hardware = new HardwarePanel($('#hardware'), document.querySelector<HTMLElement>('[data-hw-presets]'));
const log = new LogView($('#log'));
const discovered = new DiscoveredPanel($('#discovered'));
const staleBadge = $('#stale-count');
const stream = $('#stream-state');
$('#log-clear').addEventListener('click', () => log.clear());

function applyState(s: DemoState): void {
  log.fields = s.fields;
  hardware.update(s.fields, s.hardware.values, s.hardware.state);
  protection.checked = s.protection.on;
  document.body.dataset.protection = s.protection.on ? 'on' : 'off';
  protectionText.textContent = s.protection.on
    ? `ON: ${s.protection.guardMs} ms guard + revision checks`
    : 'OFF: no guard, no revision checks';
  staleBadge.textContent = String(s.staleWrites);
  staleBadge.parentElement!.dataset.tone = s.staleWrites > 0 ? 'bad' : 'ok';
  discovered.update(s.discovered, s.lamp);
}

follow({
  state: applyState,
  log: (e) => log.add(e),
  connected: (on) => {
    stream.textContent = on ? 'log connected' : 'log reconnecting…';
    stream.dataset.tone = on ? 'ok' : 'wait';
  },
});

$('#page-id').textContent = PAGE_ID;
