/** The correctly rounded logarithm behind `returns_*` (glibc's log rounds correctly almost always). */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { logCorrectlyRounded } from '../../server/engine/libm';
import { FIXTURES } from '../support/engine-golden';

const cases = JSON.parse(gunzipSync(readFileSync(path.join(FIXTURES, 'log-cases.json.gz'))).toString()) as {
  x: number[];
  ln_cr: number[];
  glibc_log: number[];
};

test('logCorrectlyRounded equals the correctly rounded ln on 3,000 recorded inputs', () => {
  cases.x.forEach((x, i) => assert.equal(logCorrectlyRounded(x), cases.ln_cr[i], `ln(${x})`));
});

test('it agrees with glibc far more often than Math.log does', () => {
  let mine = 0;
  let v8 = 0;
  cases.x.forEach((x, i) => {
    if (logCorrectlyRounded(x) !== cases.glibc_log[i]) mine++;
    if (Math.log(x) !== cases.glibc_log[i]) v8++;
  });
  assert.ok(mine * 10 < v8, `correctly rounded differs from glibc ${mine} times, Math.log ${v8} times`);
});

test('edge values', () => {
  assert.equal(logCorrectlyRounded(1), 0);
  assert.equal(logCorrectlyRounded(0), -Infinity);
  assert.ok(Number.isNaN(logCorrectlyRounded(-1)));
  assert.ok(Number.isNaN(logCorrectlyRounded(NaN)));
  assert.equal(logCorrectlyRounded(Infinity), Infinity);
  assert.equal(logCorrectlyRounded(Math.E ** 2), Math.log(Math.E ** 2));
});
