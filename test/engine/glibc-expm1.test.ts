/**
 * glibc's expm1 as backtrader gets it (server/engine/glibc-expm1.ts) against the real thing:
 * CPython's `math.expm1` on this machine calls glibc's (the x86-64 FMA variant). The inputs
 * include the hard ones — where V8's `Math.expm1` (fdlibm, unfused, another polynomial order)
 * parts from glibc — in each of glibc's reductions: k = 0, k = ±1, and larger k.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { glibcExpm1 } from '../../server/engine/glibc-expm1';
import { oracleSkipReason } from '../support/oracle-process';
import { rng } from '../support/fuzz';
import { HARD_EXPM1, pythonRows } from './libm-cases';

const noPython = oracleSkipReason();

test("glibcExpm1 equals Python's math.expm1, also where Math.expm1 does not", { skip: noPython }, async () => {
  const r = rng(20261205);
  const xs = [...HARD_EXPM1];
  for (let i = 0; i < 20000; i++) xs.push((r() - 0.5) * 4); // annualised log returns
  for (let i = 0; i < 6000; i++) xs.push((r() - 0.5) * 80); // k up to ±57
  for (let i = 0; i < 3000; i++) xs.push((r() - 0.5) * 1440); // past 56·ln2; overflow and −1
  for (let i = 0; i < 3000; i++) xs.push((r() - 0.5) * 2 ** -Math.floor(r() * 70)); // tiny
  const def = ['def f(a):', '  try: return (math.expm1(a[0]),)', '  except OverflowError: return (math.inf,)'].join('\n');
  const want = await pythonRows(def, xs.map((x) => [x]));
  const wrong: string[] = [];
  let apart = 0;
  xs.forEach((x, i) => {
    const w = want[i]![0]!;
    if (!Object.is(glibcExpm1(x), w)) wrong.push(`expm1(${x}): ${glibcExpm1(x)} != ${w}`);
    if (!Object.is(Math.expm1(x), w)) apart++;
  });
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${xs.length} differ`);
  // The inputs are hard: Math.expm1 (the engine's before) fails on each HARD_EXPM1 and on others.
  HARD_EXPM1.forEach((x, i) => assert.notEqual(Math.expm1(x), want[i]![0], `${x} is not a hard input`));
  assert.ok(apart >= HARD_EXPM1.length + 10, `only ${apart} inputs where Math.expm1 parts from glibc`);
});

test('edge values', () => {
  assert.ok(Object.is(glibcExpm1(0), 0));
  assert.ok(Object.is(glibcExpm1(-0), -0));
  assert.equal(glibcExpm1(1e-300), 1e-300);
  assert.equal(glibcExpm1(Infinity), Infinity);
  assert.equal(glibcExpm1(-Infinity), -1);
  assert.ok(Number.isNaN(glibcExpm1(NaN)));
  assert.equal(glibcExpm1(-50), -1);
  assert.equal(glibcExpm1(710), Infinity);
  assert.equal(glibcExpm1(709.78), 1.7928227943945155e308);
  assert.equal(glibcExpm1(1), Math.E - 1);
});
