/**
 * The "Discovered devices" section: the list of devices the server's discovery has found (id,
 * source, field count), live as they come and go, and a `<live-device-form>` for each with a
 * heading. A device that goes away keeps its card: its form says "Device not available" (the
 * server's `gone`, docs/discovery.md) and comes back to life with it. The lamp's card also has its
 * wall switch, which acts on the simulated lamp directly (never through the SDK), so a change made
 * outside the page can be seen arriving in the form.
 * @module
 */
import type { LiveDeviceForm } from '@live-device-form/element';
import type { DemoState } from './api.js';
import { post } from './api.js';
import { showFormState } from './form-state.js';
import { socketUrl } from './page-id.js';

type Device = DemoState['discovered'][number];
type Lamp = DemoState['lamp'];

const SOURCE_TEXT: Record<string, string> = {
  homeassistant: 'Home Assistant discovery',
  zigbee2mqtt: 'Zigbee2MQTT',
  homie: 'Homie',
};

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls = '', text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text) e.textContent = text;
  return e;
}

const fieldsText = (n: number): string => `${n} field${n === 1 ? '' : 's'}`;

/** The lamp's wall switch: toggle and brightness, straight to the simulated lamp. */
class WallSwitch {
  readonly root = el('div', 'wall-switch');
  readonly #readout = el('span', 'wall-readout');
  readonly #brightness = Object.assign(el('input'), { type: 'number', min: '0', max: '254', step: '1' });
  readonly #error = el('p', 'error');

  constructor() {
    this.root.dataset.lampSwitch = '';
    const toggle = Object.assign(el('button', 'small', 'Toggle'), { type: 'button' });
    toggle.dataset.lamp = 'toggle';
    toggle.addEventListener('click', () => void this.#act({ state: 'TOGGLE' }));
    const set = Object.assign(el('button', 'small', 'Set'), { type: 'button' });
    set.dataset.lamp = 'brightness';
    const apply = (): void => void this.#act({ brightness: Number(this.#brightness.value) });
    set.addEventListener('click', apply);
    this.#brightness.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') apply();
    });
    this.#brightness.id = 'lamp-brightness';
    const label = Object.assign(el('label', '', 'Brightness'), { htmlFor: this.#brightness.id });
    this.root.append(
      el('span', 'tool-label', 'Wall switch'),
      toggle,
      label,
      this.#brightness,
      set,
      this.#readout,
      this.#error,
    );
    this.root.title = 'At the lamp: changes go straight to the simulated Zigbee2MQTT, which publishes the new state';
  }

  update(lamp: Lamp): void {
    this.#readout.textContent = `${lamp.state.state} · ${lamp.state.brightness}`;
    this.root.dataset.state = lamp.state.state;
    if (document.activeElement !== this.#brightness) this.#brightness.value = String(lamp.state.brightness);
  }

  async #act(body: Record<string, unknown>): Promise<void> {
    this.#error.textContent = '';
    try {
      await post('lamp', body);
    } catch (err) {
      this.#error.textContent = (err as Error).message;
    }
  }
}

interface Card {
  root: HTMLElement;
  sub: HTMLElement;
  pill: HTMLElement;
}

/** The section in `root` (index.html's `#discovered`). Call `update` with every state event. */
export class DiscoveredPanel {
  readonly #list: HTMLElement;
  readonly #forms: HTMLElement;
  readonly #cards = new Map<string, Card>();
  #wallSwitch: WallSwitch | undefined;

  constructor(root: HTMLElement) {
    this.#list = root.querySelector('#discovered-list')!;
    this.#forms = root.querySelector('#discovered-forms')!;
  }

  update(devices: Device[], lamp: Lamp): void {
    this.#renderList(devices);
    const present = new Set(devices.map((d) => d.id));
    for (const d of devices) {
      const card = this.#cards.get(d.id) ?? this.#addCard(d, lamp);
      card.sub.textContent = `${SOURCE_TEXT[d.source] ?? d.source} · device="${d.id}" · ${fieldsText(d.fields)}`;
      delete card.root.dataset.gone;
    }
    for (const [id, card] of this.#cards) if (!present.has(id)) card.root.dataset.gone = 'true';
    this.#wallSwitch?.update(lamp);
  }

  #renderList(devices: Device[]): void {
    if (devices.length === 0) {
      this.#list.replaceChildren(el('li', 'empty', 'None yet: waiting for discovery messages…'));
      return;
    }
    this.#list.replaceChildren(
      ...devices.map((d) => {
        const li = el('li');
        li.dataset.device = d.id;
        li.dataset.source = d.source;
        li.dataset.fields = String(d.fields);
        li.append(
          el('code', 'id', d.id),
          el('span', 'source', SOURCE_TEXT[d.source] ?? d.source),
          el('span', 'count', fieldsText(d.fields)),
        );
        return li;
      }),
    );
  }

  #addCard(d: Device, lamp: Lamp): Card {
    const root = el('article', 'card discovered-card');
    root.dataset.device = d.id;
    const header = el('header');
    const titles = el('div');
    const sub = el('p', 'hint discovered-sub');
    titles.append(el('h3', '', d.name ?? d.id), sub);
    const pill = el('span', 'pill', 'connecting');
    pill.dataset.tone = 'wait';
    header.append(titles, pill);
    const form = el('live-device-form') as LiveDeviceForm;
    // As attributes: what a page author writes, and what a selector finds.
    form.setAttribute('device', d.id);
    form.setAttribute('src', socketUrl('discovered'));
    showFormState(form, pill);
    root.append(header, form);
    if (d.id === lamp.name) {
      this.#wallSwitch = new WallSwitch();
      root.append(this.#wallSwitch.root);
    }
    this.#forms.append(root);
    const card = { root, sub, pill };
    this.#cards.set(d.id, card);
    return card;
  }
}
