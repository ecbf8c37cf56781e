/**
 * The hardware panel: acts on the simulated cy-vp4 directly, as someone at its front panel would
 * (through the demo's control API, never through the SDK).
 * @module
 */
import type { HardwareField, HardwareValue } from '../payload-format.js';
import type { SimulatorState } from '../simulator.js';
import { post } from './api.js';

/** Quick values for the original scenario (README.md, and docs/protocol.md): H=22 before the outage, -25 during it. */
const PRESETS: readonly { field: string; value: HardwareValue; text: string }[] = [
  { field: 'genlock_phase_h', value: 22, text: 'H = 22' },
  { field: 'genlock_phase_h', value: -25, text: 'H = -25' },
];

const DEVICE_TEXT: Record<SimulatorState, string> = {
  connecting: 'Connecting to the broker…',
  online: 'Online',
  offline: 'Offline (standby): ignores actions',
  crashed: 'Power cut: the broker published its Will',
  closed: 'Stopped',
};

type Control = HTMLInputElement | HTMLSelectElement;

/** The panel in `root`. Call `update` with every state event. */
export class HardwarePanel {
  readonly #controls = new Map<string, Control>();
  readonly #status: HTMLElement;
  readonly #error: HTMLElement;
  #built = false;

  /** `presets`: where the scenario's quick buttons go (the page's toolbar). */
  constructor(
    private readonly root: HTMLElement,
    private readonly presets: HTMLElement | null = null,
  ) {
    this.#status = root.querySelector('[data-hw-status]')!;
    this.#error = root.querySelector('[data-hw-error]')!;
    for (const b of root.querySelectorAll<HTMLButtonElement>('button[data-hw-action]')) {
      b.addEventListener('click', () => void this.#act({ action: b.dataset.hwAction }));
    }
  }

  update(fields: HardwareField[], values: Record<string, HardwareValue>, state: SimulatorState): void {
    if (!this.#built) this.#build(fields);
    for (const [name, el] of this.#controls) {
      const v = values[name];
      if (v === undefined || document.activeElement === el) continue;
      if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = v === true;
      else if (el.value !== String(v)) el.value = String(v);
    }
    this.#status.textContent = DEVICE_TEXT[state];
    this.#status.dataset.tone = state === 'online' ? 'ok' : state === 'connecting' ? 'wait' : 'bad';
    this.root.dataset.device = state;
  }

  #build(fields: HardwareField[]): void {
    this.#built = true;
    const grid = this.root.querySelector<HTMLElement>('[data-hw-fields]')!;
    for (const f of fields) {
      const id = `hw-${f.name}`;
      const label = document.createElement('label');
      label.htmlFor = id;
      label.textContent = f.label;
      const cell = document.createElement('div');
      cell.className = 'hw-control';
      const el = this.#control(f);
      el.id = id;
      el.name = f.name;
      this.#controls.set(f.name, el);
      cell.append(el);
      if (f.unit)
        cell.append(Object.assign(document.createElement('span'), { className: 'unit', textContent: f.unit }));
      if (f.type === 'number' || f.type === 'integer' || f.type === 'text') {
        const set = Object.assign(document.createElement('button'), {
          type: 'button',
          textContent: 'Set',
          className: 'small',
        });
        set.dataset.hwSet = f.name;
        const apply = (): void => void this.#set(f, el);
        set.addEventListener('click', apply);
        el.addEventListener('keydown', (e) => {
          if ((e as KeyboardEvent).key === 'Enter') apply();
        });
        cell.append(set);
      } else el.addEventListener('change', () => void this.#set(f, el));
      grid.append(label, cell);
    }
    const presets = this.presets;
    for (const p of PRESETS) {
      const f = fields.find((x) => x.name === p.field);
      if (!f || !presets) continue;
      const b = Object.assign(document.createElement('button'), {
        type: 'button',
        textContent: p.text,
        className: 'preset',
      });
      b.title = `Set ${f.label} to ${String(p.value)} at the device`;
      b.dataset.preset = `${p.field}=${String(p.value)}`;
      b.addEventListener('click', () => void this.#act({ action: 'set', field: p.field, value: p.value }));
      presets.append(b);
    }
  }

  #control(f: HardwareField): Control {
    if (f.type === 'boolean') return Object.assign(document.createElement('input'), { type: 'checkbox' });
    if (f.type === 'enum') {
      const select = document.createElement('select');
      for (const o of f.options)
        select.append(Object.assign(document.createElement('option'), { value: o.value, textContent: o.label }));
      return select;
    }
    const input = document.createElement('input');
    if (f.type === 'text') input.type = 'text';
    else {
      input.type = 'number';
      input.step = f.step !== undefined ? String(f.step) : f.type === 'integer' ? '1' : 'any';
      if (f.min !== undefined) input.min = String(f.min);
      if (f.max !== undefined) input.max = String(f.max);
    }
    return input;
  }

  #set(f: HardwareField, el: Control): Promise<void> {
    let value: HardwareValue;
    if (f.type === 'boolean') value = (el as HTMLInputElement).checked;
    else if (f.type === 'number' || f.type === 'integer') value = Number(el.value);
    else value = el.value;
    return this.#act({ action: 'set', field: f.name, value });
  }

  async #act(body: Record<string, unknown>): Promise<void> {
    this.#error.textContent = '';
    try {
      await post('hardware', body);
    } catch (err) {
      this.#error.textContent = (err as Error).message;
    }
  }
}
