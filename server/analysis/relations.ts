/**
 * How parameters relate to results: parameter–metric correlations (Pearson and Spearman),
 * per-parameter value distributions, one-parameter slices of the score and two-parameter
 * surfaces (mean and max of the score over all other parameters, empty cells marked null).
 */
import type { Correlation, ParamSlice, SliceBucket, Surface } from '../../protocol/analysis';
import { averageRanks, pearson, spearman } from './stats';
import { encodeParams, isFeasible, keyValue, type ParamEncoding, type RankKey, type TrialLike } from './trial-data';


/**
 * Pearson and Spearman between every numeric parameter and every target, over feasible trials.
 * Ranks of complete columns are computed once and shared by every pair that uses them.
 */
export function correlations(
  trials: readonly TrialLike[], params: readonly string[], targets: readonly { name: string; key: RankKey }[], encodings?: readonly ParamEncoding[],
): Correlation[] {
  const feasible = trials.filter(isFeasible);
  const n = feasible.length;
  const encs = pickEncodings(feasible, params, encodings);
  const ys = targets.map((tg) => {
    const col = new Float64Array(n);
    let complete = true;
    feasible.forEach((t, i) => {
      const v = keyValue(t, tg.key);
      col[i] = v === null ? NaN : v;
      if (v === null) complete = false;
    });
    return { col, complete, ranks: null as Float64Array | null };
  });
  const out: Correlation[] = [];
  for (const enc of encs) {
    // Categoricals have no order, so a correlation with them would be an artefact.
    if (!enc.numeric || enc.values.length < 2) continue;
    const xcol = new Float64Array(n);
    let xComplete = true;
    feasible.forEach((t, i) => {
      const v = t.params[enc.name];
      xcol[i] = typeof v === 'number' ? v : NaN;
      if (typeof v !== 'number') xComplete = false;
    });
    let xRanks: Float64Array | null = null;
    targets.forEach((tg, k) => {
      const y = ys[k]!;
      if (xComplete && y.complete) {
        xRanks ??= averageRanks(xcol);
        y.ranks ??= averageRanks(y.col);
        out.push({ param: enc.name, target: tg.name, pearson: pearson(xcol, y.col), spearman: pearson(xRanks, y.ranks), n });
        return;
      }
      const xs: number[] = [];
      const yv: number[] = [];
      for (let i = 0; i < n; i++) if (!Number.isNaN(xcol[i]!) && !Number.isNaN(y.col[i]!)) (xs.push(xcol[i]!), yv.push(y.col[i]!));
      out.push({ param: enc.name, target: tg.name, pearson: pearson(xs, yv), spearman: spearman(xs, yv), n: xs.length });
    });
  }
  return out;
}

export type { Correlation, ParamSlice, SliceBucket, Surface };

type ParamValue = number | string | boolean | undefined;

/** Given encodings (the analyzer keeps them incrementally) by name, else computed from the trials. */
export function pickEncodings(trials: readonly TrialLike[], params: readonly string[], given?: readonly ParamEncoding[]): ParamEncoding[] {
  if (!given) return encodeParams(trials, params);
  const by = new Map(given.map((e) => [e.name, e]));
  const missing = params.filter((p) => !by.has(p));
  if (missing.length) for (const e of encodeParams(trials, missing)) by.set(e.name, e);
  return params.map((p) => by.get(p)!);
}

/** Evenly spaced picks so a long run's scatter spans all of it, not just its start. */
export function thin<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const out: T[] = [];
  const step = xs.length / max;
  for (let k = 0; k < max; k++) out.push(xs[Math.floor(k * step)]!);
  return out;
}

/** Bucketing of one parameter: by value when few distinct values, else equal-width bins. */
function bucketer(enc: ParamEncoding, maxBuckets: number): { keys: SliceBucket[]; at: (v: ParamValue) => number } {
  if (!enc.numeric || enc.values.length <= maxBuckets) {
    // Raw values as keys: SameValueZero keeps 1, '1' and true apart without building strings.
    const index = new Map<ParamValue, number>(enc.values.map((v, i) => [v, i]));
    return {
      keys: enc.values.map((v) => ({ value: v, count: 0, feasible: 0, mean: null, max: null, min: null })),
      at: (v) => index.get(v) ?? -1,
    };
  }
  const lo = enc.values[0] as number;
  const hi = enc.values[enc.values.length - 1] as number;
  const w = (hi - lo) / maxBuckets;
  const keys: SliceBucket[] = [];
  for (let b = 0; b < maxBuckets; b++)
    keys.push({ value: lo + w * (b + 0.5), lo: lo + w * b, hi: lo + w * (b + 1), count: 0, feasible: 0, mean: null, max: null, min: null });
  return { keys, at: (v) => (typeof v === 'number' ? Math.min(maxBuckets - 1, Math.max(0, Math.floor((v - lo) / w))) : -1) };
}

/** Score (or `key`) versus each parameter: per-value/bucket count, mean, max, min, and raw points. */
export function slices(
  trials: readonly TrialLike[], params: readonly string[], key: RankKey = 'score', opts: { maxBuckets?: number; maxPoints?: number; encodings?: readonly ParamEncoding[] } = {},
): ParamSlice[] {
  const maxBuckets = opts.maxBuckets ?? 24;
  const maxPoints = opts.maxPoints ?? 400;
  const encs = pickEncodings(trials, params, opts.encodings);
  return encs.map((enc) => {
    const { keys, at } = bucketer(enc, maxBuckets);
    const sums = new Float64Array(keys.length);
    const points: ParamSlice['points'] = [];
    for (const t of trials) {
      const v = t.params?.[enc.name];
      const b = at(v);
      if (b < 0) continue;
      const k = keys[b]!;
      k.count++;
      if (!isFeasible(t)) continue;
      const y = keyValue(t, key);
      if (y === null) continue;
      k.feasible++;
      sums[b] += y;
      k.max = k.max === null ? y : Math.max(k.max, y);
      k.min = k.min === null ? y : Math.min(k.min, y);
      points.push({ x: v!, y, ...(t.number !== undefined ? { number: t.number } : {}) });
    }
    keys.forEach((k, b) => (k.mean = k.feasible ? sums[b]! / k.feasible : null));
    return { param: enc.name, numeric: enc.numeric, buckets: keys, points: thin(points, maxPoints) };
  });
}


/** Mean, max and min of the score (or `key`) over every other parameter, on an x × y grid. */
export function surface(
  trials: readonly TrialLike[], px: string, py: string, key: RankKey = 'score', opts: { maxBuckets?: number; encodings?: readonly ParamEncoding[] } = {},
): Surface {
  const maxBuckets = opts.maxBuckets ?? 24;
  const [ex, ey] = pickEncodings(trials, [px, py], opts.encodings) as [ParamEncoding, ParamEncoding];
  const bx = bucketer(ex, maxBuckets);
  const by = bucketer(ey, maxBuckets);
  const nx = bx.keys.length;
  const ny = by.keys.length;
  const grid = <T>(v: T): T[][] => Array.from({ length: ny }, () => new Array<T>(nx).fill(v));
  const sum = grid(0);
  const count = grid(0);
  const max = grid<number | null>(null);
  const min = grid<number | null>(null);
  for (const t of trials) {
    if (!isFeasible(t)) continue;
    const i = bx.at(t.params?.[px]);
    const j = by.at(t.params?.[py]);
    if (i < 0 || j < 0) continue;
    const v = keyValue(t, key);
    if (v === null) continue;
    sum[j]![i]! += v;
    count[j]![i]!++;
    const mx = max[j]![i]!;
    const mn = min[j]![i]!;
    max[j]![i] = mx === null ? v : Math.max(mx, v);
    min[j]![i] = mn === null ? v : Math.min(mn, v);
  }
  const mean = sum.map((row, j) => row.map((s, i) => (count[j]![i]! ? s / count[j]![i]! : null)));
  return { x: px, y: py, xs: bx.keys.map((k) => k.value), ys: by.keys.map((k) => k.value), mean, max, min, count };
}
