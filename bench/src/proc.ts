/**
 * Child processes of the bench, driven over Node's IPC channel: the driver calls a command and
 * awaits its answer; a child can also push events (e.g. "all clients got update 512"). Children
 * run TypeScript through tsx and are stopped by their own pid.
 * @module
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = fileURLToPath(new URL('..', import.meta.url));

interface CallMessage {
  kind: 'call';
  id: number;
  cmd: string;
  args: unknown;
}
interface ReplyMessage {
  kind: 'reply';
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}
interface EventMessage {
  kind: 'event';
  event: string;
  data: unknown;
}
type Message = CallMessage | ReplyMessage | EventMessage;

/** A child did not answer a call in time (it may be busy without bound: a figure can say so). */
export class CallTimeoutError extends Error {
  override name = 'CallTimeoutError';
}

/** A running child, with its calls and events. */
export class Child {
  private nextId = 0;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private readonly listeners = new Map<string, Set<(data: unknown) => void>>();
  private readonly exited: Promise<number | null>;

  private constructor(
    readonly name: string,
    private readonly proc: ChildProcess,
  ) {
    proc.on('message', (m: Message) => this.onMessage(m));
    this.exited = new Promise((resolve) => proc.once('exit', (code) => resolve(code)));
    void this.exited.then((code) => {
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new Error(`${name} exited (code ${String(code)}) during a call`));
      }
      this.pending.clear();
    });
  }

  /**
   * Forks `script` (a .ts file in bench/src) and resolves when it says `ready`. With
   * `BENCH_PROFILE=<dir>`, every child writes a V8 CPU profile there when it exits.
   */
  static async start(name: string, script: string, args: string[] = [], nodeArgs: string[] = []): Promise<Child> {
    const profile = process.env.BENCH_PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE}`] : [];
    const proc = fork(fileURLToPath(new URL(script, import.meta.url)), args, {
      cwd: BENCH_DIR,
      execArgv: ['--import', 'tsx', ...profile, ...nodeArgs],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const child = new Child(name, proc);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${name} did not start within 30 s`)), 30_000);
      child.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
      void child.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${name} exited (code ${String(code)}) before it was ready`));
      });
    });
    return child;
  }

  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Calls a command of the child; rejects with a {@link CallTimeoutError} after `timeoutMs`. */
  call<T>(cmd: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    const id = ++this.nextId;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new CallTimeoutError(`${this.name}: "${cmd}" took longer than ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ kind: 'call', id, cmd, args } satisfies CallMessage);
    });
  }

  /** Sends a fire-and-forget command (no reply awaited). */
  notify(cmd: string, args: unknown = {}): void {
    if (this.proc.connected) this.proc.send({ kind: 'call', id: 0, cmd, args } satisfies CallMessage);
  }

  on(event: string, fn: (data: unknown) => void): () => void {
    let set = this.listeners.get(event);
    if (!set) this.listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  once(event: string, fn: (data: unknown) => void): void {
    const off = this.on(event, (d) => {
      off();
      fn(d);
    });
  }

  /** Asks the child to exit; kills it (by its pid) if it has not within 5 s. */
  async stop(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    if (this.proc.connected) this.proc.send({ kind: 'call', id: 0, cmd: 'exit', args: {} } satisfies CallMessage);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  private onMessage(m: Message): void {
    if (m.kind === 'reply') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`${this.name}: ${m.error ?? 'failed'}`));
    } else if (m.kind === 'event') {
      for (const fn of [...(this.listeners.get(m.event) ?? [])]) fn(m.data);
    }
  }
}

/** Child side: answers calls with `handlers`, and exits on `exit`. Sends `ready` once set up. */
export function serveCalls(
  handlers: Record<string, (args: never) => unknown>,
  onExit: () => Promise<void> | void = () => {},
): void {
  process.on('message', (m: Message) => {
    if (m.kind !== 'call') return;
    if (m.cmd === 'exit') {
      void Promise.resolve(onExit()).finally(() => process.exit(0));
      return;
    }
    const handler = handlers[m.cmd];
    void (async () => {
      try {
        if (!handler) throw new Error(`unknown command "${m.cmd}"`);
        const result = await handler(m.args as never);
        if (m.id !== 0) process.send?.({ kind: 'reply', id: m.id, ok: true, result } satisfies ReplyMessage);
      } catch (err) {
        if (m.id !== 0)
          process.send?.({
            kind: 'reply',
            id: m.id,
            ok: false,
            error: err instanceof Error ? (err.stack ?? err.message) : String(err),
          } satisfies ReplyMessage);
        else console.error(err);
      }
    })();
  });
  // The driver going away (crash, Ctrl-C) must not leave this process behind.
  process.on('disconnect', () => process.exit(0));
  sendEvent('ready', null);
}

/** Child side: pushes an event to the driver. */
export function sendEvent(event: string, data: unknown): void {
  process.send?.({ kind: 'event', event, data } satisfies EventMessage);
}
