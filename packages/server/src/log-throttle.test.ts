import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { throttleLogger } from './log-throttle.js';
import { recordingLogger } from './logger.js';

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

describe('throttleLogger', () => {
  it('passes the first entries of a kind, counts the rest, and sums them up at the end of the window', () => {
    const log = recordingLogger();
    const throttled = throttleLogger(log, { intervalMs: 10_000, burst: 2 });
    for (let i = 0; i < 20_000; i++) throttled.warn({ topic: 't', i }, 'status payload ignored');
    expect(log.entries).toHaveLength(2);
    expect(log.entries.map((e) => e.obj?.i)).toEqual([0, 1]);
    vi.advanceTimersByTime(9_999);
    expect(log.entries).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(log.entries).toHaveLength(3);
    expect(log.entries[2]).toEqual({
      level: 'warn',
      msg: 'status payload ignored (and 19,998 more in the last 10 s)',
      obj: { topic: 't', i: 19_999, suppressed: 19_998, intervalMs: 10_000 },
    });
    // A new window: the next entry passes again.
    throttled.warn({ topic: 't' }, 'status payload ignored');
    expect(log.entries).toHaveLength(4);
  });

  it('rate-limits only the levels given; the others always pass', () => {
    const log = recordingLogger();
    const throttled = throttleLogger(log, { intervalMs: 1000, burst: 1, levels: ['warn', 'error'] });
    for (let i = 0; i < 5; i++) throttled.info('session started');
    for (let i = 0; i < 5; i++) throttled.warn('protocol error');
    expect(log.entries.map((e) => `${e.level} ${e.msg}`)).toEqual([
      ...Array<string>(5).fill('info session started'),
      'warn protocol error',
    ]);
  });

  it('keys on level and message: other kinds are not held back by a flood', () => {
    const log = recordingLogger();
    const throttled = throttleLogger(log, { intervalMs: 1000, burst: 1 });
    for (let i = 0; i < 5; i++) throttled.warn('a');
    throttled.error('a');
    throttled.warn('b');
    throttled.warn({ x: 1 }, 'a');
    expect(log.entries.map((e) => `${e.level} ${e.msg}`)).toEqual(['warn a', 'error a', 'warn b']);
    vi.advanceTimersByTime(1000);
    expect(log.entries.slice(3)).toEqual([
      { level: 'warn', msg: 'a (and 5 more in the last 1 s)', obj: { x: 1, suppressed: 5, intervalMs: 1000 } },
    ]);
  });

  it('logs no summary for a window with nothing counted', () => {
    const log = recordingLogger();
    const throttled = throttleLogger(log, { intervalMs: 50, burst: 2 });
    throttled.info('once');
    vi.advanceTimersByTime(1000);
    expect(log.entries).toEqual([{ level: 'info', msg: 'once' }]);
  });

  it('close() logs the pending summaries at once and stops the timers', () => {
    const log = recordingLogger();
    const throttled = throttleLogger(log, { intervalMs: 250, burst: 1 });
    for (let i = 0; i < 4; i++) throttled.warn('x');
    throttled.close();
    expect(log.entries.map((e) => e.msg)).toEqual(['x', 'x (and 3 more in the last 250 ms)']);
    expect(vi.getTimerCount()).toBe(0);
    throttled.close();
    expect(log.entries).toHaveLength(2);
  });

  it('intervalMs 0 passes everything; a bad option throws', () => {
    const log = recordingLogger();
    const throttled = throttleLogger(log, { intervalMs: 0 });
    for (let i = 0; i < 10; i++) throttled.warn('y');
    expect(log.entries).toHaveLength(10);
    expect(() => throttleLogger(log, { intervalMs: -1 })).toThrow(TypeError);
    expect(() => throttleLogger(log, { burst: 1.5 })).toThrow('"burst"');
  });

  it('calls the wrapped logger as a method (pino needs its `this`)', () => {
    const lines: string[] = [];
    const pinoLike = {
      prefix: 'p',
      debug() {},
      info() {},
      warn(this: { prefix: string }, msg: string) {
        lines.push(`${this.prefix}:${msg}`);
      },
      error() {},
    };
    throttleLogger(pinoLike as never).warn('hi');
    expect(lines).toEqual(['p:hi']);
  });
});
