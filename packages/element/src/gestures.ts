/**
 * The user's gestures on the form's controls: typing, committing, dragging a slider (throttled
 * writes, the value at release), picking, the conflict buttons, and blocking the gestures that
 * would change a locked control. It decides when a user edit becomes a write; the element decides
 * whether it may go out and sends it.
 * @module
 */
import type { WritableValue } from '@live-device-form/protocol';
import type { Clock } from './connection.js';
import { type Control, controlKind, isControl, readControl } from './fields/bind.js';
import type { FieldModel } from './fields/field-model.js';

/** What gesture handling needs from the element. */
export interface GestureHost {
  /** The field a control named `name` edits, if it is one. */
  field(name: string): FieldModel | undefined;
  /** Whether a control must not change now; `undefined`: a named control that is no field (yet). */
  locked(field: FieldModel | undefined): boolean;
  /** Checks and sends one write from the revision the user edited from. Returns whether it went out. */
  write(field: FieldModel, value: WritableValue): boolean;
  /** "Keep device value" (`apply` false) or "Apply mine" (`apply` true) on a field's conflict. */
  choose(name: string, apply: boolean): void;
  /** A click on an action's button. */
  press(name: string): void;
  /** Least milliseconds between writes while a slider is dragged (the element's `throttle` now). */
  throttle(): number;
  /** The element's clock now (it changes with `connectionOptions`). */
  clock(): Clock;
  requestUpdate(): void;
}

/** Events handled on the render root; slotted light-DOM controls' events pass through it too. */
const EDIT_EVENTS = ['input', 'change', 'keydown', 'focusout', 'pointerdown', 'click'] as const;
/** Gestures blocked on locked controls that have no `readOnly` (sliders, switches, selects, radios). */
const BLOCKED = ['pointerdown', 'mousedown', 'touchstart', 'keydown', 'click'] as const;

/**
 * One element's gesture handling, listening on its render root from construction on.
 *
 * - Boxes (text, number) are held while typed in and written on `change` or Enter; Escape or
 *   leaving the box abandons the edit.
 * - Sliders are held while dragged and write at most once per `throttle` ms, then the value at
 *   release (by a `pointerup` anywhere on the page).
 * - Checkboxes, radios and selects write on `change`; an action's button presses on `click`.
 * - On a locked control, the gestures `readOnly` does not cover are cancelled; a locked control that
 *   changed anyway is put back. Focus never moves.
 */
export class Gestures {
  readonly #host: GestureHost;
  /** The slider being dragged with a pointer, released by a `pointerup` anywhere. */
  #dragging: [FieldModel, Control] | undefined;

  constructor(root: EventTarget, host: GestureHost) {
    this.#host = host;
    for (const type of BLOCKED) root.addEventListener(type, this.#block, { capture: true, passive: false });
    for (const type of EDIT_EVENTS) root.addEventListener(type, this.#edit);
  }

  /** Cancels the throttled writes still waiting (the connection is no longer live). */
  cancelWrites(fields: Iterable<FieldModel>): void {
    for (const m of fields) {
      this.#host.clock().clearTimeout(m.timer);
      m.timer = undefined;
    }
  }

  /** Ends every hold, with its timers and page listeners (the element left the page). */
  stop(fields: Iterable<FieldModel>): void {
    for (const m of fields) {
      this.cancelWrites([m]);
      m.release();
    }
    this.#unlisten();
  }

  /** Stops gestures on locked controls that `readOnly` does not cover. Focus stays where it is. */
  #block = (e: Event): void => {
    const el = e.composedPath()[0];
    if (!isControl(el) || (controlKind(el) === 'box' && !(el instanceof HTMLSelectElement))) return;
    if (!this.#host.locked(this.#host.field(el.name))) return;
    if (e instanceof KeyboardEvent && (e.key === 'Tab' || e.key === 'Escape')) return;
    e.preventDefault();
  };

  #edit = (e: Event): void => {
    const host = this.#host;
    const target = e.composedPath()[0];
    if (e.type === 'click') {
      const button = target instanceof Element ? target.closest<HTMLElement>('button[data-action]') : null;
      const { action, field = '' } = button?.dataset ?? {};
      if (action === 'press') host.press(field);
      else if (action) host.choose(field, action === 'apply');
      return;
    }
    if (!isControl(target)) return;
    const m = host.field(target.name);
    if (!m) return;
    const kind = controlKind(target);
    const locked = host.locked(m);
    switch (e.type) {
      case 'input':
      case 'change': {
        if (locked) {
          // A locked control that changed anyway (a script, a gesture we could not stop) is put back.
          m.release();
          host.requestUpdate();
          return;
        }
        if (kind === 'pick') {
          // Not on `input`: a render between `input` and `change` would put the old value back.
          if (e.type === 'change') host.write(m, readControl(target, m.schema));
          return;
        }
        if (kind === 'slider') {
          if (e.type === 'input') {
            m.hold(target.value, true);
            this.#drag(m);
          } else if (m.held) this.#endDrag(m, target);
        } else if (e.type === 'input') {
          m.hold(target.value, false);
          if (m.note?.kind === 'invalid') m.note = null;
        } else if (m.held) this.#commit(m, target);
        host.requestUpdate();
        return;
      }
      case 'keydown': {
        const key = (e as KeyboardEvent).key;
        if (kind !== 'box' || target instanceof HTMLTextAreaElement) return;
        if (key === 'Enter') {
          // Commit here rather than let a surrounding <form> submit.
          e.preventDefault();
          if (m.held && !locked) this.#commit(m, target);
        } else if (key === 'Escape' && m.held) this.#abandon(m);
        else return;
        host.requestUpdate();
        return;
      }
      case 'focusout':
        if (kind === 'box' && m.held) {
          this.#abandon(m);
          host.requestUpdate();
        }
        return;
      case 'pointerdown':
        if (kind === 'slider' && !locked) {
          m.hold(undefined, true);
          this.#dragging = [m, target];
          addEventListener('pointerup', this.#onPointerUp, true);
          addEventListener('pointercancel', this.#onPointerUp, true);
        }
        return;
    }
  };

  /** The pointer was released anywhere on the page. */
  #onPointerUp = (): void => {
    const dragging = this.#dragging;
    this.#unlisten();
    if (dragging && dragging[0].held) this.#endDrag(...dragging);
  };

  #unlisten(): void {
    removeEventListener('pointerup', this.#onPointerUp, true);
    removeEventListener('pointercancel', this.#onPointerUp, true);
    this.#dragging = undefined;
  }

  /** End of a drag: the value at release is always sent (unless it was the last one sent, or nothing moved). */
  #endDrag(m: FieldModel, el: Control): void {
    const v = readControl(el, m.schema);
    const moved = m.lastSent !== undefined || v !== m.value;
    this.cancelWrites([m]);
    if (moved && v !== m.lastSent) this.#host.write(m, v);
    m.release();
    this.#host.requestUpdate();
  }

  /** A slider moved: send at most once per `throttle` ms, the latest value at the end of each window. */
  #drag(m: FieldModel): void {
    const host = this.#host;
    m.latest = Number(m.draft);
    if (m.timer !== undefined) return;
    const send = (): void => {
      m.timer = undefined;
      if (!m.held || m.latest === m.lastSent || m.latest === undefined) return;
      m.lastSentAt = host.clock().now();
      host.write(m, m.latest);
    };
    const wait = m.lastSentAt + host.throttle() - host.clock().now();
    if (wait <= 0) send();
    else m.timer = host.clock().setTimeout(send, wait);
  }

  /** The user left a box without committing: it shows the field's value again, which is not out of range. */
  #abandon(m: FieldModel): void {
    m.release();
    if (m.note?.kind === 'invalid') m.note = null;
  }

  #commit(m: FieldModel, el: Control): void {
    if (this.#host.write(m, readControl(el, m.schema)) || m.note?.kind !== 'invalid') m.release();
  }
}
