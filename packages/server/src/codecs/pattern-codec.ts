/**
 * The pattern codec: text payloads with `{field}` placeholders between literal text, e.g.
 * `genlock {genlock_phase_h} {genlock_phase_v}` (docs/devices.md). Reading is strict (the whole
 * payload must match); a text value containing a separator of the mapping is refused, so no value
 * can forge a payload.
 * @module
 */
import type { FieldValue } from '@live-device-form/protocol';
import type { FieldDescription, PatternTopicDescription } from '../device/types.js';
import { codedTypeError, ServerErrorCode } from '../errors.js';
import { describe, oversized, type TopicCodec } from './codec.js';
import { mappingSeparators, parsePattern, placeholdersOf, type PatternPart } from './pattern-syntax.js';
import { actionToken, payloadTokens, readToken, textProblem, writeToken } from './tokens.js';

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const INTEGER_RE = '[+-]?\\d+';
const NUMBER_RE = '[+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][+-]?\\d+)?';

/** The capture group for one placeholder, given the literal that follows it (`''` at the end). */
function captureFor(f: FieldDescription, next: string): string {
  switch (f.type) {
    case 'integer':
      return `(${INTEGER_RE})`;
    case 'number':
      return `(${NUMBER_RE})`;
    case 'boolean':
    case 'enum':
      return `(${payloadTokens(f)
        .map((t) => t.token)
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|')})`;
    case 'text':
      // A text value never contains the separator after it, so it ends at the separator's first
      // occurrence: one way to match, no backtracking blow-up on hostile payloads.
      return next === '' ? '([^\\u0000]*)' : `((?:(?!${escapeRegExp(next)})[^\\u0000])*)`;
    case 'action':
      // Never in a status pattern (the description checks refuse it); a template is read back like
      // one on the action topic (`action-topics.ts`): there the press is its token, exactly.
      return `(${escapeRegExp(actionToken(f))})`;
    default: {
      const never: never = f;
      return String(never);
    }
  }
}

function must(r: ReturnType<typeof parsePattern>, what: string): PatternPart[] {
  if (!r.ok) throw codedTypeError(ServerErrorCode.InvalidDeviceDescription, `${what}: ${r.message}`);
  return r.parts;
}

/** Creates the codec of a pattern mapping. The description must be valid (see `defineDevice`). */
export function createPatternCodec(
  entry: PatternTopicDescription,
  fields: Readonly<Record<string, FieldDescription>>,
): TopicCodec {
  const field = (name: string): FieldDescription => fields[name] as FieldDescription;
  const statusParts =
    entry.pattern !== undefined && entry.status !== undefined ? must(parsePattern(entry.pattern), 'pattern') : [];
  const setParts =
    entry.template !== undefined && entry.set !== undefined ? must(parsePattern(entry.template), 'template') : [];
  const separators = mappingSeparators([entry.pattern, entry.template]);
  const reads = placeholdersOf(statusParts);
  const writes = placeholdersOf(setParts);
  const regex = new RegExp(
    `^${statusParts
      .map((p, i) => {
        if (p.kind === 'literal') return escapeRegExp(p.text);
        const next = statusParts[i + 1];
        return captureFor(field(p.name), next?.kind === 'literal' ? next.text : '');
      })
      .join('')}$`,
  );

  // A pattern that is one placeholder and nothing else, of a field whose tokens the regex would
  // only match exactly (text, boolean, enum): the whole payload is its token, no regex is run.
  // Numbers keep the regex, which is stricter than `Number` (no `0x10`, no spaces).
  const only = statusParts.length === 1 ? statusParts[0] : undefined;
  const whole = only?.kind === 'field' && ['text', 'boolean', 'enum'].includes(field(only.name).type);

  return {
    kind: 'pattern',
    status: entry.status,
    set: entry.set,
    reads,
    writes,
    decode(payload) {
      const big = oversized(payload);
      if (big) return big;
      // `toString()` is UTF-8; without the argument it skips the encoding's lookup.
      const text = payload.toString();
      const m = whole ? (text.includes('\u0000') ? null : [text, text]) : regex.exec(text);
      if (!m) return { ok: false, message: `payload does not match the pattern ${JSON.stringify(entry.pattern)}` };
      const values: Record<string, FieldValue> = {};
      for (let i = 0; i < reads.length; i++) {
        const name = reads[i] as string;
        const v = readToken(field(name), m[i + 1] ?? '');
        if (v === undefined)
          return { ok: false, message: `field "${name}": ${describe(m[i + 1])} is not a valid ${field(name).type}` };
        values[name] = v;
      }
      return { ok: true, values };
    },
    encode(name, value, freshest) {
      if (entry.set === undefined || !writes.includes(name))
        return { ok: false, message: `field "${name}" is not written by this topic` };
      let payload = '';
      for (const p of setParts) {
        if (p.kind === 'literal') {
          payload += p.text;
          continue;
        }
        const token = writeToken(p.name, field(p.name), p.name === name ? value : freshest(p.name), separators);
        if (typeof token !== 'string') return { ok: false, message: token.error };
        payload += token;
      }
      return { ok: true, topic: entry.set, payload };
    },
    check(name, value) {
      return field(name).type === 'text' && typeof value === 'string' ? textProblem(value, separators) : null;
    },
  };
}
