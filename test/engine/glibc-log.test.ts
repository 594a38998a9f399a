/**
 * glibc's log as backtrader gets it (server/engine/glibc-log.ts) against the real thing: CPython's
 * `math.log` on this machine calls glibc's log. The inputs include the hard ones — where glibc's
 * result is not the correctly rounded logarithm (found in C against libquadmath's logq) — both
 * near 1 (glibc's polynomial path, where returns ratios mostly fall) and elsewhere.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { glibcLog } from '../../server/engine/glibc-log';
import { FIXTURES } from '../support/engine-golden';
import { oracleSkipReason } from '../support/oracle-process';
import { rng } from '../support/fuzz';
import { HARD_LOG, pythonRows, randomDouble } from './libm-cases';

const noPython = oracleSkipReason();

test("glibcLog equals Python's math.log, also where glibc does not round correctly", { skip: noPython }, async () => {
  const r = rng(20261204);
  const xs = [...HARD_LOG];
  for (let i = 0; i < 12000; i++) xs.push(randomDouble(r, -8, 8)); // returns ratios and more
  for (let i = 0; i < 12000; i++) xs.push(1 - 2 ** -4 + r() * (2 ** -4 + 0x109 / 2 ** 12)); // near 1
  for (let i = 0; i < 2000; i++) xs.push(randomDouble(r, -1022, 1024)); // any normal
  for (let i = 0; i < 500; i++) xs.push(randomDouble(r, -1074, -1022)); // subnormal
  const want = await pythonRows('def f(a): return (math.log(a[0]), cr_log(a[0]))', xs.map((x) => [x]));
  const wrong: string[] = [];
  let apart = 0;
  xs.forEach((x, i) => {
    const [glibc, cr] = want[i]!;
    if (!Object.is(glibcLog(x), glibc)) wrong.push(`log(${x}): ${glibcLog(x)} != ${glibc}`);
    if (glibc !== cr) apart++;
  });
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${xs.length} differ`);
  // The inputs are hard: the correctly rounded log (the engine's before) fails on each HARD_LOG.
  HARD_LOG.forEach((x, i) => assert.notEqual(want[i]![1], want[i]![0], `${x} is not a hard input`));
  assert.ok(apart >= HARD_LOG.length + 5, `only ${apart} inputs where glibc's log is not correctly rounded`);
});

test('glibcLog equals the glibc log recorded for 3,000 inputs (golden/log-cases.json.gz)', () => {
  const cases = JSON.parse(gunzipSync(readFileSync(path.join(FIXTURES, 'log-cases.json.gz'))).toString()) as { x: number[]; glibc_log: number[] };
  cases.x.forEach((x, i) => assert.equal(glibcLog(x), cases.glibc_log[i], `log(${x})`));
});

test('edge values', () => {
  assert.equal(glibcLog(1), 0);
  assert.ok(Object.is(glibcLog(1), 0));
  assert.equal(glibcLog(0), -Infinity);
  assert.equal(glibcLog(-0), -Infinity);
  assert.equal(glibcLog(Infinity), Infinity);
  assert.ok(Number.isNaN(glibcLog(-1)));
  assert.ok(Number.isNaN(glibcLog(-Infinity)));
  assert.ok(Number.isNaN(glibcLog(NaN)));
  assert.equal(glibcLog(2), Math.LN2);
  assert.equal(glibcLog(5e-324), -744.4400719213812);
  assert.equal(glibcLog(Number.MAX_VALUE), 709.782712893384);
});
