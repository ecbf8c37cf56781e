/**
 * Memory readings of a process. `settledMemory` collects garbage first (the process must run with
 * `--expose-gc`), so two readings differ by what is really held.
 * @module
 */

/** One reading, in bytes. */
export interface MemoryReading {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}

export function memoryNow(): MemoryReading {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

/** Full GCs (with turns of the event loop between them, so finalizers and weak callbacks run), then a reading. */
export async function settledMemory(rounds = 4): Promise<MemoryReading> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < rounds; i++) {
    gc();
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return memoryNow();
}
