/**
 * The `live-device-server` bin as shipped (`packages/server/dist/cli.js`), spawned with plain
 * `node`, its stdout lines awaited. For the CLI's tests.
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Where the built bin is. */
export const CLI_PATH = fileURLToPath(new URL('../../server/dist/cli.js', import.meta.url));

/** Builds protocol and server (`tsc -b`, incremental: a no-op when dist is current); throws with tsc's output on failure. */
export function buildCli(): void {
  const tsc = createRequire(`${ROOT}package.json`).resolve('typescript/bin/tsc');
  const r = spawnSync(process.execPath, [tsc, '-b', 'packages/protocol', 'packages/server'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`build failed:\n${r.stdout}${r.stderr}`);
}

/**
 * {@link buildCli}, then the element bundle the CLI serves (`packages/server/scripts/element-bundle.mjs`:
 * compiles and bundles the element, copies it to `packages/server/dist/assets/`).
 */
export function buildCliWithBundle(): void {
  buildCli();
  const r = spawnSync(process.execPath, [`${ROOT}packages/server/scripts/element-bundle.mjs`], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`element bundle failed:\n${r.stdout}${r.stderr}`);
}

/** A running `live-device-server`. */
export interface CliProcess {
  child: ChildProcess;
  /** Everything written to stdout so far. */
  stdout: () => string;
  /** Everything written to stderr (the log) so far. */
  stderr: () => string;
  /** Resolves with the first line of `stream` (stdout by default) matching, or rejects if the process exits first. */
  line(match: RegExp, stream?: 'stdout' | 'stderr'): Promise<string>;
  /** Resolves with the exit code (`null` when killed by a signal). */
  exited: Promise<number | null>;
}

const running = new Set<CliProcess>();

/** Options of {@link runCli}. */
export interface RunCliOptions {
  /**
   * An installed bin to run instead of the workspace's `dist/cli.js` (e.g. an app's
   * `node_modules/.bin/live-device-server`), executed as it is (its shebang). Defaults to
   * `node` {@link CLI_PATH}.
   */
  bin?: string;
  /** The working directory. Defaults to the workspace root. */
  cwd?: string;
}

/** Spawns the bin with `args`, and `env` over this process's environment. */
export function runCli(args: string[], env: Record<string, string> = {}, options: RunCliOptions = {}): CliProcess {
  const [command, argv] = options.bin === undefined ? [process.execPath, [CLI_PATH, ...args]] : [options.bin, args];
  return spawnWatched(command, argv, { cwd: options.cwd, env, name: 'live-device-server' });
}

/** Options of {@link spawnWatched}. */
export interface SpawnWatchedOptions {
  /** The working directory. Defaults to the workspace root. */
  cwd?: string | undefined;
  /** Variables over this process's environment. Defaults to none. */
  env?: Record<string, string>;
  /** What error messages call the process. Defaults to the command. */
  name?: string;
}

/**
 * Spawns any command with its output collected and its lines awaitable ({@link CliProcess}); it is
 * stopped by {@link stopCliProcesses} like the bin. For the CLI and for other servers a test runs
 * as a child (the consumer suite's backend apps).
 */
export function spawnWatched(command: string, argv: string[], options: SpawnWatchedOptions = {}): CliProcess {
  const name = options.name ?? command;
  const child = spawn(command, argv, {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const text = { stdout: '', stderr: '' };
  let waiters: { match: RegExp; stream: 'stdout' | 'stderr'; resolve: (l: string) => void }[] = [];
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.on('data', (d: Buffer) => {
      text[stream] += d.toString();
      for (const l of text[stream].split('\n').slice(0, -1)) {
        waiters = waiters.filter((w) => {
          if (w.stream !== stream || !w.match.test(l)) return true;
          w.resolve(l);
          return false;
        });
      }
    });
  }
  const cli: CliProcess = {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    exited,
    line(match, stream = 'stdout') {
      const seen = text[stream].split('\n').find((l) => match.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, stream, resolve });
        void exited.then((code) =>
          reject(new Error(`${name} exited (${code}) before printing ${match}:\n${text.stdout}\n${text.stderr}`)),
        );
      });
    },
  };
  running.add(cli);
  return cli;
}

/** Waits for `listening on ws://127.0.0.1:PORT/live` (or `wss://`) and returns the URL. */
export async function listeningUrl(cli: CliProcess): Promise<string> {
  const line = await cli.line(/^listening on /);
  const url = /^listening on (wss?:\/\/127\.0\.0\.1:\d+\/live)$/.exec(line)?.[1];
  if (!url) throw new Error(`unexpected line: ${line}`);
  return url;
}

/** Kills (SIGKILL) every process {@link runCli} or {@link spawnWatched} started that still runs, and waits for them; for `afterEach`. */
export async function stopCliProcesses(): Promise<void> {
  for (const cli of running) {
    if (cli.child.exitCode === null && cli.child.pid !== undefined) cli.child.kill('SIGKILL');
    await cli.exited;
  }
  running.clear();
}
