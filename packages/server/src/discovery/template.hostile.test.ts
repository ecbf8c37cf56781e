/**
 * Hostile templates and payloads: a discovery config is untrusted, and so is every payload a
 * template reads. Refused names do not compile (literal) or fail the render (computed); even
 * without that refusal nothing reaches a JavaScript prototype, because template data are Maps and
 * lists copied from the input; every bound (source, nesting, output, strings, integers, work)
 * stops the template with an error instead of letting it spin or allocate.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  compileTemplate,
  MAX_TEMPLATE_NESTING,
  MAX_TEMPLATE_OUTPUT,
  MAX_TEMPLATE_SOURCE,
  TemplateError,
  type TemplateVariables,
} from './template.js';

function compiled(source: string) {
  const r = compileTemplate(source);
  if (!r.ok) throw new Error(`does not compile: ${r.reason}`);
  return r.template;
}

function reason(source: string): string {
  const r = compileTemplate(source);
  if (r.ok) throw new Error(`compiled: ${source}`);
  return r.reason;
}

function renderError(source: string, variables: TemplateVariables = {}): string {
  try {
    compiled(source).render(variables);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return (e as Error).message;
  }
  throw new Error('rendered without an error');
}

afterEach(() => {
  // Nothing a template did may leave a mark on the shared prototypes.
  expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('polluted');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe('refused names', () => {
  it.each([
    ['{{ value_json.__proto__ }}', "the attribute '__proto__' is refused"],
    ['{{ value_json.constructor }}', "the attribute 'constructor' is refused"],
    ['{{ value_json.prototype }}', "the attribute 'prototype' is refused"],
    ['{{ value_json._private }}', "the attribute '_private' is refused"],
    ["{{ value_json.constructor.constructor('return process')() }}", "the attribute 'constructor' is refused"],
    ["{{ ''.__class__ }}", "the attribute '__class__' is refused"],
    ["{{ ''.__class__.__mro__[1].__subclasses__() }}", "the attribute '__class__' is refused"],
    ["{{ value_json['__proto__'] }}", "the key '__proto__' is refused"],
    ['{{ value_json["constructor"] }}', "the key 'constructor' is refused"],
    ["{{ value_json['_x'] }}", "the key '_x' is refused"],
    ['{{ __builtins__ }}', "the name '__builtins__' is refused"],
    ['{{ _secret }}', "the name '_secret' is refused"],
    ['{{ constructor }}', "the name 'constructor' is refused"],
    ["{{ {'__proto__': 1} }}", "the key '__proto__' is refused"],
    ['{{ value | attr("__class__") }}', "the filter 'attr' is not supported"],
    ['{{ self.__init__.__globals__ }}', "'self' is not supported"],
    ["{{ cycler.__init__.__globals__.os.popen('id').read() }}", "'cycler' is not supported"],
  ])('%j does not compile: %s', (source, message) => {
    expect(reason(source)).toContain(message);
  });

  it.each([
    ['{{ value_json[value] }}', '__proto__'],
    ['{{ value_json[value] }}', 'constructor'],
    ['{{ value_json[value] }}', 'prototype'],
    ['{{ value_json[value] }}', '_hidden'],
    ["{{ value_json[value ~ ''] }}", '__proto__'],
    ['{{ {value: 1} }}', '__proto__'],
  ])('%j with value %j fails the render', (source, value) => {
    expect(renderError(source, { value, value_json: { a: 1 } })).toBe(`the key '${value}' is refused`);
  });
});

describe('nothing reaches a JavaScript prototype', () => {
  it('object methods and properties are not template attributes', () => {
    const t = compiled(
      '{{ value_json.toString }}|{{ value_json.hasOwnProperty }}|{{ value_json.valueOf }}|{{ value.length }}|{{ value_json.a.map }}|{{ toString }}|{{ hasOwnProperty }}',
    );
    expect(t.render({ value: '{"a": [1]}' })).toBe('||||||');
  });

  it('"__proto__" in a payload is an ordinary key, pollutes nothing and is still refused by name', () => {
    const payload = '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}, "a": 1}';
    expect(compiled('{{ value_json }}').render({ value: payload })).toBe(
      "{'__proto__': {'polluted': 1}, 'constructor': {'prototype': {'polluted': 2}}, 'a': 1}",
    );
    expect(compiled('{{ value_json.polluted }}|{{ value_json.a }}').render({ value: payload })).toBe('|1');
    expect(compiled('{{ value_json | tojson }}').render({ value: payload })).toBe(
      '{"__proto__": {"polluted": 1}, "a": 1, "constructor": {"prototype": {"polluted": 2}}}',
    );
  });

  it("the caller's data with an own __proto__ key (JSON.parse makes one) is read as data", () => {
    const value_json = JSON.parse('{"__proto__": {"polluted": 1}, "b": 2}') as unknown;
    expect(
      compiled('{{ value_json.polluted }}|{{ value_json.b }}|{{ value_json | length }}').render({ value_json }),
    ).toBe('|2|2');
  });

  it('rendering leaves the variables as they were', () => {
    const variables = Object.freeze({ value: 'x', value_json: Object.freeze({ a: Object.freeze([1, 2]) }) });
    expect(compiled("{{ value_json.a + [3] }}{{ {'k': value_json} }}").render(variables)).toBe(
      "[1, 2, 3]{'k': {'a': [1, 2]}}",
    );
    expect(variables.value_json).toEqual({ a: [1, 2] });
  });

  it('an accessor among the variables themselves is never run', () => {
    let ran = false;
    const variables = Object.defineProperty({}, 'value', {
      enumerable: true,
      get() {
        ran = true;
        return 'x';
      },
    }) as TemplateVariables;
    expect(renderError('{{ value }}', variables)).toMatch(/accessor/);
    expect(compiled('{{ value_json is defined }}').render(variables)).toBe('False');
    expect(ran).toBe(false);
  });
});

describe('bounds', () => {
  it(`a source longer than ${MAX_TEMPLATE_SOURCE} characters does not compile`, () => {
    expect(reason('x'.repeat(MAX_TEMPLATE_SOURCE + 1))).toBe(
      `the template is longer than ${MAX_TEMPLATE_SOURCE} characters`,
    );
    expect(compileTemplate('x'.repeat(MAX_TEMPLATE_SOURCE)).ok).toBe(true);
  });

  it.each([
    ['parentheses', `{{ ${'('.repeat(1000)}1${')'.repeat(1000)} }}`],
    ['lists', `{{ ${'['.repeat(1000)}1${']'.repeat(1000)} }}`],
    ['unary minus', `{{ ${'-'.repeat(2000)}1 }}`],
    ['not', `{{ ${'not '.repeat(900)}1 }}`],
    ['a chain of +', `{{ 1${' + 1'.repeat(900)} }}`],
    ['a chain of attributes', `{{ value_json${'.a'.repeat(1000)} }}`],
    ['a chain of filters', `{{ 1${' | abs'.repeat(600)} }}`],
    ['inline ifs', `{{ ${'1 if 1 else '.repeat(300)}1 }}`],
    [
      '{% if %} blocks',
      `${'{% if 1 %}'.repeat(MAX_TEMPLATE_NESTING + 1)}x${'{% endif %}'.repeat(MAX_TEMPLATE_NESTING + 1)}`,
    ],
  ])('nesting deeper than the bound does not compile: %s', (_, source) => {
    expect(source.length).toBeLessThanOrEqual(MAX_TEMPLATE_SOURCE);
    expect(reason(source)).toMatch(new RegExp(`nested deeper than ${MAX_TEMPLATE_NESTING}`));
  });

  it('nesting up to the bound compiles', () => {
    const depth = MAX_TEMPLATE_NESTING - 2;
    expect(compiled(`{{ ${'('.repeat(depth)}1${')'.repeat(depth)} }}`).render({})).toBe('1');
    expect(compiled(`${'{% if 1 %}'.repeat(depth)}x${'{% endif %}'.repeat(depth)}`).render({})).toBe('x');
  });

  it('a string too long to build fails before it is built', () => {
    expect(renderError("{{ 'x' * 1000000000000 }}")).toMatch(/builds a string longer than 65536/);
    expect(renderError('{{ value * 100000 }}', { value: 'abc' })).toMatch(/builds a string longer/);
    expect(renderError("{{ value | replace('a', value) }}", { value: 'a'.repeat(1000) })).toMatch(
      /builds a string longer/,
    );
    expect(renderError('{{ ([1] * 100000) }}')).toMatch(/list longer/);
    expect(renderError('{{ [value] * 1000000000000000 }}', { value: 'x' })).toMatch(/list longer/);
  });

  it(`the output is at most ${MAX_TEMPLATE_OUTPUT} characters`, () => {
    const value = 'v'.repeat(3000);
    expect(compiled('{{ value }}'.repeat(21)).render({ value })).toHaveLength(63000);
    expect(renderError('{{ value }}'.repeat(22), { value })).toBe(
      `the output is longer than ${MAX_TEMPLATE_OUTPUT} characters`,
    );
    const big = JSON.stringify(Array.from({ length: 20000 }, (_, i) => i));
    expect(renderError('{{ value_json }}', { value: big })).toMatch(/longer than 65536/);
    expect(renderError('{{ value_json | tojson }}', { value: big })).toMatch(/longer than 65536/);
  });

  it('a render runs out of steps rather than doing unbounded work', () => {
    const big = JSON.stringify(Array.from({ length: 20000 }, (_, i) => i));
    const once = '{% if value_json == value_json %}{% endif %}';
    expect(compiled(once).render({ value: big })).toBe('');
    expect(renderError(once.repeat(15), { value: big })).toMatch(/needs more than 200000 steps/);
    // `in` stops at the first match; a search that never matches visits every item, every time.
    const found = '{% if 1 in value_json %}{% endif %}'.repeat(20) + '{{ value_json | length }}';
    expect(compiled(found).render({ value: big })).toBe('20000');
    expect(renderError('{% if -1 in value_json %}{% endif %}'.repeat(20), { value: big })).toMatch(/steps/);
  });

  it('stripping a long output with spaces inside is one pass, not one per space', () => {
    // A regular expression such as /\s+$/ retries every run of spaces to its end: seconds per
    // render here, so five renders would run far past the test's timeout; a loop takes a millisecond.
    const t = compiled("x{{ ' ' * 60000 }}x");
    for (let i = 0; i < 5; i++) expect(t.render({})).toHaveLength(60002);
  });

  it('integers are bounded like Python bounds their text', () => {
    const n = '9'.repeat(3000);
    expect(renderError('{{ value_json.n * value_json.n }}', { value: `{"n": ${n}}` })).toMatch(/more than 4300 digits/);
    expect(compiled('{{ value_json }}').render({ value: '9'.repeat(4301) })).toBe('');
    expect(compiled('{{ value_json }}').render({ value: '9'.repeat(4300) })).toBe('9'.repeat(4300));
  });

  it('deeply nested JSON is not JSON, and deeply nested variables are refused', () => {
    const deep = `${'['.repeat(100000)}${']'.repeat(100000)}`;
    expect(compiled('{{ value_json is defined }}').render({ value: deep })).toBe('False');
    let nested: unknown = 1;
    for (let i = 0; i < 1000; i++) nested = [nested];
    expect(renderError('{{ x }}', { x: nested })).toBe("variable 'x' is nested too deeply");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(renderError('{{ x }}', { x: cyclic })).toBe("variable 'x' is nested too deeply");
  });
});

describe('never throws anything but TemplateError', () => {
  it('compiles or refuses random templates, and renders them or fails with a TemplateError', () => {
    // A fixed-seed generator over the characters and words templates are made of.
    let seed = 16;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const atoms = [
      '{{',
      '}}',
      '{%',
      '%}',
      '{#',
      '#}',
      '-',
      '+',
      '*',
      '/',
      '//',
      '%',
      '~',
      '(',
      ')',
      '[',
      ']',
      '{',
      '}',
      '.',
      ',',
      ':',
      '|',
      '==',
      '<',
      "'",
      '"',
      '\\',
      ' ',
      'value',
      'value_json',
      'if',
      'else',
      'elif',
      'endif',
      'not',
      'and',
      'or',
      'in',
      'is',
      'defined',
      'none',
      'int',
      'float',
      'round',
      'default',
      'tojson',
      'replace',
      '1',
      '0',
      '2.5',
      '-1',
      'x',
      '__proto__',
      'true',
      'length',
    ];
    let compiledCount = 0;
    for (let i = 0; i < 3000; i++) {
      const source = Array.from({ length: 1 + next(14) }, () => atoms[next(atoms.length)]).join('');
      const r = compileTemplate(source);
      if (!r.ok) continue;
      compiledCount++;
      for (const value of ['1', '{"x": [1, 2.5, "a"]}', 'not json', '']) {
        try {
          r.template.render({ value });
        } catch (e) {
          if (!(e instanceof TemplateError)) throw new Error(`${source} threw ${String(e)}`, { cause: e });
        }
      }
    }
    expect(compiledCount).toBeGreaterThan(100);
  });
});
