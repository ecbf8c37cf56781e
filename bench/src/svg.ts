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
  let xTicks: number[];
  let xMap: (x: number) => number;
  if (o.xLog) {
    const lo = Math.floor(Math.log10(Math.min(...xs, 1e9)));
    const hi = Math.ceil(Math.log10(Math.max(...xs, 1)));
    xTicks = [];
    for (let e = lo; e <= Math.max(hi, lo + 1); e++) xTicks.push(10 ** e);
    const a = Math.log10(xTicks[0] as number);
    const b = Math.log10(xTicks[xTicks.length - 1] as number);
    xMap = (x) => m.l + ((Math.log10(x) - a) / (b - a)) * pw;
  } else {
    xTicks = niceTicks(Math.min(...xs, 0), Math.max(...xs, 1));
    const a = xTicks[0] as number;
    const b = xTicks[xTicks.length - 1] as number;
    xMap = (x) => m.l + ((x - a) / (b - a)) * pw;
  }
  let yTicks: number[];
  let yMap: (y: number) => number;
  if (o.yLog) {
    const lo = Math.floor(Math.log10(Math.min(...ys, 1e9)));
    const hi = Math.ceil(Math.log10(Math.max(...ys, 1)));
    yTicks = [];
    for (let e = lo; e <= Math.max(hi, lo + 1); e++) yTicks.push(10 ** e);
    const a = Math.log10(yTicks[0] as number);
    const b = Math.log10(yTicks[yTicks.length - 1] as number);
    yMap = (y) => m.t + ph - ((Math.log10(y) - a) / (b - a)) * ph;
  } else {
    yTicks = niceTicks(Math.min(0, ...ys), Math.max(...ys, 1e-9));
    const y0 = yTicks[0] as number;
    const y1 = yTicks[yTicks.length - 1] as number;
    yMap = (y) => m.t + ph - ((y - y0) / (y1 - y0)) * ph;
  }

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
