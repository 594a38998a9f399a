/** Forest fANOVA on functions with known variance shares, and the snapshot on real backtests. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTrials, fanovaImportance, importanceOf, oneWayAnova, rankTrials, bestByMetric, correlations, pearson, surface, slices, type TrialLike } from '../../server/analysis';
import { runGrid } from './real-runs';

test('fANOVA shares on an additive function match its analytic variance decomposition', () => {
  // y = f1(a) + f2(b) on the full 10×10×3 grid; c does nothing. Under the uniform measure
  // on the grid, Var f1 = Var{0,1,4,…,81} and Var f2 = Var{0,2,…,18}·… computed below.
  const f1 = (a: number) => a * a;
  const f2 = (b: number) => 6 * b;
  const x: number[][] = [];
  const y: number[] = [];
  for (let a = 0; a < 10; a++) for (let b = 0; b < 10; b++) for (let c = 0; c < 3; c++) (x.push([a, b, c]), y.push(f1(a) + f2(b)));
  const popVar = (v: number[]) => { const m = v.reduce((s, q) => s + q, 0) / v.length; return v.reduce((s, q) => s + (q - m) ** 2, 0) / v.length; };
  const v1 = popVar([...Array(10).keys()].map(f1));
  const v2 = popVar([...Array(10).keys()].map(f2));
  const shares = fanovaImportance(x, y, { trees: 16, seed: 1 });
  assert.ok(Math.abs(shares[0]! - v1 / (v1 + v2)) < 0.05, `a: ${shares[0]} vs ${v1 / (v1 + v2)}`);
  assert.ok(Math.abs(shares[1]! - v2 / (v1 + v2)) < 0.05, `b: ${shares[1]} vs ${v2 / (v1 + v2)}`);
  assert.ok(shares[2]! < 0.01, `c: ${shares[2]}`);
});

test('fANOVA: a pure interaction has no main effects; a constant score has no importance', () => {
  const x: number[][] = [];
  const y: number[] = [];
  for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) for (let r = 0; r < 10; r++) (x.push([a, b]), y.push(a === b ? 1 : -1));
  const s = fanovaImportance(x, y, { trees: 8 });
  assert.ok(s[0]! < 0.05 && s[1]! < 0.05, `XOR main effects ${s}`);
  assert.deepEqual(fanovaImportance(x, y.map(() => 3)), [0, 0]);
});

test('importance on a real sma_cross grid: shares in range, ANOVA equals the direct computation', () => {
  const { trials } = runGrid('sma_cross', { fast: [5, 10, 15, 20, 25, 30], slow: [40, 60, 80, 100, 150, 200] });
  const feasible = trials.filter((t) => t.state === 'complete');
  assert.ok(feasible.length >= 20, 'most of the grid trades');
  const imp = importanceOf(feasible, ['fast', 'slow']);
  let sum = 0;
  for (const i of imp) {
    assert.ok(i.importance >= 0 && i.importance <= 1);
    sum += i.importance;
    const groups = new Map<number, number[]>();
    for (const t of feasible) groups.set(t.params[i.param] as number, [...(groups.get(t.params[i.param] as number) ?? []), t.score as number]);
    const direct = oneWayAnova([...groups.values()]);
    assert.equal(i.fStat, direct.f);
    assert.equal(i.negLog10P, direct.negLog10P);
  }
  assert.ok(sum <= 1 + 1e-9);
});

test('rankings, best-by-metric, correlations, slices and surfaces on real results', () => {
  const { trials } = runGrid('sma_cross', { fast: [5, 10, 20, 30], slow: [50, 100, 150, 200] }, { stage: 'entry' });
  const top = rankTrials(trials, { directions: ['maximize'] }, { n: 3 });
  const scores = trials.filter((t) => t.state === 'complete').map((t) => t.score as number).sort((a, b) => b - a);
  assert.deepEqual(top.map((r) => r.value), scores.slice(0, 3));
  const worst = rankTrials(trials, undefined, { n: 1, bottom: true });
  assert.equal(worst[0]!.value, scores[scores.length - 1]);
  const byDd = rankTrials(trials, undefined, { by: { metric: 'max_drawdown_pct' }, n: 1 });
  const minDd = Math.min(...trials.filter((t) => t.state === 'complete').map((t) => t.metrics.max_drawdown_pct as number));
  assert.equal(byDd[0]!.value, minDd, 'drawdown ranks smallest first');
  const all = rankTrials(trials, undefined, { n: Infinity, feasibleOnly: false });
  assert.equal(all.length, trials.length);
  assert.ok(all.slice(-1)[0]!.state !== 'complete' || trials.every((t) => t.state === 'complete'), 'infeasible rows rank last');
  const best = bestByMetric(trials, ['total_return_pct', 'max_drawdown_pct']);
  assert.equal(best[1]!.value, minDd);

  const corr = correlations(trials, ['fast', 'slow'], [{ name: 'score', key: 'score' }]);
  const f = trials.filter((t) => t.state === 'complete');
  assert.equal(corr[0]!.pearson, pearson(f.map((t) => t.params.fast as number), f.map((t) => t.score as number)));

  const sl = slices(trials, ['fast'])[0]!;
  assert.deepEqual(sl.buckets.map((b) => b.value), [5, 10, 20, 30]);
  assert.equal(sl.buckets.reduce((a, b) => a + b.count, 0), trials.length);
  for (const b of sl.buckets) {
    const ys = f.filter((t) => t.params.fast === b.value).map((t) => t.score as number);
    assert.equal(b.max, ys.length ? Math.max(...ys) : null);
  }
  const s = surface(trials, 'fast', 'slow');
  assert.equal(s.mean.length, 4);
  for (const t of trials) {
    const i = s.xs.indexOf(t.params.fast!);
    const j = s.ys.indexOf(t.params.slow!);
    // One trial per cell on a full grid: mean = max = its score, or an empty (null) cell.
    assert.equal(s.mean[j]![i], t.state === 'complete' ? t.score : null);
  }
});

test('analyzeTrials: incremental snapshots equal a fresh one, and the snapshot is complete', () => {
  const { trials } = runGrid('sma_cross', { fast: [5, 8, 12, 16, 20, 25, 30], slow: [40, 60, 90, 120, 160, 200] });
  const start = { directions: ['maximize' as const], params: ['fast', 'slow'], stages: [{ name: 'grid', size: trials.length, method: 'grid' }] };
  const growing: TrialLike[] = [];
  let snap;
  for (const t of trials) {
    growing.push(t);
    if (growing.length % 5 === 0) snap = analyzeTrials(growing, start);
  }
  snap = analyzeTrials(growing, start, { final: true });
  const fresh = analyzeTrials(trials, { ...start });
  delete snap.computeMs;
  delete fresh.computeMs;
  assert.deepEqual(snap, fresh);
  assert.equal(snap.trials, trials.length);
  assert.equal(snap.counts!.complete + snap.counts!.infeasible, trials.length);
  assert.equal(snap.importance.length, 2);
  assert.equal(snap.history!.length, trials.length);
  const bests = snap.history!.map((h) => h.best ?? -Infinity);
  for (let i = 1; i < bests.length; i++) assert.ok(bests[i]! >= bests[i - 1]!, 'running best never falls');
  assert.equal(snap.best!.score, snap.top![0]!.score);
  assert.ok(snap.surface && snap.surface.xs.length === 7 && snap.surface.ys.length === 6);
  assert.ok(snap.plateau!.length >= 1, 'grid finalists get plateau scores');
  assert.equal(snap.pareto, undefined, 'one objective: no Pareto front');
});

test('analyzeTrials with two objectives: the front and a monotone hypervolume history', () => {
  const { trials } = runGrid('sma_cross', { fast: [5, 10, 15, 20, 30], slow: [50, 80, 120, 200] }, {
    score: (m) => (typeof m.sharpe === 'number' && typeof m.max_drawdown_pct === 'number' ? [m.sharpe, m.max_drawdown_pct] : null),
  });
  const snap = analyzeTrials(trials, { directions: ['maximize', 'minimize'] });
  const front = snap.pareto!;
  assert.ok(front.length >= 1);
  const feas = trials.filter((t) => t.state === 'complete');
  for (const p of front) {
    const [s, d] = p.score as number[];
    assert.ok(!feas.some((t) => { const [s2, d2] = t.score as number[]; return s2! >= s! && d2! <= d! && (s2! > s! || d2! < d!); }), 'nothing dominates a front point');
  }
  const hv = snap.hypervolume!.points.map((p) => p.hypervolume);
  for (let i = 1; i < hv.length; i++) assert.ok(hv[i]! >= hv[i - 1]!);
  assert.equal(snap.hypervolume!.method, 'exact');
});

test('analyzeTrials never throws on odd trials: missing fields, NaN and mixed-type scores, unknown states', () => {
  const odd = [
    { params: {}, metrics: {}, score: null, state: 'failed' },
    { params: { a: 1 }, metrics: { sharpe: null }, score: NaN, state: 'complete' },
    { params: { a: 'x', b: true }, metrics: {}, score: 3, state: 'complete' },
    { params: { a: 2, b: false }, metrics: { sharpe: 1 }, score: [1, 2], state: 'complete' },
    { params: { a: 3 }, metrics: undefined, score: Infinity, state: 'weird' },
    { stage: 's', number: 9, params: { a: 4, b: true }, metrics: { sharpe: 2 }, score: 5, state: 'infeasible' },
    { params: { a: 5, b: false }, metrics: { sharpe: 0.5 }, score: 1, state: 'complete' },
    { params: { a: 6, b: true }, metrics: { sharpe: 0.7 }, score: 2, state: 'complete' },
  ] as unknown as TrialLike[];
  for (let k = 0; k <= odd.length; k++) {
    const snap = analyzeTrials(odd.slice(0, k), { directions: ['maximize'] }, { final: true, observations: 100 });
    assert.equal(snap.trials, k);
    assert.equal(JSON.stringify(snap).includes('NaN'), false);
  }
  assert.equal(analyzeTrials([]).trials, 0);
});
