/**
 * Parameter importance, two ways:
 * - one-way ANOVA of the score across each parameter's values (F, p from the F distribution,
 *   −log10 p) — the seed's OptimizationAnalyzer did this;
 * - a functional-ANOVA estimate (Hutter, Hoos & Leyton-Brown 2014): fit a small random forest
 *   of regression trees to score(params), then for every tree decompose its prediction's
 *   variance over the parameter space exactly and take each parameter's main-effect share.
 *   The measure on the space is uniform over each parameter's distinct values (grids,
 *   categoricals) or over its range (continuous, binned), so the shares say "how much of the
 *   score's variation across the searched space this parameter alone explains".
 */
import { fLogSf, seededRandom } from './stats';

/** Result of a one-way ANOVA. */
export interface AnovaResult {
  f: number | null;
  /** Degrees of freedom between (k − 1) and within (N − k) groups. */
  dfBetween: number;
  dfWithin: number;
  pValue: number | null;
  /** −log10 p, finite even when p underflows a double. */
  negLog10P: number | null;
  groups: number;
}

/**
 * One-way ANOVA over groups of values. Returns nulls when it is undefined (fewer than two
 * groups, no within-group degrees of freedom). Zero within-group variance with a non-zero
 * between-group variance gives F = ∞ and p = 0.
 */
export function oneWayAnova(groups: readonly (readonly number[])[]): AnovaResult {
  const gs = groups.filter((g) => g.length > 0);
  const k = gs.length;
  let n = 0;
  let total = 0;
  for (const g of gs) for (const x of g) (n++, (total += x));
  const dfB = k - 1;
  const dfW = n - k;
  const none: AnovaResult = { f: null, dfBetween: dfB, dfWithin: dfW, pValue: null, negLog10P: null, groups: k };
  if (k < 2 || dfW < 1) return none;
  const grand = total / n;
  let ssb = 0;
  let ssw = 0;
  for (const g of gs) {
    let s = 0;
    for (const x of g) s += x;
    const m = s / g.length;
    ssb += g.length * (m - grand) * (m - grand);
    for (const x of g) ssw += (x - m) * (x - m);
  }
  // Rounding noise in constant data must not read as a signal.
  const scale = Math.max(1e-300, Math.abs(grand) * Math.abs(grand) * n);
  if (ssb <= scale * 1e-24 && ssw <= scale * 1e-24) return none;
  if (ssw <= scale * 1e-24) return { f: Infinity, dfBetween: dfB, dfWithin: dfW, pValue: 0, negLog10P: Infinity, groups: k };
  const f = ssb / dfB / (ssw / dfW);
  const lnp = fLogSf(f, dfB, dfW);
  return { f, dfBetween: dfB, dfWithin: dfW, pValue: Math.exp(lnp), negLog10P: -lnp / Math.LN10, groups: k };
}

/**
 * Groups a parameter's trials for the ANOVA: by value when it has few distinct values,
 * otherwise into `maxGroups` equal-count bins of the sorted values (continuous searches).
 */
export function groupByParam(xs: readonly number[], ys: readonly number[], maxGroups = 10): number[][] {
  const distinct = [...new Set(xs.filter((x) => !Number.isNaN(x)))].sort((a, b) => a - b);
  if (distinct.length <= Math.max(maxGroups, 12)) {
    const at = new Map(distinct.map((v, i) => [v, i]));
    const out: number[][] = distinct.map(() => []);
    xs.forEach((x, i) => {
      const g = at.get(x);
      if (g !== undefined) out[g]!.push(ys[i]!);
    });
    return out;
  }
  // Bin edges at the equal-count quantiles of the values (a native sort), then each point by
  // binary search; equal values share an edge, so a tie is never split across bins.
  const sorted = Float64Array.from(xs.filter((x) => !Number.isNaN(x))).sort();
  const edges: number[] = [];
  for (let g = 1; g < maxGroups; g++) {
    const e = sorted[Math.floor((g * sorted.length) / maxGroups)]!;
    if (!edges.length || e > edges[edges.length - 1]!) edges.push(e);
  }
  const out: number[][] = Array.from({ length: edges.length + 1 }, () => []);
  xs.forEach((x, i) => {
    if (Number.isNaN(x)) return;
    let lo = 0;
    let hi = edges.length;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (edges[m]! <= x) lo = m + 1;
      else hi = m;
    }
    out[lo]!.push(ys[i]!);
  });
  return out.filter((g) => g.length > 0);
}

// ---------------------------------------------------------------------------------------------
// Functional ANOVA on a random forest

/** How one input dimension is discretized for the trees and for integrating over the space. */
interface Axis {
  /** Upper edges of the bins (value ≤ edge[b] falls in bin b or an earlier one). */
  edges: number[];
  /** Measure of each bin in the space (sums to 1). */
  weights: number[];
}

/** Axis for a dimension: one bin per distinct value when few, otherwise equal-width bins. */
function makeAxis(values: readonly number[], maxBins: number): Axis {
  const distinct = [...new Set(values.filter((v) => !Number.isNaN(v)))].sort((a, b) => a - b);
  if (distinct.length <= maxBins) {
    return { edges: distinct, weights: distinct.map(() => 1 / distinct.length) };
  }
  const lo = distinct[0]!;
  const hi = distinct[distinct.length - 1]!;
  const edges: number[] = [];
  for (let b = 1; b <= maxBins; b++) edges.push(b === maxBins ? hi : lo + ((hi - lo) * b) / maxBins);
  return { edges, weights: edges.map(() => 1 / maxBins) };
}

function binOf(axis: Axis, v: number): number {
  // Binary search for the first edge ≥ v.
  let lo = 0;
  let hi = axis.edges.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (axis.edges[mid]! >= v) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

interface Leaf {
  value: number;
  lo: Int32Array;
  hi: Int32Array;
}

export interface ForestOptions {
  trees?: number;
  /** Rows each tree is fitted on (bootstrap sample size cap). */
  sampleSize?: number;
  maxDepth?: number;
  minLeaf?: number;
  /** Bins per continuous dimension. */
  maxBins?: number;
  seed?: number;
}

/**
 * Main-effect variance shares per input column (0..1 each; their sum ≤ 1, the rest being
 * interactions), averaged over the forest's trees. `x[i][d]` may hold NaN for a missing value
 * (treated as its own lowest bin). Returns zeros when the score does not vary.
 */
export function fanovaImportance(x: readonly (readonly number[])[], y: readonly number[], opts: ForestOptions = {}): number[] {
  const n = y.length;
  const dims = n ? x[0]!.length : 0;
  const out = new Array<number>(dims).fill(0);
  if (n < 4 || dims === 0) return out;
  const maxBins = opts.maxBins ?? 32;
  const axes: Axis[] = [];
  for (let d = 0; d < dims; d++) axes.push(makeAxis(x.map((r) => r[d]!), maxBins));
  // Bin every row once; trees work on bin indices only.
  const bins: Int32Array[] = axes.map((axis, d) => {
    const col = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = x[i]![d]!;
      col[i] = Number.isNaN(v) ? 0 : binOf(axis, v);
    }
    return col;
  });
  const widest = Math.max(...axes.map((a) => a.edges.length));
  if (scratchCount.length < widest) ((scratchCount = new Float64Array(widest)), (scratchSum = new Float64Array(widest)));
  const rand = seededRandom(opts.seed ?? 12345);
  const trees = opts.trees ?? 8;
  const sampleSize = Math.min(n, opts.sampleSize ?? 512);
  const maxDepth = opts.maxDepth ?? 7;
  const minLeaf = opts.minLeaf ?? 2;
  let used = 0;
  const sums = new Array<number>(dims).fill(0);
  for (let t = 0; t < trees; t++) {
    const idx = new Int32Array(sampleSize);
    for (let i = 0; i < sampleSize; i++) idx[i] = Math.floor(rand() * n);
    const leaves: Leaf[] = [];
    const lo = new Int32Array(dims);
    const hi = new Int32Array(dims);
    for (let d = 0; d < dims; d++) hi[d] = axes[d]!.edges.length - 1;
    growTree(idx, 0, sampleSize, 0, lo, hi, bins, y, axes, maxDepth, minLeaf, rand, leaves);
    const shares = treeMainEffects(leaves, axes);
    if (shares) {
      used++;
      for (let d = 0; d < dims; d++) sums[d] += shares[d]!;
    }
  }
  if (used === 0) return out;
  return sums.map((s) => s / used);
}

// Split-search scratch, sized for the widest axis (bins ≤ maxBins or distinct values).
let scratchCount = new Float64Array(64);
let scratchSum = new Float64Array(64);

/** Grows one regression tree on rows `idx[from..to)` (reordered in place), CART with SSE. */
function growTree(
  idx: Int32Array, from: number, to: number, depth: number, lo: Int32Array, hi: Int32Array,
  bins: Int32Array[], y: readonly number[], axes: Axis[], maxDepth: number, minLeaf: number,
  rand: () => number, leaves: Leaf[],
): void {
  const count = to - from;
  let sum = 0;
  for (let i = from; i < to; i++) sum += y[idx[i]!]!;
  const leafValue = sum / count;
  let best = { gain: 1e-12, dim: -1, bin: -1 };
  if (depth < maxDepth && count >= 2 * minLeaf) {
    let sumSq = 0;
    for (let i = from; i < to; i++) sumSq += y[idx[i]!]! * y[idx[i]!]!;
    const parentSse = sumSq - (sum * sum) / count;
    if (parentSse > 1e-12 * Math.max(1, sumSq)) {
      // Visit dimensions in a random order so ties between equally good splits vary by tree.
      const dims = bins.length;
      const order = Array.from({ length: dims }, (_, d) => d);
      for (let i = dims - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
      for (const d of order) {
        const a = lo[d]!;
        const b = hi[d]!;
        if (a === b) continue;
        const width = b - a + 1;
        const cnt = scratchCount.subarray(0, width).fill(0);
        const sm = scratchSum.subarray(0, width).fill(0);
        const col = bins[d]!;
        for (let i = from; i < to; i++) {
          const k = col[idx[i]!]! - a;
          cnt[k]++;
          sm[k] += y[idx[i]!]!;
        }
        let lc = 0;
        let ls = 0;
        for (let k = 0; k < width - 1; k++) {
          lc += cnt[k]!;
          ls += sm[k]!;
          const rc = count - lc;
          if (lc < minLeaf || rc < minLeaf) continue;
          const rs = sum - ls;
          // SSE reduction = Σ_children s²/c − s²/c for the parent.
          const gain = (ls * ls) / lc + (rs * rs) / rc - (sum * sum) / count;
          if (gain > best.gain) best = { gain, dim: d, bin: a + k };
        }
      }
    }
  }
  if (best.dim < 0) {
    leaves.push({ value: leafValue, lo: lo.slice(), hi: hi.slice() });
    return;
  }
  // Partition rows: bin ≤ split go left.
  const col = bins[best.dim]!;
  let i = from;
  let j = to - 1;
  while (i <= j) {
    if (col[idx[i]!]! <= best.bin) i++;
    else {
      const tmp = idx[i]!;
      idx[i] = idx[j]!;
      idx[j] = tmp;
      j--;
    }
  }
  const d = best.dim;
  const savedHi = hi[d]!;
  hi[d] = best.bin;
  growTree(idx, from, i, depth + 1, lo, hi, bins, y, axes, maxDepth, minLeaf, rand, leaves);
  hi[d] = savedHi;
  const savedLo = lo[d]!;
  lo[d] = best.bin + 1;
  growTree(idx, i, to, depth + 1, lo, hi, bins, y, axes, maxDepth, minLeaf, rand, leaves);
  lo[d] = savedLo;
}

/**
 * Exact main-effect variance shares of one tree's piecewise-constant function under the
 * product measure of the axes. Leaves are disjoint boxes covering the space, so the mean is
 * Σ v·vol, the marginal of dimension d at bin a is Σ_{leaves ∋ a} v·vol/frac_d, and
 * V_d = Σ_a w_a (m_d(a) − f0)².
 */
function treeMainEffects(leaves: Leaf[], axes: Axis[]): number[] | null {
  const dims = axes.length;
  const prefix = axes.map((ax) => {
    const p = new Float64Array(ax.weights.length + 1);
    for (let k = 0; k < ax.weights.length; k++) p[k + 1] = p[k]! + ax.weights[k]!;
    return p;
  });
  const fracs = leaves.map((l) => {
    const f = new Float64Array(dims);
    for (let d = 0; d < dims; d++) f[d] = prefix[d]![l.hi[d]! + 1]! - prefix[d]![l.lo[d]!]!;
    return f;
  });
  let f0 = 0;
  let m2 = 0;
  leaves.forEach((l, i) => {
    let vol = 1;
    for (let d = 0; d < dims; d++) vol *= fracs[i]![d]!;
    f0 += l.value * vol;
    m2 += l.value * l.value * vol;
  });
  const total = m2 - f0 * f0;
  if (!(total > 1e-14 * Math.max(1, m2))) return null;
  const shares = new Array<number>(dims).fill(0);
  for (let d = 0; d < dims; d++) {
    const nb = axes[d]!.weights.length;
    const marg = new Float64Array(nb);
    leaves.forEach((l, i) => {
      let other = 1;
      for (let e = 0; e < dims; e++) if (e !== d) other *= fracs[i]![e]!;
      const c = l.value * other;
      for (let a = l.lo[d]!; a <= l.hi[d]!; a++) marg[a] += c;
    });
    let vd = 0;
    for (let a = 0; a < nb; a++) vd += axes[d]!.weights[a]! * (marg[a]! - f0) * (marg[a]! - f0);
    shares[d] = Math.min(1, vd / total);
  }
  return shares;
}
