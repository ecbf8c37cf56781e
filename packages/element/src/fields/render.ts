/**
 * Templates of the fields rendered from `resync.schema`, and of the notes both modes show.
 * Controls carry the field's `name`; the element listens for their events on its shadow root
 * and keeps their values and states in line with `syncControl`, as for bound controls.
 * @module
 */
import { html, noChange, nothing, type TemplateResult } from 'lit';
import type { FieldSchema } from '@live-device-form/protocol';
import type { Words } from '../localize.js';
import { setAttr } from './bind.js';
import type { FieldModel } from './field-model.js';
import { formatValue, noteText } from './messages.js';

/** The id of a field's main control; field names are `[A-Za-z_][A-Za-z0-9_]*`, safe in ids. */
export const controlId = (name: string): string => `ldf-${name}`;

/** Whether a field is rendered with a slider (a number with both limits) beside its number box. */
function hasSlider(s: FieldSchema): boolean {
  return s.writable && (s.type === 'number' || s.type === 'integer') && s.min !== undefined && s.max !== undefined;
}

/** A step the browser accepts for this field. */
function step(s: FieldSchema): string {
  return s.step !== undefined ? String(s.step) : s.type === 'integer' ? '1' : 'any';
}

/**
 * A field's note: below a rendered field, or beside a bound control in the page
 * (`bound-notes.ts`). It is the control's `aria-describedby` target and a polite live region, there
 * before anything is said in it (a region created together with its words is often not announced).
 */
export function renderNote(w: Words, m: FieldModel): TemplateResult {
  const s = m.schema;
  const note = m.note;
  const kind = m.pending ? 'pending' : note?.kind;
  let body: unknown = nothing;
  if (m.pending) {
    body = html`<span part="pending">${w.t.pending({ value: formatValue(w, s, m.pending.value) })}</span>`;
  } else if (note?.kind === 'saving') {
    body = html`<span aria-hidden="true">${w.t.saving}</span>`;
  } else if (note) {
    body = html`${noteText(w, s, note, m.device.value)}${
      note.kind === 'conflict'
        ? html`<span class="choice">
          <button type="button" part="button keep-button" data-action="keep" data-field=${s.name}>${w.t.keep}</button>
          <button type="button" part="button apply-button" data-action="apply" data-field=${s.name}>${w.t.apply}</button>
        </span>`
        : nothing
    }`;
  }
  return html`<div part=${kind ? `note note-${kind}` : 'note'} class="note ${kind ?? ''}" id="${controlId(s.name)}-note" aria-live="polite">${body}</div>`;
}

/**
 * One field rendered from its schema: structure, labels and limits only. Values, `readOnly` and
 * the live `aria-*` states are set on the controls after each render by `syncControl`, the same
 * code that drives bound light-DOM controls, and by `syncShown` for what only rendered fields show
 * (a read-only value's text, a slider's `aria-valuetext`). So a device change alone changes nothing
 * the template is made from, and an `update` frame renders no template.
 */
export function renderField(w: Words, m: FieldModel): TemplateResult {
  const s = m.schema;
  const id = controlId(s.name);
  // The help text (static) is read before the note (what became of the last write).
  const described = s.help ? `${id}-help ${id}-note` : `${id}-note`;
  let control: TemplateResult;
  if (!s.writable) {
    control = html`<output part="value" id=${id} aria-describedby=${described}></output>`;
  } else {
    switch (s.type) {
      case 'number':
      case 'integer': {
        const box = html`<input type="number" part="number" name=${s.name} id=${id} min=${s.min ?? nothing} max=${s.max ?? nothing}
          step=${step(s)} aria-describedby=${described} inputmode=${s.type === 'integer' ? 'numeric' : 'decimal'} />${
            s.unit ? html`<span part="unit">${s.unit}</span>` : nothing
          }`;
        control = hasSlider(s)
          ? html`<input type="range" part="slider" name=${s.name} id="${id}-slider" min=${s.min!} max=${s.max!} step=${step(s)}
                aria-labelledby="${id}-label" aria-describedby=${described} />${box}`
          : box;
        break;
      }
      case 'boolean':
        control = html`<input type="checkbox" role="switch" part="switch" name=${s.name} id=${id} aria-describedby=${described} />`;
        break;
      case 'enum':
        control = html`<select part="select" name=${s.name} id=${id} aria-describedby=${described}>
          ${m.value === null ? html`<option value="" disabled>—</option>` : nothing}
          ${(s.options ?? []).map((o) => html`<option value=${o.value}>${o.label ?? o.value}</option>`)}
        </select>`;
        break;
      case 'text':
        control = html`<input type="text" part="text" name=${s.name} id=${id} maxlength=${s.maxLength ?? nothing} aria-describedby=${described}
          autocomplete="off" spellcheck="false" />`;
        break;
      case 'action':
        // Its own label; `aria-disabled` (not `disabled`) while locked, so focus never moves (syncButton).
        control = html`<button type="button" part="action" id=${id} data-action="press" data-field=${s.name} aria-describedby=${described}>${s.label}</button>`;
        break;
      default: {
        const never: never = s.type;
        return never;
      }
    }
  }
  return html`<div part="field" class="field ${s.type}">
    ${s.type === 'action' && s.writable ? nothing : html`<label part="label" id="${id}-label" for=${id}>${s.label}</label>`}
    <div part="control" class="control">${control}</div>
    ${s.help ? html`<small part="help" id="${id}-help">${s.help}</small>` : nothing}
    ${renderNote(w, m)}
  </div>`;
}

/**
 * Everything a field's template is made from (`renderField`, `renderNote`, `formatValue`,
 * `noteText`): when none of it changed, neither did the template. The device's value counts only
 * while a note may show it; the value shown is `syncShown`'s.
 */
function templateInputs(w: Words, m: FieldModel): readonly unknown[] {
  return [m, w, m.schema, m.value === null, m.pending, m.note, m.note ? m.device.value : undefined];
}

/**
 * Whether `last` (what was rendered at a field's position, as kept by `renderFields`) is what `m`'s
 * template is made from now: an `update` frame that changed only a value needs no render at all,
 * only `syncShown` and `syncControl`.
 */
export function isRendered(w: Words, m: FieldModel, last: readonly unknown[] | undefined): boolean {
  if (!last) return false;
  const inputs = templateInputs(w, m);
  for (let k = 0; k < inputs.length; k++) if (!Object.is(inputs[k], last[k])) return false;
  return true;
}

/**
 * Brings what a rendered field shows of its value in line with the model: a read-only field's text,
 * a slider's `aria-valuetext` (the value being dragged while the user holds it). `root` holds the
 * rendered fields. Touches only what differs.
 */
export function syncShown(root: DocumentFragment, w: Words, m: FieldModel): void {
  const s = m.schema;
  if (!s.writable) {
    const out = root.getElementById(controlId(s.name));
    if (out) setText(out, formatValue(w, s, m.value));
  } else if (hasSlider(s)) {
    const slider = root.getElementById(`${controlId(s.name)}-slider`);
    if (slider) setAttr(slider, 'aria-valuetext', formatValue(w, s, m.bySlider ? Number(m.draft) : m.value));
  }
}

/** Sets an element's text, writing its one text node's `data` when it has one (no node is replaced). */
function setText(el: Element, text: string): void {
  const node = el.firstChild;
  if (node instanceof Text && node.nextSibling === null) {
    if (node.data !== text) node.data = text;
  } else if (el.textContent !== text) el.textContent = text;
}

/**
 * The fields in schema order, each as its template, or Lit's `noChange` for a field whose template
 * inputs are those it was last rendered from at the same position: a status update re-renders one
 * field, and Lit leaves the others' DOM alone without walking their parts.
 *
 * `last` holds what was rendered at each position; it belongs to one container (the fields'
 * `<div>`): pass an empty one for a new container.
 */
export function renderFields(w: Words, fields: readonly FieldModel[], last: (readonly unknown[])[]): unknown[] {
  const out = fields.map((m, i) => {
    if (isRendered(w, m, last[i])) return noChange;
    last[i] = templateInputs(w, m);
    return renderField(w, m);
  });
  // Positions past the end are gone from the DOM: a field that comes back there is new.
  last.length = fields.length;
  return out;
}
