/**
 * Each device field's status history as the checker's own subscription heard it, and the queries
 * the phases ask of it.
 * @module
 */
import type { ChaosField } from '../chaos-device.js';
import type { Status } from './types.js';

/** One device field's status history on the broker. */
export class FieldHistory {
  /** Every status message's value for the field, in order. */
  readonly all: Status[] = [];
  /** Only the messages that changed the value (the first message counts as a change). */
  readonly changes: Status[] = [];
  /** value → indexes into `changes`. */
  readonly byValue = new Map<number, number[]>();

  add(t: number, value: number): void {
    const prev = this.all[this.all.length - 1];
    this.all.push({ t, value });
    if (prev && prev.value === value) return;
    const list = this.byValue.get(value) ?? [];
    list.push(this.changes.length);
    this.byValue.set(value, list);
    this.changes.push({ t, value });
  }

  /** The first status message (a change or not) carrying `value` after `t` and before `until`. */
  firstMessage(value: number, t: number, until: number): Status | undefined {
    let lo = 0;
    let hi = this.all.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.all[mid] as Status).t <= t) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.all.length; i++) {
      const m = this.all[i] as Status;
      if (m.t >= until) break;
      if (m.value === value) return m;
    }
    return undefined;
  }

  /** The first change to `value` after `t`, within `withinMs`. */
  firstChangeTo(value: number, t: number, withinMs: number): Status | undefined {
    for (const i of this.byValue.get(value) ?? []) {
      const c = this.changes[i] as Status;
      if (c.t > t && c.t <= t + withinMs) return c;
    }
    return undefined;
  }

  /** Index of the first change at or after `t`. */
  firstChangeFrom(t: number): number {
    let lo = 0;
    let hi = this.changes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.changes[mid] as Status).t < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The latest value before `t` (`undefined` if none yet). */
  valueBefore(t: number): Status | undefined {
    const i = this.firstChangeFrom(t);
    return i > 0 ? this.changes[i - 1] : undefined;
  }

  /** The latest change to `value` at or before `t`. */
  lastChangeTo(value: number, t: number): Status | undefined {
    const list = this.byValue.get(value);
    if (!list) return undefined;
    for (let k = list.length - 1; k >= 0; k--) {
      const c = this.changes[list[k] as number] as Status;
      if (c.t <= t) return c;
    }
    return undefined;
  }
}

/** Every device field's {@link FieldHistory}, by device and field. */
export class FieldHistories {
  /** `${device}|${field}` → its history. */
  private readonly byKey = new Map<string, FieldHistory>();

  /** The field's history (an empty one if the broker never reported it). */
  of(device: string, field: ChaosField): FieldHistory {
    const key = `${device}|${field}`;
    let h = this.byKey.get(key);
    if (!h) this.byKey.set(key, (h = new FieldHistory()));
    return h;
  }

  /** How many status messages changed a field, over all fields. */
  changeCount(): number {
    return [...this.byKey.values()].reduce((n, h) => n + h.changes.length, 0);
  }
}

/**
 * The change of `h` in (`from`, `to`) whose value `isForeign` accepts that reached the broker
 * earliest — the worst one for the publish at `to`.
 */
export function offending(
  h: FieldHistory,
  from: number,
  to: number,
  isForeign: (change: Status) => boolean,
): Status | undefined {
  for (let i = h.firstChangeFrom(from === Number.NEGATIVE_INFINITY ? from : from + 0.0001); i < h.changes.length; i++) {
    const c = h.changes[i] as Status;
    if (c.t >= to) break;
    if (isForeign(c)) return c;
  }
  return undefined;
}
