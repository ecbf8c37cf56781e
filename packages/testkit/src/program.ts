/**
 * A program the tests start as a direct child with its files in a temp directory of its own
 * (HAProxy, nginx): what it writes is kept for error messages, and `stop()` awaits its exit and
 * removes the directory.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';

/** A started program. */
export interface ChildProgram {
  readonly child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Whether it has neither exited nor been killed by a signal. */
  running(): boolean;
  /** SIGTERM, then its exit, then its directory removed. Safe twice. */
  stop(): Promise<void>;
}

/** Starts `bin` with `args`; `dir` (its temp directory) goes with it at `stop()`. */
export function startProgram(bin: string, args: readonly string[], dir: string): ChildProgram {
  let out = '';
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  let stopped = false;
  return {
    child,
    output: () => out,
    running,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (running()) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
