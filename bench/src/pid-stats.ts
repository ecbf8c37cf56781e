/**
 * CPU time and memory of a process that is not a bench child (HAProxy, Mosquitto), from Linux's
 * `/proc/<pid>/stat` (utime + stime, in clock ticks of 10 ms) and `/proc/<pid>/status` (VmRSS),
 * and the whole machine's CPU time from `/proc/stat` (what every process used, the bench's and
 * anyone else's).
 * @module
 */
import { readFile } from 'node:fs/promises';

/** Clock ticks per second of `/proc/<pid>/stat` (`getconf CLK_TCK`: 100 on Linux). */
const TICKS_PER_S = 100;

/** User + system CPU time of process `pid` so far, in milliseconds (10 ms steps). */
export async function pidCpuMs(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (in parentheses, which may hold spaces): state is field 3,
  // utime and stime are fields 14 and 15.
  const after = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(after[11]) + Number(after[12])) * 1000) / TICKS_PER_S;
}

/** Resident set size of process `pid` now, in bytes. */
export async function pidRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (kib === undefined) throw new Error(`/proc/${pid}/status has no VmRSS`);
  return Number(kib) * 1024;
}

/** CPU time of the whole machine so far, summed over its cores, in milliseconds (10 ms steps). */
export interface MachineCpu {
  /** Time the cores ran anything (user, nice, system, irq, softirq, steal). */
  busyMs: number;
  /** Busy + idle + iowait. */
  totalMs: number;
}

/** The machine's CPU time so far, from the `cpu` line of `/proc/stat`. */
export async function machineCpu(): Promise<MachineCpu> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  // cpu  user nice system idle iowait irq softirq steal guest guest_nice (guest time is in user).
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1, 9).map(Number);
  const busy = [user, nice, system, irq, softirq, steal].reduce((a: number, b) => a + (b ?? 0), 0);
  const ms = (ticks: number): number => (ticks * 1000) / TICKS_PER_S;
  return { busyMs: ms(busy), totalMs: ms(busy + (idle ?? 0) + (iowait ?? 0)) };
}
