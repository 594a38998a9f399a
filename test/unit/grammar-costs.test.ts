/**
 * The cost statements: `commission` as a percent, per share or per contract (margin, mult) and
 * `slippage` as a percent or a fixed amount — what the model gets and what is refused.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analyze } from '../../grammar/index';

function study(lines: string, strategy = 'strategy sma_cross'): ReturnType<typeof analyze> {
  return analyze(`study "s" {\n  data "x.txt"\n  ${strategy}\n  ${lines}\n  objective maximize sharpe\n  stage "a" { param fast in 5 .. 10 step 5 }\n}\n`);
}

function codes(a: ReturnType<typeof analyze>): string[] {
  return a.diagnostics.filter((d) => d.severity === 'error' || d.severity === 'warning').map((d) => `${d.severity}:${d.code}`);
}

test('commission: percent, fraction, per share, per contract with margin and multiplier', () => {
  assert.equal(study('commission 0.1%').studies[0]!.commission, 0.001);
  assert.equal(study('commission 0.002').studies[0]!.commission, 0.002);
  const share = study('commission 0.005 per share').studies[0]!;
  assert.deepEqual(share.commissionScheme, { kind: 'per_share', amount: 0.005 });
  assert.equal(share.commission, 0);
  const fut = study('commission 2.5 per contract margin 2000 mult 10');
  assert.deepEqual(codes(fut), []);
  assert.deepEqual(fut.studies[0]!.commissionScheme, { kind: 'per_contract', amount: 2.5, margin: 2000, mult: 10 });
  // A strategy parameter may still be called margin or mult: the words are not reserved.
  const decl = analyze('strategy m command "x" {\n  param margin: float = 1\n  param mult: int = 2\n}\n');
  assert.deepEqual(codes(decl), []);
});

test('slippage: a percent of the price or a fixed amount', () => {
  assert.deepEqual(study('slippage 0.05%').studies[0]!.slippage, { kind: 'percent', rate: 0.0005 });
  assert.deepEqual(study('slippage 0.02').studies[0]!.slippage, { kind: 'fixed', amount: 0.02 });
  assert.equal(study('commission 0.1%').studies[0]!.slippage, undefined);
});

test('cost mistakes are findings with their own codes, on the word at fault', () => {
  const cases: [string, string, RegExp][] = [
    ['commission 0.005 per shares', 'error:commission-unit', /'per share' or 'per contract .*did you mean 'share'/],
    ['commission 0.005 each share', 'error:commission-unit', /not 'each'/],
    ['commission 2.5 per contract margin 2000', 'error:commission-contract', /needs mult K/],
    ['commission 2.5 per contract', 'error:commission-contract', /needs margin M .* and mult K/],
    ['commission 2.5 per contract margin 0 mult 10', 'error:commission-contract', /margin must be a number > 0/],
    ['commission 2.5 per contract margin 2000 mult 10 lots 3', 'error:commission-unit', /'lots' is not an option/],
    ['commission 0.005 per share margin 100', 'error:commission-unit', /takes no options/],
    ['commission 0.5% per share', 'error:commission-out-of-range', /amount of money/],
    ['commission 150%', 'error:commission-out-of-range', /below 100%/],
    ['commission 0.1', 'warning:commission-as-fraction', /Did you mean 0.1%/],
    ['slippage 120%', 'error:slippage-out-of-range', /below 100%/],
    ['slippage 2%', 'warning:slippage-out-of-range', /large/],
    ['slippage "x"', 'error:invalid-value', /expects a number/],
  ];
  for (const [line, code, re] of cases) {
    const a = study(line);
    const d = a.diagnostics.find((x) => `${x.severity}:${x.code}` === code);
    assert.ok(d, `${line}: ${JSON.stringify(a.diagnostics)}`);
    assert.match(d.message, re, line);
  }
});

test('an external strategy is told which costs it does not receive', () => {
  const b = analyze(`strategy ext command "python3 x.py" {\n  param fast: int = 5\n}\n` + `study "s" {\n  data "x.txt"\n  strategy ext\n  commission 0.005 per share\n  slippage 0.05%\n  objective maximize sharpe\n}\n`);
  assert.deepEqual(
    b.diagnostics.filter((d) => d.code === 'costs-external').map((d) => d.severity),
    ['warning', 'warning'],
  );
});
