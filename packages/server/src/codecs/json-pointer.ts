/**
 * JSON pointers (RFC 6901): parsing, reading and writing a document at one, and whether two of them
 * overlap. A leaf module: the JSON codec and the description checks both use it.
 * @module
 */
import { FORBIDDEN_KEYS } from '@live-device-form/protocol';

/**
 * Parses a JSON pointer (RFC 6901): `""` (the whole document) or `/a/b` with `~1` for `/` and `~0`
 * for `~`. `__proto__`, `constructor` and `prototype` segments are refused.
 */
export function parseJsonPointer(pointer: string): { ok: true; segments: string[] } | { ok: false; message: string } {
  if (pointer === '') return { ok: true, segments: [] };
  if (!pointer.startsWith('/')) return { ok: false, message: 'a JSON pointer is "" or starts with "/"' };
  const segments: string[] = [];
  for (const raw of pointer.slice(1).split('/')) {
    if (/~(?![01])/.test(raw))
      return { ok: false, message: `bad escape in ${JSON.stringify(raw)} (use ~0 for "~", ~1 for "/")` };
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (FORBIDDEN_KEYS.has(seg)) return { ok: false, message: `segment ${JSON.stringify(seg)} is not allowed` };
    segments.push(seg);
  }
  return { ok: true, segments };
}

/** The value at a parsed pointer, or `undefined` when the document has none there. Own keys only. */
export function getPointer(doc: unknown, segments: readonly string[]): unknown {
  let cur = doc;
  for (const seg of segments) {
    if (Array.isArray(cur)) {
      if (!/^(0|[1-9]\d*)$/.test(seg)) return undefined;
      cur = cur[Number(seg)];
    } else if (cur !== null && typeof cur === 'object') {
      cur = Object.hasOwn(cur, seg) ? (cur as Record<string, unknown>)[seg] : undefined;
    } else return undefined;
  }
  return cur;
}

/**
 * Puts `value` at a parsed pointer of `root`, creating the objects on the way. Returns the new
 * root: `value` itself for the empty pointer, else `root`, changed in place.
 */
export function setPointer(root: unknown, segments: readonly string[], value: unknown): unknown {
  if (segments.length === 0) return value;
  let cur = root as Record<string, unknown>;
  for (const seg of segments.slice(0, -1)) {
    const next = cur[seg];
    cur = (next !== null && typeof next === 'object' ? next : (cur[seg] = {})) as Record<string, unknown>;
  }
  cur[segments[segments.length - 1] as string] = value;
  return root;
}

/** Whether two parsed pointers overlap: one is the other or lies inside it (`/a` and `/a/b`). */
export function pointersOverlap(a: readonly string[], b: readonly string[]): boolean {
  return isPrefix(a, b) || isPrefix(b, a);
}

function isPrefix(a: readonly string[], b: readonly string[]): boolean {
  return a.length <= b.length && a.every((s, i) => s === b[i]);
}
