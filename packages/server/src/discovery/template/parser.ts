/**
 * The recursive-descent parser of the safe subset: Jinja's grammar and operator precedence for
 * what the subset supports, and a compile error naming everything else (a `{% for %}`, a function
 * call, an unknown filter, a refused attribute name) so that nothing outside the subset is ever
 * evaluated.
 * @module
 */
import type { BinaryOperator, CompareOperator, Expr, Node } from './ast.js';
import { FILTERS, TESTS } from './filters.js';
import { type Piece, type Token, lex } from './lexer.js';
import { MAX_TEMPLATE_NESTING } from './limits.js';
import { type Value, isRefusedName } from './values.js';

/** Why a template does not compile; `pos` is the offset in the source where it was noticed. */
export class CompileError extends Error {
  constructor(
    message: string,
    readonly pos: number,
  ) {
    super(message);
  }
}

/** A parsed template: its body and the variable names it reads. */
export interface ParsedTemplate {
  readonly body: Node[];
  readonly names: ReadonlySet<string>;
}

/** Statements Jinja has and the subset does not. */
const STATEMENTS = new Set([
  'for',
  'endfor',
  'set',
  'endset',
  'macro',
  'endmacro',
  'call',
  'endcall',
  'filter',
  'endfilter',
  'with',
  'endwith',
  'include',
  'import',
  'from',
  'extends',
  'block',
  'endblock',
  'raw',
  'endraw',
  'autoescape',
  'endautoescape',
  'do',
  'break',
  'continue',
  'trans',
]);

/** Globals of Jinja and Home Assistant that need its state or run code: refused by name. */
const GLOBALS = new Set([
  'states',
  'state_attr',
  'is_state',
  'this',
  'hass',
  'now',
  'utcnow',
  'namespace',
  'range',
  'dict',
  'lipsum',
  'cycler',
  'joiner',
  'loop',
  'self',
  'caller',
  'varargs',
  'kwargs',
  'super',
  'pi',
  'e',
  'tau',
]);

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else', 'elif']);
const CONSTANTS = new Map<string, Value>([
  ['true', true],
  ['True', true],
  ['false', false],
  ['False', false],
  ['none', null],
  ['None', null],
]);
const COMPARE_OPS = new Set(['==', '!=', '<', '>', '<=', '>=']);

/** Parses a template. Throws a {@link CompileError} (or the lexer's error) for anything outside the subset. */
export function parse(source: string): ParsedTemplate {
  const names = new Set<string>();
  const root: Node[] = [];
  // Open {% if %} blocks, innermost last; `body` is where the next node goes.
  const open: { node: Extract<Node, { kind: 'if' }>; pos: number; hasElse: boolean }[] = [];
  let body = root;
  const pieces: Piece[] = lex(source);
  for (const piece of pieces) {
    if (piece.type === 'text') {
      body.push({ kind: 'text', text: piece.text });
      continue;
    }
    const p = new ExpressionParser(piece.tokens, piece.pos, names);
    if (piece.type === 'output') {
      body.push({ kind: 'output', expr: p.output() });
      continue;
    }
    const keyword = p.blockKeyword();
    const current = open[open.length - 1];
    switch (keyword) {
      case 'if': {
        if (open.length >= MAX_TEMPLATE_NESTING) {
          throw new CompileError(`{% if %} blocks nested deeper than ${MAX_TEMPLATE_NESTING}`, piece.pos);
        }
        const node: Extract<Node, { kind: 'if' }> = { kind: 'if', branches: [], otherwise: [] };
        node.branches.push({ test: p.blockTest(), body: [] });
        body.push(node);
        open.push({ node, pos: piece.pos, hasElse: false });
        body = node.branches[0]!.body;
        break;
      }
      case 'elif':
      case 'else':
      case 'endif': {
        if (!current) throw new CompileError(`{% ${keyword} %} without {% if %}`, piece.pos);
        if (current.hasElse && keyword !== 'endif') {
          throw new CompileError(`{% ${keyword} %} after {% else %}`, piece.pos);
        }
        if (keyword === 'elif') {
          const branch = { test: p.blockTest(), body: [] };
          current.node.branches.push(branch);
          body = branch.body;
        } else if (keyword === 'else') {
          p.end();
          current.hasElse = true;
          body = current.node.otherwise;
        } else {
          p.end();
          open.pop();
          const outer = open[open.length - 1];
          body = outer ? (outer.hasElse ? outer.node.otherwise : outer.node.branches.at(-1)!.body) : root;
        }
        break;
      }
      default:
        throw new CompileError(
          STATEMENTS.has(keyword)
            ? `{% ${keyword} %} is not supported (only {% if %}, {% elif %}, {% else %} and {% endif %})`
            : `unknown tag {% ${keyword} %}`,
          piece.pos,
        );
    }
  }
  if (open.length > 0) throw new CompileError('{% if %} without {% endif %}', open[open.length - 1]!.pos);
  return { body: root, names };
}

/** The parser of the tokens of one tag. */
class ExpressionParser {
  #i = 0;
  readonly #depths = new WeakMap<Expr, number>();

  constructor(
    readonly tokens: readonly Token[],
    readonly tagPos: number,
    readonly names: Set<string>,
  ) {}

  /** The expression of a `{{ … }}`. */
  output(): Expr {
    if (this.tokens.length === 0) throw new CompileError('empty {{ }}', this.tagPos);
    const e = this.expression(0, true);
    if (this.isOp(',')) throw this.fail('tuples are not supported');
    this.end();
    return e;
  }

  /** The keyword a `{% … %}` starts with. */
  blockKeyword(): string {
    const t = this.tokens[this.#i++];
    if (t?.type !== 'name') throw new CompileError('a block tag must start with a name', t?.pos ?? this.tagPos);
    return t.value;
  }

  /** The test of an `{% if %}`/`{% elif %}` (no inline if, as in Jinja). */
  blockTest(): Expr {
    if (this.#i >= this.tokens.length) throw this.fail('expected an expression');
    const e = this.expression(0, false);
    this.end();
    return e;
  }

  end(): void {
    const t = this.tokens[this.#i];
    if (t) throw this.fail(`unexpected ${describe(t)}`);
  }

  fail(message: string): CompileError {
    return new CompileError(message, this.tokens[this.#i]?.pos ?? this.tagPos);
  }

  peek(offset = 0): Token | undefined {
    return this.tokens[this.#i + offset];
  }

  isOp(value: string): boolean {
    const t = this.peek();
    return t?.type === 'op' && t.value === value;
  }

  isName(value: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.type === 'name' && t.value === value;
  }

  expectOp(value: string): void {
    if (!this.isOp(value)) {
      const t = this.peek();
      throw this.fail(`expected '${value}'${t ? `, found ${describe(t)}` : ''}`);
    }
    this.#i++;
  }

  /** Records a node's depth and refuses a tree deeper than the bound. */
  node<T extends Expr>(e: T, ...children: (Expr | null)[]): T {
    let depth = 1;
    for (const c of children) if (c) depth = Math.max(depth, 1 + (this.#depths.get(c) ?? 1));
    if (depth > MAX_TEMPLATE_NESTING) throw this.fail(`expression nested deeper than ${MAX_TEMPLATE_NESTING}`);
    this.#depths.set(e, depth);
    return e;
  }

  guard(depth: number): number {
    if (depth > MAX_TEMPLATE_NESTING) throw this.fail(`expression nested deeper than ${MAX_TEMPLATE_NESTING}`);
    return depth + 1;
  }

  /** Jinja's parse_expression: with or without the inline `a if b else c`. */
  expression(depth: number, withCondition: boolean): Expr {
    const d = this.guard(depth);
    return withCondition ? this.condition(d) : this.or(d);
  }

  condition(depth: number): Expr {
    let e = this.or(depth);
    while (this.isName('if')) {
      this.#i++;
      const test = this.or(depth);
      let otherwise: Expr | null = null;
      if (this.isName('else')) {
        this.#i++;
        otherwise = this.condition(this.guard(depth));
      }
      e = this.node({ kind: 'cond', test, then: e, otherwise }, test, e, otherwise);
    }
    return e;
  }

  or(depth: number): Expr {
    let left = this.and(depth);
    while (this.isName('or')) {
      this.#i++;
      const right = this.and(depth);
      left = this.node({ kind: 'or', left, right }, left, right);
    }
    return left;
  }

  and(depth: number): Expr {
    let left = this.not(depth);
    while (this.isName('and')) {
      this.#i++;
      const right = this.not(depth);
      left = this.node({ kind: 'and', left, right }, left, right);
    }
    return left;
  }

  not(depth: number): Expr {
    if (this.isName('not')) {
      this.#i++;
      const operand = this.not(this.guard(depth));
      return this.node({ kind: 'not', operand }, operand);
    }
    return this.compare(depth);
  }

  compare(depth: number): Expr {
    const first = this.math1(depth);
    const rest: { op: CompareOperator; operand: Expr }[] = [];
    for (;;) {
      const t = this.peek();
      let op: CompareOperator;
      if (t?.type === 'op' && COMPARE_OPS.has(t.value)) {
        op = t.value as CompareOperator;
        this.#i++;
      } else if (this.isName('in')) {
        op = 'in';
        this.#i++;
      } else if (this.isName('not') && this.isName('in', 1)) {
        op = 'notin';
        this.#i += 2;
      } else break;
      rest.push({ op, operand: this.math1(depth) });
    }
    if (rest.length === 0) return first;
    return this.node({ kind: 'compare', first, rest }, first, ...rest.map((r) => r.operand));
  }

  binaryLoop(ops: readonly string[], next: (depth: number) => Expr, depth: number): Expr {
    let left = next(depth);
    for (;;) {
      const t = this.peek();
      if (t?.type !== 'op' || !ops.includes(t.value)) return left;
      this.#i++;
      const right = next(depth);
      left = this.node({ kind: 'binary', op: t.value as BinaryOperator, left, right }, left, right);
    }
  }

  math1(depth: number): Expr {
    return this.binaryLoop(['+', '-'], (d) => this.concat(d), depth);
  }

  concat(depth: number): Expr {
    return this.binaryLoop(['~'], (d) => this.math2(d), depth);
  }

  math2(depth: number): Expr {
    return this.binaryLoop(['*', '/', '//', '%'], (d) => this.pow(d), depth);
  }

  pow(depth: number): Expr {
    const e = this.unary(depth, true);
    if (this.isOp('**')) throw this.fail('the ** operator is not supported');
    return e;
  }

  unary(depth: number, withFilter: boolean): Expr {
    let e: Expr;
    if (this.isOp('-') || this.isOp('+')) {
      const kind = this.isOp('-') ? 'neg' : 'pos';
      this.#i++;
      const operand = this.unary(this.guard(depth), false);
      e = this.node({ kind, operand }, operand);
    } else e = this.primary(depth);
    e = this.postfix(e, depth);
    return withFilter ? this.filters(e, depth) : e;
  }

  primary(depth: number): Expr {
    const t = this.peek();
    if (!t) throw this.fail('expected an expression');
    this.#i++;
    switch (t.type) {
      case 'name': {
        if (CONSTANTS.has(t.value)) return this.node({ kind: 'const', value: CONSTANTS.get(t.value)! });
        if (KEYWORDS.has(t.value)) throw new CompileError(`unexpected '${t.value}'`, t.pos);
        if (isRefusedName(t.value)) throw new CompileError(`the name '${t.value}' is refused`, t.pos);
        if (GLOBALS.has(t.value)) {
          throw new CompileError(`'${t.value}' is not supported (a Jinja or Home Assistant global)`, t.pos);
        }
        this.names.add(t.value);
        return this.node({ kind: 'name', name: t.value });
      }
      case 'string': {
        let value = t.value;
        // Adjacent string literals join, as in Python.
        for (let n = this.peek(); n?.type === 'string'; n = this.peek()) {
          value += n.value;
          this.#i++;
        }
        return this.node({ kind: 'const', value });
      }
      case 'int':
      case 'float':
        return this.node({ kind: 'const', value: t.value });
      case 'op':
        if (t.value === '(') {
          if (this.isOp(')')) throw this.fail('tuples are not supported');
          const first = this.expression(depth, true);
          if (!this.isOp(',')) {
            this.expectOp(')');
            return first;
          }
          // A tuple: only useful after `in`, so it is a list here.
          return this.sequence(first, ')', depth);
        }
        if (t.value === '[') {
          if (this.isOp(']')) {
            this.#i++;
            return this.node({ kind: 'list', items: [] });
          }
          return this.sequence(this.expression(depth, true), ']', depth);
        }
        if (t.value === '{') return this.dict(depth);
    }
    throw new CompileError(`unexpected ${describe(t)}`, t.pos);
  }

  /** The rest of a list or tuple literal after its first item. */
  sequence(first: Expr, close: string, depth: number): Expr {
    const items = [first];
    while (this.isOp(',')) {
      this.#i++;
      if (this.isOp(close)) break;
      items.push(this.expression(depth, true));
    }
    this.expectOp(close);
    return this.node({ kind: 'list', items }, ...items);
  }

  dict(depth: number): Expr {
    const items: [Expr, Expr][] = [];
    while (!this.isOp('}')) {
      if (items.length > 0) {
        this.expectOp(',');
        if (this.isOp('}')) break;
      }
      const key = this.expression(depth, true);
      if (key.kind === 'const' && typeof key.value === 'string' && isRefusedName(key.value)) {
        throw this.fail(`the key '${key.value}' is refused`);
      }
      this.expectOp(':');
      items.push([key, this.expression(depth, true)]);
    }
    this.#i++;
    return this.node({ kind: 'dict', items }, ...items.flat());
  }

  postfix(e: Expr, depth: number): Expr {
    for (;;) {
      if (this.isOp('.')) {
        this.#i++;
        const t = this.peek();
        this.#i++;
        if (t?.type === 'name') {
          if (isRefusedName(t.value)) throw new CompileError(`the attribute '${t.value}' is refused`, t.pos);
          if (this.isOp('(')) throw this.fail(`calling methods (.${t.value}(…)) is not supported`);
          e = this.node({ kind: 'attr', target: e, name: t.value }, e);
        } else if (t?.type === 'int') {
          const index = this.node({ kind: 'const', value: t.value });
          e = this.node({ kind: 'item', target: e, index }, e);
        } else throw new CompileError('expected a name or number after "."', t?.pos ?? this.tagPos);
      } else if (this.isOp('[')) {
        this.#i++;
        if (this.isOp(':')) throw this.fail('slices are not supported');
        const index = this.expression(depth, true);
        if (this.isOp(':')) throw this.fail('slices are not supported');
        if (this.isOp(',')) throw this.fail('tuple subscripts are not supported');
        this.expectOp(']');
        if (index.kind === 'const' && typeof index.value === 'string' && isRefusedName(index.value)) {
          throw new CompileError(`the key '${index.value}' is refused`, this.tokens[this.#i - 2]!.pos);
        }
        e = this.node({ kind: 'item', target: e, index }, e, index);
      } else if (this.isOp('(')) {
        throw this.fail(`calling ${callee(e)} is not supported`);
      } else return e;
    }
  }

  filters(e: Expr, depth: number): Expr {
    for (;;) {
      if (this.isOp('|')) {
        this.#i++;
        e = this.filter(e, depth);
      } else if (this.isName('is')) {
        this.#i++;
        e = this.test(e);
      } else if (this.isOp('(')) {
        throw this.fail(`calling ${callee(e)} is not supported`);
      } else return e;
    }
  }

  filter(input: Expr, depth: number): Expr {
    const t = this.peek();
    if (t?.type !== 'name') throw this.fail('expected a filter name after "|"');
    this.#i++;
    const definition = FILTERS.get(t.value);
    if (!definition) throw new CompileError(`the filter '${t.value}' is not supported`, t.pos);
    const args: (Expr | null)[] = definition.params.map(() => null);
    if (this.isOp('(')) {
      this.#i++;
      let positional = 0;
      let sawKeyword = false;
      while (!this.isOp(')')) {
        if (positional > 0 || sawKeyword) this.expectOp(',');
        if (this.isOp(')')) break;
        if (this.isOp('*') || this.isOp('**')) throw this.fail('*args and **kwargs are not supported');
        const keyword = this.peek()?.type === 'name' && this.peek(1)?.type === 'op' && this.peek(1)?.value === '=';
        if (keyword) {
          const name = (this.peek() as { value: string }).value;
          const at = definition.params.indexOf(name);
          if (at < 0) throw this.fail(`the filter '${t.value}' has no argument '${name}'`);
          if (args[at] !== null) throw this.fail(`the argument '${name}' of '${t.value}' is given twice`);
          this.#i += 2;
          args[at] = this.expression(depth, true);
          sawKeyword = true;
        } else {
          if (sawKeyword) throw this.fail('a positional argument follows a keyword argument');
          if (positional >= definition.params.length) {
            throw this.fail(`the filter '${t.value}' takes at most ${definition.params.length} argument(s)`);
          }
          args[positional++] = this.expression(depth, true);
        }
      }
      this.#i++;
    }
    if (args.slice(0, definition.required).some((a) => a === null)) {
      throw new CompileError(`the filter '${t.value}' needs ${definition.required} argument(s)`, t.pos);
    }
    return this.node({ kind: 'filter', name: t.value, input, args }, input, ...args);
  }

  test(input: Expr): Expr {
    let negated = false;
    if (this.isName('not')) {
      this.#i++;
      negated = true;
    }
    const t = this.peek();
    if (t?.type !== 'name') throw this.fail('expected a test name after "is"');
    this.#i++;
    if (!TESTS.has(t.value)) throw new CompileError(`the test '${t.value}' is not supported`, t.pos);
    const next = this.peek();
    const takesArgument =
      next !== undefined &&
      (next.type === 'string' ||
        next.type === 'int' ||
        next.type === 'float' ||
        (next.type === 'name' && !['else', 'or', 'and'].includes(next.value)) ||
        (next.type === 'op' && ['(', '[', '{'].includes(next.value)));
    if (takesArgument) throw this.fail(`the test '${t.value}' takes no argument`);
    return this.node({ kind: 'test', name: t.value, input, negated }, input);
  }
}

function describe(t: Token): string {
  if (t.type === 'op') return `'${t.value}'`;
  if (t.type === 'string') return 'a string';
  if (t.type === 'int' || t.type === 'float') return 'a number';
  return `'${t.value}'`;
}

/** How a call's target is named in the error: `states(…)`, `.get(…)`, or a call. */
function callee(e: Expr): string {
  if (e.kind === 'name') return `functions (${e.name}(…))`;
  if (e.kind === 'attr') return `methods (.${e.name}(…))`;
  if (e.kind === 'filter') return `the result of the filter '${e.name}'`;
  return 'a value';
}
