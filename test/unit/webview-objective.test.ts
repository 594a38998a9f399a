/**
 * The panel's own objective compiler (webview/objective.ts), which "Best so far" uses to place
 * trials the run left unscored: precedence, associativity, functions, and null for what it
 * cannot compute or parse.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { compileObjective } from '../../webview/objective';

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

test('min max abs log exp sqrt, with any number of arguments where they take them', () => {
  assert.equal(value('min(3, 1, 2) + max(4, 5)'), 6);
  assert.equal(value('abs(-2) * sqrt(9)'), 6);
  assert.equal(value('log(exp(2))'), 2);
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
});
