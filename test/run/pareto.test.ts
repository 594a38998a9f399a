/** Pareto fronts: non-dominated and complete, against brute force; NSGA-II on a two-objective problem. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { dominates, nonDominatedSort, ParetoFront, Rng } from '../../server/search';
import { minimize } from '../../server/search/minimize';

function bruteFront(points: number[][]): Set<number> {
  const out = new Set<number>();
  points.forEach((p, i) => {
    if (!points.some((q) => dominates(q, p))) out.add(i);
  });
  return out;
}

test('the incremental front and the first sorted front equal the brute-force front', () => {
  const rng = new Rng(3);
  for (let round = 0; round < 20; round++) {
    const m = 2 + (round % 3);
    const pts = Array.from({ length: 150 }, () => Array.from({ length: m }, () => Math.round(rng.next() * 20)));
    const brute = bruteFront(pts);
    const front = new ParetoFront<number>();
    pts.forEach((p, i) => front.add(p, i));
    assert.deepEqual(new Set(front.items), brute, 'incremental front');
    const fronts = nonDominatedSort(pts);
    assert.deepEqual(new Set(fronts[0]), brute, 'sorted front 0');
    assert.equal(fronts.flat().length, pts.length, 'every point is in one front');
    // No member of front k+1 dominates a member of front k.
    for (let k = 0; k + 1 < fronts.length; k++)
      for (const i of fronts[k + 1]!) for (const j of fronts[k]!) assert.ok(!dominates(pts[i]!, pts[j]!));
  }
});

test('NSGA-II approaches the front of a two-objective problem and keeps it spread', () => {
  // Schaffer-like: f1 = x², f2 = (x − 2)² with a nuisance dim; the front is x ∈ [0, 2], y = 0.
  const trials = minimize({
    method: 'genetic',
    dims: [
      { name: 'x', low: -10, high: 10 },
      { name: 'y', low: -5, high: 5 },
    ],
    f: (p) => {
      const x = p.x as number;
      const y = p.y as number;
      return [x * x + y * y, (x - 2) ** 2 + y * y];
    },
    objectives: 2,
    budget: 400,
    seed: 1,
    options: { population: 40 },
  });
  const pts = trials.map((t) => t.loss!);
  const front = [...bruteFront(pts)].map((i) => trials[i]!.params);
  const near = front.filter((p) => (p.x as number) > -0.1 && (p.x as number) < 2.1 && Math.abs(p.y as number) < 0.3);
  assert.ok(front.length >= 10, `front of ${front.length}`);
  assert.ok(near.length / front.length > 0.8, `${near.length}/${front.length} on the true front`);
  const xs = near.map((p) => p.x as number);
  assert.ok(Math.max(...xs) - Math.min(...xs) > 1.5, 'the front is spread');
});
