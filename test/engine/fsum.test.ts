/** The exactly rounded sum against CPython's `math.fsum` on recorded cases, and the rolling window. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ExactSum, fsum } from '../../server/engine/index';
import { FIXTURES } from '../support/engine-golden';

const { cases } = JSON.parse(gunzipSync(readFileSync(path.join(FIXTURES, 'fsum-cases.json.gz'))).toString()) as {
  cases: { x: number[]; fsum: number }[];
};

test('fsum equals CPython math.fsum on 209 recorded cases (ties, cancellation, 1e±100 ranges)', () => {
  assert.ok(cases.length > 200);
  for (const c of cases) assert.equal(fsum(c.x), c.fsum, JSON.stringify(c.x).slice(0, 200));
  // The textbook half-even case: sum([1e-16, 1, 1e16]) rounds up to ...02.
  assert.equal(fsum([1e-16, 1, 1e16]), 10000000000000002);
  assert.equal(fsum(new Array(10).fill(0.1)), 1);
});

test('a naive sum differs from fsum on the recorded cases (the test can tell them apart)', () => {
  const differ = cases.filter((c) => c.x.reduce((a, b) => a + b, 0) !== c.fsum).length;
  assert.ok(differ > 20, `${differ}`);
});

test('a rolling ExactSum (add the new value, add the negated old one) gives each window\'s fsum', () => {
  for (const c of cases) {
    const x = c.x;
    for (const p of [1, 3, 7]) {
      if (x.length < p) continue;
      const s = new ExactSum();
      for (let i = 0; i < x.length; i++) {
        s.add(x[i]!);
        if (i >= p) s.add(-x[i - p]!);
        if (i >= p - 1) assert.equal(s.value(), fsum(x, i - p + 1, i + 1));
      }
    }
  }
});

test('the certified fast sums equal the exact ones, including exact ties on a coarse grid', async () => {
  const { fsumFast } = await import('../../server/engine/fsum');
  const { sumSquaredDev } = await import('../../server/engine/squared-dev');
  const { pySquare } = await import('../../server/engine/glibc-pow');
  for (const c of cases) {
    assert.equal(fsumFast(c.x), c.fsum);
    const avg = c.fsum / Math.max(1, c.x.length);
    assert.equal(sumSquaredDev(c.x, avg, 0, c.x.length), fsum(c.x.map((v) => pySquare(v - avg))));
  }
  // Returns like x/prev - 1 are multiples of 2^-53: their sums often sit exactly on a half-ulp.
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let ties = 0;
  for (let k = 0; k < 300; k++) {
    const x = Array.from({ length: 50 + (k % 200) }, () => Math.round((rnd() - 0.45) * 2 ** 52) * 2 ** -53);
    const exact = fsum(x);
    assert.equal(fsumFast(x), exact);
    const naive = x.reduce((a, b) => a + b, 0);
    if (naive !== exact) ties++;
    // Large cancellation: the bound cannot certify, the exact path must answer.
    const big = [1e20, ...x, -1e20];
    assert.equal(fsumFast(big), fsum(big));
  }
  assert.ok(ties > 0, 'the grid cases exercise rounding');
});

test("sums of squared deviations take Python's squares: equal to fsum of glibc's, where d*d would not be", async () => {
  const { sumSquaredDev } = await import('../../server/engine/squared-dev');
  const { pySquare } = await import('../../server/engine/glibc-pow');
  let seed = 777;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let apart = 0;
  for (let k = 0; k < 60000; k++) {
    // Short series (yearly returns, a few trades) and daily-like ones, some with huge outliers.
    const n = k % 10 === 0 ? 500 + (k % 3000) : 2 + (k % 6);
    const x = Array.from({ length: n }, () => (rnd() - 0.5) * (rnd() < 0.01 ? 50 : 0.05));
    const avg = fsum(x) / n;
    const want = fsum(x.map((v) => pySquare(v - avg)));
    if (want !== fsum(x.map((v) => (v - avg) * (v - avg)))) apart++;
    assert.equal(sumSquaredDev(x, avg, 0, n), want, `series ${k}`);
  }
  assert.ok(apart > 0, 'some sums differ between glibc squares and d*d (the test has teeth)');
});
