/**
 * A program the tests start as a direct child with its files in a temp directory of its own
 * (HAProxy, nginx): the testkit's {@link spawnWatched} (output kept, stopped with the other
 * children by `stopCliProcesses`), plus a `stop()` that awaits its exit and removes the directory.
 * @module
 */
import { rm } from 'node:fs/promises';
import { spawnWatched } from './cli-process.js';

/** A started program. */
export interface ChildProgram {
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** Whether it has neither exited nor been killed by a signal. */
  running(): boolean;
  /** SIGTERM, then its exit, then its directory removed. Safe twice. */
  stop(): Promise<void>;
}

/** Starts `bin` with `args`; `dir` (its temp directory) goes with it at `stop()`. */
export function startProgram(bin: string, args: readonly string[], dir: string): ChildProgram {
  const watched = spawnWatched(bin, [...args], { name: bin });
  const { child } = watched;
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  let stopped = false;
  return {
    output: () => watched.stdout() + watched.stderr(),
    running,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (running()) {
        child.kill('SIGTERM');
        await watched.exited;
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
