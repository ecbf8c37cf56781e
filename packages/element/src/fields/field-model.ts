/**
 * One field's edit state: what the control shows, the revision the user edits from, what the
 * device last said, and what became of the user's writes. Pure state, no DOM: the element feeds
 * it frames and user gestures and renders from it.
 * @module
 */
import type {
  AckFrame,
  FieldSchema,
  FieldState,
  FieldValue,
  RejectReason,
  SetFrame,
  Unrecognized,
  UpdateFrame,
  ValueProblem,
  WritableValue,
} from '@live-device-form/protocol';

/** What the field tells the user below its control. */
export type Note =
  /** Writes are awaiting their ack. */
  | { kind: 'saving' }
  /** An action's press was accepted (published, the broker acknowledged it). */
  | { kind: 'sent' }
  /** Refused for a reason other than `stale`. */
  | { kind: 'rejected'; reason: RejectReason | Unrecognized; message?: string | undefined }
  /** Refused as `stale`: the user chooses between the device's value (`device`) and `mine`. */
  | { kind: 'conflict'; mine: WritableValue }
  /** The write may or may not have reached the device. */
  | { kind: 'unconfirmed'; cause: 'disconnected' | 'unknown' }
  /** Not sent: `checkValue` refused it (`problem` says why, `message` in English words). */
  | { kind: 'invalid'; problem: ValueProblem | undefined; message: string };

/** @internal */
export class FieldModel {
  /** What the control shows while the user is not holding it. */
  value: FieldValue;
  /** The revision of `value`: the base of the user's next write. */
  rev: number;
  /** The device's latest known state. */
  device: FieldState;
  /** The user is dragging or typing in it; live updates wait in `pending`. */
  held = false;
  /** While held: the control's own value, as the control reports it. */
  draft: string | undefined;
  /** While held: whether a slider (rather than a text or number box) holds it. */
  bySlider = false;
  /** A change by the device that arrived while the field was held. */
  pending: FieldState | null = null;
  /** ids of writes awaiting their ack. */
  readonly inflight = new Set<number>();
  /** Values written and not yet echoed, oldest first. */
  echoes: WritableValue[] = [];
  note: Note | null = null;
  /** Throttling of drags. */
  lastSent: WritableValue | undefined;
  lastSentAt = -Infinity;
  latest: WritableValue | undefined;
  /** The trailing send of a throttled drag; owned and cleared by the element's clock. */
  timer: unknown;

  constructor(
    public schema: FieldSchema,
    state: FieldState,
  ) {
    this.value = state.value;
    this.rev = state.rev;
    this.device = state;
  }

  /** The value the control should show now. */
  get shown(): FieldValue | string {
    return this.held && this.draft !== undefined ? this.draft : this.value;
  }

  /** A fresh snapshot replaces everything the element believed; only the user's open choices survive. */
  resync(schema: FieldSchema, state: FieldState): void {
    this.schema = schema;
    this.value = state.value;
    this.rev = state.rev;
    this.device = state;
    this.release();
    this.pending = null;
    this.inflight.clear();
    this.echoes = [];
    const kind = this.note?.kind;
    if (kind === 'saving' || kind === 'sent' || kind === 'invalid' || kind === 'rejected') this.note = null;
  }

  /**
   * A change on the device. Returns true when it is the echo of a value this element wrote and
   * is awaiting (the oldest such write, as the server attributes echoes).
   */
  update(u: UpdateFrame): boolean {
    const i = u.value === null ? -1 : this.echoes.indexOf(u.value);
    this.device = { value: u.value, rev: u.rev };
    if (i >= 0) {
      // Writes older than the echoed one will not echo any more (the device reports in order).
      this.echoes.splice(0, i + 1);
      this.rev = u.rev;
      // The user's own write is the newest thing the device did; a change held back is superseded.
      this.pending = null;
      if (!this.held && !this.echoes.length) this.value = u.value;
      return true;
    }
    if (this.held) this.pending = this.device;
    else this.adopt();
    return false;
  }

  /** The user took hold of the control. */
  hold(draft: string | undefined, bySlider: boolean): void {
    if (!this.held) this.lastSent = undefined;
    this.held = true;
    this.bySlider = bySlider;
    if (draft !== undefined) this.draft = draft;
  }

  /** The user let go: a change held back, or the device side of a conflict, is shown now. */
  release(): void {
    this.held = this.bySlider = false;
    this.draft = undefined;
    this.lastSent = undefined;
    if (this.pending || this.note?.kind === 'conflict') {
      this.pending = null;
      this.adopt();
    }
  }

  /** A write went out (`value` `null`: an action's press, with no value to show or echo to await). */
  sent(set: SetFrame): void {
    this.inflight.add(set.id);
    this.note = { kind: 'saving' };
    if (set.value === null) return;
    this.echoes.push(set.value);
    if (this.echoes.length > 64) this.echoes.shift();
    this.value = set.value;
    this.lastSent = set.value;
  }

  /** The server answered one of this field's writes. */
  ack(set: SetFrame, ack: AckFrame): void {
    this.inflight.delete(set.id);
    switch (ack.status) {
      case 'accepted':
        if (!this.inflight.size && this.note?.kind === 'saving')
          this.note = set.value === null ? { kind: 'sent' } : null;
        return;
      case 'unknown':
        this.note = { kind: 'unconfirmed', cause: 'unknown' };
        return;
      case 'rejected': {
        // An action's press has no value to put back or offer again: it was not applied, that is all.
        if (set.value === null) {
          this.note = { kind: 'rejected', reason: ack.reason, message: ack.message };
          return;
        }
        const i = this.echoes.indexOf(set.value);
        if (i >= 0) this.echoes.splice(i, 1);
        if (ack.value !== undefined && ack.rev !== undefined && ack.rev >= this.device.rev) {
          this.device = { value: ack.value, rev: ack.rev };
        }
        this.note =
          ack.reason === 'stale'
            ? { kind: 'conflict', mine: set.value }
            : { kind: 'rejected', reason: ack.reason, message: ack.message };
        if (this.held) {
          if (this.device.rev > this.rev) this.pending = this.device;
        } else if (!this.inflight.size) this.adopt();
        return;
      }
      default: {
        const never: never = ack;
        return never;
      }
    }
  }

  /** The socket died before this write was answered. */
  unconfirmed(set: SetFrame): void {
    this.inflight.delete(set.id);
    this.note = { kind: 'unconfirmed', cause: 'disconnected' };
  }

  /** Refused locally by `checkValue`. */
  invalid(problem: ValueProblem | undefined, message: string): void {
    this.note = { kind: 'invalid', problem, message };
  }

  /** "Keep device value": the control already shows it; the choice is closed. */
  keep(): void {
    this.note = null;
    this.adopt();
  }

  /** "Apply mine": returns the value to write, from the device's current revision. */
  applyMine(): WritableValue | undefined {
    const note = this.note;
    if (note?.kind !== 'conflict') return undefined;
    this.note = null;
    this.adopt();
    return note.mine;
  }

  private adopt(): void {
    this.value = this.device.value;
    this.rev = this.device.rev;
  }
}
