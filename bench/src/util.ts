/**
 * Small helpers shared by the figures.
 * @module
 */
import type { Socket } from 'node:net';

/** `promise`, or a rejection naming `what` after `ms`. The timer never outlives the race. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A copy of `items` in a uniformly random order (Fisher–Yates), for sample orders that vary per cycle. */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** Waits `ms` — for pacing between samples only, never to wait for something to happen. */
export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Reads a pacing link: the clients' process writes, as 4-byte big-endian integers, the highest
 * update every reader has received; `onLatest` gets the last whole one of each chunk (figures 3
 * and 11). Sets `TCP_NODELAY`; a socket error destroys the socket.
 */
export function readPacing(socket: Socket, onLatest: (n: number) => void): void {
  socket.setNoDelay(true);
  let rest = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    const buf = rest.length ? Buffer.concat([rest, chunk]) : chunk;
    let at = 0;
    let last = -1;
    for (; at + 4 <= buf.length; at += 4) last = buf.readUInt32BE(at);
    rest = Buffer.from(buf.subarray(at));
    if (last >= 0) onLatest(last);
  });
  socket.on('error', () => socket.destroy());
}
