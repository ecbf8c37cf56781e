/**
 * The MQTT log panel: every status, action and availability message, newest at the bottom, with
 * stale writes highlighted (the rule is in `../mqtt-log.ts`).
 * @module
 */
import type { LogChange, LogEntry, StaleFlag } from '../mqtt-log.js';
import type { HardwareField } from '../payload-format.js';

/** Rows kept in the DOM. */
const ROW_LIMIT = 400;

/** Longest payload shown whole; a longer one is cut, its size said. */
const PAYLOAD_SHOWN = 100;

/** How much of a discovery config (kilobytes of JSON, of interest to few) a row shows. */
const CONFIG_SHOWN = 32;

/** The payload as a row shows it: `{"dev":{"ids":["cy-vp4-0042"],…… (1845 bytes)` when longer than `max`. */
export function shownPayload(payload: string, max = PAYLOAD_SHOWN): string {
  if (payload.length <= max) return payload;
  return `${payload.slice(0, max)}… (${new TextEncoder().encode(payload).length} bytes)`;
}

/** `online`/`offline` from an availability payload: `1`/`0`, `online`/`offline` or Zigbee2MQTT's `{"state":"online"}`. */
function availabilityText(payload: string): string {
  let p = payload;
  if (p.startsWith('{')) {
    try {
      const state = (JSON.parse(p) as { state?: unknown }).state;
      p = typeof state === 'string' ? state : p;
    } catch {
      /* shown as it is */
    }
  }
  return p === '1' || p === 'online' ? 'online' : p === '0' || p === 'offline' ? 'offline' : 'avail';
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** `12:00:03.120`, local time. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

function el(tag: string, cls: string, text = ''): HTMLElement {
  const e = document.createElement(tag);
  e.className = cls;
  e.textContent = text;
  return e;
}

/** A topic that wraps only after a `/` (never inside `cy-vp4`). */
function topicNode(topic: string): HTMLElement {
  const span = el('span', 'topic');
  topic.split('/').forEach((level, i) => {
    if (i > 0) span.append('/', document.createElement('wbr'));
    span.append(el('span', 'level', level));
  });
  return span;
}

/** A log panel in `root`; `fields` gives labels (it may arrive after the first entries). */
export class LogView {
  #fields = new Map<string, HardwareField>();
  readonly #list: HTMLElement;
  #stick = true;

  constructor(private readonly root: HTMLElement) {
    this.#list = root;
    root.addEventListener('scroll', () => {
      this.#stick = root.scrollTop + root.clientHeight >= root.scrollHeight - 24;
    });
  }

  set fields(fields: HardwareField[]) {
    this.#fields = new Map(fields.map((f) => [f.name, f]));
  }

  clear(): void {
    this.#list.replaceChildren();
  }

  add(entry: LogEntry): void {
    const row = el('div', `row ${entry.kind}`);
    row.dataset.seq = String(entry.seq);
    row.dataset.kind = entry.kind;
    row.dataset.topic = entry.topic;
    row.dataset.payload = entry.payload;
    if (entry.retained) row.classList.add('retained');
    if (entry.kind === 'availability') row.dataset.availability = availabilityText(entry.payload);
    if (entry.stale) row.classList.add('stale');
    if (entry.malformed) row.classList.add('malformed');

    const message = el('div', 'message');
    message.append(
      topicNode(entry.topic),
      ' ',
      el('span', 'payload', shownPayload(entry.payload, entry.kind === 'discovery' ? CONFIG_SHOWN : PAYLOAD_SHOWN)),
    );
    row.append(el('time', 'time', clock(entry.time)), el('span', 'kind', this.#kindText(entry)), message);
    if (entry.retained) row.title = 'Retained: stored by the broker and delivered when the log subscribed';
    if (entry.kind === 'discovery')
      row.title = 'A device describing itself (retained): the server’s discovery reads it';
    const note = this.#note(entry);
    if (note) row.append(el('div', 'note', note));

    const stick = this.#stick;
    this.#list.append(row);
    while (this.#list.childElementCount > ROW_LIMIT) this.#list.firstElementChild?.remove();
    if (stick) this.root.scrollTop = this.root.scrollHeight;
  }

  #label(field: string): string {
    return this.#fields.get(field)?.label ?? field;
  }

  #value(field: string, v: unknown): string {
    const f = this.#fields.get(field);
    if (v === null || v === undefined) return '—';
    if (f?.type === 'boolean') return v ? 'on' : 'off';
    if (f?.type === 'enum') return f.options.find((o) => o.value === v)?.label ?? String(v);
    return `${String(v)}${f?.unit ? ` ${f.unit}` : ''}`;
  }

  #kindText(entry: LogEntry): string {
    switch (entry.kind) {
      case 'status':
        return 'status';
      case 'action':
        return entry.stale ? 'STALE' : 'action';
      case 'availability':
        return availabilityText(entry.payload);
      case 'discovery':
        return 'config';
      default:
        return 'other';
    }
  }

  #note(entry: LogEntry): string {
    if (entry.malformed) return 'payload does not match the device file: the device ignores it';
    if (entry.stale) return entry.stale.map((s: StaleFlag) => this.#staleText(s)).join(' ');
    if (entry.changes) return entry.changes.map((c: LogChange) => this.#changeText(c)).join(' · ');
    return '';
  }

  #staleText(s: StaleFlag): string {
    return `Stale write: puts ${s.label} back to ${this.#value(s.field, s.value)}, a value the device left at ${clock(s.supersededAt)}; it has ${this.#value(s.field, s.current)} now.`;
  }

  #changeText(c: LogChange): string {
    const by = c.cause === 'echo' ? 'answer to an action' : 'changed at the device';
    return `${this.#label(c.field)} ${this.#value(c.field, c.from)} → ${this.#value(c.field, c.to)} (${by})`;
  }
}
