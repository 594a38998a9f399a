/**
 * Evaluates a study's objective expression on a trial's metrics and parameters, for the trials
 * the run scored `null` because a constraint failed: "Best so far" draws them at the score they
 * would have had. The language (DESIGN.md): numbers, metric and parameter names, `+ - * / ^`,
 * comparisons, `and or not`, and `min max abs log exp sqrt`. The webview imports no grammar
 * code (one direction of imports), so this is a small recursive-descent compiler of its own.
 */

export type Env = (name: string) => number | null | undefined;
export type Compiled = (env: Env) => number | null;

type Node = (env: Env) => number;

const FUNCS: Record<string, (...a: number[]) => number> = {
  min: Math.min, max: Math.max, abs: Math.abs, log: Math.log, exp: Math.exp, sqrt: Math.sqrt,
};

class Missing extends Error {}

/** Numbers, names (dots allowed: `trades.long`), two-character comparisons, one-character operators. */
const TOKEN = /\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_][\w.]*|<=|>=|==|!=|[-+*/^(),<>]/gi;

type Ops = Record<string, (a: number, b: number) => number>;

const PRODUCT: Ops = { '*': (a, b) => a * b, '/': (a, b) => a / b };
const SUM: Ops = { '+': (a, b) => a + b, '-': (a, b) => a - b };
const COMPARISON: Ops = {
  '<': (a, b) => +(a < b), '>': (a, b) => +(a > b), '<=': (a, b) => +(a <= b), '>=': (a, b) => +(a >= b), '==': (a, b) => +(a === b), '!=': (a, b) => +(a !== b),
};
const AND: Ops = { and: (a, b) => +(!!a && !!b) };
const OR: Ops = { or: (a, b) => +(!!a || !!b) };

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
  return (env) => {
    try {
      const v = root(env);
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
    return (env) => base(env) ** exp(env);
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
      return (env) => -e(env);
    }
    if (t.toLowerCase() === 'not') {
      const e = this.comparison();
      return (env) => (e(env) ? 0 : 1);
    }
    if (/^\d/.test(t)) {
      const v = Number(t);
      return () => v;
    }
    const fn = FUNCS[t];
    if (fn && this.peek() === '(') return this.call(fn);
    return (env) => {
      const v = env(t);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Missing(t);
      return v;
    };
  }

  /** A function's arguments, from its `(` to its `)`. */
  private call(fn: (...a: number[]) => number): Node {
    this.take('(');
    const args: Node[] = [this.or()];
    while (this.peek() === ',') (this.take(','), args.push(this.or()));
    this.take(')');
    return (env) => fn(...args.map((a) => a(env)));
  }

  /** Operators of one level, left-associative, between operands of the next tighter level. */
  private binary(next: () => Node, ops: Ops): Node {
    let left = next();
    while (this.peek() !== undefined && ops[this.peek()!.toLowerCase()]) {
      const op = ops[this.take().toLowerCase()]!;
      const l = left;
      const r = next();
      left = (env) => op(l(env), r(env));
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
