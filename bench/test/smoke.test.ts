/**
 * CI keeps the bench working: the smoke run (every figure at tiny sizes, real Chromium, real
 * broker, real child processes) must finish and report every figure. It never judges a timing:
 * only a crash, a missing figure or a malformed result fails it.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { StatusFloodSeries } from '../src/figures/status-flood.js';
import type { Results } from '../src/results.js';

const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

function runSmoke(): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--smoke'], {
      cwd: BENCH_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('bench smoke run', () => {
  it('runs every figure beside its baseline and writes the results', async () => {
    const { code, output } = await runSmoke();
    expect(code, output).toBe(0);
    const results = JSON.parse(await readFile(`${BENCH_DIR}out/results.smoke.json`, 'utf8')) as Results;
    expect(results.mode).toBe('smoke');
    expect(results.machine.cpus).toBeGreaterThan(0);
    const ids = results.figures.map((f) => f.id);
    for (const prefix of [
      'status-to-dom/1',
      'status-to-dom/100',
      'reconnect-to-editable/guard-0',
      'reconnect-to-editable/guard-500',
      'blackhole-to-readonly',
      'fan-out/',
      'memory-rss/',
      'memory-heap/',
      'write-path/latency',
      'write-path/throughput',
      'bundle/with-lit',
      'bundle/without-lit',
      'slow-consumers/rss-growth',
      'first-load/time',
      'first-load/bytes',
      'status-flood/',
      'scale-fan-out/1-haproxy/',
      'scale-fan-out/3-haproxy/',
      'scale-cpu/',
      'scale-sessions/',
    ]) {
      expect(
        ids.some((id) => id.startsWith(prefix)),
        `${prefix} in ${ids.join(', ')}`,
      ).toBe(true);
    }
    for (const f of results.figures) {
      expect(typeof f.name).toBe('string');
      expect(typeof f.unit).toBe('string');
      // A flood's absorbed rate is itself a timing: `null` when even the first rate was over the
      // lag limit (a loaded machine). Its climbs must have run (below).
      if (f.id.startsWith('status-flood/')) continue;
      // Measured, with a baseline beside it (the black hole's bare page has none: it never notices).
      expect(Number.isFinite(f.value), f.id).toBe(true);
      if (f.id !== 'blackhole-to-readonly') expect(Number.isFinite(f.baseline), f.id).toBe(true);
    }
    const flood = results.series?.statusFlood as StatusFloodSeries | undefined;
    expect(flood?.climbs.map((c) => c.relay).sort()).toEqual(['bare', 'sdk']);
    for (const c of flood?.climbs ?? []) expect(c.steps.length, `${c.relay} steps`).toBeGreaterThan(0);
    expect(results.series?.scaling).toBeDefined();
    expect(results.series?.slowConsumers).toBeDefined();
    expect(results.series?.statusFlood).toBeDefined();
    expect(results.series?.scaleOut).toBeDefined();
  }, 150_000);
});
