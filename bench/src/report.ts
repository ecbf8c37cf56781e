/**
 * Output of a run: the table on the terminal, `results.json`, the plots, and the results block of
 * BENCHMARKS.md (between `<!-- results:start -->` and `<!-- results:end -->`, full runs only).
 * The plots show how cost grows (issue 14 target 8): fan-out, memory and server CPU per delivered
 * update against sessions, and the status flood's absorbed rate against pages beside its lag curve.
 * @module
 */
import { cpus, loadavg, totalmem } from 'node:os';
import type { StatusFloodSeries } from './figures/status-flood.js';
import type { Figure, Machine, Results } from './results.js';
import { compact, lineChart } from './svg.js';

export function machine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    totalMemGiB: Math.round(totalmem() / 2 ** 30),
    loadStart: loadavg().map((v) => Number(v.toFixed(2))),
  };
}

export function machineLine(m: Machine): string {
  return `${m.cpus} × ${m.cpuModel}, ${m.totalMemGiB} GiB, Node ${m.node}, ${m.platform}; load average ${m.loadStart.join(' / ')} at start${m.loadEnd ? `, ${m.loadEnd.join(' / ')} at end` : ''}`;
}

function num(v: number | null | undefined, unit = ''): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const s = Math.abs(v) >= 10_000 ? compact(v) : String(v);
  return unit ? `${s} ${unit}` : s;
}

function ratioText(r: number | null | undefined): string {
  return r === null || r === undefined || !Number.isFinite(r) ? '—' : `${r.toFixed(2)}×`;
}

function metText(f: Figure): string {
  if (f.met === true) return 'met';
  if (f.met === false) return 'NOT met';
  return '';
}

/** Rows: figure, project, baseline, ratio, target, verdict. Latencies show p50 / p99. */
function rows(figures: Figure[]): string[][] {
  return figures.map((f) => {
    const lat = f.p99 !== undefined;
    const mine = lat ? `${num(f.p50)} / ${num(f.p99)} ${f.unit}` : num(f.value, f.unit);
    const base =
      lat && f.baselineP50 !== undefined
        ? `${num(f.baselineP50)} / ${num(f.baselineP99)} ${f.unit}`
        : num(f.baseline, f.baseline === null ? '' : f.unit);
    const r = lat && f.ratio !== null ? `${ratioText(f.ratio)} / ${ratioText(f.ratioP99)}` : ratioText(f.ratio);
    return [`${f.figure}`, f.name, mine, base, r, f.target ?? '', metText(f)];
  });
}

const HEADER = ['#', 'figure', 'project (p50 / p99)', 'bare baseline', 'ratio', 'target', ''];

export function textTable(results: Results): string {
  const all = [HEADER, ...rows(results.figures)];
  const widths = HEADER.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [
    `live-device-form bench (${results.mode}), ${results.date}`,
    machineLine(results.machine),
    `ratio = project ÷ baseline (latency and size: lower is better; rates: higher is better)`,
    '',
    line(HEADER),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows(results.figures).map(line),
    '',
    `took ${results.durationS} s`,
  ].join('\n');
}

export function markdownTable(results: Results): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  return [
    `Run of ${results.date} (${results.durationS} s) on ${machineLine(results.machine)}.`,
    '',
    `| ${HEADER.join(' | ')} |`,
    `|${HEADER.map(() => '---').join('|')}|`,
    ...rows(results.figures).map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');
}

export function replaceBlock(doc: string, block: string): string | undefined {
  const start = '<!-- results:start -->';
  const end = '<!-- results:end -->';
  const a = doc.indexOf(start);
  const b = doc.indexOf(end);
  if (a < 0 || b < a) return undefined;
  return `${doc.slice(0, a + start.length)}\n${block}\n${doc.slice(b)}`;
}

interface ScalingPoint {
  n: number;
  fanOutLdf: number;
  fanOutBare: number;
  rssKiBLdf: number;
  rssKiBBare: number;
  heapKiBLdf: number;
  heapKiBBare: number;
}
interface SlowPoint {
  t: number;
  rssMiB: number;
  heapMiB: number;
  bufferedMiB: number;
}

const PROJECT = '#0f766e';
const BARE = '#9a3412';

/** The plots, by file name. */
export function plots(results: Results): Record<string, string> {
  const out: Record<string, string> = {};
  const stamp = `${results.date.slice(0, 10)}, ${results.machine.cpus} × ${results.machine.cpuModel}, Node ${results.machine.node}`;
  const scaling = results.series?.scaling as ScalingPoint[] | undefined;
  if (scaling?.length) {
    out['fan-out.svg'] = lineChart({
      title: 'Fan-out: messages delivered per second',
      subtitle: 'one server process; clients in a second process',
      footer: stamp,
      xLabel: 'open sessions (log scale)',
      yLabel: 'messages / s',
      xLog: true,
      series: [
        { name: 'live-device-form SDK', color: PROJECT, points: scaling.map((p) => [p.n, p.fanOutLdf]) },
        { name: 'bare ws broadcast', color: BARE, points: scaling.map((p) => [p.n, p.fanOutBare]), dashed: true },
      ],
    });
    out['memory-per-session.svg'] = lineChart({
      title: 'Server memory per idle session',
      subtitle: '(memory with N idle sessions − with none) ÷ N, after full GCs',
      footer: stamp,
      xLabel: 'open sessions (log scale)',
      yLabel: 'KiB per session',
      xLog: true,
      reference: { y: 20, label: 'target ≤ 20 KiB' },
      series: [
        { name: 'SDK, RSS', color: PROJECT, points: scaling.map((p) => [p.n, p.rssKiBLdf]) },
        { name: 'bare ws, RSS', color: BARE, points: scaling.map((p) => [p.n, p.rssKiBBare]), dashed: true },
        { name: 'SDK, JS heap', color: '#2563eb', points: scaling.map((p) => [p.n, p.heapKiBLdf]) },
        { name: 'bare ws, JS heap', color: '#a16207', points: scaling.map((p) => [p.n, p.heapKiBBare]), dashed: true },
      ],
    });
  }
  const slow = results.series?.slowConsumers as { sockets: number; ldf: SlowPoint[]; bare: SlowPoint[] } | undefined;
  if (slow) {
    out['slow-consumers.svg'] = lineChart({
      title: 'Slow consumers: server RSS while updates flow',
      subtitle: `${slow.sockets} sockets that never read, 1 KB updates; memory read after a full GC each second`,
      footer: stamp,
      xLabel: 'seconds since updates started',
      yLabel: 'server RSS (MiB)',
      xFormat: (v) => String(v),
      series: [
        {
          name: 'SDK (coalesces past 256 KiB per socket)',
          color: PROJECT,
          points: slow.ldf.map((p) => [p.t / 1000, p.rssMiB]),
        },
        {
          name: 'bare ws (queues every frame)',
          color: BARE,
          points: slow.bare.map((p) => [p.t / 1000, p.rssMiB]),
          dashed: true,
        },
      ],
    });
  }
  const cpu = results.figures
    .filter((f) => f.id.startsWith('fan-out/'))
    .map((f) => ({
      n: Number(f.id.slice('fan-out/'.length)),
      ldf: f.extra?.serverCpuUsPerMsgLdf,
      bare: f.extra?.serverCpuUsPerMsgBare,
    }))
    .filter(
      (p): p is { n: number; ldf: number; bare: number } => typeof p.ldf === 'number' && typeof p.bare === 'number',
    )
    .sort((a, b) => a.n - b.n);
  if (cpu.length) {
    out['cpu-per-update.svg'] = lineChart({
      title: 'Server CPU per delivered update',
      subtitle: 'fan-out rounds (figures 3, 7): server CPU time ÷ (updates × sessions)',
      footer: stamp,
      xLabel: 'open sessions (log scale)',
      yLabel: 'µs of CPU per delivered message',
      xLog: true,
      series: [
        { name: 'live-device-form SDK', color: PROJECT, points: cpu.map((p) => [p.n, p.ldf]) },
        { name: 'bare ws broadcast', color: BARE, points: cpu.map((p) => [p.n, p.bare]), dashed: true },
      ],
    });
  }
  const flood = results.series?.statusFlood as StatusFloodSeries | undefined;
  if (flood?.climbs.length) {
    const shades: Record<string, string> = { sdk: PROJECT, bare: BARE };
    const darker: Record<string, string> = { sdk: '#2563eb', bare: '#a16207' };
    const pageCounts = [...new Set(flood.climbs.map((c) => c.pages))].sort((a, b) => a - b);
    out['status-flood-lag.svg'] = lineChart({
      title: "Status flood: the reading page's lag p99 vs the offered rate",
      width: 800,
      subtitle: `one relay process; pages that never read + 1 reading page; steps of ${flood.stepMs / 1000} s; both axes log`,
      footer: stamp,
      xLabel: 'status messages / s offered (log scale)',
      yLabel: 'lag p99 (ms, log scale)',
      xLog: true,
      yLog: true,
      reference: { y: flood.lagLimitMs, label: `limit ${flood.lagLimitMs} ms` },
      series: flood.climbs.map((c) => ({
        name: `${c.relay === 'sdk' ? 'SDK' : 'bare relay'}, ${c.pages.toLocaleString('en')} pages`,
        color: (c.pages === pageCounts[0] ? shades : darker)[c.relay] ?? PROJECT,
        points: c.steps.map((s): [number, number] => [s.rate, s.lagP99Ms]),
        dashed: c.relay === 'bare',
      })),
    });
    const absorbed = (relay: string): [number, number][] =>
      flood.climbs
        .filter((c) => c.relay === relay && c.absorbed !== null)
        .map((c): [number, number] => [c.pages, c.absorbed as number])
        .sort((a, b) => a[0] - b[0]);
    out['status-flood-absorbed.svg'] = lineChart({
      title: 'Status flood: messages / s absorbed',
      subtitle: `highest offered rate with the reading page's lag p99 ≤ ${flood.lagLimitMs} ms; y log`,
      footer: stamp,
      xLabel: 'pages on the relay (log scale)',
      yLabel: 'status messages / s (log scale)',
      xLog: true,
      yLog: true,
      series: [
        { name: 'live-device-form SDK', color: PROJECT, points: absorbed('sdk') },
        { name: 'bare mqtt.js → ws relay', color: BARE, points: absorbed('bare'), dashed: true },
      ],
    });
  }
  return out;
}
