/**
 * The syntax of payload patterns and templates: `{field}` placeholders between literal text, `{{`
 * and `}}` for literal braces. One tokeniser for the pattern codec and the description checks, and
 * one definition of a mapping's separators for both. A leaf module: it knows nothing of device
 * descriptions.
 * @module
 */
import { FIELD_NAME_PATTERN, FORBIDDEN_KEYS } from '@live-device-form/protocol';

/** A piece of a payload pattern: literal text or a `{field}` placeholder. */
export type PatternPart = { kind: 'literal'; text: string } | { kind: 'field'; name: string };

/**
 * Parses a payload pattern or template: `{field}` placeholders between literal text, `{{` and `}}`
 * for literal braces. Two placeholders need literal text between them (else the payload could not
 * be split), and each field appears at most once.
 */
export function parsePattern(text: string): { ok: true; parts: PatternPart[] } | { ok: false; message: string } {
  const parts: PatternPart[] = [];
  let literal = '';
  const seen = new Set<string>();
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '\u0000') return { ok: false, message: 'must not contain a NUL character' };
    if (c === '{' && text[i + 1] === '{') {
      literal += '{';
      i++;
    } else if (c === '}' && text[i + 1] === '}') {
      literal += '}';
      i++;
    } else if (c === '}') {
      return { ok: false, message: `unmatched "}" at ${i} (write "}}" for a literal brace)` };
    } else if (c === '{') {
      const end = text.indexOf('}', i + 1);
      if (end < 0) return { ok: false, message: `unclosed "{" at ${i}` };
      const name = text.slice(i + 1, end);
      if (!FIELD_NAME_PATTERN.test(name) || FORBIDDEN_KEYS.has(name))
        return { ok: false, message: `"{${name}}" is not a valid placeholder` };
      if (seen.has(name)) return { ok: false, message: `"{${name}}" appears twice` };
      const prev = parts[parts.length - 1];
      if (literal === '' && prev?.kind === 'field') {
        return { ok: false, message: `"{${prev.name}}" and "{${name}}" need literal text between them` };
      }
      if (literal !== '') parts.push({ kind: 'literal', text: literal });
      literal = '';
      parts.push({ kind: 'field', name });
      seen.add(name);
      i = end;
    } else {
      literal += c;
    }
  }
  if (literal !== '') parts.push({ kind: 'literal', text: literal });
  if (seen.size === 0) return { ok: false, message: 'has no {field} placeholder' };
  return { ok: true, parts };
}

/** The field names of a parsed pattern's placeholders, in order. */
export function placeholdersOf(parts: readonly PatternPart[]): string[] {
  return parts.flatMap((p) => (p.kind === 'field' ? [p.name] : []));
}

/**
 * The separators of a pattern: every literal that follows a placeholder. A text value containing
 * one could forge a different payload (or decode into different fields), so it is refused.
 */
export function separatorsOf(parts: readonly PatternPart[]): string[] {
  const out: string[] = [];
  parts.forEach((p, i) => {
    if (p.kind === 'literal' && parts[i - 1]?.kind === 'field') out.push(p.text);
  });
  return out;
}

/**
 * The separators of a whole pattern mapping: those of its pattern and of its template, each once,
 * in that order. A text that is absent or does not parse adds none (the description check reports
 * it). The pattern codec refuses text values containing one; the description check refuses payload
 * tokens containing one.
 */
export function mappingSeparators(texts: readonly (string | undefined)[]): string[] {
  const seps = new Set<string>();
  for (const text of texts) {
    if (text === undefined) continue;
    const r = parsePattern(text);
    if (r.ok) for (const s of separatorsOf(r.parts)) seps.add(s);
  }
  return [...seps];
}
