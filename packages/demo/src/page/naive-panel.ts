/**
 * The naive client's panel: its own plain inputs (always editable, like an ordinary form), its
 * connection state, its queue and what the server answered.
 * @module
 */
import type { FieldSchema, WritableValue } from '@live-device-form/protocol';
import { NaiveClient, NaiveState } from './naive-client.js';

const STATE_TEXT: Record<NaiveState, string> = {
  connecting: 'Connecting…',
  open: 'Connected',
  down: 'Disconnected',
};

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> & { class?: string } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  const { class: cls, ...rest } = props;
  if (cls) el.className = cls;
  Object.assign(el, rest);
  el.append(...children);
  return el;
}

function inputFor(s: FieldSchema): HTMLInputElement | HTMLSelectElement {
  switch (s.type) {
    case 'boolean':
      return h('input', { type: 'checkbox', name: s.name });
    case 'enum': {
      const select = h('select', { name: s.name });
      for (const o of s.options ?? []) select.append(h('option', { value: o.value, textContent: o.label ?? o.value }));
      return select;
    }
    case 'number':
    case 'integer':
      return h('input', {
        type: 'number',
        name: s.name,
        step: s.step !== undefined ? String(s.step) : s.type === 'integer' ? '1' : 'any',
        ...(s.min !== undefined ? { min: String(s.min) } : {}),
        ...(s.max !== undefined ? { max: String(s.max) } : {}),
      });
    case 'text':
      return h('input', { type: 'text', name: s.name });
    case 'action':
      return h('input', { type: 'button', name: s.name, value: s.label });
  }
}

function read(el: HTMLInputElement | HTMLSelectElement, s: FieldSchema): WritableValue | undefined {
  if (s.type === 'boolean') return (el as HTMLInputElement).checked;
  if (s.type === 'number' || s.type === 'integer') return el.value.trim() === '' ? undefined : Number(el.value);
  return el.value;
}

function show(el: HTMLInputElement | HTMLSelectElement, value: WritableValue | undefined): void {
  if (value === undefined || document.activeElement === el) return;
  if (el instanceof HTMLInputElement && el.type === 'checkbox') el.checked = value === true;
  else if (el.value !== String(value)) el.value = String(value);
}

/** Mounts the naive client and its panel into `root`. Returns the client. */
export function mountNaivePanel(root: HTMLElement, url: string, device: string): NaiveClient {
  const status = h('span', { class: 'pill' });
  const form = h('form', { class: 'naive-form', autocomplete: 'off' });
  const queue = h('span', { class: 'naive-queue' });
  const counts = h('span', { class: 'naive-counts' });
  const events = h('ol', { class: 'naive-events' });
  root.append(
    h('div', { class: 'naive-head' }, status, queue),
    form,
    h('div', { class: 'naive-sub' }, h('strong', { textContent: 'Its writes and the answers' }), counts),
    events,
  );
  form.addEventListener('submit', (e) => e.preventDefault());

  let schemaKey = '';
  const controls = new Map<string, HTMLInputElement | HTMLSelectElement>();

  const client: NaiveClient = new NaiveClient(url, device, () => render());

  function build(): void {
    form.replaceChildren();
    controls.clear();
    for (const s of client.schema.filter((f) => f.writable)) {
      const el = inputFor(s);
      el.id = `naive-${s.name}`;
      el.addEventListener('change', () => {
        const v = read(el, s);
        if (v !== undefined) client.edit(s.name, v);
      });
      controls.set(s.name, el);
      form.append(
        h('label', { htmlFor: el.id, textContent: s.label }),
        h('div', { class: 'naive-control' }, el, h('span', { class: 'unit', textContent: s.unit ?? '' })),
      );
    }
  }

  function render(): void {
    const key = client.schema.map((s) => s.name).join(',');
    if (key !== schemaKey) {
      schemaKey = key;
      build();
    }
    for (const [name, el] of controls) show(el, client.inputs.get(name));
    root.dataset.state = client.state;
    status.textContent = STATE_TEXT[client.state];
    status.dataset.tone = client.state === NaiveState.Open ? 'ok' : client.state === NaiveState.Down ? 'bad' : 'wait';
    queue.textContent =
      client.state === NaiveState.Down
        ? `inputs stay editable; ${client.queue.length} edit${client.queue.length === 1 ? '' : 's'} queued`
        : '';
    counts.textContent = `${client.counts.sent} sent · ${client.counts.accepted} accepted · ${client.counts.rejected} rejected`;
    root.dataset.sent = String(client.counts.sent);
    root.dataset.rejected = String(client.counts.rejected);
    root.dataset.accepted = String(client.counts.accepted);
    events.replaceChildren(...[...client.events].reverse().map((e) => h('li', { class: e.kind, textContent: e.text })));
  }

  render();
  client.start();
  return client;
}
