/**
 * The panel's own objective compiler (webview/objective.ts), which "Best so far" uses to place
 * trials the run left unscored: precedence, associativity, functions, and null for what it
 * cannot compute or parse.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analyze, compileExpr, type BasketLookup } from '../../grammar/index';
import { compileObjective, type Env } from '../../webview/objective';

const env = (vars: Record<string, number | null>) => (name: string) => vars[name];
const value = (expr: string, vars: Record<string, number | null> = {}) => {
  const f = compileObjective(expr);
  assert.ok(f, `${expr} does not parse`);
  return f(env(vars));
};

test('arithmetic binds as usual: * / before + -, left to right; ^ right-associative and above unary minus', () => {
  assert.equal(value('1 + 2 * 3 - 4 / 2'), 5);
  assert.equal(value('8 - 3 - 2'), 3);
  assert.equal(value('2 ^ 3 ^ 2'), 512);
  assert.equal(value('-2 ^ 2'), -4);
  assert.equal(value('2 ^ -1'), 0.5);
  assert.equal(value('(1 + 2) * 3'), 9);
  assert.equal(value('1.5e2 / 3'), 50);
});

test('names read the trial (dotted names too); comparisons, and, or, not give 1 or 0', () => {
  const vars = { sharpe: 1.5, trades: 40, 'x.y': 2 };
  assert.equal(value('sharpe * 2 - trades / 40', vars), 2);
  assert.equal(value('x.y ^ 2', vars), 4);
  assert.equal(value('trades >= 40 and sharpe > 2', vars), 0);
  assert.equal(value('trades >= 40 or sharpe > 2', vars), 1);
  assert.equal(value('not sharpe > 2', vars), 1);
  assert.equal(value('trades != 40 OR Not trades == 40', vars), 0);
  assert.equal(value('1 + (trades < 50)', vars), 2);
});

test('min max mean median abs log exp sqrt, with any number of arguments where they take them', () => {
  assert.equal(value('min(3, 1, 2) + max(4, 5)'), 6);
  assert.equal(value('abs(-2) * sqrt(9)'), 6);
  assert.equal(value('log(exp(2))'), 2);
  assert.equal(value('mean(1, 2, 6)'), 3);
  assert.equal(value('median(5, 1, 4)') , 4);
  assert.equal(value('median(5, 1, 4, 2)'), 3);
});

test('one-argument min max mean median read each symbol of a basket trial, else the argument itself', () => {
  const f = compileObjective('mean(sharpe) - 0.5 * (max(dd) - min(dd)) + median(sharpe)');
  assert.ok(f);
  const basket = env({ sharpe: 9, dd: 9 });
  const symbols = [env({ sharpe: 1, dd: 10 }), env({ sharpe: 2, dd: 30 }), env({ sharpe: 6, dd: 20 })];
  assert.equal(f(basket, symbols), 3 - 0.5 * (30 - 10) + 2);
  assert.equal(f(basket), 9 - 0.5 * (9 - 9) + 9);
  assert.equal(f(basket, []), 9 - 0.5 * (9 - 9) + 9);
  // A symbol without the metric leaves the aggregate (and the score) undefined.
  assert.equal(f(basket, [env({ sharpe: 1, dd: 10 }), env({ dd: 30 })]), null);
});

test('a missing or non-finite name, or a non-finite result, gives null', () => {
  assert.equal(value('sharpe + 1', {}), null);
  assert.equal(value('sharpe + 1', { sharpe: null }), null);
  assert.equal(value('sharpe + 1', { sharpe: Number.NaN }), null);
  assert.equal(value('1 / trades', { trades: 0 }), null);
  assert.equal(value('log(-1)'), null);
});

test('what does not parse compiles to null', () => {
  for (const bad of ['', '1 +', '(1', '1 2', 'max(1,', 'sharpe )']) assert.equal(compileObjective(bad), null, bad);
  // Names of Object.prototype are neither functions nor operators.
  for (const bad of ['toString(1)', 'valueOf(2)', '1 constructor 2', '1 hasOwnProperty 2', '__proto__(1)']) assert.equal(compileObjective(bad), null, bad);
});

/** The grammar's value of `src` as a study's objective (the score a run gives), on `lookup`. */
function grammarValue(src: string, lookup: BasketLookup): number | null {
  const o = analyze(`study "x" { data "d" strategy sma_cross objective maximize ${src} }`).studies[0]?.objectives[0];
  assert.ok(o, `the grammar parses ${src}`);
  const v = compileExpr(o.expr)(lookup);
  return typeof v === 'number' ? v : null;
}

/** A small seeded generator (mulberry32), so a failure names its expression again. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random numeric expression over the names a, b, c (as objectives are written). */
function randomExpr(r: () => number, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  if (depth <= 0 || r() < 0.25) return r() < 0.6 ? pick(['a', 'b', 'c']) : pick(['0', '1', '2', '0.5', '3', '10']);
  const sub = () => randomExpr(r, depth - 1);
  switch (pick(['bin', 'bin', 'bin', 'neg', 'paren', 'f1', 'agg', 'fn'])) {
    case 'bin':
      return `${sub()} ${pick(['+', '-', '*', '/', '^'])} ${sub()}`;
    case 'neg':
      return `-${sub()}`;
    case 'paren':
      return `(${sub()})`;
    case 'f1':
      return `${pick(['abs', 'log', 'exp', 'sqrt'])}(${sub()})`;
    case 'agg':
      return `${pick(['min', 'max', 'mean', 'median'])}(${sub()})`;
    default:
      return `${pick(['min', 'max', 'mean', 'median'])}(${Array.from({ length: 2 + Math.floor(r() * 3) }, sub).join(', ')})`;
  }
}

test("the panel's value of an objective is the grammar's (the run's score), on plain and basket trials", () => {
  const r = rng(20261203);
  const values = [-2, -0.5, 0, 0.25, 1, 1.5, 3, 7];
  let compared = 0;
  let defined = 0;
  for (let k = 0; k < 3000; k++) {
    const src = randomExpr(r, 4);
    const vars = () => ({ a: values[Math.floor(r() * values.length)]!, b: values[Math.floor(r() * values.length)]!, c: 1 + r() });
    const own = vars();
    const symbols = k % 2 ? [vars(), vars(), vars()] : undefined;
    const lookup: BasketLookup = (n) => own[n as keyof typeof own];
    if (symbols) lookup.symbols = symbols.map((s) => (n: string) => s[n as keyof typeof s]);
    const expected = grammarValue(src, lookup);
    const f = compileObjective(src);
    assert.ok(f, `the panel parses ${src}`);
    const got = f(env(own), symbols?.map((s): Env => env(s)));
    assert.equal(got, expected, `${src} on ${JSON.stringify({ own, symbols })}`);
    compared++;
    if (expected !== null) defined++;
  }
  // Most draws have a value (the comparison is not only of nulls).
  assert.equal(compared, 3000);
  assert.ok(defined > 1500, `${defined} of 3000 defined`);
});
