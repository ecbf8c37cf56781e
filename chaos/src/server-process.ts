/**
 * The run's handle on a server process (`server-child.ts`): start it, wait until it is ready, ask
 * for its stats, close it, terminate it with SIGTERM (it drains), or kill it with SIGKILL.
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerChildConfig, ServerChildMessage, ServerChildStats } from './server-child.js';

const CHAOS_DIR = fileURLToPath(new URL('..', import.meta.url));
const CHILD = fileURLToPath(new URL('./server-child.ts', import.meta.url));

/** A running server process. */
export class ServerProcess {
  private readonly exited: Promise<void>;
  private waiters: ((m: ServerChildMessage) => boolean)[] = [];

  private constructor(
    private readonly child: ChildProcess,
    readonly epoch: string,
    readonly startedAt: number,
  ) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('exit', () => resolve());
    });
    child.on('message', (m: ServerChildMessage) => {
      this.waiters = this.waiters.filter((w) => !w(m));
    });
  }

  /** Starts a server process and resolves when it is listening and every device is online. */
  static async start(config: ServerChildConfig, timeoutMs = 30_000): Promise<ServerProcess> {
    const child = fork(CHILD, [JSON.stringify(config)], {
      cwd: CHAOS_DIR,
      execArgv: ['--import', 'tsx'],
      // CHAOS_SERVER_TSCONFIG points the server process at another build of the SDK (e.g. a patch
      // under test), through that tsconfig's `paths`.
      env: { ...process.env, TSX_TSCONFIG_PATH: process.env.CHAOS_SERVER_TSCONFIG ?? `${CHAOS_DIR}tsconfig.json` },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const startedAt = performance.now();
    const epoch = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the chaos server did not become ready within ${timeoutMs} ms`));
      }, timeoutMs);
      child.on('message', (m: ServerChildMessage) => {
        if (m.type !== 'ready') return;
        clearTimeout(timer);
        resolve(m.epoch);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the chaos server exited before it was ready (${code ?? signal})`));
      });
    });
    return new ServerProcess(child, epoch, startedAt);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private request<T>(message: object, pick: (m: ServerChildMessage) => T | undefined, timeoutMs = 10_000): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer to ${JSON.stringify(message)} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push((m) => {
        const v = pick(m);
        if (v === undefined) return false;
        clearTimeout(timer);
        resolve(v);
        return true;
      });
      this.child.send(message);
    });
  }

  /** The process's own counters (informational). */
  stats(): Promise<ServerChildStats> {
    return this.request({ type: 'stats' }, (m) => (m.type === 'stats' ? m.stats : undefined));
  }

  /** Closes the server gracefully (sessions end with 1001) and waits for the process to exit. */
  async close(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.send({ type: 'close' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }

  /**
   * Sends SIGTERM (the process drains: health 503, writes in flight acked, sessions closed 1001)
   * and waits for it to exit; SIGKILL after `timeoutMs`. Resolves with the drain's length, ms.
   */
  async terminate(timeoutMs = 15_000): Promise<number> {
    const started = performance.now();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return 0;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
    return performance.now() - started;
  }

  /** Kills the process with SIGKILL (nothing flushed, no close frames) and waits for it to exit. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }
}
