/**
 * The safe Jinja subset, behaviour by behaviour. Every expected output here was also checked by
 * rendering the same template with Jinja 3.1.6 (ImmutableSandboxedEnvironment) and Home
 * Assistant's filters (int, float, round, bool, to_json, from_json, is_defined, is_number as in
 * homeassistant/helpers/template/extensions/*.py), with `value_json = json.loads(value)` and the
 * output stripped, as Home Assistant renders MQTT templates; the differences we keep on purpose are
 * in the last group.
 */
import { describe, expect, it } from 'vitest';
import { compileTemplate, TemplateError, type TemplateVariables } from './template.js';

function render(source: string, variables: TemplateVariables = {}): string {
  const r = compileTemplate(source);
  if (!r.ok) throw new Error(`does not compile: ${r.reason}`);
  return r.template.render(variables);
}

function renderError(source: string, variables: TemplateVariables = {}): string {
  const r = compileTemplate(source);
  if (!r.ok) throw new Error(`does not compile: ${r.reason}`);
  try {
    r.template.render(variables);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return (e as Error).message;
  }
  throw new Error('rendered without an error');
}

function reason(source: string): string {
  const r = compileTemplate(source);
  if (r.ok) throw new Error('compiled');
  return r.reason;
}

const v = (value: string): TemplateVariables => ({ value });

type Row = [source: string, variables: TemplateVariables, expected: string];

describe('text, output and comments', () => {
  it.each<Row>([
    ['{{ value }}', v('hello'), 'hello'],
    ['plain text', {}, 'plain text'],
    // Home Assistant strips what a template renders.
    ['  {{ value }}  \n', v(' x '), 'x'],
    ["a {{- ' b ' -}} c", {}, 'a b c'],
    ['a\n  {%- if true %} b {% endif -%}\n  c', {}, 'a b c'],
    ['{%- if true -%}\n  yes\n{%- endif -%}\n', {}, 'yes'],
    ['{%+ if true +%} a {% endif %}', {}, 'a'],
    ['x {# a comment #} y', {}, 'x  y'],
    ['x {#- a comment -#}   y', {}, 'xy'],
    ["{{ '}}' }}", {}, '}}'],
    ["{% if '%}' %}ok{% endif %}", {}, 'ok'],
    ["{{ {'a': {'b': 1}} }}", {}, "{'a': {'b': 1}}"],
    ['line1\r\nline2', {}, 'line1\nline2'],
  ])('%j renders %j', (source, variables, expected) => {
    expect(render(source, variables)).toBe(expected);
  });
});

describe('literals', () => {
  it.each<Row>([
    ["{{ 'a' 'b' }}", {}, 'ab'],
    [
      `{{ "it's" }} {{ 'say "hi"' }} {{ 'tab\\there' }} {{ '\\x41\\u00e9' }} {{ 'back\\\\slash' }} {{ 'keep\\d' }}`,
      {},
      'it\'s say "hi" tab\there Aé back\\slash keep\\d',
    ],
    [
      '{{ 1 }} {{ -1 }} {{ 1.5 }} {{ 1_000 }} {{ 0x1F }} {{ 0o17 }} {{ 0b101 }} {{ 1e3 }} {{ 2.50 }}',
      {},
      '1 -1 1.5 1000 31 15 5 1000.0 2.5',
    ],
    ['{{ true }} {{ True }} {{ false }} {{ none }} {{ None }}', {}, 'True True False None None'],
    ["{{ [1, 'a', none, true, 2.0] }}", {}, "[1, 'a', None, True, 2.0]"],
    ["{{ {'a': 1, 'b': [1, 2], 3: 'x'} }}", {}, "{'a': 1, 'b': [1, 2], 3: 'x'}"],
    ["{{ [1, 2,] }} {{ {'a': 1,} }}", {}, "[1, 2] {'a': 1}"],
    ["{{ ('a', 'b') | length }}", {}, '2'],
  ])('%j renders %j', (source, variables, expected) => {
    expect(render(source, variables)).toBe(expected);
  });
});

describe('variables, value_json and access', () => {
  it.each<Row>([
    ['{{ missing }}|{{ missing is defined }}|{{ missing is undefined }}', {}, '|False|True'],
    ['{{ value_json.a }}|{{ value_json[\'a\'] }}|{{ value_json["a"] }}', v('{"a": 5}'), '5|5|5'],
    ['{{ value_json.a.b.c }}', v('{"a": {"b": {"c": "deep"}}}'), 'deep'],
    ['{{ value_json.missing }}', v('{"a": 5}'), ''],
    ['{{ value_json[0] }} {{ value_json[-1] }} {{ value_json.1 }} {{ value_json[5] }}', v('[10, 20, 30]'), '10 30 20'],
    ['{{ value_json.a.0 }}', v('{"a": [7]}'), '7'],
    ['{{ value[0] }}{{ value[-1] }}', v('abc'), 'ac'],
    ['{{ value_json.x[0] }}', v('{"x": "str"}'), 's'],
    ['{{ value_json.x.y }}', v('{"x": null}'), ''],
    ['{{ value_json.x.y }}', v('{"x": 5}'), ''],
    ['{{ value_json[1.5] }}', v('[1,2]'), ''],
    ["{{ value_json['0'] }}", v('[1,2]'), ''],
    ['{{ value_json[0] }}', v('{"0": "zero"}'), ''],
    // value_json is the payload parsed as Home Assistant parses it: undefined when it is not JSON.
    ['{{ value_json }}', v('not json'), ''],
    ['{{ value_json is defined }}', v('not json'), 'False'],
    ['{{ value_json }}', v('"a string"'), 'a string'],
    ['{{ value_json }}', v('12'), '12'],
    ['{{ value_json }}', v('12.0'), '12.0'],
    ['{{ value_json }}', v('1e400'), 'inf'],
    ['{{ value_json.x }}', v('{"x": 1.0, "y": 2}'), '1.0'],
    ['{{ value_json }}', v('{"b": 1, "a": 2, "1": 3}'), "{'b': 1, 'a': 2, '1': 3}"],
    ['{{ value_json }}', v('{"a": 1, "a": 2}'), "{'a': 2}"],
    ['{{ value_json.x }}', v('{"x": null}'), 'None'],
    ['{{ value_json.x }}', v('{"x": true}'), 'True'],
    ['{{ value_json.x }}', v('{"x": "caf\\u00e9 \\ud83d\\ude00"}'), 'café 😀'],
    [
      '{{ value_json }}',
      v('{"x": "line\\nbreak", "y": "tab\\t", "z": "bell\\u0007", "w": "\\u00a0nb"}'),
      "{'x': 'line\\nbreak', 'y': 'tab\\t', 'z': 'bell\\x07', 'w': '\\xa0nb'}",
    ],
    ['{{ value_json.n + 1 }}', v('{"n": 9007199254740993}'), '9007199254740994'],
    ['{{ value_json.n }}', v('{"n": -0.0}'), '-0.0'],
    ['{{ value_json }}', v('  [1 , 2 ]  '), '[1, 2]'],
    ['{{ value_json }}', v('[1,]'), ''],
    // orjson (Home Assistant's parser) refuses NaN, leading zeros and raw control characters.
    ['{{ value_json }}', v('NaN'), ''],
    ['{{ value_json }}', v('01'), ''],
    ['{{ value_json }}', v('"raw\ttab"'), ''],
    ['{{ value_json }}', v('{"a":1} x'), ''],
    ['{{ value_json }}', v(''), ''],
    // Variables the caller passes: JSON-like data; an integer JavaScript number is an int.
    ['{{ x }} {{ y }} {{ z.k[1] }}', { x: 2, y: 2.5, z: { k: ['a', 'b'] } }, '2 2.5 b'],
    ['{{ value_json.a }}', { value: '{"a": 1}', value_json: { a: 'given' } }, 'given'],
  ])('%j with %j renders %j', (source, variables, expected) => {
    expect(render(source, variables)).toBe(expected);
  });

  it.each<[string, TemplateVariables, string]>([
    ['{{ missing.x }}', {}, "'missing' is undefined"],
    ['{{ value_json.missing.x }}', v('{"a": 5}'), "'dict object' has no attribute 'missing'"],
    ['{{ value_json.x }}', v('not json'), "'value_json' is undefined"],
    ["{{ ('a' if 0).x }}", {}, 'the inline if-expression evaluated to false and no else section was defined'],
  ])('an attribute of undefined fails the render: %j', (source, variables, message) => {
    expect(renderError(source, variables)).toBe(message);
  });

  it('refuses variables that are not JSON data', () => {
    expect(renderError('{{ x }}', { x: new Date(0) })).toMatch(/not JSON data/);
    expect(renderError('{{ x }}', { x: () => 1 })).toMatch(/not JSON data/);
    expect(renderError('{{ x.a }}', { x: { a: new Map() } })).toMatch(/not JSON data/);
    let ran = false;
    const withGetter = Object.defineProperty({}, 'a', {
      enumerable: true,
      get() {
        ran = true;
        return 1;
      },
    });
    expect(renderError('{{ x.a }}', { x: withGetter })).toMatch(/accessor/);
    expect(ran).toBe(false);
  });
});

describe('operators', () => {
  it.each<Row>([
    [
      "{{ 1 + 2 }} {{ 1 + 2.5 }} {{ 'a' + 'b' }} {{ [1] + [2] }} {{ 7 - 10 }} {{ 2 * 3 }} {{ 2 * 3.0 }} {{ 'ab' * 3 }} {{ 3 * 'ab' }} {{ 'x' * -1 }}",
      {},
      '3 3.5 ab [1, 2] -3 6 6.0 ababab ababab',
    ],
    [
      '{{ 7 / 2 }} {{ 6 / 2 }} {{ 7 // 2 }} {{ -7 // 2 }} {{ 7 // -2 }} {{ 7.5 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7.5 % 2 }} {{ -7.5 % 2 }}',
      {},
      '3.5 3.0 3 -4 -4 3.0 1 2 -2 1.5 0.5',
    ],
    ['{{ -value_json.x }} {{ +value_json.x }} {{ -true }} {{ --3 }}', v('{"x": 4}'), '-4 4 -1 3'],
    ["{{ 'a' ~ 1 ~ none ~ true ~ missing ~ 1.0 }}", {}, 'a1NoneTrue1.0'],
    ['{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 10 - 2 - 3 }} {{ 2 * 3 ~ 4 }}', {}, '7 9 5 64'],
    ['{{ -1 | abs }} {{ - 2 | abs }}', {}, '1 2'],
    ['{{ 12345678901234567890 * 10 }} {{ 2 * 9007199254740993 }}', {}, '123456789012345678900 18014398509481986'],
    ['{{ [1, 2, 3] * 2 }}', {}, '[1, 2, 3, 1, 2, 3]'],
    ["{{ value_json['a'] | int + 1 }}", v('{"a": "41"}'), '42'],
    ['{{ value_json.brightness | default(0) | int * 100 // 255 }}', v('{"brightness": 128}'), '50'],
  ])('%j renders %j', (source, variables, expected) => {
    expect(render(source, variables)).toBe(expected);
  });

  it.each([
    ['{{ 1 / 0 }}', 'division by zero'],
    ['{{ 1 // 0 }}', 'integer division or modulo by zero'],
    ['{{ 1.0 / 0 }}', 'float division by zero'],
    ["{{ -'a' }}", "bad operand type for unary -: 'str'"],
    ["{{ 'a' + 1 }}", "unsupported operand type(s) for +: 'str' and 'int'"],
    ["{{ 'n=' ~ 1 + 2 }}", "unsupported operand type(s) for +: 'str' and 'int'"],
    ['{{ 1 + none }}', "unsupported operand type(s) for +: 'int' and 'NoneType'"],
    ['{{ missing + 1 }}', "'missing' is undefined"],
  ])('%j fails the render: %s', (source, message) => {
    expect(renderError(source)).toBe(message);
  });
});

describe('comparisons, logic and inline if', () => {
  it.each<Row>([
    [
      "{{ true + 1 }} {{ true * 2.5 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' == 'a' }} {{ 'a' != 'b' }} {{ none == none }} {{ [1, 2] == [1, 2.0] }} {{ {'a': 1} == {'a': 1} }} {{ 1 == '1' }}",
      {},
      '2 2.5 True True True True True True True False',
    ],
    [
      "{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 2.5 }} {{ 'a' < 'b' }} {{ 'B' < 'a' }} {{ [1, 2] < [1, 3] }} {{ [1] < [1, 0] }} {{ 1 < 2 < 3 }} {{ 1 < 3 < 2 }}",
      {},
      'True True True True True True True True False',
    ],
    ["{{ 'a' < 'ab' }} {{ 'é' > 'z' }} {{ '😀' > '\\uffff' }}", {}, 'True True True'],
    ['{{ missing == missing }} {{ missing == none }} {{ missing != 1 }}', {}, 'True False True'],
    [
      "{{ 'a' in 'cat' }} {{ 'x' in 'cat' }} {{ 2 in [1, 2] }} {{ 2.0 in [1, 2] }} {{ 'a' in {'a': 1} }} {{ 'b' not in {'a': 1} }} {{ 1 in missing }} {{ 'k' in value_json }}",
      v('{"k": 1}'),
      'True False True True True True False True',
    ],
    [
      "{{ 1 and 2 }} {{ 0 and 2 }} {{ 0 or 'x' }} {{ '' or [] }} {{ not 0 }} {{ not 'a' }} {{ not missing }} {{ none or 0 }}",
      {},
      '2 0 x [] True False True 0',
    ],
    [
      "{{ 'a' if true else 'b' }} {{ 'a' if false else 'b' }} {{ 'a' if false }}|{{ 1 if 0 else 2 if 1 else 3 }}",
      {},
      'a b |2',
    ],
    ["{{ ('a' if 0) ~ 'b' }}", {}, 'b'],
  ])('%j renders %j', (source, variables, expected) => {
    expect(render(source, variables)).toBe(expected);
  });

  it.each([
    ["{{ 1 < 'a' }}", "'<' not supported between instances of 'int' and 'str'"],
    ['{{ missing < 1 }}', "'missing' is undefined"],
    ["{{ 1 in 'abc' }}", "'in <string>' requires string as left operand, not int"],
    ['{{ 1 in 5 }}', "argument of type 'int' is not iterable"],
    ['{{ 1 in none }}', "argument of type 'NoneType' is not iterable"],
  ])('%j fails the render: %s', (source, message) => {
    expect(renderError(source)).toBe(message);
  });
});

describe('tests (is …)', () => {
  it.each<Row>([
    [
      "{{ x is none }} {{ x is not none }} {{ 1 is number }} {{ 1.5 is number }} {{ true is number }} {{ '1' is number }} {{ 'a' is string }} {{ 1 is string }} {{ missing is number }}",
      { x: null },
      'True False True True True False True False False',
    ],
    [
      '{{ 1 is integer }} {{ 1.0 is integer }} {{ 1.0 is float }} {{ true is boolean }} {{ 1 is boolean }} {{ true is true }} {{ 0 is false }} {{ {} is mapping }} {{ [] is mapping }}',
      {},
      'True False True True False True False True False',
    ],
    ['{{ not value_json.x is defined }}', v('{}'), 'True'],
    ['{{ value is string }} {{ value_json is number }}', v('5'), 'True True'],
    [
      "{{ 'x' | is_number }} {{ '1.5' | is_number }} {{ 'inf' | is_number }} {{ '1' is is_number }}",
      {},
      'False True False True',
    ],
  ])('%j renders %j', (source, variables, expected) => {
    expect(render(source, variables)).toBe(expected);
  });
});

describe('{% if %} blocks', () => {
  it.each<Row>([
    ['{% if value_json.x is defined %}{{ value_json.x }}{% endif %}', v('{"x": 3}'), '3'],
    ['{% if value_json.x is defined %}{{ value_json.x }}{% endif %}', v('{}'), ''],
    ["{% if value == 'a' %}A{% elif value == 'b' %}B{% elif value == 'c' %}C{% else %}other{% endif %}", v('b'), 'B'],
    ["{% if value == 'a' %}A{% elif value == 'b' %}B{% else %}other{% endif %}", v('z'), 'other'],
    ['{% if 1 %}{% if 0 %}x{% else %}y{% endif %}z{% endif %}', {}, 'yz'],
    ['{% if value %}t{% endif %}', v(''), ''],
  ])('%j with %j renders %j', (source, variables, expected) => {
    expect(render(source, variables)).toBe(expected);
  });

  it.each([
    ['{% if x %}', '{% if %} without {% endif %}'],
    ['{% endif %}', '{% endif %} without {% if %}'],
    ['{% if x %}{% else %}{% elif y %}{% endif %}', '{% elif %} after {% else %}'],
    ['{% if x if y else z %}{% endif %}', "unexpected 'if'"],
  ])('%j does not compile', (source, message) => {
    expect(reason(source)).toContain(message);
  });
});

describe('filters', () => {
  it.each<Row>([
    [
      "{{ value | int }} {{ '42.7' | int }} {{ ' 12 ' | int }} {{ '1_000' | int }} {{ 3.99 | int }} {{ -3.99 | int }} {{ true | int }} {{ 'x' | int(0) }} {{ none | int(-1) }} {{ '0x1A' | int(base=16) }} {{ '0x1A' | int(0, 0) }} {{ 'z' | int(default=5) }} {{ '1e3' | int }}",
      v('7'),
      '7 42 12 1000 3 -3 1 0 -1 26 26 5 1000',
    ],
    ["{{ 'inf' | int(9) }} {{ 'nan' | int(8) }}", {}, '9 8'],
    [
      "{{ '3.5' | float }} {{ 2 | float }} {{ ' 1e-3 ' | float }} {{ 'inf' | float }} {{ '-Infinity' | float }} {{ 'nan' | float }} {{ true | float }} {{ 'x' | float(0) }} {{ none | float('n/a') }} {{ '1_0.5' | float }} {{ '.5' | float }} {{ '5.' | float }}",
      {},
      '3.5 2.0 0.001 inf -inf nan 1.0 0 n/a 10.5 0.5 5.0',
    ],
    [
      "{{ 2.5 | round }} {{ 3.5 | round }} {{ -2.5 | round }} {{ 2.675 | round(2) }} {{ 0.125 | round(2) }} {{ 0.375 | round(2) }} {{ 2.25 | round(1) }} {{ 1.15 | round(1) }} {{ 21.456 | round(1) }} {{ '21.44' | round(1) }} {{ 5 | round(1) }} {{ 1234.5 | round(-2) }} {{ 1250 | round(-2) }}",
      {},
      '2 4 -2 2.67 0.12 0.38 2.2 1.1 21.5 21.4 5.0 1200.0 1200.0',
    ],
    [
      '{{ 5 | round(2) }} {{ 5 | round }} {{ 1e300 | round(2) }} {{ 0.5 | round }} {{ 1.5 | round }} {{ 1.005 | round(2) }} {{ 123.456 | round(-1) }} {{ -0.5 | round }}',
      {},
      '5.0 5 1e+300 0 2 1.0 120.0 0',
    ],
    [
      "{{ 2.41 | round(1, 'ceil') }} {{ 2.49 | round(1, 'floor') }} {{ -2.41 | round(1, 'ceil') }} {{ 2.3 | round(0, 'ceil') }} {{ 2.7 | round(0, 'floor') }} {{ 2.3 | round(0, 'half') }} {{ 2.3 | round(1, 'half') }} {{ 2.8 | round(1, 'half') }} {{ 'x' | round(1, default='d') }} {{ 7.123 | round(2, 'common') }}",
      {},
      '2.5 2.4 -2.4 3 2 2 2.5 3.0 d 7.12',
    ],
    ["{{ 1.5 | round(1.0, default='bad') }}", {}, 'bad'],
    [
      "{{ missing | default('d') }} {{ none | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ 0 | d('zero', boolean=true) }} {{ 'x' | d('y') }} {{ missing | default }}|",
      {},
      'd None  d zero x |',
    ],
    [
      "{{ 'MiXeD' | lower }} {{ 'MiXeD' | upper }} {{ true | lower }} {{ 1.5 | upper }} {{ missing | lower }}|{{ none | lower }}",
      {},
      'mixed MIXED true 1.5 |none',
    ],
    ["{{ ' a b ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 5 | trim }}|{{ '\\n\\ta\\u00a0' | trim }}|", {}, 'a b|a|5|a|'],
    [
      "{{ 'a-b-c' | replace('-', '+') }} {{ 'a-b-c' | replace('-', '', 1) }} {{ 'abc' | replace('', '.') }} {{ 'abc' | replace('', '.', 2) }} {{ 12 | replace('1', 'x') }}",
      {},
      'a+b+c ab-c .a.b.c. .a.bc x2',
    ],
    ['{{ -3 | abs }} {{ -3.5 | abs }} {{ true | abs }} {{ (0 - 4) | abs }}', {}, '3 3.5 1 4'],
    [
      "{{ 'on' | bool }} {{ 'OFF' | bool }} {{ ' Yes ' | bool }} {{ 1 | bool }} {{ 0.0 | bool }} {{ 'enable' | bool }} {{ 'maybe' | bool(false) }} {{ none | bool('n') }}",
      {},
      'True False True True False True False n',
    ],
    [
      "{{ 'abc' | length }} {{ [1, 2] | length }} {{ {'a': 1} | length }} {{ missing | length }} {{ 'é😀' | length }} {{ 'abc' | count }}",
      {},
      '3 2 1 0 2 3',
    ],
    [
      '{{ value_json | tojson }}',
      v('{"b": "<a href=\'x\'>&</a>", "a": [1, 2.0, null, true, false], "c": "caf\\u00e9", "d": {"z": 1, "y": 1e20}}'),
      '{"a": [1, 2.0, null, true, false], "b": "\\u003ca href=\\u0027x\\u0027\\u003e\\u0026\\u003c/a\\u003e", "c": "caf\\u00e9", "d": {"y": 1e+20, "z": 1}}',
    ],
    ['{{ value_json | tojson(2) }}', v('{"b": [1, 2], "a": {}}'), '{\n  "a": {},\n  "b": [\n    1,\n    2\n  ]\n}'],
    ["{{ 'x' | tojson }} {{ 1.5 | tojson }} {{ none | tojson }} {{ 3 | tojson }}", {}, '"x" 1.5 null 3'],
    ["{{ [1, 'a', {'k': [none]}] | tojson }}", {}, '[1, "a", {"k": [null]}]'],
    [
      '{{ value_json | to_json }}',
      v('{"b": "caf\\u00e9", "a": [1, 2.0, null, true], "c": "q\\"uote\\\\"}'),
      '{"b":"café","a":[1,2.0,null,true],"c":"q\\"uote\\\\"}',
    ],
    ['{{ value_json | to_json(sort_keys=true) }}', v('{"b": 1, "a": 2}'), '{"a":2,"b":1}'],
    [
      '{{ value_json | to_json(pretty_print=true) }}',
      v('{"b": [1, 2], "a": {}}'),
      '{\n  "b": [\n    1,\n    2\n  ],\n  "a": {}\n}',
    ],
    ['{{ value_json | to_json(ensure_ascii=true) }}', v('{"b": "caf\\u00e9"}'), '{"b": "caf\\u00e9"}'],
    ["{{ 'a\\u2028b' | tojson }} {{ 'a\\u2028b' | to_json }}", {}, '"a\\u2028b" "a\u2028b"'],
    [
      '{{ 1 | string }}{{ 1.0 | string }}{{ none | string }}{{ missing | string }}{{ [1] | string }}',
      {},
      '11.0None[1]',
    ],
    ['{{ value | from_json }}', v('{"a": [1, 2.5]}'), "{'a': [1, 2.5]}"],
    ['{{ (value | from_json).a }}', v('{"a": 3}'), '3'],
    ["{{ 'nope' | from_json('d') }}", {}, 'd'],
    ['{{ value_json.x | is_defined }}', v('{"x": 1}'), '1'],
    [
      "{{ 'hello world foo bar' | truncate(12) }}|{{ 'hello world foo bar' | truncate(12, true) }}|{{ 'hello world foo bar' | truncate(12, true, '', 0) }}|{{ 'short' | truncate(3, true, '', 0) }}|{{ 'hello' | truncate(3) }}",
      {},
      'hello...|hello wor...|hello world |sho|hello',
    ],
  ])('%j renders %j', (source, variables, expected) => {
    expect(render(source, variables)).toBe(expected);
  });

  it.each<[string, TemplateVariables, string]>([
    // Home Assistant's conversion filters raise when the input is bad and no default is given.
    ["{{ 'abc' | int }}", {}, "int got invalid input 'abc' but no default was specified"],
    ['{{ none | int }}', {}, "int got invalid input 'None' but no default was specified"],
    ["{{ 'abc' | float }}", {}, "float got invalid input 'abc' but no default was specified"],
    ["{{ '' | float }}", {}, "float got invalid input '' but no default was specified"],
    ['{{ [1] | float }}', {}, "float got invalid input '[1]' but no default was specified"],
    ["{{ 'x' | round }}", {}, "round got invalid input 'x' but no default was specified"],
    ["{{ 'maybe' | bool }}", {}, "bool got invalid input 'maybe' but no default was specified"],
    ["{{ 'nope' | from_json }}", {}, "from_json got invalid input 'nope' but no default was specified"],
    // Undefined is not bad input but an error of its own, default or not (as in Jinja's do_int).
    ['{{ missing | int }}', {}, "'missing' is undefined"],
    ['{{ missing | int(0) }}', {}, "'missing' is undefined"],
    ['{{ value_json.x | int }}', v('{"x": 1e400}'), 'cannot convert float infinity to integer'],
    ['{{ value_json.y | is_defined }}', v('{"x": 1}'), "'dict object' has no attribute 'y'"],
    ["{{ 'x' | abs }}", {}, 'bad operand type for abs()'],
    ['{{ 5 | length }}', {}, "object of type 'int' has no len()"],
    ['{{ missing | tojson }}', {}, 'Object of type Undefined is not JSON serializable'],
  ])('%j fails the render: %s', (source, variables, message) => {
    expect(renderError(source, variables)).toBe(message);
  });

  it.each([
    ['{{ value | int(1, 2, 3) }}', "the filter 'int' takes at most 2 argument(s)"],
    ["{{ value | default(nope='x') }}", "the filter 'default' has no argument 'nope'"],
    ["{{ value | default(boolean=true, 'x') }}", 'a positional argument follows a keyword argument'],
    ["{{ value | replace('a') }}", "the filter 'replace' needs 2 argument(s)"],
    ['{{ value is defined(1) }}', "the test 'defined' takes no argument"],
  ])('%j does not compile', (source, message) => {
    expect(reason(source)).toContain(message);
  });
});

describe('outside the subset: a compile error naming what is unsupported', () => {
  it.each([
    ["{{ value | regex_replace('a', 'b') }}", "the filter 'regex_replace' is not supported"],
    ["{{ value_json.x | timestamp_custom('%H') }}", "the filter 'timestamp_custom' is not supported"],
    ['{{ value is divisibleby 3 }}', "the test 'divisibleby' is not supported"],
    ["{{ states('sensor.x') }}", "'states' is not supported"],
    ['{{ states.sensor.x.state }}', "'states' is not supported"],
    ['{{ this.state }}', "'this' is not supported"],
    ["{{ now().strftime('%Y') }}", "'now' is not supported"],
    ['{% set ns = namespace(x=1) %}', '{% set %} is not supported'],
    ['{{ namespace(x=1) }}', "'namespace' is not supported"],
    ['{% for x in value_json %}{{ x }}{% endfor %}', '{% for %} is not supported'],
    ['{% macro m() %}{% endmacro %}', '{% macro %} is not supported'],
    ['{% raw %}x{% endraw %}', '{% raw %} is not supported'],
    ['{% frobnicate %}', 'unknown tag {% frobnicate %}'],
    ['{{ float(value) }}', 'calling functions (float(…)) is not supported'],
    ["{{ value.split(';')[0] }}", 'calling methods (.split(…)) is not supported'],
    ["{{ value_json['update'].get('progress', 'null') }}", 'calling methods (.get(…)) is not supported'],
    ['{{ (value | int)(1) }}', 'calling the result of the filter'],
    ['{{ value[1:2] }}', 'slices are not supported'],
    ['{{ 2 ** 8 }}', 'the ** operator is not supported'],
    ['{{ a, b }}', 'tuples are not supported'],
    ['{{ }}', 'empty {{ }}'],
    ['{{ value', 'unclosed {{'],
    ['{# never closed', 'missing end of comment tag'],
    ['{{ value | }}', 'expected a filter name'],
    ['{{ 1 + }}', 'expected an expression'],
    ['{{ $x }}', 'unexpected character "$"'],
    ["{{ '\\N{BULLET}' }}", '\\N{…} escapes are not supported'],
  ])('%j', (source, message) => {
    expect(reason(source)).toContain(message);
  });

  it('says where, and never throws for any input', () => {
    expect(reason('{{ value | nope }}')).toMatch(/at character 12/);
    for (const source of [
      '{',
      '{{',
      '{%',
      '}}',
      '{{{{',
      "{{ '",
      '{{ ( }}',
      '{{ [ }}',
      '{% if %}',
      '\u0000',
      42 as unknown as string,
    ]) {
      expect(() => compileTemplate(source)).not.toThrow();
    }
  });
});

describe('differences from Jinja kept on purpose (docs/discovery.md, "Templates")', () => {
  it('a dict key wins over a dict method of the same name (Jinja would give the method)', () => {
    expect(render('{{ value_json.items }}', v('{"items": 1}'))).toBe('1');
  });

  it('a tuple literal is a list, and prints as one', () => {
    expect(render('{{ (1, 2) }}')).toBe('[1, 2]');
  });

  it('string formatting with % fails the render', () => {
    expect(renderError("{{ '%s' % 1 }}")).toBe('string formatting with % is not supported');
  });
});
