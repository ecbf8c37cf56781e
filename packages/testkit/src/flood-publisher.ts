/**
 * A status flood from a child process (see `flood-publisher-child.mjs`): a steady rate of messages
 * on one topic, each carrying its publication time, however busy the process under test is.
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CHILD = fileURLToPath(new URL('./flood-publisher-child.mjs', import.meta.url));

/** A running flood. */
export interface FloodPublisher {
  /** Stops publishing; resolves with how many messages were sent. */
  stop(): Promise<number>;
  /** Stops it and ends the child. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Starts publishing `ratePerSecond` messages a second to `topic` on the broker at `url`, each payload
 * `Date.now()` in decimal. Resolves once the child is connected and publishing.
 */
export async function startFloodPublisher(url: string, topic: string, ratePerSecond: number): Promise<FloodPublisher> {
  const child: ChildProcess = fork(CHILD, [url, topic, String(ratePerSecond)], { stdio: 'inherit' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const message = (type: string): Promise<{ type: string; sent?: number }> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: { type: string; sent?: number }): void => {
        if (m.type !== type) return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      void exited.then(() => reject(new Error(`flood publisher exited before "${type}"`)));
    });
  await message('ready');
  let closing: Promise<void> | undefined;
  return {
    async stop() {
      const stopped = message('stopped');
      child.send({ type: 'stop' });
      return (await stopped).sent ?? 0;
    },
    close() {
      closing ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          if (child.connected) child.send({ type: 'close' });
          else child.kill();
        }
        await exited;
      })();
      return closing;
    },
  };
}
