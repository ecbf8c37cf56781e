/**
 * `pnpm run bench` — every figure of BENCHMARKS.md, each beside a bare baseline in the same run; prints
 * the table and writes `bench/results.json`, the plots in `bench/plots/` and the results block of
 * BENCHMARKS.md. Groups (`--only` names) and their figures:
 *
 * - `bundle`: 6, the element bundle's size;
 * - `dom`: 1, status change → DOM; `reconnect`: 2, reconnect → editable and a black-holed link;
 * - `write`: 5, the write path; `fanout`: 3, 4, 7, fan-out and memory per session; `slow`: 8, slow consumers;
 * - `first-load`: 9, first load → first live value (the CLI's bundle route, fresh browser contexts);
 * - `flood`: 10, status floods at 100 and 1,000 pages (Mosquitto), the rate stepped up;
 * - `scale`: 11, scale-out: sessions and fan-out with 1 and 3 server processes behind HAProxy (Mosquitto).
 *
 * The plots (`report.ts` `plots()`) include how cost grows with sessions and pages: fan-out, memory
 * per session, server CPU per delivered update, and the absorbed flood rate and its lag curve.
 *
 * `pnpm run bench:smoke` (`--smoke`) runs every figure at tiny sizes, writes to `bench/out/` only,
 * and fails only when something crashes, never on a timing.
 *
 * Options:
 * - `--only GROUP,…` runs some groups (results then go to `bench/out/`);
 * - `--no-build` skips `tsc -b` and the CLI's element bundle (the packages' `dist/` must be current);
 * - `--profile` has every child process write a V8 CPU profile into `bench/out/profiles/<date>/`
 *   (or `BENCH_PROFILE`), and the fan-out and write figures carry their server's top five
 *   self-time functions in `extra.profile`.
 * @module
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { BenchContext, FigureOutput } from './context.js';
import { launchChromium } from '@live-device-form/testkit';
import { startLab } from './lab.js';
import { BENCH_DIR } from './proc.js';
import { ROOT, buildPackages, elementBundler } from './prepare.js';
import { machine, markdownTable, plots, replaceBlock, textTable } from './report.js';
import type { Figure, Results } from './results.js';
import { bundleSize } from './figures/bundle-size.js';
import { fanOutAndMemory } from './figures/fanout.js';
import { firstLoad } from './figures/first-load.js';
import { statusToDom } from './figures/latency.js';
import { reconnect } from './figures/reconnect.js';
import { slowConsumers } from './figures/slow-consumers.js';
import { statusFlood } from './figures/status-flood.js';
import { writePath } from './figures/write-path.js';
import { scaleOut } from './figures/scale.js';
import { scalePlots } from './scale-plots.js';

const GROUPS = ['bundle', 'dom', 'reconnect', 'write', 'fanout', 'slow', 'first-load', 'flood', 'scale'] as const;
type Group = (typeof GROUPS)[number];

function parseArgs(argv: string[]): { smoke: boolean; only: Set<Group>; build: boolean; profile: boolean } {
  const smoke = argv.includes('--smoke');
  const at = argv.indexOf('--only');
  const only = new Set<Group>(GROUPS);
  if (at >= 0) {
    only.clear();
    for (const g of (argv[at + 1] ?? '').split(',')) {
      if (!(GROUPS as readonly string[]).includes(g))
        throw new TypeError(`--only takes ${GROUPS.join(',')}; got "${g}"`);
      only.add(g as Group);
    }
  }
  return { smoke, only, build: !argv.includes('--no-build'), profile: argv.includes('--profile') };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const ctx: BenchContext = {
    smoke: args.smoke,
    build: args.build,
    log: (message) => console.log(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}`),
  };
  const m = machine();
  ctx.log(
    `${args.smoke ? 'smoke run' : 'full run'} on ${m.cpus} × ${m.cpuModel}, Node ${m.node}, load ${m.loadStart.join(' ')}`,
  );
  if (args.profile) {
    process.env.BENCH_PROFILE ??= join(BENCH_DIR, 'out', 'profiles', new Date().toISOString().replace(/[:.]/g, '-'));
    await mkdir(process.env.BENCH_PROFILE, { recursive: true });
    ctx.log(`CPU profiles of every child process go to ${process.env.BENCH_PROFILE}`);
  }
  if (args.build) {
    ctx.log('building packages (tsc -b)');
    await buildPackages();
  }
  const figures: Figure[] = [];
  const series: Record<string, unknown> = {};
  const failures: string[] = [];
  const run = async (group: Group, what: string, fn: () => Promise<FigureOutput>): Promise<void> => {
    if (!args.only.has(group)) return;
    ctx.log(what);
    try {
      const out = await fn();
      figures.push(...out.figures);
      Object.assign(series, out.series ?? {});
    } catch (err) {
      failures.push(`${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      ctx.log(`FAILED: ${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };

  await run('bundle', 'figure 6: bundle size', () => bundleSize(ctx));
  if (args.only.has('dom') || args.only.has('reconnect')) {
    const code = await (await elementBundler()).bundle({ withLit: true });
    const lab = await startLab(code);
    const browser = await launchChromium();
    try {
      await run('dom', 'figure 1: status change → DOM', () => statusToDom(ctx, lab, browser));
      await run('reconnect', 'figure 2: reconnect → editable, black hole → read-only', () =>
        reconnect(ctx, lab, browser),
      );
    } finally {
      await browser.close();
      await lab.close();
    }
  }
  await run('write', 'figure 5: write path', () => writePath(ctx));
  await run('fanout', 'figures 3, 4, 7: fan-out and memory per session', () => fanOutAndMemory(ctx));
  await run('slow', 'figure 8: slow consumers', () => slowConsumers(ctx));
  await run('first-load', 'figure 9: first load → first live value', () => firstLoad(ctx));
  await run('flood', 'figure 10: status floods', () => statusFlood(ctx));
  await run('scale', 'figure 11: scale-out behind HAProxy', () => scaleOut(ctx));

  figures.sort((a, b) => a.figure - b.figure);
  m.loadEnd = loadavg().map((v) => Number(v.toFixed(2)));
  for (const f of figures) f.machine = `${m.cpus} × ${m.cpuModel}, Node ${m.node}, ${m.platform}`;
  const results: Results = {
    date: new Date().toISOString(),
    mode: args.smoke ? 'smoke' : 'full',
    machine: m,
    durationS: Math.round((performance.now() - started) / 1000),
    figures,
    series,
  };
  const outDir = args.smoke || args.only.size < GROUPS.length ? join(BENCH_DIR, 'out') : BENCH_DIR;
  await mkdir(join(outDir, 'plots'), { recursive: true });
  await writeFile(
    join(outDir, args.smoke ? 'results.smoke.json' : 'results.json'),
    `${JSON.stringify(results, null, 2)}\n`,
  );
  for (const [name, svg] of Object.entries({ ...plots(results), ...scalePlots(results) }))
    await writeFile(join(outDir, 'plots', name), svg);
  if (outDir === BENCH_DIR) {
    const docPath = join(ROOT, 'BENCHMARKS.md');
    const doc = await readFile(docPath, 'utf8').catch(() => undefined);
    const updated = doc && replaceBlock(doc, markdownTable(results));
    if (updated) await writeFile(docPath, updated);
  }
  console.log(`\n${textTable(results)}`);
  console.log(
    `\nwrote ${join(outDir, args.smoke ? 'results.smoke.json' : 'results.json')} and ${join(outDir, 'plots')}/`,
  );
  if (failures.length > 0) {
    console.error(`\n${failures.length} figure group(s) failed:\n${failures.join('\n\n')}`);
    process.exitCode = 1;
  }
}

await main();
