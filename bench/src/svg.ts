/**
 * Line charts as standalone SVG, with no plotting dependency: axes with round ticks (linear or
 * log₁₀, either axis), one polyline with markers per series, a legend. Enough to show a curve
 * honestly. On a log axis, points at or below 0 are left out.
 * @module
 */

export interface Series {
  name: string;
  color: string;
  points: [number, number][];
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  /** Small print at the bottom right (date, machine). */
  footer?: string;
  xLabel: string;
  yLabel: string;
  xLog?: boolean;
  /** A log₁₀ y axis (for curves spanning decades, e.g. a lag that runs away). Defaults to linear. */
  yLog?: boolean;
  series: Series[];
  width?: number;
  height?: number;
  /** Format of tick labels. */
  xFormat?: (v: number) => string;
  yFormat?: (v: number) => string;
  /** Horizontal reference line, e.g. a target. */
  reference?: { y: number; label: string };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick values covering [lo, hi]. */
function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  return ticks;
}

/** Compact number: 1.2k, 3.4M. */
export function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${Number((v / 1e6).toPrecision(3))}M`;
  if (a >= 1e3) return `${Number((v / 1e3).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

/**
 * An axis over `values`: its ticks, and where a value falls between the first tick and the last
 * (0 to 1). Log: the powers of ten around the values (at least two); linear: nice ticks from 0 (or
 * below) to at least `minTop`.
 */
function axis(values: number[], log: boolean, minTop: number): { ticks: number[]; at: (v: number) => number } {
  if (log) {
    const lo = Math.floor(Math.log10(Math.min(...values, 1e9)));
    const hi = Math.max(Math.ceil(Math.log10(Math.max(...values, 1))), lo + 1);
    const ticks: number[] = [];
    for (let e = lo; e <= hi; e++) ticks.push(10 ** e);
    return { ticks, at: (v) => (Math.log10(v) - lo) / (hi - lo) };
  }
  const ticks = niceTicks(Math.min(0, ...values), Math.max(...values, minTop));
  const first = ticks[0] as number;
  const last = ticks[ticks.length - 1] as number;
  return { ticks, at: (v) => (v - first) / (last - first) };
}

export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 640;
  const H = o.height ?? 380;
  const m = { l: 70, r: 24, t: o.subtitle ? 58 : 42, b: o.footer ? 92 : 78 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const plottable = ([x, y]: [number, number]): boolean =>
    Number.isFinite(x) && Number.isFinite(y) && (!o.xLog || x > 0) && (!o.yLog || y > 0);
  const all = o.series.flatMap((s) => s.points).filter(plottable);
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  if (o.reference) ys.push(o.reference.y);
  const fx = o.xFormat ?? compact;
  const fy = o.yFormat ?? compact;
  const xAxis = axis(xs, o.xLog === true, 1);
  const yAxis = axis(ys, o.yLog === true, 1e-9);
  const xTicks = xAxis.ticks;
  const yTicks = yAxis.ticks;
  const xMap = (x: number): number => m.l + xAxis.at(x) * pw;
  const yMap = (y: number): number => m.t + ph - yAxis.at(y) * ph;

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="${m.l}" y="22" font-size="15" font-weight="600" fill="#1b2330">${esc(o.title)}</text>`,
  );
  if (o.subtitle) parts.push(`<text x="${m.l}" y="40" fill="#5b6473">${esc(o.subtitle)}</text>`);
  for (const t of yTicks) {
    const y = yMap(t).toFixed(1);
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#e3e7ee"/>`);
    parts.push(
      `<text x="${m.l - 8}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#5b6473">${esc(fy(t))}</text>`,
    );
  }
  for (const t of xTicks) {
    const x = xMap(t).toFixed(1);
    parts.push(`<line x1="${x}" x2="${x}" y1="${m.t}" y2="${m.t + ph}" stroke="#f0f2f6"/>`);
    parts.push(`<text x="${x}" y="${m.t + ph + 18}" text-anchor="middle" fill="#5b6473">${esc(fx(t))}</text>`);
  }
  parts.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#9aa3b2"/>`);
  parts.push(
    `<text x="${m.l + pw / 2}" y="${m.t + ph + 38}" text-anchor="middle" fill="#1b2330">${esc(o.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle" fill="#1b2330">${esc(o.yLabel)}</text>`,
  );
  if (o.reference) {
    const y = yMap(o.reference.y).toFixed(1);
    parts.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${y}" y2="${y}" stroke="#b45309" stroke-dasharray="6 4"/>`);
    parts.push(
      `<text x="${m.l + pw - 4}" y="${Number(y) - 5}" text-anchor="end" fill="#b45309">${esc(o.reference.label)}</text>`,
    );
  }
  for (const s of o.series) {
    const pts = s.points.filter(plottable).map(([x, y]) => `${xMap(x).toFixed(1)},${yMap(y).toFixed(1)}`);
    if (pts.length === 0) continue;
    parts.push(
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2.2"${s.dashed ? ' stroke-dasharray="7 4"' : ''}/>`,
    );
    for (const p of pts) {
      const [x, y] = p.split(',');
      parts.push(`<circle cx="${x}" cy="${y}" r="3.2" fill="${s.color}"/>`);
    }
  }
  // Legend, below the x label; small print under it.
  let lx = m.l;
  const ly = H - (o.footer ? 30 : 14);
  if (o.footer)
    parts.push(
      `<text x="${W - m.r}" y="${H - 8}" text-anchor="end" font-size="10" fill="#8a93a3">${esc(o.footer)}</text>`,
    );
  for (const s of o.series) {
    parts.push(
      `<line x1="${lx}" x2="${lx + 22}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="7 4"' : ''}/>`,
    );
    parts.push(`<text x="${lx + 28}" y="${ly}" fill="#1b2330">${esc(s.name)}</text>`);
    lx += 40 + s.name.length * 6.6;
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
