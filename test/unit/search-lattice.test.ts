/**
 * The search items of #20 on in-process objectives (no backtests): CMA-ES on a stepped grid
 * whose best region lies on the grid's edge among many local optima (the shape of an SMA
 * grid's Sharpe surface), and the GP past its active set.
 */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { minimize } from '../../server/search/minimize';
import { hash32 } from '../../server/search/rng';
import type { Dim, Params } from '../../server/search/space';
import { branin, hartmann6 } from '../support/test-functions';

const range = (lo: number, hi: number, step: number): number[] => Array.from({ length: Math.floor((hi - lo) / step) + 1 }, (_, i) => lo + i * step);
const DIMS: Dim[] = [
  { name: 'fast', values: range(2, 80, 1) },
  { name: 'slow', values: range(10, 300, 3) },
];
const where = (p: Params): boolean => (p.fast as number) < (p.slow as number);

/**
 * A rugged score on the grid: a broad rise towards slow = 298 (the last value) around
 * fast ≈ 60, a rival plateau in the middle, and fixed pseudo-random bumps on every point.
 */
function score(p: Params): number {
  const f = p.fast as number;
  const s = p.slow as number;
  const edge = 1 - ((f - 60) / 40) ** 2 - ((s - 298) / 120) ** 2;
  const rival = 0.8 - ((f - 25) / 15) ** 2 - ((s - 150) / 60) ** 2;
  const bump = (hash32(7, f * 1000 + s) / 2 ** 32) * 0.12;
  return Math.max(edge, rival, 0) + bump;
}

const feasible = DIMS[0]!.values!.flatMap((f) => DIMS[1]!.values!.map((s) => ({ fast: f, slow: s }))).filter(where);
const OPTIMUM = Math.max(...feasible.map(score));

test('cmaes with 5 % of a stepped grid reaches 99 % of its optimum on the grid edge (median of 5 seeds)', () => {
  const budget = Math.round(feasible.length * 0.05);
  const shares = [1, 2, 3, 4, 5].map((seed) => {
    const trials = minimize({ method: 'cmaes', dims: DIMS, where, budget, seed, f: (p) => -score(p) });
    for (const t of trials) assert.ok(where(t.params), `proposal outside where: ${JSON.stringify(t.params)}`);
    assert.equal(new Set(trials.map((t) => `${t.params.fast},${t.params.slow}`)).size, trials.length, 'a point proposed twice');
    return Math.max(...trials.map((t) => -t.loss![0]!)) / OPTIMUM;
  });
  shares.sort((a, b) => a - b);
  assert.ok(shares[2]! >= 0.99, `median share ${shares[2]} (all ${shares.map((s) => s.toFixed(4)).join(', ')})`);
});

test('cmaes on a grid proposes the edge values of a dim (a sample beyond the box decodes to the edge)', () => {
  const trials = minimize({ method: 'cmaes', dims: DIMS, where, budget: 200, seed: 3, f: (p) => -(p.slow as number) - (p.fast as number) / 100 });
  assert.ok(trials.some((t) => t.params.slow === 298 && t.params.fast === 80), 'never reached the corner (80, 298)');
});

test('bayes past its active set keeps its search quality', () => {
  // 120 trials with a 60-point active set: 60 proposals made on the local model.
  for (const seed of [1, 2]) {
    const local = minimize({ method: 'bayes', dims: branin.dims, f: branin.f, budget: 120, seed, options: { active: 60 } });
    const best = Math.min(...local.map((t) => t.loss![0]!));
    assert.ok(best < 0.3985, `branin seed ${seed}: ${best}`);
  }
  const h = minimize({ method: 'bayes', dims: hartmann6.dims, f: hartmann6.f, budget: 150, seed: 4, options: { active: 60 } });
  const best = Math.min(...h.map((t) => t.loss![0]!));
  assert.ok(best < -3.3, `hartmann6: ${best}`);
  // Reproducible from its seed on the local model too.
  const again = minimize({ method: 'bayes', dims: hartmann6.dims, f: hartmann6.f, budget: 150, seed: 4, options: { active: 60 } });
  assert.deepEqual(
    again.map((t) => t.params),
    h.map((t) => t.params),
  );
});
