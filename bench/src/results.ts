/**
 * The shape of `bench/results.json`: one object per figure, each with the project's value, the
 * baseline's, their ratio (project ÷ baseline), and p50/p99 where the figure is a latency.
 * @module
 */
import { type Summary, round } from '@live-device-form/testkit';

/** Which way is good. */
export type Better = 'lower' | 'higher';

export interface Figure {
  /** Stable key, e.g. `status-to-dom/100`. */
  id: string;
  /** Figure number in BENCHMARKS.md (1–8). */
  figure: number;
  /** What was measured, in words. */
  name: string;
  /** The project's figure: p50 for latencies, the rate or size otherwise. `null` if not measured. */
  value: number | null;
  unit: string;
  /** The bare baseline's figure (same work, without the project), same unit; `null` when it has none. */
  baseline: number | null;
  /** `value / baseline`. */
  ratio: number | null;
  better: Better;
  p50?: number;
  p99?: number;
  baselineP50?: number;
  baselineP99?: number;
  ratioP99?: number;
  /** Samples behind a latency. */
  samples?: number;
  /** The target (BENCHMARKS.md), in words, and whether this run met it (`null`: no target). */
  target?: string;
  met?: boolean | null;
  /** How it was measured, and anything a reader needs to judge it. */
  notes?: string;
  /** Extra numbers (per-round values, CPU time…), for the curious. */
  extra?: Record<string, unknown>;
  /** Where it ran (cores, CPU, Node); the full record is `Results.machine`. Filled in by the driver. */
  machine?: string;
}

export interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  totalMemGiB: number;
  /** 1/5/15-minute load averages at the start and the end of the run. */
  loadStart: number[];
  loadEnd?: number[];
}

export interface Results {
  date: string;
  mode: 'full' | 'smoke';
  machine: Machine;
  durationS: number;
  figures: Figure[];
  /** Time series and curves behind the plots. */
  series?: Record<string, unknown>;
}

/** `value / baseline`, to 3 significant digits; `null` when either is missing or the baseline is 0. */
export function ratio(value: number | null, baseline: number | null): number | null {
  if (value === null || baseline === null || !Number.isFinite(value) || !Number.isFinite(baseline) || baseline === 0)
    return null;
  return Number((value / baseline).toPrecision(3));
}

/**
 * The fields of a latency figure (lower is better): p50 as its value, both percentiles of the
 * project and of its baseline, and their ratios.
 */
export function latencyFields(
  project: Summary,
  baseline: Summary,
): Pick<
  Figure,
  | 'value'
  | 'unit'
  | 'baseline'
  | 'ratio'
  | 'better'
  | 'p50'
  | 'p99'
  | 'baselineP50'
  | 'baselineP99'
  | 'ratioP99'
  | 'samples'
> {
  return {
    value: round(project.p50),
    unit: 'ms',
    baseline: round(baseline.p50),
    ratio: ratio(project.p50, baseline.p50),
    better: 'lower',
    p50: round(project.p50),
    p99: round(project.p99),
    baselineP50: round(baseline.p50),
    baselineP99: round(baseline.p99),
    ratioP99: ratio(project.p99, baseline.p99) ?? undefined,
    samples: project.n,
  };
}
