/**
 * A Gaussian process regressor with a Matérn 5/2 ARD kernel: one lengthscale per input, a
 * signal variance and a noise variance, fitted by maximizing the log marginal likelihood
 * (with weak priors that keep it well posed on a few points) using L-BFGS with analytic
 * gradients and warm starts.
 */
import { backSolve, cholesky, choleskyInverse, forwardSolve } from './linalg';
import type { Rng } from './rng';

const SQRT5 = Math.sqrt(5);
const LOG_L_MIN = Math.log(0.005);
const LOG_L_MAX = Math.log(50);
const LOG_SN_MIN = Math.log(1e-6);
const LOG_SN_MAX = Math.log(1);

/** Hyperparameters: log lengthscales (F), log signal variance, log noise variance. */
export type GpTheta = Float64Array;

export class Gp {
  n: number;
  f: number;
  private X: Float64Array;
  private y: Float64Array;
  theta: GpTheta;
  private L: Float64Array | null = null;
  private alpha: Float64Array | null = null;
  /** The diagonal jitter that made the current factor positive definite. */
  private jitter = 1e-9;

  constructor(X: number[][], y: number[], theta?: GpTheta) {
    this.n = X.length;
    this.f = X[0]?.length ?? 0;
    this.X = new Float64Array(this.n * this.f);
    X.forEach((row, i) => row.forEach((v, j) => (this.X[i * this.f + j] = v)));
    this.y = Float64Array.from(y);
    this.theta = theta && theta.length === this.f + 2 ? Float64Array.from(theta) : Gp.defaultTheta(this.f);
  }

  static defaultTheta(f: number): GpTheta {
    const t = new Float64Array(f + 2);
    t.fill(Math.log(0.5), 0, f);
    t[f] = 0;
    t[f + 1] = Math.log(1e-3);
    return t;
  }

  /** Fits the hyperparameters; `restarts` extra random starts besides the current theta. */
  fit(rng: Rng, iterations: number, restarts: number): void {
    const starts: GpTheta[] = [Float64Array.from(this.theta)];
    if (restarts > 0) starts.push(Gp.defaultTheta(this.f));
    for (let r = 1; r < restarts; r++) {
      const t = Gp.defaultTheta(this.f);
      for (let j = 0; j < this.f; j++) t[j] = Math.log(0.05) + rng.next() * (Math.log(2) - Math.log(0.05));
      starts.push(t);
    }
    const work = new FitWork(this.X, this.n, this.f);
    let best: { t: GpTheta; v: number } | null = null;
    for (const s of starts) {
      const r = lbfgs((t) => this.objective(t, work), s, iterations, (t) => this.clamp(t));
      if (Number.isFinite(r.v) && (!best || r.v < best.v)) best = { t: r.x, v: r.v };
    }
    if (best) this.theta = best.t;
    this.factor();
  }

  private clamp(t: GpTheta): void {
    for (let j = 0; j < this.f; j++) t[j] = Math.min(LOG_L_MAX, Math.max(LOG_L_MIN, t[j]!));
    t[this.f] = Math.min(Math.log(100), Math.max(Math.log(1e-3), t[this.f]!));
    t[this.f + 1] = Math.min(LOG_SN_MAX, Math.max(LOG_SN_MIN, t[this.f + 1]!));
  }

  /** The negative log posterior of theta and its gradient. */
  private objective(t: GpTheta, w: FitWork): { v: number; g: Float64Array } {
    const n = this.n;
    const F = this.f;
    const ls = new Float64Array(F);
    for (let j = 0; j < F; j++) ls[j] = Math.exp(-2 * t[j]!);
    const sf2 = Math.exp(t[F]!);
    const sn2 = Math.exp(t[F + 1]!);
    const { d2, r: R, e: E, K } = w;
    // Pairs in packed lower-triangle order; their per-dim squared differences are fixed for
    // the whole fit, so an evaluation is one pass over them plus the O(n³) algebra.
    let p = 0;
    for (let i = 0; i < n; i++) {
      K[i * n + i] = sf2 + sn2 + 1e-9;
      for (let j = 0; j < i; j++, p++) {
        let r2 = 0;
        const o = p * F;
        for (let d = 0; d < F; d++) r2 += d2[o + d]! * ls[d]!;
        const r = Math.sqrt(r2);
        const e = Math.exp(-SQRT5 * r);
        R[p] = r;
        E[p] = e;
        const k = sf2 * (1 + SQRT5 * r + (5 / 3) * r2) * e;
        K[i * n + j] = k;
      }
    }
    const L = K; // factorized in place (only the lower triangle was filled)
    const g = new Float64Array(F + 2);
    if (!cholesky(L, n)) return { v: Infinity, g };
    const a = Float64Array.from(this.y);
    forwardSolve(L, n, a);
    let v = 0;
    for (let i = 0; i < n; i++) v += 0.5 * a[i]! * a[i]! + Math.log(L[i * n + i]!);
    backSolve(L, n, a);
    const Kinv = choleskyInverse(L, n);
    // W = ααᵀ − K⁻¹ ; dNLL/dθ = −½ Σ W ∘ dK/dθ
    let gs = 0;
    let gn = 0;
    const gl = new Float64Array(F);
    p = 0;
    for (let i = 0; i < n; i++) {
      const wii = a[i]! * a[i]! - Kinv[i * n + i]!;
      gs += wii * sf2;
      gn += wii * sn2;
      for (let j = 0; j < i; j++, p++) {
        const wij = 2 * (a[i]! * a[j]! - Kinv[i * n + j]!); // both triangles
        const r = R[p]!;
        const e = E[p]!;
        gs += wij * sf2 * (1 + SQRT5 * r + (5 / 3) * r * r) * e;
        const c = wij * sf2 * (5 / 3) * (1 + SQRT5 * r) * e;
        const o = p * F;
        for (let d = 0; d < F; d++) gl[d]! += c * d2[o + d]!;
      }
    }
    for (let d = 0; d < F; d++) g[d] = -0.5 * gl[d]! * ls[d]!;
    g[F] = -0.5 * gs;
    g[F + 1] = -0.5 * gn;
    // Weak priors: lengthscales log-normal around 0.5, signal around 1, noise small.
    for (let d = 0; d < F; d++) {
      const z = (t[d]! - Math.log(0.5)) / 1.5;
      v += 0.5 * z * z;
      g[d]! += z / 1.5;
    }
    const zs = t[F]! / 2;
    v += 0.5 * zs * zs;
    g[F]! += zs / 2;
    const zn = (t[F + 1]! - Math.log(1e-4)) / 3;
    v += 0.5 * zn * zn;
    g[F + 1]! += zn / 3;
    return { v, g };
  }

  /** A copy with one more observation (same theta), factorized: the kriging believer's step. */
  withPoint(x: number[], y: number): Gp {
    const next = new Gp([], [], this.theta);
    next.f = this.f;
    next.n = this.n;
    next.X = this.X; // append copies, so the two never share a mutated buffer
    next.L = this.L;
    next.jitter = this.jitter;
    next.theta = this.theta;
    next.append([x]);
    next.setY([...this.y, y]);
    return next;
  }

  /**
   * Adds observations with the current theta by extending the Cholesky factor one row at a
   * time (O(n²) each instead of O(n³) for a new factor); call `setY` afterwards. Falls back
   * to a full factorization when a new row is numerically dependent on the old ones.
   */
  append(rows: number[][]): void {
    const F = this.f;
    const X = new Float64Array((this.n + rows.length) * F);
    X.set(this.X.subarray(0, this.n * F));
    rows.forEach((row, k) => row.forEach((v, d) => (X[(this.n + k) * F + d] = v)));
    this.X = X;
    const old = this.L;
    const n0 = this.n;
    this.n += rows.length;
    if (!old) return;
    const n = this.n;
    const L = new Float64Array(n * n);
    for (let i = 0; i < n0; i++) L.set(old.subarray(i * n0, i * n0 + i + 1), i * n);
    const diag = Math.exp(this.theta[F]!) + Math.exp(this.theta[F + 1]!) + this.jitter;
    for (let i = n0; i < n; i++) {
      const ri = i * n;
      for (let j = 0; j < i; j++) L[ri + j] = this.kernel(i, this.X, j * F);
      // Row i of L: solve L[0..i) l = k, then the new diagonal.
      let ss = 0;
      for (let j = 0; j < i; j++) {
        let s = L[ri + j]!;
        const rj = j * n;
        for (let k = 0; k < j; k++) s -= L[rj + k]! * L[ri + k]!;
        s /= L[rj + j]!;
        L[ri + j] = s;
        ss += s * s;
      }
      const dd = diag - ss;
      if (!(dd > 1e-12 * diag)) {
        this.L = null;
        this.factor();
        return;
      }
      L[ri + i] = Math.sqrt(dd);
    }
    this.L = L;
    this.alpha = null;
  }

  /** Replaces the targets (same inputs and theta): two triangular solves. */
  setY(y: number[]): void {
    this.y = Float64Array.from(y);
    if (!this.L) {
      this.factor();
      return;
    }
    const a = Float64Array.from(this.y);
    forwardSolve(this.L, this.n, a);
    backSolve(this.L, this.n, a);
    this.alpha = a;
  }

  /** Factorizes K with the current theta (adds jitter until positive definite). */
  factor(): boolean {
    const n = this.n;
    const F = this.f;
    const t = this.theta;
    const sf2 = Math.exp(t[F]!);
    const sn2 = Math.exp(t[F + 1]!);
    for (let jitter = 1e-9; jitter < 1; jitter *= 10) {
      const K = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        K[i * n + i] = sf2 + sn2 + jitter;
        for (let j = 0; j < i; j++) K[i * n + j] = this.kernel(i, this.X, j * F);
      }
      if (cholesky(K, n)) {
        this.L = K;
        this.jitter = jitter;
        const a = Float64Array.from(this.y);
        forwardSolve(K, n, a);
        backSolve(K, n, a);
        this.alpha = a;
        return true;
      }
    }
    this.L = null;
    this.alpha = null;
    return false;
  }

  private kernel(i: number, other: ArrayLike<number>, off: number): number {
    const F = this.f;
    let r2 = 0;
    for (let d = 0; d < F; d++) {
      const df = this.X[i * F + d]! - other[off + d]!;
      r2 += (df * df) / Math.exp(2 * this.theta[d]!);
    }
    return matern52(r2, Math.exp(this.theta[F]!));
  }

  /** Posterior mean and standard deviation at x (noise-free). */
  predict(x: ArrayLike<number>, scratch?: Float64Array): { mu: number; sd: number } {
    const n = this.n;
    if (!this.L || !this.alpha) return { mu: 0, sd: Math.exp(0.5 * this.theta[this.f]!) };
    const F = this.f;
    const k = scratch && scratch.length >= n ? scratch : new Float64Array(n);
    const inv = this.invLs();
    const sf2 = Math.exp(this.theta[F]!);
    let mu = 0;
    const X = this.X;
    const alpha = this.alpha;
    for (let i = 0; i < n; i++) {
      let r2 = 0;
      const o = i * F;
      for (let d = 0; d < F; d++) {
        const df = X[o + d]! - x[d]!;
        r2 += df * df * inv[d]!;
      }
      const kv = matern52(r2, sf2);
      k[i] = kv;
      mu += kv * alpha[i]!;
    }
    // v = L⁻¹ k ; var = k(x,x) − vᵀv
    const L = this.L;
    let vv = 0;
    for (let i = 0; i < n; i++) {
      let s = k[i]!;
      const ri = i * n;
      for (let j = 0; j < i; j++) s -= L[ri + j]! * k[j]!;
      s /= L[ri + i]!;
      k[i] = s;
      vv += s * s;
    }
    return { mu, sd: Math.sqrt(Math.max(1e-12, sf2 - vv)) };
  }

  /**
   * Posterior mean and sd at many points at once: the same arithmetic as `predict`, in the
   * same order (so the same numbers), but the triangular solve runs on blocks of candidates
   * so each row of L is read once per block instead of once per candidate (L no longer fits
   * in cache past ~150 points, and this solve is most of an ask's cost).
   */
  predictMany(xs: ArrayLike<number>[], mu: Float64Array, sd: Float64Array): void {
    const n = this.n;
    const m = xs.length;
    const F = this.f;
    const sf2 = Math.exp(this.theta[F]!);
    if (!this.L || !this.alpha) {
      mu.fill(0, 0, m);
      sd.fill(Math.sqrt(sf2), 0, m);
      return;
    }
    const B = 8;
    const inv = this.invLs();
    const X = this.X;
    const alpha = this.alpha;
    const L = this.L;
    const V = new Float64Array(n * B);
    const acc = new Float64Array(B);
    const vv = new Float64Array(B);
    for (let c0 = 0; c0 < m; c0 += B) {
      const bs = Math.min(B, m - c0);
      if (bs < B) V.fill(0);
      for (let c = 0; c < bs; c++) {
        const x = xs[c0 + c]!;
        let mc = 0;
        for (let i = 0; i < n; i++) {
          let r2 = 0;
          const o = i * F;
          for (let d = 0; d < F; d++) {
            const df = X[o + d]! - x[d]!;
            r2 += df * df * inv[d]!;
          }
          const kv = matern52(r2, sf2);
          V[i * B + c] = kv;
          mc += kv * alpha[i]!;
        }
        mu[c0 + c] = mc;
      }
      vv.fill(0);
      for (let i = 0; i < n; i++) {
        const ri = i * n;
        const oi = i * B;
        // Eight running sums in locals (a full block; unused lanes are zeros and ignored).
        let a0 = V[oi]!;
        let a1 = V[oi + 1]!;
        let a2 = V[oi + 2]!;
        let a3 = V[oi + 3]!;
        let a4 = V[oi + 4]!;
        let a5 = V[oi + 5]!;
        let a6 = V[oi + 6]!;
        let a7 = V[oi + 7]!;
        for (let j = 0, oj = 0; j < i; j++, oj += B) {
          const l = L[ri + j]!;
          a0 -= l * V[oj]!;
          a1 -= l * V[oj + 1]!;
          a2 -= l * V[oj + 2]!;
          a3 -= l * V[oj + 3]!;
          a4 -= l * V[oj + 4]!;
          a5 -= l * V[oj + 5]!;
          a6 -= l * V[oj + 6]!;
          a7 -= l * V[oj + 7]!;
        }
        acc[0] = a0;
        acc[1] = a1;
        acc[2] = a2;
        acc[3] = a3;
        acc[4] = a4;
        acc[5] = a5;
        acc[6] = a6;
        acc[7] = a7;
        const dii = L[ri + i]!;
        for (let c = 0; c < B; c++) {
          const v = acc[c]! / dii;
          V[oi + c] = v;
          vv[c]! += v * v;
        }
      }
      for (let c = 0; c < bs; c++) sd[c0 + c] = Math.sqrt(Math.max(1e-12, sf2 - vv[c]!));
    }
  }

  private invCache: { theta: GpTheta; inv: Float64Array } | null = null;

  /** 1/ℓ² per input, cached for the current theta (predict runs thousands of times per ask). */
  private invLs(): Float64Array {
    if (this.invCache && this.invCache.theta === this.theta) return this.invCache.inv;
    const inv = new Float64Array(this.f);
    for (let d = 0; d < this.f; d++) inv[d] = Math.exp(-2 * this.theta[d]!);
    this.invCache = { theta: this.theta, inv };
    return inv;
  }
}

/** The Matérn 5/2 kernel at squared scaled distance r2 with signal variance sf2 (the likelihood inlines it with its gradient's terms). */
function matern52(r2: number, sf2: number): number {
  const r = Math.sqrt(r2);
  return sf2 * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
}

/** Per-fit buffers: the pairs' per-dim squared differences, and scratch reused by every evaluation. */
class FitWork {
  readonly d2: Float64Array;
  readonly r: Float64Array;
  readonly e: Float64Array;
  readonly K: Float64Array;
  constructor(X: Float64Array, n: number, F: number) {
    const pairs = (n * (n - 1)) / 2;
    this.d2 = new Float64Array(pairs * F);
    this.r = new Float64Array(pairs);
    this.e = new Float64Array(pairs);
    this.K = new Float64Array(n * n);
    let p = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < i; j++, p++)
        for (let d = 0; d < F; d++) {
          const df = X[i * F + d]! - X[j * F + d]!;
          this.d2[p * F + d] = df * df;
        }
  }
}

/** Projected L-BFGS with backtracking; `project` clamps x in place. */
export function lbfgs(
  f: (x: Float64Array) => { v: number; g: Float64Array },
  x0: Float64Array,
  maxIter: number,
  project: (x: Float64Array) => void,
): { x: Float64Array; v: number } {
  const m = 6;
  let x = Float64Array.from(x0);
  project(x);
  let { v, g } = f(x);
  if (!Number.isFinite(v)) return { x, v };
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const n = x.length;
  for (let it = 0; it < maxIter; it++) {
    // Two-loop recursion for the search direction.
    const q = Float64Array.from(g);
    const al: number[] = [];
    for (let k = S.length - 1; k >= 0; k--) {
      const rho = 1 / dot(Y[k]!, S[k]!);
      const a = rho * dot(S[k]!, q);
      al[k] = a;
      for (let i = 0; i < n; i++) q[i]! -= a * Y[k]![i]!;
    }
    const gamma = S.length ? dot(S[S.length - 1]!, Y[Y.length - 1]!) / dot(Y[Y.length - 1]!, Y[Y.length - 1]!) : 1 / Math.max(1, Math.hypot(...g));
    for (let i = 0; i < n; i++) q[i]! *= gamma;
    for (let k = 0; k < S.length; k++) {
      const rho = 1 / dot(Y[k]!, S[k]!);
      const b = rho * dot(Y[k]!, q);
      for (let i = 0; i < n; i++) q[i]! += S[k]![i]! * (al[k]! - b);
    }
    let d = q.map((e) => -e);
    if (dot(d, g) >= 0) {
      d = g.map((e) => -e / Math.max(1, Math.hypot(...g)));
      S.length = 0;
      Y.length = 0;
    }
    let step = 1;
    let accepted = false;
    let xn = x;
    let res = { v, g };
    for (let ls = 0; ls < 20; ls++) {
      xn = x.map((xi, i) => xi + step * d[i]!);
      project(xn);
      res = f(xn);
      let dec = 0;
      for (let i = 0; i < n; i++) dec += g[i]! * (xn[i]! - x[i]!);
      if (Number.isFinite(res.v) && res.v <= v + 1e-4 * dec) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;
    const s = xn.map((e, i) => e - x[i]!);
    const y = res.g.map((e, i) => e - g[i]!);
    if (dot(s, y) > 1e-12) {
      S.push(s);
      Y.push(y);
      if (S.length > m) S.shift(), Y.shift();
    }
    const improvement = v - res.v;
    x = xn;
    v = res.v;
    g = res.g;
    if (improvement < 1e-9 * Math.max(1, Math.abs(v))) break;
  }
  return { x, v };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
