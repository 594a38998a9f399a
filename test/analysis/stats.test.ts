/**
 * The numeric core against values computed independently with scipy/mpmath
 * (test/fixtures/analysis/make-stats-fixtures.py wrote stats-fixtures.json).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  averageRanks, hypervolume, incBeta, moments, normCdf, normPpf, oneWayAnova, pearson, spearman, fLogSf, groupByParam,
} from '../../server/analysis';

const FIX = JSON.parse(readFileSync(path.join(__dirname, '../../../test/fixtures/analysis/stats-fixtures.json'), 'utf8')) as {
  anova: { groups: number[][]; f: number; p: number; negLog10P: number }[];
  correlations: { x: number[]; y: number[]; pearson: number; spearman: number }[];
  normCdf: [number, number][];
  normPpf: [number, number][];
  incBeta: [number, number, number, number][];
  fSf: [number, number, number, number][];
  hypervolume: { points: number[][]; ref: number[]; hypervolume: number }[];
  moments: { x: number[]; skew: number; kurtosis: number };
};

function close(actual: number | null, expected: number, rel: number, what: string): void {
  assert.ok(actual !== null && Number.isFinite(actual), `${what}: got ${actual}`);
  const tol = rel * Math.max(1e-300, Math.abs(expected));
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} (±${tol})`);
}

test('one-way ANOVA matches scipy f_oneway, including p-values below the smallest double', () => {
  for (const [i, c] of FIX.anova.entries()) {
    const r = oneWayAnova(c.groups);
    close(r.f, c.f, 1e-10, `case ${i} F`);
    close(r.negLog10P, c.negLog10P, 1e-8, `case ${i} −log10 p`);
    if (c.p > 0) close(r.pValue, c.p, 1e-8, `case ${i} p`);
    else assert.equal(r.pValue, 0, 'p underflows to 0 but −log10 p stays finite');
  }
});

test('ANOVA is undefined with one group or constant data, never NaN', () => {
  assert.equal(oneWayAnova([[1, 2, 3]]).f, null);
  assert.equal(oneWayAnova([[2, 2], [2, 2]]).f, null);
  const perfect = oneWayAnova([[1, 1], [2, 2]]);
  assert.equal(perfect.f, Infinity);
  assert.equal(perfect.pValue, 0);
});

test('groupByParam keeps grid values as groups and bins continuous ones without splitting ties', () => {
  const g = groupByParam([1, 2, 1, 3, 2], [10, 20, 11, 30, 21]);
  assert.deepEqual(g, [[10, 11], [20, 21], [30]]);
  const xs = Array.from({ length: 100 }, (_, i) => (i % 50) / 7);
  const ys = xs.map((x) => x * 2);
  const bins = groupByParam(xs, ys, 10);
  assert.equal(bins.reduce((a, b) => a + b.length, 0), 100);
  assert.ok(bins.length <= 10 && bins.length >= 8);
});

test('Pearson and Spearman (with ties) match scipy', () => {
  for (const [i, c] of FIX.correlations.entries()) {
    close(pearson(c.x, c.y), c.pearson, 1e-10, `case ${i} pearson`);
    close(spearman(c.x, c.y), c.spearman, 1e-10, `case ${i} spearman`);
  }
  assert.equal(pearson([1, 1, 1], [1, 2, 3]), null, 'a constant side has no correlation');
  assert.deepEqual([...averageRanks([10, 20, 10, 30])], [1.5, 3, 1.5, 4]);
});

test('normal CDF and quantile match scipy to ~1e-12', () => {
  for (const [z, p] of FIX.normCdf) close(normCdf(z), p, 1e-11, `Φ(${z})`);
  for (const [p, z] of FIX.normPpf) close(normPpf(p), z, 1e-10, `Φ⁻¹(${p})`);
});

test('regularized incomplete beta and the F upper tail match scipy', () => {
  for (const [x, a, b, v] of FIX.incBeta) close(incBeta(x, a, b), v, 1e-11, `I_${x}(${a}, ${b})`);
  for (const [f, d1, d2, sf] of FIX.fSf) close(Math.exp(fLogSf(f, d1, d2)), sf, 1e-11, `F(${d1}, ${d2}) sf(${f})`);
});

test('skewness and kurtosis use the population estimators (scipy bias=True)', () => {
  const m = moments(FIX.moments.x);
  close(m.skew, FIX.moments.skew, 1e-10, 'skew');
  close(m.kurtosis, FIX.moments.kurtosis, 1e-10, 'kurtosis');
});

test('hypervolume equals brute-force inclusion–exclusion in 2, 3 and 4 objectives', () => {
  for (const c of FIX.hypervolume) {
    const r = hypervolume(c.points, c.ref);
    assert.equal(r.method, 'exact');
    close(r.value, c.hypervolume, 1e-12, `${c.ref.length}-D hypervolume of ${c.points.length} points`);
  }
});

test('Monte Carlo hypervolume is labelled and lands within a few standard errors', () => {
  const c = FIX.hypervolume[3]!;
  const r = hypervolume(c.points, c.ref, { maxWork: 1, samples: 100_000, seed: 3 });
  assert.equal(r.method, 'monte-carlo');
  assert.ok(r.stdError! > 0);
  assert.ok(Math.abs(r.value - c.hypervolume) < 4 * r.stdError!, `${r.value} vs ${c.hypervolume} ± ${r.stdError}`);
});
