/**
 * The safe subset of Jinja that Home Assistant MQTT discovery configs use in `value_template`,
 * `command_template` and availability `value_template` (docs/discovery.md, "Templates").
 *
 * Written by hand on purpose: a tokenizer (./template/lexer.ts) and a recursive-descent parser
 * (./template/parser.ts) build a syntax tree that a small interpreter (./template/evaluate.ts)
 * walks. There is no `eval`, no `Function`, and no general template engine: engines such as
 * nunjucks compile templates to JavaScript and resolve `a.b` on real JavaScript objects, so a
 * template can reach prototypes and constructors, and several have had sandbox escapes. Here a
 * template's data are never JavaScript objects: variables are copied into Python-like values
 * (dicts are `Map`s, see ./template/values.ts), attribute and item access look only at those, and
 * the names `__proto__`, `constructor`, `prototype` and any name starting with `_` are refused,
 * literal ones when compiling and computed ones when rendering.
 *
 * Anything outside the subset (an unknown filter, a function call such as `states(…)`, a
 * `{% for %}` or `{% set %}`) does not compile: {@link compileTemplate} says why, and the Home
 * Assistant source makes that entity read-only with one warning. Sizes and work are bounded
 * (./template/limits.ts).
 *
 * @example
 * ```ts
 * const r = compileTemplate("{{ 'ON' if value_json.state == 'on' else 'OFF' }}");
 * if (r.ok) r.template.render({ value: '{"state":"on"}' }); // 'ON'
 * ```
 * @module
 */
import { renderTemplate } from './template/evaluate.js';
import { LexError } from './template/lexer.js';
import { MAX_TEMPLATE_SOURCE } from './template/limits.js';
import { CompileError, parse } from './template/parser.js';
import { TemplateError } from './template/values.js';

export { TemplateError } from './template/values.js';
export {
  MAX_TEMPLATE_DATA_DEPTH,
  MAX_TEMPLATE_NESTING,
  MAX_TEMPLATE_OUTPUT,
  MAX_TEMPLATE_SOURCE,
  MAX_TEMPLATE_STEPS,
} from './template/limits.js';

/**
 * Variables a template may read. `value` is the payload as text; `value_json` the payload parsed.
 * When `value_json` is not given and `value` is a string, it is parsed from `value` as Home
 * Assistant does (Undefined when `value` is not JSON; `1` an int and `1.0` a float). Any other name
 * is a variable too (e.g. a command template's extra variables); values must be JSON-like data.
 */
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
   * Renders the template, stripped of surrounding whitespace as Home Assistant strips it. Throws a
   * {@link TemplateError} when it cannot be evaluated with these variables (an attribute of a
   * missing value, a filter given the wrong type, a bound exceeded).
   */
  render(variables: TemplateVariables): string;
}

/** The result of {@link compileTemplate}. */
export type CompileResult = { ok: true; template: CompiledTemplate } | { ok: false; reason: string };

/**
 * Compiles a Jinja template of the documented safe subset (docs/discovery.md). Never throws: a
 * template outside the subset gives `{ ok: false, reason }`, the reason naming what is unsupported.
 */
export function compileTemplate(source: string): CompileResult {
  if (typeof source !== 'string') return { ok: false, reason: 'a template must be a string' };
  if (source.length > MAX_TEMPLATE_SOURCE) {
    return { ok: false, reason: `the template is longer than ${MAX_TEMPLATE_SOURCE} characters` };
  }
  try {
    // Jinja reads \r\n and \r as \n, in text and in string literals alike.
    const parsed = parse(source.replace(/\r\n?/g, '\n'));
    return {
      ok: true,
      template: {
        source,
        render(variables: TemplateVariables): string {
          try {
            return renderTemplate(parsed, variables);
          } catch (e) {
            if (e instanceof TemplateError) throw e;
            // Nothing else is expected; should anything slip through, it is still the template's failure.
            throw new TemplateError(`the template failed: ${e instanceof Error ? e.message : String(e)}`);
          }
        },
      },
    };
  } catch (e) {
    if (e instanceof CompileError || e instanceof LexError) {
      return { ok: false, reason: `${e.message} (at character ${e.pos + 1})` };
    }
    return { ok: false, reason: `the template does not compile: ${e instanceof Error ? e.message : String(e)}` };
  }
}
