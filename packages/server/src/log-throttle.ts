/**
 * A logger that rate-limits repeated entries, so a flood of one bad input (20,000 malformed
 * statuses in half a second) becomes a handful of lines and one count instead of 20,000 lines.
 *
 * Entries are of one kind when they have the same level and message (the `msg` string; the context
 * object is not compared). Per kind, the first `burst` entries of a window pass through at once; the
 * window opens with the first entry and lasts `intervalMs`; the rest are counted, and when the window
 * ends one summary line is logged at the same level, with the context of the last entry counted:
 * `status payload ignored (and 19,998 more in the last 10 s)`. The next entry of that kind opens a
 * new window. Timers are unref'd: they never keep a process alive. `close()` logs the pending
 * summaries at once.
 * @module
 */
import type { LogFn, Logger, LogLevel } from './logger.js';
import { checkNumber, MAX_TIMER_MS, withDefaults } from './option-checks.js';

/** Options of {@link throttleLogger}. */
export interface LogThrottleOptions {
  /** Milliseconds of one window. `0` passes every entry through. Defaults to `10000`. */
  intervalMs?: number;
  /** Entries of one kind logged per window before they are only counted. Defaults to `2`. */
  burst?: number;
  /** The levels that are rate-limited; entries of other levels always pass. Defaults to all four. */
  levels?: readonly LogLevel[];
}

/** The defaults of {@link LogThrottleOptions}. */
export const LOG_THROTTLE_DEFAULTS = Object.freeze({
  intervalMs: 10_000,
  burst: 2,
  levels: Object.freeze(['debug', 'info', 'warn', 'error'] as LogLevel[]),
});

/** A {@link Logger} that rate-limits repeated entries; `close()` logs what is still counted. */
export interface ThrottledLogger extends Logger {
  /** Logs every pending summary now and stops the timers. Safe to call twice; entries after it still pass. */
  close(): void;
}

/** One kind's current window. */
interface Window {
  readonly level: LogLevel;
  readonly msg: string;
  passed: number;
  suppressed: number;
  /** The context of the last suppressed entry, repeated in the summary. */
  last: Record<string, unknown> | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
}

/** `10 s`, or `250 ms` for an interval that is not whole seconds: how log lines name a window. @internal */
export function formatInterval(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}

/**
 * Wraps `inner` so that repeated entries of one kind are counted rather than logged (see the module
 * comment). Throws a `TypeError` with code `ERR_INVALID_OPTION` for a negative or fractional option.
 *
 * @example
 * const log = throttleLogger(consoleLogger(), { intervalMs: 10_000 });
 * for (let i = 0; i < 20_000; i++) log.warn({ topic }, 'status payload ignored');
 * // 2 lines now; 10 s later: "status payload ignored (and 19,998 more in the last 10 s)"
 */
export function throttleLogger(inner: Logger, options: LogThrottleOptions = {}): ThrottledLogger {
  const o = withDefaults(LOG_THROTTLE_DEFAULTS, options);
  const intervalMs = checkNumber('intervalMs', o.intervalMs, 0, MAX_TIMER_MS, { integer: true });
  const burst = checkNumber('burst', o.burst, 0, Number.MAX_SAFE_INTEGER, { integer: true });
  const levels = new Set<LogLevel>(o.levels);
  const windows = new Map<string, Window>();

  const summarize = (w: Window): void => {
    clearTimeout(w.timer);
    windows.delete(`${w.level}\u0000${w.msg}`);
    if (w.suppressed === 0) return;
    const count = w.suppressed.toLocaleString('en-US');
    inner[w.level](
      { ...w.last, suppressed: w.suppressed, intervalMs },
      `${w.msg} (and ${count} more in the last ${formatInterval(intervalMs)})`,
    );
  };

  const make = (level: LogLevel): LogFn =>
    ((a: unknown, b?: unknown) => {
      const [obj, msg] =
        typeof a === 'string' ? [undefined, a] : [a as Record<string, unknown> | undefined, (b as string) ?? ''];
      const pass = (): void => (obj === undefined ? inner[level](msg) : inner[level](obj, msg));
      if (intervalMs === 0 || !levels.has(level)) return pass();
      const key = `${level}\u0000${msg}`;
      let w = windows.get(key);
      if (!w) {
        w = { level, msg, passed: 0, suppressed: 0, last: undefined, timer: undefined };
        const opened = w;
        windows.set(key, w);
        w.timer = setTimeout(() => summarize(opened), intervalMs);
        w.timer.unref?.();
      }
      if (w.passed < burst) {
        w.passed++;
        pass();
      } else {
        w.suppressed++;
        w.last = obj;
      }
    }) as LogFn;

  return {
    debug: make('debug'),
    info: make('info'),
    warn: make('warn'),
    error: make('error'),
    close() {
      for (const w of [...windows.values()]) summarize(w);
    },
  };
}
