/**
 * Form controls bound to fields by `name`: the vendor's own light-DOM controls, and the ones the
 * element renders from the schema. Their markup is never changed: the element sets their value,
 * `readOnly` and `aria-*`, and blocks gestures while they are locked.
 * @module
 */
import type { FieldSchema, WritableValue } from '@live-device-form/protocol';
import type { FieldModel } from './field-model.js';

/** A form control the element can drive. */
export type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/**
 * How a control edits:
 * - `slider`: sends while dragged (throttled) and on release;
 * - `box`: text and number boxes, send on commit (change or Enter);
 * - `pick`: checkboxes, radios and selects, send on change.
 */
export type ControlKind = 'slider' | 'box' | 'pick';

/** Whether an event target is a named form control. */
export function isControl(t: unknown): t is Control {
  return (
    (t instanceof HTMLInputElement || t instanceof HTMLSelectElement || t instanceof HTMLTextAreaElement) && !!t.name
  );
}

/** @internal */
export function controlKind(el: Control): ControlKind {
  if (el instanceof HTMLSelectElement) return 'pick';
  if (el instanceof HTMLInputElement) {
    if (el.type === 'range') return 'slider';
    if (el.type === 'checkbox' || el.type === 'radio') return 'pick';
  }
  return 'box';
}

/** The value a control holds, typed by the field's schema (`NaN` for an empty or unparsable number). */
export function readControl(el: Control, schema: FieldSchema): WritableValue {
  const t = schema.type;
  if (t === 'boolean')
    return el instanceof HTMLInputElement && el.type === 'checkbox' ? el.checked : el.value === 'true';
  if (t === 'number' || t === 'integer') return el.value.trim() === '' ? NaN : Number(el.value);
  return el.value;
}

/** The form controls inside `root`, grouped by name (radios share one). */
export function scanControls(root: ParentNode): Map<string, Control[]> {
  const map = new Map<string, Control[]>();
  for (const el of root.querySelectorAll<Control>('input[name],select[name],textarea[name]')) {
    const list = map.get(el.name);
    if (list) list.push(el);
    else map.set(el.name, [el]);
  }
  return map;
}

const touched = new WeakMap<Control, boolean>();

/**
 * Sets an attribute only when its value differs: an unchanged `setAttribute` still queues a
 * mutation record for every observer of the page and invalidates styles that select on it, and
 * `syncControl` runs for every control after every render.
 * @internal
 */
export function setAttr(el: Element, name: string, value: string): void {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/**
 * Brings a rendered action's button in line with its field: `aria-disabled` while the form is
 * read-only (a press is then ignored, and focus stays on the button), `aria-busy` while a press
 * awaits its ack.
 */
export function syncButton(el: HTMLElement, m: FieldModel | undefined, locked: boolean): void {
  setAttr(el, 'aria-disabled', String(locked));
  setAttr(el, 'aria-busy', String((m?.inflight.size ?? 0) > 0));
}

/**
 * Brings a bound control in line with its field. `m` undefined with `locked`: before the first
 * resync every named control is held read-only; `m` undefined without `locked`: the control is not
 * a field of this device and is handed back as it was. Touches only what differs.
 */
export function syncControl(el: Control, m: FieldModel | undefined, locked: boolean): void {
  const textLike = controlKind(el) === 'box' && !(el instanceof HTMLSelectElement);
  if (!touched.has(el)) {
    if (!m && !locked) return;
    touched.set(el, textLike && (el as HTMLInputElement).readOnly);
  }
  if (!m && !locked) {
    if (textLike) (el as HTMLInputElement).readOnly = touched.get(el)!;
    for (const a of ['aria-readonly', 'aria-busy', 'aria-invalid']) el.removeAttribute(a);
    touched.delete(el);
    return;
  }
  if (textLike) {
    const readOnly = locked || touched.get(el)!;
    if ((el as HTMLInputElement).readOnly !== readOnly) (el as HTMLInputElement).readOnly = readOnly;
  }
  setAttr(el, 'aria-readonly', String(locked));
  if (!m) return;
  const k = m.note?.kind;
  setAttr(el, 'aria-busy', String(m.inflight.size > 0));
  setAttr(el, 'aria-invalid', String(k === 'invalid' || k === 'rejected' || k === 'conflict'));
  // A held field keeps the user's value (and a number box follows its slider being dragged).
  if (m.held) {
    if (m.bySlider && m.draft !== undefined && el.type === 'number' && el.value !== m.draft) el.value = m.draft;
    return;
  }
  const v = m.value;
  if (el instanceof HTMLInputElement && (el.type === 'checkbox' || el.type === 'radio')) {
    el.checked = el.type === 'checkbox' ? v === true : el.value === String(v);
  } else {
    const s = v === null ? '' : String(v);
    if (el.value !== s) el.value = s;
  }
}
