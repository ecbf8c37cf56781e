/**
 * A real Mosquitto for integration tests: started as a direct child on a free loopback port with a
 * config file of its own, ready when its port accepts a TCP connection (polled), stopped by its PID.
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { freePort } from './free-port.js';

/**
 * `$MOSQUITTO_BIN` if set (and nothing else then), else where Debian installs it, then `$PATH`.
 * `undefined` when Mosquitto is not installed.
 */
export function findMosquitto(): string | undefined {
  const forced = process.env.MOSQUITTO_BIN;
  if (forced) return existsSync(forced) ? forced : undefined;
  const candidates = [
    '/usr/sbin/mosquitto',
    '/usr/bin/mosquitto',
    '/usr/local/sbin/mosquitto',
    '/usr/local/bin/mosquitto',
  ];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'mosquitto'));
  return candidates.find((p) => existsSync(p));
}

/**
 * Whether the Mosquitto suites run: always in CI (where a missing binary must fail them, never skip
 * them), elsewhere only when Mosquitto is installed.
 */
export const runMosquittoTests = Boolean(process.env.CI) || findMosquitto() !== undefined;

/** A running (or stopped, restartable) Mosquitto. */
export interface Mosquitto {
  readonly host: string;
  readonly port: number;
  /** `mqtt://127.0.0.1:PORT`. */
  readonly url: string;
  /** PID of the current process, `undefined` while stopped. */
  readonly pid: number | undefined;
  /** Sends `signal` to the process and waits for it to exit (`SIGKILL`: a crash, nothing flushed). */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Freezes the process (`SIGSTOP`): connections stay open, nothing is read or answered. */
  freeze(): void;
  /** Starts it again on the same port, with the same config (no state survives: `persistence false`). */
  start(): Promise<void>;
  /** Stops it and removes its temp dir. Safe to call twice. */
  close(): Promise<void>;
}

async function waitForPort(
  host: string,
  port: number,
  child: ChildProcess,
  timeoutMs: number,
  log: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `mosquitto exited (${child.exitCode ?? child.signalCode}) before accepting connections:\n${log()}`,
      );
    }
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline)
      throw new Error(`mosquitto did not accept connections on ${host}:${port} within ${timeoutMs} ms:\n${log()}`);
    // Polling interval between connection attempts (readiness is the accepted connection, not this delay).
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Options of {@link startMosquitto}. */
export interface MosquittoOptions {
  /**
   * The lines of an ACL file (`acl_file`), e.g. `['topic write cy-vp4/#', 'topic read cy-vp4/a']`:
   * rules before any `user` line apply to anonymous clients. Mosquitto grants a subscription the ACL
   * does not let the client read and then silently drops its messages. Defaults to none (no ACL).
   */
  acl?: readonly string[];
}

/**
 * Starts Mosquitto. Throws when it is not installed (a test failure: in CI that must never be a
 * skip) or does not come up.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<Mosquitto> {
  const bin = findMosquitto();
  if (!bin) {
    throw new Error(
      'mosquitto is not installed: apt-get install -y mosquitto mosquitto-clients (the integration tests need a real broker)',
    );
  }
  const host = '127.0.0.1';
  const port = await freePort(host);
  const dir = await mkdtemp(join(tmpdir(), 'ldf-mosquitto-'));
  const config = join(dir, 'mosquitto.conf');
  const acl = join(dir, 'acl');
  if (options.acl) {
    await writeFile(acl, [...options.acl, ''].join('\n'), { mode: 0o644 });
    // Started as root, Mosquitto drops to the `mosquitto` user before it reads the ACL file.
    await chmod(dir, 0o755);
  }
  await writeFile(
    config,
    [
      `listener ${port} ${host}`,
      'allow_anonymous true',
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      ...(options.acl ? [`acl_file ${acl}`] : []),
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let output = '';
  let closed = false;

  const start = async (): Promise<void> => {
    if (child) throw new Error('mosquitto is already running');
    output = '';
    const proc = spawn(bin, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    proc.on('exit', () => {
      if (child === proc) child = undefined;
    });
    try {
      await waitForPort(host, port, proc, 10_000, () => output);
    } catch (err) {
      proc.kill('SIGKILL');
      child = undefined;
      throw err;
    }
  };

  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const proc = child;
    if (!proc || proc.pid === undefined) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    process.kill(proc.pid, signal);
    // A frozen process only dies by SIGKILL; a SIGTERM would wait for SIGCONT.
    if (signal !== 'SIGKILL' && signal !== 'SIGCONT') process.kill(proc.pid, 'SIGCONT');
    await exited;
    child = undefined;
  };

  await start();
  return {
    host,
    port,
    url: `mqtt://${host}:${port}`,
    get pid() {
      return child?.pid;
    },
    stop,
    freeze() {
      if (child?.pid !== undefined) process.kill(child.pid, 'SIGSTOP');
    },
    start,
    async close() {
      if (closed) return;
      closed = true;
      await stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** `mosquitto_sub` as an independent witness: its `-d` output shows each PUBLISH with its QoS. */
export interface MosquittoSub {
  /** Every line it printed (debug lines and `topic payload` lines). */
  readonly lines: string[];
  /** Resolves with the first line (printed already or to come) that matches. */
  waitFor(match: RegExp, timeoutMs?: number): Promise<string>;
  close(): Promise<void>;
}

/** Starts `mosquitto_sub -d -v -q 1 -t TOPIC` and resolves once its SUBACK came back. */
export async function startMosquittoSub(port: number, topic: string): Promise<MosquittoSub> {
  const candidates = ['/usr/bin/mosquitto_sub', '/usr/local/bin/mosquitto_sub'];
  for (const dir of (process.env.PATH ?? '').split(delimiter)) if (dir) candidates.push(join(dir, 'mosquitto_sub'));
  const bin = candidates.find((p) => existsSync(p));
  if (!bin) throw new Error('mosquitto_sub is not installed: apt-get install -y mosquitto-clients');
  // Line-buffered (stdbuf, coreutils): piped, mosquitto_sub would hold its output in a block buffer.
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', topic, '-q', '1', '-d', '-v'];
  const stdbuf = ['/usr/bin/stdbuf', '/bin/stdbuf'].find((p) => existsSync(p));
  const child = stdbuf
    ? spawn(stdbuf, ['-oL', bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  let rest = '';
  child.stdout.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      waiters = waiters.filter((w) => {
        if (!w.match.test(line)) return true;
        w.resolve(line);
        return false;
      });
    }
  });
  const sub: MosquittoSub = {
    lines,
    waitFor(match, timeoutMs = 10_000) {
      const seen = lines.find((l) => match.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const done = (line: string): void => {
          clearTimeout(timer);
          resolve(line);
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w.resolve !== done);
          reject(
            new Error(
              `mosquitto_sub printed no line matching ${match} within ${timeoutMs} ms; printed:\n${lines.join('\n')}`,
            ),
          );
        }, timeoutMs);
        waiters.push({ match, resolve: done });
      });
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      await exited;
    },
  };
  try {
    await sub.waitFor(/^Subscribed \(mid: \d+\): 1$/);
  } catch (err) {
    await sub.close();
    throw err;
  }
  return sub;
}
