/**
 * How this source uses Home Assistant's `value_template` and `command_template` (docs/discovery.md,
 * "Templates"): compiled once with `compileTemplate` when the config is read, rendered in the custom
 * codecs' `decode`/`encode`. A template outside the supported subset is reported when compiled (the
 * entity is then skipped or read-only, with a note); one that fails on a given payload only drops
 * that one value.
 * @module
 */
import { compileTemplate, type TemplateVariables } from '../template.js';

/** A status payload as templates see it: its text, and its JSON (parsed once, when first asked). */
export interface PayloadView {
  readonly text: string;
  /** The payload parsed as JSON, or `undefined` when it is not JSON. */
  json(): unknown;
}

/** A view of `payload` for one decode. */
export function payloadView(payload: Buffer): PayloadView {
  const text = payload.toString('utf8');
  let parsed: { value: unknown } | undefined;
  return {
    text,
    json() {
      if (parsed === undefined) {
        try {
          parsed = { value: JSON.parse(text) as unknown };
        } catch {
          parsed = { value: undefined };
        }
      }
      return parsed.value;
    },
  };
}

/** Reads the state text out of a payload: the payload itself, or what its value template renders; `undefined` if that fails. */
export type StateReader = (view: PayloadView) => string | undefined;

/** Builds a payload from a command value: the value as text, or what its command template renders; `undefined` if that fails. */
export type CommandWriter = (value: string | number) => string | undefined;

/** A compiled reader or writer, or why the template could not be compiled. */
export type Compiled<T> = { ok: true; fn: T } | { ok: false; reason: string };

/** The state reader of a `value_template` (or of none: the payload as it is). */
export function stateReader(template: string | undefined): Compiled<StateReader> {
  if (template === undefined) return { ok: true, fn: (view) => view.text };
  const c = compileTemplate(template);
  if (!c.ok) return { ok: false, reason: c.reason };
  const t = c.template;
  return {
    ok: true,
    fn(view) {
      // `value_json` is parsed from `value` by the template module, as Home Assistant does it: an
      // int and a float stay apart (`1.0` prints as `1.0`), which `JSON.parse` would lose.
      const vars: TemplateVariables = { value: view.text };
      try {
        // Nothing rendered (a key this message does not carry, on a state topic several entities
        // share): the message says nothing about this entity, as Home Assistant ignores it.
        const text = t.render(vars);
        return text === '' ? undefined : text;
      } catch {
        return undefined;
      }
    },
  };
}

/** The command writer of a `command_template` (or of none: the value as text). */
export function commandWriter(template: string | undefined): Compiled<CommandWriter> {
  if (template === undefined) return { ok: true, fn: (value) => String(value) };
  const c = compileTemplate(template);
  if (!c.ok) return { ok: false, reason: c.reason };
  const t = c.template;
  return {
    ok: true,
    fn(value) {
      try {
        // Home Assistant renders a command template with the typed value (a number stays a number).
        return t.render({ value } as TemplateVariables);
      } catch {
        return undefined;
      }
    },
  };
}
