/**
 * The logger every part of the SDK writes through. Its signature is pino's (and bunyan's): an
 * optional object of context first, then a message. Pass a pino logger as it is, or anything with
 * these four methods.
 * @module
 */

/** One log method: `log.warn({ reason: 'stale', field }, 'write rejected')` or `log.warn('text')`. */
export interface LogFn {
  (obj: Record<string, unknown>, msg?: string): void;
  (msg: string): void;
}

/** A pino-compatible logger. */
export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;
/** A log level, least severe first: `'debug'`, `'info'`, `'warn'`, `'error'`. */
export type LogLevel = (typeof LEVELS)[number];
type Level = LogLevel;

function format(level: Level, a: unknown, b: unknown): string {
  const [obj, msg] =
    typeof a === 'string' ? [undefined, a] : [a as Record<string, unknown> | undefined, b as string | undefined];
  const ctx =
    obj && Object.keys(obj).length > 0
      ? ` ${JSON.stringify(obj, (_k, v) => (v instanceof Error ? v.message : v))}`
      : '';
  return `[live-device-form] ${level}: ${msg ?? ''}${ctx}`;
}

/**
 * The default logger: one line per entry on the console, `debug` entries dropped unless
 * `minLevel` is `'debug'`.
 */
export function consoleLogger(minLevel: Level = 'info'): Logger {
  const min = LEVELS.indexOf(minLevel);
  const make = (level: Level): LogFn =>
    ((a: unknown, b?: unknown) => {
      if (LEVELS.indexOf(level) < min) return;
      const line = format(level, a, b);
      if (level === 'error') console.error(line);
      else if (level === 'warn') console.warn(line);
      else console.log(line);
    }) as LogFn;
  return { debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}

/** A logger that discards everything (tests, benchmarks). */
export const silentLogger: Logger = Object.freeze({
  debug: (() => {}) as LogFn,
  info: (() => {}) as LogFn,
  warn: (() => {}) as LogFn,
  error: (() => {}) as LogFn,
});

/**
 * A logger that records entries in memory, for tests that assert something was logged.
 */
export interface RecordingLogger extends Logger {
  readonly entries: { level: Level; msg: string; obj?: Record<string, unknown> }[];
}

/** Creates a {@link RecordingLogger}. */
export function recordingLogger(): RecordingLogger {
  const entries: RecordingLogger['entries'] = [];
  const make = (level: Level): LogFn =>
    ((a: unknown, b?: unknown) => {
      if (typeof a === 'string') entries.push({ level, msg: a });
      else entries.push({ level, msg: (b as string | undefined) ?? '', obj: a as Record<string, unknown> });
    }) as LogFn;
  return { entries, debug: make('debug'), info: make('info'), warn: make('warn'), error: make('error') };
}
