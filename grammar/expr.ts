/**
 * Expression evaluation: a tree walker (`evaluateExpr`) and a closure compiler (`compileExpr`)
 * for the optimizer's hot loop. Both are total: an undefined name, a hole, a type clash or a
 * non-finite result gives `null` (an objective that cannot be computed, a constraint that
 * does not hold) — never an exception.
 */

import type { Expr, Lookup } from './model';

/**
 * Friendly metric names → the golden-file keys the engine reports. A lookup that does not
 * know a friendly name is asked again with its key.
 */
export const METRIC_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  trades: 'trades_closed',
  max_drawdown: 'max_drawdown_money',
  sharpe: 'sharpe_days_ann_rf0',
});

/** Functions of expressions with their arities and one-line docs (shared with completion/hover). */
export const EXPR_FUNCTIONS: Readonly<Record<string, { min: number; max: number; doc: string; signature: string }>> = Object.freeze({
  min: { min: 1, max: Infinity, doc: 'The smallest of its arguments; with one argument in a basket study, the smallest over the symbols (`min(trades)`).', signature: 'min(a, b, …)' },
  max: { min: 1, max: Infinity, doc: 'The largest of its arguments; with one argument in a basket study, the largest over the symbols.', signature: 'max(a, b, …)' },
  mean: { min: 1, max: Infinity, doc: 'The mean of its arguments; with one argument in a basket study, the mean over the symbols (`mean(sharpe)`).', signature: 'mean(x) | mean(a, b, …)' },
  median: { min: 1, max: Infinity, doc: 'The median of its arguments; with one argument in a basket study, the median over the symbols.', signature: 'median(x) | median(a, b, …)' },
  abs: { min: 1, max: 1, doc: 'Absolute value.', signature: 'abs(x)' },
  log: { min: 1, max: 1, doc: 'Natural logarithm (undefined for x ≤ 0).', signature: 'log(x)' },
  exp: { min: 1, max: 1, doc: 'e raised to x.', signature: 'exp(x)' },
  sqrt: { min: 1, max: 1, doc: 'Square root (undefined for x < 0).', signature: 'sqrt(x)' },
});

type Value = number | string | boolean | null;

/**
 * The lookup of a basket trial: names read the basket's own values (the summed equity's
 * metrics), and `symbols` holds one lookup per symbol, which one-argument `mean`, `median`,
 * `min` and `max` evaluate their argument with.
 */
export type BasketLookup = Lookup & { symbols?: readonly Lookup[] };

/** A call that aggregates over a basket's symbols: `mean(x)`, `median(x)`, `min(x)`, `max(x)`. */
export function isAggregateCall(e: Expr): boolean {
  return e.kind === 'call' && e.args.length === 1 && (e.fn === 'mean' || e.fn === 'median' || e.fn === 'min' || e.fn === 'max');
}

/** The aggregate of `arg` over the symbols of `lookup` (or `arg` itself without symbols). */
function aggregate(fn: string, arg: (l: Lookup) => Value, lookup: Lookup): Value {
  const symbols = (lookup as BasketLookup).symbols;
  if (!symbols) return num(arg(lookup));
  const xs: number[] = [];
  for (const l of symbols) {
    const n = num(arg(l));
    if (n === null) return null;
    xs.push(n);
  }
  return applyCall(fn, xs);
}

function resolve(lookup: Lookup, name: string): Value {
  let v = lookup(name);
  if (v === undefined) {
    const alias = METRIC_ALIASES[name];
    if (alias !== undefined) v = lookup(alias);
  }
  if (v === undefined) return null;
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return v;
}

function num(v: Value): number | null {
  return typeof v === 'number' ? v : null;
}

function finite(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

function truth(v: Value): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

function applyCall(fn: string, args: Value[]): Value {
  const xs: number[] = [];
  for (const a of args) {
    const n = num(a);
    if (n === null) return null;
    xs.push(n);
  }
  switch (fn) {
    case 'min':
      return xs.length ? Math.min(...xs) : null;
    case 'max':
      return xs.length ? Math.max(...xs) : null;
    case 'abs':
      return xs.length === 1 ? Math.abs(xs[0]!) : null;
    case 'log':
      return xs.length === 1 && xs[0]! > 0 ? Math.log(xs[0]!) : null;
    case 'exp':
      return xs.length === 1 ? finite(Math.exp(xs[0]!)) : null;
    case 'sqrt':
      return xs.length === 1 && xs[0]! >= 0 ? Math.sqrt(xs[0]!) : null;
    case 'mean': {
      if (xs.length === 0) return null;
      let t = 0;
      for (const x of xs) t += x;
      return finite(t / xs.length);
    }
    case 'median': {
      if (xs.length === 0) return null;
      const v = [...xs].sort((a, b) => a - b);
      const m = v.length >> 1;
      return v.length % 2 ? v[m]! : finite((v[m - 1]! + v[m]!) / 2);
    }
    default:
      return null;
  }
}

function applyBinary(op: string, a: Value, b: Value): Value {
  switch (op) {
    case '==':
      return a === null || b === null ? null : a === b;
    case '!=':
      return a === null || b === null ? null : a !== b;
  }
  const x = num(a);
  const y = num(b);
  if (x === null || y === null) return null;
  switch (op) {
    case '+':
      return finite(x + y);
    case '-':
      return finite(x - y);
    case '*':
      return finite(x * y);
    case '/':
      return y === 0 ? null : finite(x / y);
    case '^':
      return finite(Math.pow(x, y));
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
    default:
      return null;
  }
}

function evalAny(e: Expr, lookup: Lookup): Value {
  switch (e.kind) {
    case 'number':
      return e.value;
    case 'string':
      return e.value;
    case 'bool':
      return e.value;
    case 'name':
      return resolve(lookup, e.name);
    case 'error':
      return null;
    case 'unary': {
      const v = evalAny(e.operand, lookup);
      if (e.op === 'not') {
        const t = truth(v);
        return t === null ? null : !t;
      }
      const n = num(v);
      return n === null ? null : -n;
    }
    case 'binary': {
      if (e.op === 'and' || e.op === 'or') {
        // Short-circuit in three-valued logic: `false and ?` is false, `true or ?` is true.
        const l = truth(evalAny(e.left, lookup));
        if (e.op === 'and' && l === false) return false;
        if (e.op === 'or' && l === true) return true;
        const r = truth(evalAny(e.right, lookup));
        if (e.op === 'and') return r === false ? false : l === null || r === null ? null : true;
        return r === true ? true : l === null || r === null ? null : false;
      }
      return applyBinary(e.op, evalAny(e.left, lookup), evalAny(e.right, lookup));
    }
    case 'call':
      if (isAggregateCall(e)) return aggregate(e.fn, (l) => evalAny(e.args[0]!, l), lookup);
      return applyCall(
        e.fn,
        e.args.map((a) => evalAny(a, lookup)),
      );
  }
}

/**
 * Evaluates an expression. Names are looked up as written, then (for friendly metric names)
 * under their golden-file key. Returns a number or a boolean; `null` when the value is
 * undefined (a metric without trades, a division by zero, a hole, a string result).
 */
export function evaluateExpr(e: Expr, lookup: Lookup): number | boolean | null {
  try {
    const v = evalAny(e, lookup);
    return typeof v === 'string' ? null : v;
  } catch {
    // A throwing lookup is the caller's bug, but the contract is "never throws".
    return null;
  }
}

type Compiled = (lookup: Lookup) => Value;

function compileAny(e: Expr): Compiled {
  switch (e.kind) {
    case 'number':
    case 'string':
    case 'bool': {
      const v = e.value;
      return () => v;
    }
    case 'error':
      return () => null;
    case 'name': {
      const name = e.name;
      return (l) => resolve(l, name);
    }
    case 'unary': {
      const f = compileAny(e.operand);
      if (e.op === 'not')
        return (l) => {
          const t = truth(f(l));
          return t === null ? null : !t;
        };
      return (l) => {
        const n = num(f(l));
        return n === null ? null : -n;
      };
    }
    case 'binary': {
      const fl = compileAny(e.left);
      const fr = compileAny(e.right);
      const op = e.op;
      if (op === 'and')
        return (l) => {
          const a = truth(fl(l));
          if (a === false) return false;
          const b = truth(fr(l));
          return b === false ? false : a === null || b === null ? null : true;
        };
      if (op === 'or')
        return (l) => {
          const a = truth(fl(l));
          if (a === true) return true;
          const b = truth(fr(l));
          return b === true ? true : a === null || b === null ? null : false;
        };
      return (l) => applyBinary(op, fl(l), fr(l));
    }
    case 'call': {
      const fs = e.args.map(compileAny);
      const fn = e.fn;
      if (isAggregateCall(e)) {
        const arg = fs[0]!;
        return (l) => aggregate(fn, arg, l);
      }
      return (l) =>
        applyCall(
          fn,
          fs.map((f) => f(l)),
        );
    }
  }
}

/**
 * Compiles an expression into a closure with the same results as `evaluateExpr`, for loops
 * that evaluate one expression millions of times.
 */
export function compileExpr(e: Expr): (lookup: Lookup) => number | boolean | null {
  const f = compileAny(e);
  return (lookup) => {
    try {
      const v = f(lookup);
      return typeof v === 'string' ? null : v;
    } catch {
      return null;
    }
  };
}

/** The distinct names an expression reads, in order of first use. */
export function exprNames(e: Expr): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const walk = (x: Expr): void => {
    switch (x.kind) {
      case 'name':
        if (!seen.has(x.name)) {
          seen.add(x.name);
          out.push(x.name);
        }
        return;
      case 'unary':
        walk(x.operand);
        return;
      case 'binary':
        walk(x.left);
        walk(x.right);
        return;
      case 'call':
        x.args.forEach(walk);
        return;
      default:
        return;
    }
  };
  walk(e);
  return out;
}

/** Every name node of an expression (with ranges), for checks, hovers and renames. */
export function exprNameNodes(e: Expr): Extract<Expr, { kind: 'name' }>[] {
  const out: Extract<Expr, { kind: 'name' }>[] = [];
  const walk = (x: Expr): void => {
    if (x.kind === 'name') out.push(x);
    else if (x.kind === 'unary') walk(x.operand);
    else if (x.kind === 'binary') {
      walk(x.left);
      walk(x.right);
    } else if (x.kind === 'call') x.args.forEach(walk);
  };
  walk(e);
  return out;
}
