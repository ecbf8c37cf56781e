/**
 * The device of the scale-out figure (11), shared by its server processes (scale-server-proc.ts)
 * and its publisher (scale-publisher.ts): `bench`, with integer counters `n0`, `n1`, … (read-only),
 * each on its own status topic under a prefix, and its availability on `<prefix>/online`.
 * @module
 */

/** The status topic of counter `i` under `prefix`. */
export function counterTopic(prefix: string, i: number): string {
  return `${prefix}/n${i}`;
}

/** The availability topic under `prefix` (`1` online, `0` offline). */
export function onlineTopic(prefix: string): string {
  return `${prefix}/online`;
}

/** The device description (as `parseDeviceDescription` reads it) with `counters` counter fields. */
export function scaleDevice(prefix: string, counters: number): unknown {
  return {
    id: 'bench',
    availability: { topic: onlineTopic(prefix), online: '1', offline: '0' },
    topics: Array.from({ length: counters }, (_, i) => ({ status: counterTopic(prefix, i), pattern: `{n${i}}` })),
    fields: Object.fromEntries(
      Array.from({ length: counters }, (_, i) => [
        `n${i}`,
        { label: `Counter ${i}`, type: 'integer', min: 0, max: 1e12, writable: false },
      ]),
    ),
  };
}
