/**
 * The bounds of the safe template subset (docs/discovery.md, "Templates"): a discovery config is
 * untrusted input, so its templates are bounded in size, nesting and work, and so is what they
 * produce.
 * @module
 */

/** Longest template source accepted, in characters; a longer one does not compile. */
export const MAX_TEMPLATE_SOURCE = 4096;

/**
 * Deepest nesting accepted when compiling: `{% if %}` blocks inside one another, and an
 * expression's tree (parentheses, operators, filters, `.x`/`[…]` chains).
 */
export const MAX_TEMPLATE_NESTING = 64;

/** Longest string a render may build or output, in characters (64 KiB). */
export const MAX_TEMPLATE_OUTPUT = 64 * 1024;

/**
 * Work budget of one render, in steps: one per expression node evaluated, plus one per element
 * visited when comparing, searching, printing or serializing data and one per 64 characters of
 * each string built. A render that runs out fails with a TemplateError.
 */
export const MAX_TEMPLATE_STEPS = 200_000;

/** Deepest JSON accepted for `value_json`, `from_json` and variables passed in; deeper is not JSON. */
export const MAX_TEMPLATE_DATA_DEPTH = 256;

/** Longest integer accepted, in decimal digits (Python's own limit for converting text to int). */
export const MAX_TEMPLATE_INT_DIGITS = 4300;
