/**
 * Warnings about refused connections, at most one per kind per interval: a flood of forged hosts
 * or of connections over a cap must not turn into a flood of log lines. The first refusal of a
 * kind is logged at once; those that follow within the interval are only counted, and the count
 * (`suppressed`) rides on the next line of that kind.
 * @module
 */
import type { Logger } from './logger.js';

/** Milliseconds between two warnings of one kind. */
export const REFUSAL_LOG_INTERVAL_MS = 10_000;

interface Kind {
  lastAt: number;
  suppressed: number;
}

/** @internal */
export class RefusalLog {
  private readonly kinds = new Map<string, Kind>();

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = REFUSAL_LOG_INTERVAL_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs `message` with `context` (and how many refusals of this kind went unlogged since), or counts it. */
  refused(message: string, context: Record<string, unknown>): void {
    const now = this.now();
    const kind = this.kinds.get(message);
    if (kind !== undefined && now - kind.lastAt < this.intervalMs) {
      kind.suppressed++;
      return;
    }
    const suppressed = kind?.suppressed ?? 0;
    this.kinds.set(message, { lastAt: now, suppressed: 0 });
    this.logger.warn(suppressed > 0 ? { ...context, suppressed } : context, message);
  }
}
