/**
 * The plots of the scale-out figure (11), from `series.scaleOut` (figures/scale.ts): fan-out
 * delivered per second, and CPU per delivered message, against sessions, for 1 process without a
 * proxy, 1 behind HAProxy and 3 behind HAProxy.
 * @module
 */
import type { Results } from './results.js';
import { type ScalePoint, ScaleSetup } from './figures/scale.js';
import { lineChart } from './svg.js';

const COLORS: Record<ScaleSetup, string> = {
  [ScaleSetup.Direct1]: '#9a3412',
  [ScaleSetup.Haproxy1]: '#2563eb',
  [ScaleSetup.Haproxy3]: '#0f766e',
};
const NAMES: Record<ScaleSetup, string> = {
  [ScaleSetup.Direct1]: '1 process, no proxy',
  [ScaleSetup.Haproxy1]: '1 + HAProxy',
  [ScaleSetup.Haproxy3]: '3 + HAProxy',
};

/** The plots, by file name (none when the run had no scale-out figure). */
export function scalePlots(results: Results): Record<string, string> {
  const curve = results.series?.scaleOut as ScalePoint[] | undefined;
  if (!curve?.length) return {};
  const stamp = `${results.date.slice(0, 10)}, ${results.machine.cpus} × ${results.machine.cpuModel}, Node ${results.machine.node}`;
  const setups = Object.values(ScaleSetup);
  // The machine's load beside the curves: on a shared machine it moves them more than anything.
  const m = results.machine;
  const load = `${m.loadStart[0] ?? '?'}${m.loadEnd ? ` → ${m.loadEnd[0] ?? '?'}` : ''}`;
  const sorted = [...curve].sort((a, b) => a.n - b.n);
  return {
    'scale-out.svg': lineChart({
      title: 'Scale-out: messages delivered per second',
      subtitle: `one Mosquitto, clients in processes of their own, all on ${results.machine.cpus} cores; load average ${load}`,
      footer: stamp,
      xLabel: 'open sessions in total (log scale)',
      yLabel: 'messages / s',
      xLog: true,
      series: setups.map((s) => ({
        name: NAMES[s],
        color: COLORS[s],
        points: sorted.map((p): [number, number] => [p.n, p.perSecond[s]]),
        dashed: s === ScaleSetup.Direct1,
      })),
    }),
    'scale-out-cpu.svg': lineChart({
      title: 'Scale-out: CPU per delivered message',
      subtitle: `server processes summed (solid), and with HAProxy's CPU added (dashed); load average ${load}`,
      footer: stamp,
      xLabel: 'open sessions in total (log scale)',
      yLabel: 'µs of CPU per delivered message',
      xLog: true,
      width: 860,
      series: setups.flatMap((s) => [
        {
          name: s === ScaleSetup.Direct1 ? NAMES[s] : `${NAMES[s]}: servers`,
          color: COLORS[s],
          points: sorted.map((p): [number, number] => [p.n, p.serverCpuUsPerMsg[s]]),
        },
        ...(s === ScaleSetup.Direct1
          ? []
          : [
              {
                name: 'incl. HAProxy',
                color: COLORS[s],
                dashed: true,
                points: sorted.map((p): [number, number] => [p.n, p.serverAndProxyCpuUsPerMsg[s]]),
              },
            ]),
      ]),
    }),
  };
}
