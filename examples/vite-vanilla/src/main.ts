// The prebuilt bundle (Lit included) registers <live-device-form>, as the README says.
import '@live-device-form/element/bundle.js';
// Types only: the element class and its events in HTMLElementEventMap (`ldf-ack` → AckDetail).
import type { LiveDeviceForm } from '@live-device-form/element';

/** The CLI's WebSocket endpoint; `?src=` overrides it (the example's test uses its own port). */
const src = new URLSearchParams(location.search).get('src') ?? 'ws://127.0.0.1:8080/live';

const auto = document.querySelector<LiveDeviceForm>('#auto')!;
const bound = document.querySelector<LiveDeviceForm>('#bound')!;
auto.src = src;
bound.src = src;

auto.addEventListener('ldf-ack', (e) => {
  document.querySelector('#last-ack')!.textContent = e.detail.status;
});

// A plain page has nothing to re-render; this redraws the counter beside the bound form.
let renders = 1;
document.querySelector('#rerender')!.addEventListener('click', () => {
  document.querySelector('#renders')!.textContent = String(++renders);
});
