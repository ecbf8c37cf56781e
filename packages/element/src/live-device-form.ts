import {
  LitElement,
  html,
  nothing,
  render,
  type PropertyDeclarations,
  type PropertyValues,
  type TemplateResult,
} from 'lit';
import {
  type AckFrame,
  type DeviceFrame,
  type FieldValue,
  type ResyncFrame,
  type SetFrame,
  type UpdateFrame,
  type WritableValue,
  checkValue,
} from '@live-device-form/protocol';
import {
  type Clock,
  type ConnectionError,
  type ConnectionOptions,
  CONNECTION_DEFAULTS,
  Connection,
  ConnectionState,
  resolveSocketUrl,
} from './connection.js';
import { type LiveDeviceFormEventMap, type WriteDetail, emit } from './events.js';
import { type Control, scanControls, syncButton, syncControl } from './fields/bind.js';
import { BoundNotes, isBoundNote } from './fields/bound-notes.js';
import { FieldModel } from './fields/field-model.js';
import { reasonText, statusText } from './fields/messages.js';
import { controlId, isRendered, renderFields, syncShown } from './fields/render.js';
import { Gestures } from './gestures.js';
import { type LocaleMessages, Localize } from './localize.js';
import { styles } from './live-device-form.styles.js';

type Queued = {
  [K in keyof LiveDeviceFormEventMap]: [K, LiveDeviceFormEventMap[K]['detail']];
}[keyof LiveDeviceFormEventMap];

/**
 * `<live-device-form>`: a form bound to one device over a WebSocket (protocol v1), which never
 * writes a stale value back to the hardware.
 *
 * With no form controls inside, it renders the device's fields from the server's schema: numbers
 * as a slider and a number box with the unit, booleans as a switch, enums as a select, text as a
 * text box, actions as a button, read-only fields as text; a field's `help` under it. With
 * controls inside (`<input name="genlock_phase_h">`, `<select>`, `<textarea>`), it binds them by
 * `name` instead and leaves their markup alone, apart from one `<span data-ldf-note>` it places
 * beside each bound field's control and links by `aria-describedby` (fields/bound-notes.ts).
 *
 * Inputs are read-only from the moment the link is lost until the server's next `resync`, while
 * the device is offline, while the server catches up with it ("Catching up"), and while the device is
 * not available (removed from the server; the socket stays open and its return makes the form live
 * again). Nothing is queued while disconnected and nothing is re-sent after a
 * reconnect. Every write carries the revision the user edited from; a write the device overtook is
 * refused by the server and offered back as "Keep device value" / "Apply mine".
 *
 * @example
 * <script type="module" src="https://cdn.example/live-device-form.js"></script>
 * <live-device-form src="/ldf" device="videoproc"></live-device-form>
 *
 * @event ldf-state - `StateDetail`: the connection state changed (`state`, `retryIn`, `error`, `refused`).
 * @event ldf-resync - `ResyncDetail`: a fresh snapshot arrived and is shown.
 * @event ldf-update - `UpdateDetail`: a field changed on the device; `echo` is true for this element's own writes.
 * @event ldf-write - `WriteDetail`: a `set` was sent.
 * @event ldf-ack - `AckDetail`: the server answered a write (`accepted`, `unknown` or `rejected`).
 * @event ldf-rejected - `RejectedDetail`: a write was refused; `reason`, `message` in words, the device's `current` state.
 * @event ldf-unconfirmed - `UnconfirmedDetail`: a write may or may not have reached the device (socket died, or ack `unknown`); it is never re-sent.
 * @event ldf-error - `ErrorDetail`: the connection stopped for good (fatal close code 4400/4401/4403/4404, or unusable `src`); `code` is the close code, `reason` the stable error code.
 *
 * @slot - Your own form controls, bound to fields by `name`. Without any, fields are rendered from the schema.
 *
 * @csspart status - The status line (a flex row: dot, text, countdown).
 * @csspart status-dot - The coloured dot of the status line (pulses while connecting; hidden from screen readers).
 * @csspart status-text - The status words; an ARIA live region.
 * @csspart countdown - "in 3 s" while reconnecting (hidden from screen readers).
 * @csspart hint - Under the status line: "The server refuses the connection …" after several quick handshake failures; an ARIA live region.
 * @csspart fields - The container of rendered fields.
 * @csspart field - One rendered field (a grid row: label, control, help, note).
 * @csspart label - A field's label.
 * @csspart control - The container of a field's inputs.
 * @csspart slider - The range input of a number field with `min` and `max`.
 * @csspart number - The number box of a number field.
 * @csspart unit - The unit beside a number box.
 * @csspart switch - The switch of a boolean field.
 * @csspart select - The select of an enum field.
 * @csspart text - The text box of a text field.
 * @csspart value - The value of a read-only field.
 * @csspart action - The button of an `action` field (its label is its text); `aria-disabled="true"` while the form is read-only.
 * @csspart help - A field's help text from the schema, under the field (its control's `aria-describedby`).
 * @csspart note - A field's note, below the field (empty and hidden while there is nothing to say). In bound mode notes are beside your controls, outside the shadow root: style them with `live-device-form [data-ldf-note]::part(note)`.
 * @csspart note-saving - A note while a write awaits its ack ("Saving…").
 * @csspart note-sent - A note of an action's press the broker acknowledged ("Sent.").
 * @csspart note-rejected - A note of a write the server refused ("Not applied: …").
 * @csspart note-conflict - A note of a write the device overtook, with the Keep/Apply buttons.
 * @csspart note-unconfirmed - A note of a write that may or may not have reached the device ("Not confirmed: …").
 * @csspart note-invalid - A note of a value refused before sending ("Out of range: …", "Not sent: …").
 * @csspart note-pending - A note of a device change held back while the user holds the control ("Device changed to …").
 * @csspart pending - The words of a `note-pending` note.
 * @csspart button - Each conflict button.
 * @csspart keep-button - The "Keep device value" button.
 * @csspart apply-button - The "Apply mine" button.
 *
 * @cssprop [--ldf-font=14px/1.45 system-ui] - Font shorthand.
 * @cssprop --ldf-color - Text colour.
 * @cssprop --ldf-muted-color - Secondary text (status, units, notes).
 * @cssprop --ldf-background - Background of the element.
 * @cssprop --ldf-field-background - Background of inputs and buttons.
 * @cssprop --ldf-readonly-background - Background of read-only text and number boxes.
 * @cssprop --ldf-border-color - Borders of the element, inputs and buttons.
 * @cssprop --ldf-divider-color - Lines between fields.
 * @cssprop --ldf-accent-color - Sliders, switches, primary button.
 * @cssprop --ldf-accent-contrast - Text on the accent colour.
 * @cssprop --ldf-focus-color - Focus ring.
 * @cssprop --ldf-success-color - "Live".
 * @cssprop --ldf-warning-color - Connecting, pending and unconfirmed.
 * @cssprop --ldf-danger-color - Errors, rejections, out of range.
 * @cssprop [--ldf-radius=8px] - Corner radius of inputs (the card adds 4px).
 * @cssprop [--ldf-control-height=32px] - Height of inputs.
 * @cssprop [--ldf-padding=14px 18px] - Padding of the element.
 * @cssprop [--ldf-gap=16px] - Gap between label and control.
 * @cssprop [--ldf-label-width=11em] - Width of the label column.
 *
 * @attr state - Reflects the read-only `state` property, for CSS: `live-device-form[state=live]`.
 */
export class LiveDeviceForm extends LitElement {
  static override styles = styles;

  /**
   * The reactive properties, declared without decorators (their helpers cost about 1 KiB of the
   * bundle). The initialisers below run as assignments in the constructor
   * (`useDefineForClassFields: false`), so they go through the accessors Lit creates from this.
   */
  static override properties: PropertyDeclarations = {
    src: {},
    device: {},
    token: { attribute: false },
    tokenProvider: { attribute: false },
    throttle: { type: Number },
    messages: { attribute: false },
  };

  /** The WebSocket endpoint: a `ws:`/`wss:` URL, or a path resolved against the page (`/ldf` → `wss://host/ldf` on https). */
  src = '';

  /** The device id sent in `hello`. */
  device = '';

  /** Credential sent in `hello`. Property only (never an attribute), never logged. */
  token: string | undefined = undefined;

  /** Called before every connection attempt for a fresh credential; takes precedence over `token`. */
  tokenProvider: (() => string | undefined | Promise<string | undefined>) | undefined = undefined;

  /** Least milliseconds between writes while a slider is dragged; the value at release is always sent. */
  throttle = 50;

  /**
   * This element's own words, over those of the language it speaks (its `lang`, else the nearest
   * ancestor's or `<html lang>`); a message left out comes from that language, then English.
   * Property only. See docs/element.md, "Languages".
   */
  messages: LocaleMessages | undefined = undefined;

  /** The models in schema order (every change to it is followed by a `requestUpdate()`). */
  #fields: FieldModel[] = [];
  /**
   * Rendered mode: the fields' container, from the element's template, once found; its content is
   * rendered apart (`#renderFields`), so an `update` frame can render it alone.
   */
  #fieldsRoot: HTMLElement | null = null;
  /** What each field in `#fieldsRoot` was last rendered from, by position (`renderFields`). */
  #rendered: (readonly unknown[])[] = [];
  /** Rendered mode: the rendered controls, scanned again when `#fields` changes (`#scanned` is what they were scanned for). */
  #renderedControls = new Map<string, Control[]>();
  #scanned: FieldModel[] | undefined;
  /** Bound mode: the light DOM holds named controls (set by `#scan`, which requests an update). */
  #bound = false;
  #connection: Connection;
  #clock: Clock = CONNECTION_DEFAULTS.clock;
  #connectionOptions: ConnectionOptions = {};
  /** Set up with the render root. */
  #gestures: Gestures | undefined;
  #models = new Map<string, FieldModel>();
  #controls = new Map<string, Control[]>();
  #synced = false;
  #outbox: Queued[] = [];
  /** The last `src` resolved by `#socketUrl`, against which base, to which URL. */
  #resolved: { src: string; base: string; url: string } | undefined;
  #ticker: unknown;
  #refocus = '';
  /** Bound mode: the notes placed beside the page's controls. */
  readonly #notes = new BoundNotes(this);
  /** Rescans on the page's changes; placing a note of our own is none. */
  readonly #observer = new MutationObserver((records) => {
    const own = (r: MutationRecord) =>
      r.type === 'childList' && [...r.addedNodes, ...r.removedNodes].every((n) => isBoundNote(n));
    if (!records.every(own)) this.#scan();
  });
  readonly #localize = new Localize(this, () => this.messages);

  constructor() {
    super();
    this.#connection = this.#connect({});
    this.addController(this.#connection);
  }

  /** The connection state (read-only; reflected to the `state` attribute). See `ConnectionState`. */
  get state(): ConnectionState {
    return this.#connection.state;
  }

  /** Why the state is `failed` (`code`: close code, or 0 for an unusable `src`; `reason`: stable string), else `null`. */
  get error(): ConnectionError | null {
    return this.#connection.error;
  }

  /** The `mounts` the next `hello` will carry: how many of this instance's sockets completed a resync. */
  get mounts(): number {
    return this.#connection.mounts;
  }

  /** The device's last known value of every field (not the user's unsent edits). */
  get values(): Record<string, FieldValue> {
    return Object.fromEntries([...this.#models].map(([k, m]) => [k, m.device.value]));
  }

  /**
   * Heartbeat, timeouts, backoff, socket factory and clock (see `ConnectionOptions`). Setting it
   * replaces the connection (and its mount counter); an unusable option throws a `TypeError`
   * (`code: 'bad-option'`) that names it, and changes nothing. Defaults to `{}`.
   */
  get connectionOptions(): ConnectionOptions {
    return this.#connectionOptions;
  }
  set connectionOptions(options: ConnectionOptions) {
    const copy = { ...options };
    const next = this.#connect(copy);
    this.#connection.stop();
    this.removeController(this.#connection);
    this.#connectionOptions = copy;
    this.#clock = copy.clock ?? CONNECTION_DEFAULTS.clock;
    this.#connection = next;
    this.addController(next);
    this.requestUpdate();
  }

  /** Starts over after `failed` (e.g. once a new `token` is set). Keeps the mount counter. */
  reconnect(): void {
    this.#connection.reconnect();
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.#observer.observe(this, {
      childList: true,
      subtree: true,
      attributes: true,
      attributeFilter: ['name', 'aria-describedby'],
    });
    this.#scan();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#observer.disconnect();
    this.#clock.clearTimeout(this.#ticker);
    this.#gestures?.stop(this.#models.values());
  }

  protected override createRenderRoot(): HTMLElement | DocumentFragment {
    const root = super.createRenderRoot();
    this.#gestures = new Gestures(root, {
      field: (name) => this.#models.get(name),
      locked: (m) => this.#locked(m),
      write: (m, value) => this.#write(m, value),
      choose: (name, apply) => this.#choose(name, apply),
      press: (name) => this.#press(name),
      throttle: () => this.throttle,
      clock: () => this.#clock,
      requestUpdate: () => this.requestUpdate(),
    });
    return root;
  }

  protected override render(): TemplateResult {
    const w = this.#localize.words;
    const state = this.#connection.state;
    const left = state === ConnectionState.Reconnecting ? this.#connection.retryAt - this.#clock.now() : 0;
    return html`<div part="status" class="status">
        <span part="status-dot" class="dot" aria-hidden="true"></span>
        <span part="status-text" role="status">${statusText(w, state, this.#connection.error)}</span>
        ${left >= 1000 ? html`<span part="countdown" aria-hidden="true">${w.t.countdown({ seconds: w.number(Math.ceil(left / 1000)) })}</span>` : nothing}
      </div>
      <div part="hint" class="hint" role="status">${this.#connection.refused ? w.t.refusedHint : nothing}</div>
      <slot></slot>
      ${this.#bound ? nothing : html`<div part="fields"></div>`}`;
  }

  protected override update(changed: PropertyValues): void {
    super.update(changed);
    this.#renderFields();
  }

  /**
   * Renders the fields into their container, re-rendering only the fields that changed. In bound
   * mode the container is gone: the next one starts from nothing.
   */
  #renderFields(): void {
    if (this.#bound) {
      this.#fieldsRoot = null;
      this.#rendered = [];
      this.#scanned = undefined;
      return;
    }
    this.#fieldsRoot ??= this.renderRoot.querySelector<HTMLElement>('[part=fields]')!;
    render(renderFields(this.#localize.words, this.#fields, this.#rendered), this.#fieldsRoot);
  }

  /** The controls to keep in line with their fields: the page's in bound mode, else the rendered ones. */
  #syncedControls(): Map<string, Control[]> {
    if (this.#bound) return this.#controls;
    // A field's controls change only when the fields do (a resync).
    if (this.#scanned !== this.#fields) {
      this.#renderedControls = scanControls(this.renderRoot);
      this.#scanned = this.#fields;
    }
    return this.#renderedControls;
  }

  /** After each render: the `state` attribute, every control and note, then the queued events. */
  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (this.getAttribute('state') !== this.#connection.state) this.setAttribute('state', this.#connection.state);
    this.#syncControls();
    if (this.#refocus) {
      const name = this.#refocus;
      this.#refocus = '';
      (this.#bound
        ? this.#controls.get(name)?.[0]
        : this.renderRoot.querySelector<HTMLElement>(`#${controlId(name)}`)
      )?.focus();
    }
    const out = this.#outbox;
    this.#outbox = [];
    for (const [type, detail] of out) emit(this, type, detail as never);
  }

  /**
   * Brings the controls in line with their fields (`syncControl`, which compares with what each
   * control holds now, as Lit's `live()` does: this also puts back what changed behind the
   * element's back, a refused click, a page script), all of them or `only` that field's; then what
   * rendered fields show of their values (`syncShown`), and the bound notes.
   */
  #syncControls(only?: string): void {
    const controls = this.#syncedControls();
    for (const name of only === undefined ? controls.keys() : [only]) {
      const m = this.#models.get(name);
      for (const el of controls.get(name) ?? []) syncControl(el, m, this.#locked(m));
    }
    if (!this.#bound) {
      const root = this.renderRoot as DocumentFragment;
      const w = this.#localize.words;
      if (only !== undefined) {
        const m = this.#models.get(only);
        if (m) syncShown(root, w, m);
      } else {
        for (const m of this.#fields) syncShown(root, w, m);
        // Rendered actions' buttons (never an `update`'s field: no value).
        for (const el of root.querySelectorAll<HTMLElement>('[part~=action]')) {
          const m = this.#models.get(el.dataset.field ?? '');
          syncButton(el, m, !m || this.#locked(m));
        }
      }
    }
    if (this.#bound || this.#notes.placed) {
      this.#notes.sync(
        this.#bound ? this.#controls : new Map(),
        (name) => this.#models.get(name),
        this.#localize.words,
      );
    }
  }

  // ------------------------------------------------------------------ connection

  /** A connection with these options, not yet added to the element; throws for an unusable option. */
  #connect(options: ConnectionOptions): Connection {
    return new Connection(
      null,
      {
        endpoint: () => (this.src && this.device ? { url: this.#socketUrl(), device: this.device } : null),
        token: () => (this.tokenProvider ? this.tokenProvider() : this.token),
        onFrame: (f) => this.#onFrame(f),
        onAck: (set, ack) => this.#onAck(set, ack),
        onUnconfirmed: (sets) => {
          for (const set of sets) {
            this.#models.get(set.field)?.unconfirmed(set);
            this.#queue('ldf-unconfirmed', { ...wire(set), cause: 'disconnected' });
          }
        },
        onState: (s) => this.#onState(s),
      },
      options,
    );
  }

  /**
   * `src` resolved against the page (`resolveSocketUrl`; throws for an unusable one). The
   * connection reads its endpoint before every render, so the last resolution is kept while `src`
   * and the page's base URL stay the same.
   */
  #socketUrl(): string {
    const base = document.baseURI;
    const last = this.#resolved;
    if (last?.src === this.src && last.base === base) return last.url;
    const url = resolveSocketUrl(this.src, base);
    this.#resolved = { src: this.src, base, url };
    return url;
  }

  /** Events are dispatched after the render that shows their effect. */
  #queue(...item: Queued): void {
    this.#outbox.push(item);
    this.requestUpdate();
  }

  #onState(s: ConnectionState): void {
    const retryIn = s === ConnectionState.Reconnecting ? Math.max(0, this.#connection.retryAt - this.#clock.now()) : 0;
    if (s !== ConnectionState.Live) this.#gestures?.cancelWrites(this.#models.values());
    this.#queue('ldf-state', { state: s, retryIn, error: this.#connection.error, refused: this.#connection.refused });
    if (s === ConnectionState.Failed && this.#connection.error) this.#queue('ldf-error', this.#connection.error);
    this.#tick();
  }

  /** Re-renders the reconnect countdown once a second. */
  #tick(): void {
    this.#clock.clearTimeout(this.#ticker);
    this.#ticker = undefined;
    const left = this.#connection.retryAt - this.#clock.now();
    if (this.#connection.state !== ConnectionState.Reconnecting || left <= 0) return;
    this.#ticker = this.#clock.setTimeout(
      () => {
        this.requestUpdate();
        this.#tick();
      },
      left % 1000 || 1000,
    );
  }

  #onFrame(f: ResyncFrame | UpdateFrame | DeviceFrame): void {
    switch (f.type) {
      case 'resync': {
        const next = new Map<string, FieldModel>();
        for (const s of f.schema) {
          const st = f.fields[s.name] ?? { value: null, rev: 0 };
          const m = this.#models.get(s.name);
          if (m) m.resync(s, st);
          next.set(s.name, m ?? new FieldModel(s, st));
        }
        this.#models = next;
        this.#fields = [...next.values()];
        this.#synced = true;
        this.#queue('ldf-resync', {
          epoch: f.epoch,
          device: f.device,
          schema: f.schema,
          fields: f.fields,
          mounts: this.#connection.mounts - 1,
        });
        return;
      }
      case 'update': {
        const m = this.#models.get(f.field);
        if (!m) return;
        const detail = { field: f.field, value: f.value, rev: f.rev, echo: m.update(f) };
        // A render is due: this update goes with it, and its event after those queued before it.
        if (this.isUpdatePending) return this.#queue('ldf-update', detail);
        // The hot path: with no render due, what one would do for this frame, done now — this
        // field's template if it changed (a value alone changes none: a note's words may), this
        // field's controls and shown value, then the event.
        if (!isRendered(this.#localize.words, m, this.#rendered[this.#fields.indexOf(m)])) this.#renderFields();
        this.#syncControls(f.field);
        emit(this, 'ldf-update', detail);
        return;
      }
      case 'device':
        this.requestUpdate();
        return;
      default: {
        const never: never = f;
        return never;
      }
    }
  }

  #onAck(set: SetFrame, ack: AckFrame): void {
    const m = this.#models.get(set.field);
    m?.ack(set, ack);
    this.#queue('ldf-ack', { ...wire(set), status: ack.status });
    if (ack.status === 'unknown') this.#queue('ldf-unconfirmed', { ...wire(set), cause: 'unknown' });
    if (ack.status === 'rejected') {
      const current = ack.value !== undefined && ack.rev !== undefined ? { value: ack.value, rev: ack.rev } : null;
      const message = m
        ? reasonText(this.#localize.words, m.schema, ack.reason, current?.value ?? m.device.value, ack.message)
        : ack.reason;
      this.#queue('ldf-rejected', { ...wire(set), reason: ack.reason, message, current });
    }
  }

  // ------------------------------------------------------------------ controls and writes

  /**
   * Read-only right now: not live, not writable, or the value is not known yet (an action has none).
   * A named control that is no field (`m` undefined) is held read-only until the first resync says
   * what it is.
   */
  #locked(m: FieldModel | undefined): boolean {
    if (!m) return !this.#synced && this.#bound;
    return (
      this.#connection.state !== ConnectionState.Live ||
      !m.schema.writable ||
      (m.schema.type !== 'action' && m.device.value === null)
    );
  }

  #scan(): void {
    this.#controls = scanControls(this);
    this.#bound = this.#controls.size > 0;
    this.requestUpdate();
  }

  /** "Keep device value" or "Apply mine" on a conflict. */
  #choose(name: string, apply: boolean): void {
    const m = this.#models.get(name);
    if (!m) return;
    if (apply) {
      const mine = m.applyMine();
      if (mine !== undefined) this.#write(m, mine);
    } else m.keep();
    this.#refocus = name;
    this.requestUpdate();
  }

  /**
   * Presses an action (docs/protocol.md rule 12): a `set` with `value: null` and `rev` 0, unless
   * the form is read-only or its previous press still awaits its ack (a double click sends once).
   */
  #press(name: string): void {
    const m = this.#models.get(name);
    if (!m || m.schema.type !== 'action' || this.#locked(m) || m.inflight.size > 0) return;
    const set = this.#connection.send(name, null, 0);
    if (!set) return;
    m.sent(set);
    this.#queue('ldf-write', wire(set));
  }

  /** Checks and sends one write from the revision the user edited from. Returns whether it went out. */
  #write(m: FieldModel, value: WritableValue): boolean {
    if (this.#locked(m)) return false;
    const check = checkValue(m.schema, value);
    if (!check.ok) {
      m.invalid(check.problem, check.message);
      this.requestUpdate();
      return false;
    }
    const set = this.#connection.send(m.schema.name, check.value, m.rev);
    if (!set) return false;
    m.sent(set);
    this.#queue('ldf-write', wire(set));
    return true;
  }
}

function wire(set: SetFrame): WriteDetail {
  return { id: set.id, field: set.field, value: set.value, rev: set.rev, epoch: set.epoch };
}

declare global {
  interface HTMLElementTagNameMap {
    'live-device-form': LiveDeviceForm;
  }
}
