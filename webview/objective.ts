/**
 * Evaluates a study's objective expression on a trial's metrics and parameters, for the trials
 * the run scored `null` because a constraint failed: "Best so far" draws them at the score they
 * would have had. The language (DESIGN.md, grammar/expr.ts): numbers, metric and parameter
 * names, `+ - * / ^`, comparisons, `and or not`, and `min max mean median abs log exp sqrt` —
 * one-argument `min max mean median` aggregate over a basket trial's symbols. The webview
 * imports no grammar code (one direction of imports), so this is a small recursive-descent
 * compiler of its own; test/unit/webview-objective.test.ts holds it equal to the grammar's.
 */

export type Env = (name: string) => number | null | undefined;
/** `symbols`: a basket trial's per-symbol lookups (what one-argument aggregates read). */
export type Compiled = (env: Env, symbols?: readonly Env[]) => number | null;

/** The trial being evaluated: the lookup names read, and its symbols' lookups (basket trials). */
interface Scope {
  env: Env;
  symbols: readonly Env[] | undefined;
}

type Node = (scope: Scope) => number;

function mean(...xs: number[]): number {
  let t = 0;
  for (const x of xs) t += x;
  return t / xs.length;
}

function median(...xs: number[]): number {
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/** A Map, not a plain object: `toString(x)` or `constructor` must not resolve to Object.prototype's. */
const FUNCS = new Map<string, (...a: number[]) => number>([
  ['min', Math.min], ['max', Math.max], ['mean', mean], ['median', median],
  ['abs', Math.abs], ['log', Math.log], ['exp', Math.exp], ['sqrt', Math.sqrt],
]);

/** Functions whose one-argument form aggregates over a basket's symbols. */
const AGGREGATES = new Set(['min', 'max', 'mean', 'median']);

/** Thrown for a value the grammar leaves undefined: a missing name, x / 0, a non-finite result. */
class Missing extends Error {}

/** `x`, or Missing when it is not finite: the grammar's arithmetic is undefined past that point. */
function fin(x: number): number {
  if (!Number.isFinite(x)) throw new Missing();
  return x;
}

/** Numbers, names (dots allowed: `trades.long`), two-character comparisons, one-character operators. */
const TOKEN = /\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_][\w.]*|<=|>=|==|!=|[-+*/^(),<>]/gi;

/** One precedence level's operators (a Map, as FUNCS: no prototype keys). */
type Ops = ReadonlyMap<string, (a: number, b: number) => number>;

const PRODUCT: Ops = new Map([['*', (a, b) => a * b], ['/', (a, b) => (b === 0 ? fin(NaN) : a / b)]]);
const SUM: Ops = new Map([['+', (a, b) => a + b], ['-', (a, b) => a - b]]);
const COMPARISON: Ops = new Map([
  ['<', (a, b) => +(a < b)], ['>', (a, b) => +(a > b)], ['<=', (a, b) => +(a <= b)], ['>=', (a, b) => +(a >= b)], ['==', (a, b) => +(a === b)], ['!=', (a, b) => +(a !== b)],
]);
const AND: Ops = new Map([['and', (a, b) => +(!!a && !!b)]]);
const OR: Ops = new Map([['or', (a, b) => +(!!a || !!b)]]);

/** Compiles `expr`; null when it does not parse. The result is null when a name is missing or the value is not finite. */
export function compileObjective(expr: string): Compiled | null {
  const tokens = expr.match(TOKEN) ?? [];
  let root: Node;
  try {
    const parser = new Parser(tokens);
    root = parser.or();
    if (!parser.done() || tokens.length === 0) return null;
  } catch {
    return null;
  }
  return (env, symbols) => {
    try {
      const v = root({ env, symbols: symbols?.length ? symbols : undefined });
      return Number.isFinite(v) ? v : null;
    } catch (e) {
      if (e instanceof Missing) return null;
      throw e;
    }
  };
}

/**
 * Recursive descent, loosest binding first: or, and, comparisons, + -, * /, ^, then atoms
 * (numbers, names, calls, parentheses, unary minus and `not`). Each method returns the node
 * its part of the expression evaluates to; a token out of place throws.
 */
class Parser {
  private i = 0;

  constructor(private readonly tokens: string[]) {}

  done(): boolean {
    return this.i === this.tokens.length;
  }

  or(): Node {
    return this.binary(() => this.and(), OR);
  }

  private and(): Node {
    return this.binary(() => this.comparison(), AND);
  }

  private comparison(): Node {
    return this.binary(() => this.sum(), COMPARISON);
  }

  private sum(): Node {
    return this.binary(() => this.product(), SUM);
  }

  private product(): Node {
    return this.binary(() => this.power(), PRODUCT);
  }

  /** `^` is right-associative and binds tighter than unary minus on its right. */
  private power(): Node {
    const base = this.atom();
    if (this.peek() !== '^') return base;
    this.take('^');
    const exp = this.power();
    return (sc) => fin(base(sc) ** exp(sc));
  }

  private atom(): Node {
    const t = this.take();
    if (t === '(') {
      const e = this.or();
      this.take(')');
      return e;
    }
    if (t === '-') {
      const e = this.power();
      return (sc) => -e(sc);
    }
    if (t.toLowerCase() === 'not') {
      const e = this.comparison();
      return (sc) => (e(sc) ? 0 : 1);
    }
    if (/^\d/.test(t)) {
      const v = Number(t);
      return () => v;
    }
    const fn = FUNCS.get(t);
    if (fn && this.peek() === '(') return this.call(t, fn);
    return (sc) => {
      const v = sc.env(t);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Missing();
      return v;
    };
  }

  /** A function's arguments, from its `(` to its `)`. */
  private call(name: string, fn: (...a: number[]) => number): Node {
    this.take('(');
    const args: Node[] = [this.or()];
    while (this.peek() === ',') (this.take(','), args.push(this.or()));
    this.take(')');
    if (args.length === 1 && AGGREGATES.has(name)) return aggregate(fn, args[0]!);
    return (sc) => fin(fn(...args.map((a) => a(sc))));
  }

  /** Operators of one level, left-associative, between operands of the next tighter level. */
  private binary(next: () => Node, ops: Ops): Node {
    let left = next();
    while (this.peek() !== undefined && ops.has(this.peek()!.toLowerCase())) {
      const op = ops.get(this.take().toLowerCase())!;
      const l = left;
      const r = next();
      left = (sc) => fin(op(l(sc), r(sc)));
    }
    return left;
  }

  private peek(): string | undefined {
    return this.tokens[this.i];
  }

  private take(t?: string): string {
    const x = this.tokens[this.i++];
    if (x === undefined || (t !== undefined && x !== t)) throw new Error(`expected ${t ?? 'a token'}`);
    return x;
  }
}

/** A one-argument min/max/mean/median: over the basket trial's symbols (each read alone), else the argument itself. */
function aggregate(fn: (...a: number[]) => number, arg: Node): Node {
  return (sc) => (sc.symbols ? fin(fn(...sc.symbols.map((env) => arg({ env, symbols: undefined })))) : arg(sc));
}
