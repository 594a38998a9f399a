/**
 * Domains, expressions and the grid-size estimator. Exact counts are checked against brute
 * force enumeration (a separate, obviously correct loop), not against numbers typed in.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  analyze,
  compileExpr,
  domainSize,
  domainValues,
  evaluateExpr,
  exprNames,
  gridSize,
  METRIC_ALIASES,
  type Expr,
  type ParamValue,
} from '../../grammar/index';

const ROOT = path.resolve(__dirname, '..', '..', '..');

/** The expression of `where EXPR` in a throwaway stage. */
function expr(src: string): Expr {
  const a = analyze(`study "x" { data "d" strategy sma_cross objective maximize sharpe stage "s" { param fast in [1] where ${src} } }`);
  const w = a.studies[0]?.stages[0]?.where[0];
  assert.ok(w, `parsed ${src}`);
  return w;
}

/** Objective expression (metrics allowed). */
function objective(src: string): Expr {
  const a = analyze(`study "x" { data "d" strategy sma_cross objective maximize ${src} }`);
  const o = a.studies[0]?.objectives[0];
  assert.ok(o, `parsed ${src}`);
  return o.expr;
}

function brute(params: { name: string; values: ParamValue[] }[], where: Expr[]): number {
  let count = 0;
  const cur = new Map<string, ParamValue>();
  const rec = (i: number): void => {
    if (i === params.length) {
      if (where.every((w) => evaluateExpr(w, (n) => cur.get(n)) === true)) count++;
      return;
    }
    for (const v of params[i]!.values) {
      cur.set(params[i]!.name, v);
      rec(i + 1);
    }
  };
  rec(0);
  return count;
}

test('stepped ranges are inclusive, integers stay integers, floats do not drift', () => {
  assert.deepEqual(domainValues({ kind: 'range', lo: 5, hi: 50, step: 5 }, 'int'), [5, 10, 15, 20, 25, 30, 35, 40, 45, 50]);
  assert.equal(domainSize({ kind: 'range', lo: 20, hi: 200, step: 10 }), 19);
  assert.deepEqual(domainValues({ kind: 'range', lo: 0.1, hi: 0.7, step: 0.1 }, 'float'), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
  assert.deepEqual(domainValues({ kind: 'range', lo: 6, hi: 12, step: 2 }, 'float'), [6, 8, 10, 12]);
  assert.deepEqual(domainValues({ kind: 'range', lo: 1.5, hi: 3, step: 0.25 }, 'float'), [1.5, 1.75, 2, 2.25, 2.5, 2.75, 3]);
  assert.deepEqual(domainValues({ kind: 'range', lo: 20, hi: 105, step: 10 }, 'int')!.at(-1), 100, 'a step that does not divide stops below hi');
  assert.equal(domainSize({ kind: 'range', lo: 5, hi: 1, step: 1 }), 0);
  assert.equal(domainSize({ kind: 'range', lo: 1, hi: 5, step: 0 }), 0);
  assert.equal(domainSize({ kind: 'continuous', lo: 1, hi: 5 }), Infinity);
  assert.equal(domainValues({ kind: 'continuous', lo: 1, hi: 5 }, 'float'), null);
  const logv = domainValues({ kind: 'log', lo: 0.001, hi: 1, count: 4 }, 'float')!;
  assert.deepEqual(logv, [0.001, 0.01, 0.1, 1]);
  assert.deepEqual(domainValues({ kind: 'log', lo: 1, hi: 4, count: 5 }, 'int'), [1, 2, 3, 4], 'integer log values are rounded and de-duplicated');
  assert.deepEqual(domainValues({ kind: 'list', values: ['a', true, 3] }, 'string'), ['a', true, 3]);
});

test('quickstart: fast 5..50 step 5 (10 values) × slow 20..200 step 10 (19 values) where fast < slow', () => {
  const a = analyze(fs.readFileSync(path.join(ROOT, 'samples', 'quickstart.optstudy'), 'utf8'));
  const stage = a.studies[0]!.stages[0]!;
  const fast = domainValues(stage.params[0]!.domain, 'int')!;
  const slow = domainValues(stage.params[1]!.domain, 'int')!;
  assert.equal(fast.length, 10);
  assert.equal(slow.length, 19);
  // Count by hand-rolled loops: for each fast value, the slow values above it.
  let expected = 0;
  for (const f of fast) expected += slow.filter((s) => (s as number) > (f as number)).length;
  assert.equal(expected, 174);
  assert.equal(stage.size, expected);
  assert.equal(stage.sizeExact, true);
  assert.equal(a.studies[0]!.total, expected);
});

test('the estimator is exact for every pairwise relation, chains and mixed filters', () => {
  const A = { name: 'a', values: [1, 2, 3, 5, 8, 13, 21] };
  const B = { name: 'b', values: [2, 3, 5, 7, 11, 13, 17, 19] };
  const C = { name: 'c', values: [0, 5, 10, 15, 20] };
  const cases: [typeof A[], string[]][] = [
    [[A, B], ['a < b']],
    [[A, B], ['a <= b']],
    [[A, B], ['a > b']],
    [[A, B], ['a >= b']],
    [[A, B], ['a == b']],
    [[A, B], ['a != b']],
    [[A, B], ['b > a and a >= 3']],
    [[A, B, C], ['a < b and b <= c']],
    [[A, B, C], ['a < b', 'c > a']],
    [[A, B, C], ['a < b and b < c and a < c']], // a cycle: enumerated
    [[A, B, C], ['a + b < c']], // three names in one relation: enumerated
    [[A, B, C], ['a * 2 <= b or c == 0']],
    [[A, B], ['a < 0']],
  ];
  for (const [params, srcs] of cases) {
    const where = srcs.map(expr);
    const got = gridSize(params, where);
    assert.equal(got.size, brute(params, where), srcs.join(' ; '));
    assert.equal(got.exact, true, srcs.join(' ; '));
  }
});

test('a space too large to enumerate is counted exactly for pairwise relations, estimated otherwise', () => {
  const big = (name: string) => ({ name, values: Array.from({ length: 1000 }, (_, i) => i + 1) });
  const params = [big('a'), big('b'), big('c'), big('d')]; // 10^12 combinations
  const exact = gridSize(params, [expr('a < b and c < d')]);
  assert.equal(exact.exact, true);
  assert.equal(exact.size, ((1000 * 999) / 2) ** 2);
  const est = gridSize(params, [expr('a + b < c')]);
  assert.equal(est.exact, false);
  // a + b < c over 1..1000: exact count is sum over c of (c-2)(c-1)/2 for c ≥ 3, times 1000 for d.
  let truth = 0;
  for (let c = 3; c <= 1000; c++) truth += ((c - 2) * (c - 1)) / 2;
  truth *= 1000;
  assert.ok(Math.abs(est.size - truth) / truth < 0.05, `estimate ${est.size} within 5% of ${truth}`);
});

test('expressions: precedence, three-valued logic, aliases and totality', () => {
  const e = objective('1 + 2 * 3 ^ 2 - -4 / 2');
  assert.equal(evaluateExpr(e, () => undefined), 1 + 2 * 9 + 2);
  assert.equal(evaluateExpr(objective('2 ^ 3 ^ 2'), () => undefined), 512, '^ is right-associative');
  assert.equal(evaluateExpr(objective('-2 ^ 2'), () => undefined), -4);
  const look = (n: string) => ({ trades_closed: 12, sharpe_days_ann_rf0: 1.5, profit_factor: null, max_drawdown_pct: 20 })[n];
  assert.equal(evaluateExpr(objective('sharpe * trades'), look), 18, 'friendly names fall back to golden keys');
  assert.equal(METRIC_ALIASES['max_drawdown'], 'max_drawdown_money');
  assert.equal(evaluateExpr(objective('profit_factor * 2'), look), null, 'an undefined metric gives null');
  assert.equal(evaluateExpr(objective('trades / 0'), look), null, 'division by zero gives null');
  assert.equal(evaluateExpr(objective('log(0 - 1)'), look), null);
  assert.equal(evaluateExpr(objective('max(sharpe, 0) * (1 - max_drawdown_pct / 100)'), look), 1.5 * 0.8);
  const c = expr('fast < 3 and (fast > 0 or not fast == 7)');
  assert.equal(evaluateExpr(c, () => 2), true);
  assert.equal(evaluateExpr(expr('fast > 1 and fast < 0'), () => undefined), null);
  assert.equal(evaluateExpr(expr('fast < 0 and fast'), () => 5), false, 'false and unknown is false');
  assert.deepEqual(exprNames(objective('sharpe + sharpe * trades - min(trades, won)')), ['sharpe', 'trades', 'won']);
  assert.equal(evaluateExpr(objective('sharpe'), () => {
    throw new Error('lookup failed');
  }), null, 'a throwing lookup does not escape');
});

test('compileExpr agrees with evaluateExpr on random inputs', () => {
  const srcs = ['sharpe * max(trades, 1) - abs(won - lost) / sqrt(trades + 1)', 'exp(sharpe) > 2 or trades >= 10 and not won < 3', 'log(trades) ^ 2'];
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
  for (const s of srcs) {
    const e = objective(s);
    const f = compileExpr(e);
    for (let i = 0; i < 200; i++) {
      const vals: Record<string, number | null> = { sharpe: rand() * 4 - 2, trades: Math.floor(rand() * 30), won: Math.floor(rand() * 10), lost: rand() < 0.1 ? null : Math.floor(rand() * 10) };
      const look = (n: string) => vals[n];
      assert.equal(f(look), evaluateExpr(e, look), s);
    }
  }
});
