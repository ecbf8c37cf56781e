/**
 * The syntax tree of a compiled template: what the parser builds and the interpreter walks.
 * @module
 */
import type { Value } from './values.js';

/** A binary arithmetic or concatenation operator. */
export type BinaryOperator = '+' | '-' | '*' | '/' | '//' | '%' | '~';

/** A comparison operator (`notin` is `not in`). */
export type CompareOperator = '==' | '!=' | '<' | '>' | '<=' | '>=' | 'in' | 'notin';

/** An expression. */
export type Expr =
  | { kind: 'const'; value: Value }
  | { kind: 'name'; name: string }
  /** `.name` (a literal name, checked when compiling). */
  | { kind: 'attr'; target: Expr; name: string }
  /** `[index]` or `.0` (a computed string index is checked when rendering). */
  | { kind: 'item'; target: Expr; index: Expr }
  | { kind: 'list'; items: Expr[] }
  | { kind: 'dict'; items: [Expr, Expr][] }
  | { kind: 'neg' | 'pos' | 'not'; operand: Expr }
  | { kind: 'binary'; op: BinaryOperator; left: Expr; right: Expr }
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  /** `a < b < c` is one chain, as in Python. */
  | { kind: 'compare'; first: Expr; rest: { op: CompareOperator; operand: Expr }[] }
  /** `then if test else otherwise`; without `else` a false test gives Undefined. */
  | { kind: 'cond'; test: Expr; then: Expr; otherwise: Expr | null }
  /** `input | name(args)`: `args` is bound to the filter's parameters, `null` where not given. */
  | { kind: 'filter'; name: string; input: Expr; args: (Expr | null)[] }
  | { kind: 'test'; name: string; input: Expr; negated: boolean };

/** A piece of the template body. */
export type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; expr: Expr }
  | { kind: 'if'; branches: { test: Expr; body: Node[] }[]; otherwise: Node[] };
