/**
 * The top self-time functions of a V8 CPU profile (`.cpuprofile`, as `node --cpu-prof` writes it;
 * the bench's children write one each with `--profile` or `BENCH_PROFILE=<dir>`, see proc.ts).
 * Self time is the time a function was on top of the stack, read from the profile's sample
 * intervals and summed over every node of the same function (name, file and line); percentages
 * are of the process's busy time: every sample but `(idle)`. Windows limit it to the samples of
 * the measurement (a child reads {@link profileClock} when it starts and ends), leaving out start-up
 * and set-up. File and line are those the process ran: `dist/*.js` for the SDK, and tsx's
 * transpiled output for the bench's own `.ts` files (their lines do not match the source).
 *
 *   tsx src/profile-summary.ts <file.cpuprofile | dir> [top=5]
 *
 * prints the summary of each profile (of every profile in a directory).
 * @module
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { round } from '@live-device-form/testkit';
import { BENCH_DIR, type Child } from './proc.js';

/** One function of a summary. */
export interface ProfileEntry {
  /** The function's name; V8's own for native and pseudo frames (`(garbage collector)`, `(program)`, `writev`). */
  name: string;
  /** `file:line` (1-based), the path relative to the repository when it is inside it; `''` for native frames. */
  where: string;
  /** Share of the process's busy time, in percent. */
  selfPct: number;
  /** Self time in milliseconds. */
  selfMs: number;
}

/** The top functions of one profile. */
export interface ProfileSummary {
  /** The profile's file name. */
  file: string;
  /** The part summarised, if not the whole profile. */
  windows?: readonly ProfileWindow[];
  /** Milliseconds the process was busy (every sample but `(idle)`) over the profile. */
  busyMs: number;
  top: ProfileEntry[];
}

/** The parts of a `.cpuprofile` read here (Chrome DevTools protocol, `Profiler.Profile`). */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  /** Microseconds on the process's monotonic clock (`process.hrtime`), as {@link profileClock} reads it. */
  startTime: number;
  samples: number[];
  /** Microseconds between one sample and the one before it. */
  timeDeltas: number[];
}

const REPO = join(BENCH_DIR, '..');

function where(url: string, lineNumber: number): string {
  if (!url) return '';
  let path = url.startsWith('file://') ? new URL(url).pathname : url;
  if (path.startsWith(REPO)) path = relative(REPO, path);
  return `${path}:${lineNumber + 1}`;
}

/** Part of a profile, on the profiled process's {@link profileClock}: `[fromUs, toUs]`. */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

/** The clock of a profile's sample times, in microseconds: for a child to mark a window of its own profile. */
export function profileClock(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** The `top` functions of a profile (of the samples in `windows`, if given) by self time. */
export function summarizeProfile(
  profile: CpuProfile,
  file: string,
  top = 5,
  windows?: readonly ProfileWindow[],
): ProfileSummary {
  const byNode = new Map<number, CpuProfile['nodes'][number]>(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, { name: string; where: string; us: number }>();
  let busyUs = 0;
  // A sample's interval is the delta *after* it: V8's first delta is the time from the profile's start.
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (windows && !windows.some((w) => at >= w.fromUs && at <= w.toUs)) continue;
    const node = byNode.get(profile.samples[i] as number);
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (!node || us <= 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') continue;
    busyUs += us;
    const name = functionName || '(anonymous)';
    const place = where(url, lineNumber);
    const key = `${name}\u0000${place}`;
    const entry = selfUs.get(key);
    if (entry) entry.us += us;
    else selfUs.set(key, { name, where: place, us });
  }
  const sorted = [...selfUs.values()].sort((a, b) => b.us - a.us).slice(0, top);
  return {
    file,
    ...(windows ? { windows } : {}),
    busyMs: round(busyUs / 1000),
    top: sorted.map((e) => ({
      name: e.name,
      where: e.where,
      selfPct: busyUs > 0 ? round((e.us / busyUs) * 100) : 0,
      selfMs: round(e.us / 1000),
    })),
  };
}

/** Reads and summarises one `.cpuprofile` file. */
export async function summarizeProfileFile(
  path: string,
  top = 5,
  windows?: readonly ProfileWindow[],
): Promise<ProfileSummary> {
  return summarizeProfile(JSON.parse(await readFile(path, 'utf8')) as CpuProfile, basename(path), top, windows);
}

/**
 * The summary of the profile a child process with id `pid` wrote into `dir` (Node names it
 * `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`); `undefined` if there is none.
 */
export async function summarizeProcessProfile(
  dir: string,
  pid: number,
  top = 5,
  windows?: readonly ProfileWindow[],
): Promise<ProfileSummary | undefined> {
  const files = await readdir(dir).catch(() => [] as string[]);
  // The main thread's (thread 0); tsx's loader thread writes one too.
  const file = files.find((f) => {
    const parts = f.split('.');
    return f.endsWith('.cpuprofile') && parts[3] === String(pid) && parts[4] === '0';
  });
  return file === undefined ? undefined : summarizeProfileFile(join(dir, file), top, windows);
}

/**
 * With profiling on (`--profile` or `BENCH_PROFILE=<dir>`), the summary of a child's profile, once
 * it has exited (Node writes the profile as the process exits); `undefined` when profiling is off.
 */
export async function childProfile(
  child: Child,
  windows?: readonly ProfileWindow[],
  top = 5,
): Promise<ProfileSummary | undefined> {
  const dir = process.env.BENCH_PROFILE;
  if (!dir || child.pid === undefined) return undefined;
  return summarizeProcessProfile(dir, child.pid, top, windows);
}

/** A summary as text: one line per function. */
export function formatSummary(summary: ProfileSummary, label = summary.file): string {
  const lines = summary.top.map(
    (e) => `  ${e.selfPct.toFixed(1).padStart(5)} %  ${e.name}${e.where ? `  ${e.where}` : ''}`,
  );
  return `${label} (busy ${Math.round(summary.busyMs)} ms):\n${lines.join('\n')}`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const target = process.argv[2];
  if (!target) {
    console.error('usage: tsx src/profile-summary.ts <file.cpuprofile | dir> [top=5]');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 5);
  const files = (await stat(target)).isDirectory()
    ? (await readdir(target)).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(target, f))
    : [target];
  for (const file of files.sort()) console.log(`${formatSummary(await summarizeProfileFile(file, top))}\n`);
}
