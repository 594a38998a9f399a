/**
 * Pareto fronts and hypervolume for several objectives with mixed directions.
 * Internally every objective is turned into "smaller is better" (maximized ones negated), so
 * one dominance test and one hypervolume routine serve all mixes.
 * Hypervolume: exact for 2 objectives (a sweep) and for 3+ by HSO-style slicing (sort on the
 * last objective, integrate the (d−1)-dimensional volume of each slab); beyond a work limit a
 * seeded Monte Carlo estimate is used and labelled as such.
 */
import { seededRandom } from './stats';
import type { Direction } from './trial-data';

/** a dominates b (both already in minimization space): no worse anywhere, better somewhere. */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! > b[i]!) return false;
    if (a[i]! < b[i]!) better = true;
  }
  return better;
}

/** A point in minimization space. */
export function toMin(v: readonly number[], directions: readonly Direction[]): number[] {
  return v.map((x, i) => (directions[i] === 'maximize' ? -x : x));
}

/**
 * Indices of the non-dominated points (duplicates of a front point are all kept: neither
 * dominates the other). Incremental over the input order, O(n·|front|).
 */
export function paretoFront(points: readonly (readonly number[])[], directions: readonly Direction[]): number[] {
  const front: { i: number; p: number[] }[] = [];
  points.forEach((v, i) => {
    const p = toMin(v, directions);
    for (const f of front) if (dominates(f.p, p)) return;
    for (let k = front.length - 1; k >= 0; k--) if (dominates(p, front[k]!.p)) front.splice(k, 1);
    front.push({ i, p });
  });
  return front.map((f) => f.i).sort((a, b) => a - b);
}

export interface HypervolumeResult {
  value: number;
  method: 'exact' | 'monte-carlo';
  /** Monte Carlo only: samples drawn and the estimate's standard error. */
  samples?: number;
  stdError?: number;
}

/**
 * Hypervolume dominated by `points` (minimization space) and bounded by `ref` (a point worse
 * than all of them in every objective). Points not strictly better than ref in every objective
 * contribute nothing and are dropped.
 */
export function hypervolume(points: readonly (readonly number[])[], ref: readonly number[], opts: { seed?: number; maxWork?: number; samples?: number } = {}): HypervolumeResult {
  const d = ref.length;
  const pts = points.filter((p) => p.every((x, i) => x < ref[i]!)).map((p) => [...p]);
  if (pts.length === 0) return { value: 0, method: 'exact' };
  if (d === 1) return { value: ref[0]! - Math.min(...pts.map((p) => p[0]!)), method: 'exact' };
  const nd = nonDominatedMin(pts);
  const work = Math.pow(nd.length, d - 1);
  if (d === 2 || work <= (opts.maxWork ?? 2e7)) return { value: hvSlice(nd, ref, d), method: 'exact' };
  return hvMonteCarlo(nd, ref, opts.samples ?? 200_000, opts.seed ?? 1);
}

function nonDominatedMin(pts: number[][]): number[][] {
  const out: number[][] = [];
  for (const p of pts) {
    if (out.some((q) => dominates(q, p) || q.every((x, i) => x === p[i]))) continue;
    for (let k = out.length - 1; k >= 0; k--) if (dominates(p, out[k]!)) out.splice(k, 1);
    out.push(p);
  }
  return out;
}

/** Exact hypervolume of the first `d` coordinates by recursive slicing. */
function hvSlice(pts: number[][], ref: readonly number[], d: number): number {
  if (pts.length === 0) return 0;
  if (d === 1) return ref[0]! - Math.min(...pts.map((p) => p[0]!));
  if (d === 2) {
    const s = [...pts].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    let vol = 0;
    let bestY = ref[1]!;
    for (const p of s) {
      if (p[1]! < bestY) {
        vol += (ref[0]! - p[0]!) * (bestY - p[1]!);
        bestY = p[1]!;
      }
    }
    return vol;
  }
  const k = d - 1;
  const s = [...pts].sort((a, b) => a[k]! - b[k]!);
  let vol = 0;
  const active: number[][] = [];
  for (let i = 0; i < s.length; i++) {
    active.push(s[i]!);
    const next = i + 1 < s.length ? s[i + 1]![k]! : ref[k]!;
    const depth = next - s[i]![k]!;
    if (depth <= 0) continue;
    vol += depth * hvSlice(nonDominatedPrefix(active, k), ref, k);
  }
  return vol;
}

/** Non-dominated subset on the first k coordinates (keeps the slices small). */
function nonDominatedPrefix(pts: number[][], k: number): number[][] {
  const out: number[][] = [];
  for (const p of pts) {
    let dominated = false;
    for (const q of out) {
      let le = true;
      for (let i = 0; i < k; i++) if (q[i]! > p[i]!) { le = false; break; }
      if (le) { dominated = true; break; }
    }
    if (dominated) continue;
    for (let j = out.length - 1; j >= 0; j--) {
      let le = true;
      for (let i = 0; i < k; i++) if (p[i]! > out[j]![i]!) { le = false; break; }
      if (le) out.splice(j, 1);
    }
    out.push(p);
  }
  return out;
}

function hvMonteCarlo(pts: number[][], ref: readonly number[], samples: number, seed: number): HypervolumeResult {
  const d = ref.length;
  const lo = ref.map((_, i) => Math.min(...pts.map((p) => p[i]!)));
  let box = 1;
  for (let i = 0; i < d; i++) box *= ref[i]! - lo[i]!;
  const rand = seededRandom(seed);
  const x = new Array<number>(d);
  let hits = 0;
  for (let s = 0; s < samples; s++) {
    for (let i = 0; i < d; i++) x[i] = lo[i]! + rand() * (ref[i]! - lo[i]!);
    for (const p of pts) {
      let dom = true;
      for (let i = 0; i < d; i++) if (p[i]! > x[i]!) { dom = false; break; }
      if (dom) { hits++; break; }
    }
  }
  const frac = hits / samples;
  return { value: frac * box, method: 'monte-carlo', samples, stdError: box * Math.sqrt((frac * (1 - frac)) / samples) };
}

/**
 * A reference point for a run: per objective, the worst value seen among `points` pushed out
 * by 10 % of the objective's range (or by 1 when the range is 0), in minimization space.
 */
export function referencePoint(points: readonly (readonly number[])[], directions: readonly Direction[]): number[] | null {
  if (points.length === 0) return null;
  const mins = points.map((p) => toMin(p, directions));
  return directions.map((_, i) => {
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of mins) (lo = Math.min(lo, p[i]!), (hi = Math.max(hi, p[i]!)));
    const span = hi - lo;
    return hi + (span > 0 ? 0.1 * span : 1);
  });
}

export interface HypervolumePoint {
  /** Feasible trials seen so far. */
  trials: number;
  /** The trial's number (its position in the run) at this checkpoint. */
  number?: number;
  hypervolume: number;
}

/**
 * Hypervolume of the front after each of up to `checkpoints` evenly spaced prefixes of the
 * feasible points (in run order), against one fixed reference point so the curve is monotone.
 */
export function hypervolumeHistory(
  points: readonly (readonly number[])[], directions: readonly Direction[], ref: readonly number[],
  opts: { checkpoints?: number; numbers?: readonly number[] } = {},
): { method: HypervolumeResult['method']; points: HypervolumePoint[] } {
  const n = points.length;
  const cps = Math.min(n, opts.checkpoints ?? 60);
  const out: HypervolumePoint[] = [];
  let method: HypervolumeResult['method'] = 'exact';
  const front: number[][] = [];
  let next = 0;
  for (let k = 1; k <= cps; k++) {
    const upto = Math.round((k * n) / cps);
    for (; next < upto; next++) {
      const p = toMin(points[next]!, directions);
      if (front.some((f) => dominates(f, p))) continue;
      for (let j = front.length - 1; j >= 0; j--) if (dominates(p, front[j]!)) front.splice(j, 1);
      front.push(p);
    }
    const hv = hypervolume(front, ref);
    if (hv.method === 'monte-carlo') method = 'monte-carlo';
    out.push({ trials: upto, hypervolume: hv.value, ...(opts.numbers ? { number: opts.numbers[upto - 1] } : {}) });
  }
  return { method, points: out };
}
