/**
 * STUB (issue 16, being replaced by the full safe Jinja subset): `{{ value }}`, `{{ value_json.a.b }}`
 * and `{{ value_json['a'] }}` only. The API below is the one the full version keeps.
 * @module
 */

/** Variables a template may read. `value` is the payload as text; `value_json` the payload parsed. */
export interface TemplateVariables {
  value?: string;
  value_json?: unknown;
  [name: string]: unknown;
}

/** A compiled template. */
export interface CompiledTemplate {
  /** The source it was compiled from. */
  readonly source: string;
  /**
   * Renders the template. Throws a {@link TemplateError} when it cannot be evaluated with these
   * variables (an attribute of a missing value, a filter given the wrong type).
   */
  render(variables: TemplateVariables): string;
}

/** The result of {@link compileTemplate}. */
export type CompileResult = { ok: true; template: CompiledTemplate } | { ok: false; reason: string };

/** Why a template could not be rendered. */
export class TemplateError extends Error {
  override name = 'TemplateError';
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Compiles a Jinja template of the documented safe subset (docs/discovery.md). Never throws: a
 * template outside the subset gives `{ ok: false, reason }`.
 */
export function compileTemplate(source: string): CompileResult {
  const m = /^\s*\{\{\s*(value|value_json)((?:\.[A-Za-z_][A-Za-z0-9_]*|\[\s*'[^']*'\s*\])*)\s*\}\}\s*$/.exec(source);
  if (!m) return { ok: false, reason: 'outside the supported subset (stub)' };
  const path = [...m[2]!.matchAll(/\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*'([^']*)'\s*\]/g)].map((x) => x[1] ?? x[2]!);
  if (path.some((p) => FORBIDDEN.has(p))) return { ok: false, reason: 'forbidden attribute' };
  const root = m[1]!;
  return {
    ok: true,
    template: {
      source,
      render(vars) {
        let v: unknown = vars[root];
        for (const p of path) {
          if (v === null || typeof v !== 'object' || !Object.hasOwn(v, p)) throw new TemplateError(`no attribute ${p}`);
          v = (v as Record<string, unknown>)[p];
        }
        if (v === undefined || v === null) return '';
        return typeof v === 'object' ? JSON.stringify(v) : String(v);
      },
    },
  };
}
