/**
 * CPU time and memory of a process that is not a bench child (HAProxy, Mosquitto), from Linux's
 * `/proc/<pid>/stat` (utime + stime, in clock ticks of 10 ms) and `/proc/<pid>/status` (VmRSS).
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
