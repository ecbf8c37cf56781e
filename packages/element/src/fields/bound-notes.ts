/**
 * The notes of bound controls, placed in the page's DOM beside each control.
 *
 * A bound control is the page's own (light DOM); a note inside the element's shadow root cannot be
 * its description: an `aria-describedby` IDREF does not cross into a shadow root, and neither does
 * element reflection (`ariaDescribedByElements` only resolves to elements in the same tree or a
 * shadow-including ancestor's; Chromium returns `[]` for a note inside the element). So the element
 * inserts one `<span data-ldf-note="FIELD" id="…">` beside each bound field's control (see
 * `#place`), renders the note into that span's own shadow root (styles and parts stay
 * encapsulated), and adds the span's id to the control's `aria-describedby`, keeping the page's own
 * tokens. The conflict buttons are then next to their field in the DOM and in Tab order.
 * @module
 */
import { adoptStyles, render } from 'lit';
import { boundNoteStyles } from '../live-device-form.styles.js';
import type { Control } from './bind.js';
import type { FieldModel } from './field-model.js';
import { renderNote } from './render.js';
import type { Words } from '../localize.js';

/** The attribute that marks a note the element placed in the page; its value is the field's name. */
export const NOTE_ATTR = 'data-ldf-note';

let seq = 0;

/** What can take focus, for telling whether a control's parent holds anything else a user tabs to. */
const FOCUSABLE = 'input,select,textarea,button,a[href],[tabindex]';

/** Whether a node is a note the element placed in the page. */
export function isBoundNote(n: Node): boolean {
  return n instanceof HTMLElement && n.hasAttribute(NOTE_ATTR);
}

/** Adds `token` to a space-separated attribute, keeping the tokens already there. */
function addToken(el: Element, attr: string, token: string): void {
  const tokens = (el.getAttribute(attr) ?? '').split(/\s+/).filter(Boolean);
  if (!tokens.includes(token)) el.setAttribute(attr, [...tokens, token].join(' '));
}

/** Removes `token` from a space-separated attribute; removes the attribute once it is empty. */
function removeToken(el: Element, attr: string, token: string): void {
  const value = el.getAttribute(attr);
  if (value === null) return;
  const rest = value.split(/\s+/).filter((t) => t && t !== token);
  if (rest.length) el.setAttribute(attr, rest.join(' '));
  else el.removeAttribute(attr);
}

/** One element's notes beside its bound controls. */
export class BoundNotes {
  readonly #owner: HTMLElement;
  /** The note of each bound field, by name. */
  #hosts = new Map<string, HTMLElement>();
  /** The controls that carry a note's id in `aria-describedby`, with that id. */
  #described = new Map<Control, string>();

  /** `owner`: the element; notes are only ever placed inside it. */
  constructor(owner: HTMLElement) {
    this.#owner = owner;
  }

  /** Whether any note is in the page (else `sync` with no controls has nothing to do). */
  get placed(): boolean {
    return this.#hosts.size > 0 || this.#described.size > 0;
  }

  /**
   * Places, renders and links the note of every bound control that is a field (`field(name)`),
   * and takes away the notes and `aria-describedby` tokens of controls that no longer are.
   * Touches the page's DOM only where something changed.
   */
  sync(controls: Map<string, Control[]>, field: (name: string) => FieldModel | undefined, w: Words): void {
    const described = new Map<Control, string>();
    for (const [name, els] of controls) {
      const m = field(name);
      const last = els[els.length - 1];
      if (!m || !last) continue;
      const host = this.#hosts.get(name) ?? this.#create(name);
      this.#place(host, els, last);
      render(renderNote(w, m), host.shadowRoot!);
      for (const el of els) {
        addToken(el, 'aria-describedby', host.id);
        described.set(el, host.id);
      }
    }
    for (const [el, id] of this.#described) if (described.get(el) !== id) removeToken(el, 'aria-describedby', id);
    this.#described = described;
    for (const [name, host] of this.#hosts) {
      if (controls.has(name) && field(name)) continue;
      host.remove();
      this.#hosts.delete(name);
    }
  }

  /**
   * Puts a field's note beside its controls, moving it only if it is not there already: after the
   * `<label>` that wraps them (inside, it would become part of their name); else at the end of
   * their parent when nothing else in it takes focus (a table cell or a row with a unit after the
   * input); else right after the last control.
   */
  #place(host: HTMLElement, els: Control[], last: Control): void {
    const owner = this.#owner;
    const label = last.closest('label');
    if (label && label !== owner && owner.contains(label)) {
      if (label.nextSibling !== host) label.after(host);
      return;
    }
    const parent = last.parentElement;
    if (
      parent &&
      parent !== owner &&
      [...parent.querySelectorAll(FOCUSABLE)].every((e) => (els as Element[]).includes(e))
    ) {
      if (parent.lastChild !== host) parent.append(host);
      return;
    }
    if (last.nextSibling !== host) last.after(host);
  }

  #create(name: string): HTMLElement {
    const host = document.createElement('span');
    host.id = `ldf${++seq}-${name}-note`;
    host.setAttribute(NOTE_ATTR, name);
    adoptStyles(host.attachShadow({ mode: 'open' }), boundNoteStyles);
    this.#hosts.set(name, host);
    return host;
  }
}
