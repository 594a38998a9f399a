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

/** Compiles `expr`; null when it does not parse. The result is null when a name is missing or the value is not finite. */
export function compileObjective(expr: string): Compiled | null {
  const tokens = expr.match(/\d+(?:\.\d+)?(?:e[+-]?\d+)?|[A-Za-z_][\w.]*|<=|>=|==|!=|[-+*/^(),<>]/gi) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const take = (t?: string) => {
    const x = tokens[i++];
    if (x === undefined || (t !== undefined && x !== t)) throw new Error(`expected ${t ?? 'a token'}`);
    return x;
  };
  const binary = (next: () => Node, ops: Record<string, (a: number, b: number) => number>): (() => Node) => () => {
    let left = next();
    while (peek() !== undefined && ops[peek()!.toLowerCase()]) {
      const op = ops[take().toLowerCase()]!;
      const l = left;
      const r = next();
      left = (env) => op(l(env), r(env));
    }
    return left;
  };
  const atom = (): Node => {
    const t = take();
    if (t === '(') {
      const e = or();
      take(')');
      return e;
    }
    if (t === '-') {
      const e = power();
      return (env) => -e(env);
    }
    if (t.toLowerCase() === 'not') {
      const e = comparison();
      return (env) => (e(env) ? 0 : 1);
    }
    if (/^\d/.test(t)) {
      const v = Number(t);
      return () => v;
    }
    const fn = FUNCS[t];
    if (fn && peek() === '(') {
      take('(');
      const args: Node[] = [or()];
      while (peek() === ',') (take(','), args.push(or()));
      take(')');
      return (env) => fn(...args.map((a) => a(env)));
    }
    return (env) => {
      const v = env(t);
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Missing(t);
      return v;
    };
  };
  // `^` is right-associative and binds tighter than unary minus on its right.
  const power = (): Node => {
    const base = atom();
    if (peek() !== '^') return base;
    take('^');
    const exp = power();
    return (env) => base(env) ** exp(env);
  };
  const product = binary(power, { '*': (a, b) => a * b, '/': (a, b) => a / b });
  const sum = binary(product, { '+': (a, b) => a + b, '-': (a, b) => a - b });
  const comparison = binary(sum, {
    '<': (a, b) => +(a < b), '>': (a, b) => +(a > b), '<=': (a, b) => +(a <= b), '>=': (a, b) => +(a >= b), '==': (a, b) => +(a === b), '!=': (a, b) => +(a !== b),
  });
  const and = binary(comparison, { and: (a, b) => +(!!a && !!b) });
  const or = binary(and, { or: (a, b) => +(!!a || !!b) });
  try {
    const root = or();
    if (i !== tokens.length || tokens.length === 0) return null;
    return (env) => {
      try {
        const v = root(env);
        return Number.isFinite(v) ? v : null;
      } catch (e) {
        if (e instanceof Missing) return null;
        throw e;
      }
    };
  } catch {
    return null;
  }
}
