/**
 * The problems a description check finds, one `path: problem` line each, e.g.
 * `fields.genlock_phase_h.min: expected a number`.
 * @module
 */
import type { z } from 'zod';

/** `['topics', 0, 'pattern']` → `topics[0].pattern`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out === '' ? '(root)' : out;
}

/** The lines found so far, in the order they were found. @internal */
export class Issues {
  readonly list: string[] = [];

  add(path: readonly PropertyKey[], message: string): void {
    this.list.push(`${formatPath(path)}: ${message}`);
  }

  /** Adds zod's issues under `prefix`; an unknown key is named in its path. */
  fromZod(prefix: readonly PropertyKey[], error: z.ZodError): void {
    for (const iss of error.issues) {
      if (iss.code === 'unrecognized_keys') {
        for (const key of iss.keys) this.add([...prefix, ...iss.path, key], 'unknown key');
      } else {
        this.add([...prefix, ...iss.path], iss.message);
      }
    }
  }
}
