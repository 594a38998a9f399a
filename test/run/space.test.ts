/** Spaces: mixed-radix enumeration, the seeded index permutation, encodings, lazy huge grids. */
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { GridSampler, IndexPermutation, Rng, Space } from '../../server/search';

test('the index permutation is a bijection of [0, n) for awkward n, and depends on the seed', () => {
  for (const n of [1, 2, 3, 7, 100, 997, 4096, 10007]) {
    const p = new IndexPermutation(n, 42);
    const seen = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const j = p.at(i);
      assert.ok(j >= 0 && j < n && Number.isInteger(j));
      assert.equal(seen[j], 0, `n=${n}: ${j} twice`);
      seen[j] = 1;
    }
  }
  const a = new IndexPermutation(1000, 1);
  const b = new IndexPermutation(1000, 2);
  let same = 0;
  for (let i = 0; i < 1000; i++) if (a.at(i) === b.at(i)) same++;
  assert.ok(same < 20, `${same} equal positions: not shuffled`);
});

test('grid indexes enumerate every combination in mixed radix, last dim fastest', () => {
  const s = new Space([
    { name: 'a', values: [1, 2] },
    { name: 'b', values: ['x', 'y', 'z'] },
  ]);
  assert.equal(s.size, 6);
  assert.deepEqual(
    Array.from({ length: 6 }, (_, i) => s.at(i)),
    [
      { a: 1, b: 'x' },
      { a: 1, b: 'y' },
      { a: 1, b: 'z' },
      { a: 2, b: 'x' },
      { a: 2, b: 'y' },
      { a: 2, b: 'z' },
    ],
  );
});

test('encode/decode round-trips finite values and clamps continuous ones (log too)', () => {
  const s = new Space([
    { name: 'n', values: [5, 10, 20, 40] },
    { name: 'c', values: ['a', 'b'] },
    { name: 'x', low: 1, high: 1000, log: true },
    { name: 'i', low: -3, high: 3, int: true },
  ]);
  const p = { n: 20, c: 'b', x: 10, i: -2 };
  const q = s.decode(s.encode(p));
  assert.equal(q.n, 20);
  assert.equal(q.c, 'b');
  assert.ok(Math.abs((q.x as number) - 10) < 1e-9);
  assert.equal(q.i, -2);
  const r = s.decode([2, -1, 0.5, 9]);
  assert.deepEqual({ ...r, x: 0 }, { n: 40, c: 'a', x: 0, i: 3 });
  assert.ok(Math.abs((r.x as number) - Math.sqrt(1000)) < 1e-9, 'log midpoint');
});

test('a shuffled 10-million-combination grid is enumerated lazily in constant memory', () => {
  const values = Array.from({ length: 100 }, (_, i) => i);
  const dims = ['a', 'b', 'c', 'd'].map((name, k) => ({ name, values: k === 3 ? values.slice(0, 10) : values }));
  const space = new Space(dims, { where: (p) => (p.a as number) < (p.b as number) });
  assert.equal(space.size, 10_000_000);
  const g = new GridSampler({ space, rng: new Rng(1), objectives: 1, budget: Infinity, options: { shuffle: true } });
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  let n = 0;
  for (let k = 0; k < 200; k++) {
    const batch = g.ask(256);
    n += batch.length;
    for (const p of batch) assert.ok((p.a as number) < (p.b as number));
  }
  global.gc?.();
  const grown = process.memoryUsage().heapUsed - before;
  assert.equal(n, 200 * 256);
  // A plain grid keeps no per-proposal state: the heap stays flat however far it gets.
  assert.ok(grown < 20 * 1024 * 1024, `heap grew ${grown} bytes`);
  const count = space.feasibleCount();
  assert.equal(count.exact, false);
  assert.ok(Math.abs(count.count - 4_950_000) < 50_000, String(count.count));
});

test('feasible sees fixed values the point does not override, and the point over fixed ones it does', () => {
  const where = (full: Record<string, unknown>): boolean => (full.a as number) > (full.b as number);
  // `a` is fixed only (an earlier stage's best): read from the fixed values.
  const s1 = new Space([{ name: 'b', values: [1, 2, 3, 9] }], { fixed: { a: 5, b: 100 }, where });
  assert.deepEqual([0, 1, 2, 3].map((i) => s1.feasible(s1.at(i))), [true, true, true, false]);
  // Every fixed name searched: the point's own values decide (no merged copy), as the merged set would.
  const s2 = new Space(
    [
      { name: 'a', values: [1, 4] },
      { name: 'b', values: [2, 3] },
    ],
    { fixed: { a: 100, b: 0 }, where },
  );
  assert.deepEqual([0, 1, 2, 3].map((i) => s2.feasible(s2.at(i))), [false, false, true, true]);
  // A point without a fixed name falls back to the merged values.
  assert.equal(s2.feasible({ b: 3 }), true);
});
