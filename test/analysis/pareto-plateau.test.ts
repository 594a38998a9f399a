/** Pareto fronts on constructed sets (mixed directions) and plateau scores on a constructed grid. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hypervolume, hypervolumeHistory, paretoFront, plateauScores, referencePoint, type TrialLike } from '../../server/analysis';

test('Pareto front with maximize/minimize mixed', () => {
  // (sharpe ↑, drawdown ↓)
  const pts = [
    [1.0, 10], // 0 front
    [1.5, 20], // 1 front
    [0.8, 12], // 2 dominated by 0
    [2.0, 35], // 3 front
    [1.5, 25], // 4 dominated by 1
    [1.0, 10], // 5 duplicate of 0: kept (neither dominates)
    [0.5, 5], // 6 front (lowest drawdown)
    [2.0, 40], // 7 dominated by 3
  ];
  assert.deepEqual(paretoFront(pts, ['maximize', 'minimize']), [0, 1, 3, 5, 6]);
  assert.deepEqual(paretoFront(pts, ['maximize', 'maximize']), [7], 'both maximized: (2, 40) dominates all');
  assert.deepEqual(paretoFront(pts, ['minimize', 'minimize']), [6]);
});

test('2-D hypervolume by hand, and a history that never decreases', () => {
  // Minimize both; ref (4, 4): boxes (1,3)→3·1, (2,2)→2·1 extra, (3,1)→1·1 extra = 6.
  assert.equal(hypervolume([[1, 3], [2, 2], [3, 1]], [4, 4]).value, 6);
  assert.equal(hypervolume([[5, 5]], [4, 4]).value, 0, 'points beyond the reference add nothing');
  const pts = [[1, 3], [2.5, 2.5], [2, 2], [3, 1], [0.5, 3.5]];
  const ref = referencePoint(pts, ['minimize', 'minimize'])!;
  assert.deepEqual(ref, [3 + 0.25, 3.5 + 0.25]);
  const h = hypervolumeHistory(pts, ['minimize', 'minimize'], ref, { checkpoints: 5 });
  assert.equal(h.points.length, 5);
  for (let i = 1; i < h.points.length; i++) assert.ok(h.points[i]!.hypervolume >= h.points[i - 1]!.hypervolume);
  assert.equal(h.points[4]!.hypervolume, hypervolume(pts, ref).value);
  // Maximized objectives: the same set negated gives the same volume.
  const neg = pts.map((p) => p.map((x) => -x));
  const refMax = referencePoint(neg, ['maximize', 'maximize'])!;
  assert.deepEqual(refMax, ref);
});

/** An 11×11 grid: a flat plateau of 5 on a..b ∈ [1, 5], a needle of 9 at (8, 8), zero elsewhere. */
function grid(): TrialLike[] {
  const out: TrialLike[] = [];
  let n = 0;
  for (let a = 0; a <= 10; a++)
    for (let b = 0; b <= 10; b++) {
      const plateau = a >= 1 && a <= 5 && b >= 1 && b <= 5;
      const score = a === 8 && b === 8 ? 9 : plateau ? 5 : 0;
      out.push({ number: n++, stage: 's', params: { a, b, fixed: 1 }, metrics: {}, score, state: 'complete' });
    }
  return out;
}

test('plateau score: a flat plateau keeps its score, a needle is flagged and penalized', () => {
  const trials = grid();
  const centre = trials.find((t) => t.params.a === 3 && t.params.b === 3)!;
  const needle = trials.find((t) => t.params.a === 8 && t.params.b === 8)!;
  const [pc, pn] = plateauScores(trials, { only: [centre, needle], k: 1, lambda: 1 });
  // Centre: all 9 cells are 5 → mean 5, std 0.
  assert.equal(pc!.robust, 5);
  assert.equal(pc!.neighbours, 8);
  assert.equal(pc!.needle, false);
  // Needle: 9 and eight zeros → mean 1, population std √((8² + 8·1²)/9) = √8.
  assert.ok(Math.abs(pn!.neighbourhoodMean - 1) < 1e-12);
  assert.ok(Math.abs(pn!.neighbourhoodStd - Math.sqrt(8)) < 1e-12);
  assert.ok(Math.abs(pn!.robust - (1 - Math.sqrt(8))) < 1e-12);
  assert.equal(pn!.needle, true);
  assert.ok(pc!.robust > pn!.robust, 'the plateau beats the needle once robustness counts');
});

test('plateau: edges have fewer cells, k widens the window, failures are counted not averaged', () => {
  const trials = grid();
  const corner = trials.find((t) => t.params.a === 0 && t.params.b === 0)!;
  const [pc] = plateauScores(trials, { only: [corner] });
  assert.equal(pc!.cells, 3);
  const centre = trials.find((t) => t.params.a === 3 && t.params.b === 3)!;
  const [k2] = plateauScores(trials, { only: [centre], k: 2 });
  assert.equal(k2!.cells, 24);
  assert.equal(k2!.robust, 5, 'a..b ∈ [1, 5] still covers ±2 around (3, 3)');
  // Fail one neighbour: it drops out of the mean and is counted.
  const broken = trials.map((t) => (t.params.a === 2 && t.params.b === 3 ? { ...t, state: 'failed' as const, score: null } : t));
  const [pb] = plateauScores(broken, { only: [broken.find((t) => t.params.a === 3 && t.params.b === 3)!] });
  assert.equal(pb!.neighbours, 7);
  assert.equal(pb!.infeasibleNeighbours, 1);
  // Minimizing: the sign flips (mean + λ·std), and a deep hole is the needle.
  const low = grid().map((t) => ({ ...t, score: -(t.score as number) }));
  const [pm] = plateauScores(low, { only: [low.find((t) => t.params.a === 8 && t.params.b === 8)!], direction: 'minimize' });
  assert.ok(Math.abs(pm!.robust - (-1 + Math.sqrt(8))) < 1e-12);
  assert.equal(pm!.needle, true);
});
