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
  readonly n: number;
  readonly f: number;
  private X: Float64Array;
  private y: Float64Array;
  theta: GpTheta;
  private L: Float64Array | null = null;
  private alpha: Float64Array | null = null;

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
    let best: { t: GpTheta; v: number } | null = null;
    for (const s of starts) {
      const r = lbfgs((t) => this.objective(t), s, iterations, (t) => this.clamp(t));
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
  private objective(t: GpTheta): { v: number; g: Float64Array } {
    const n = this.n;
    const F = this.f;
    const ls = new Float64Array(F);
    for (let j = 0; j < F; j++) ls[j] = Math.exp(-2 * t[j]!);
    const sf2 = Math.exp(t[F]!);
    const sn2 = Math.exp(t[F + 1]!);
    const K = new Float64Array(n * n);
    // Keep r and per-dim squared differences implicit: recompute in the gradient loop.
    const R = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      K[i * n + i] = sf2 + sn2 + 1e-9;
      for (let j = 0; j < i; j++) {
        let r2 = 0;
        for (let d = 0; d < F; d++) {
          const df = this.X[i * F + d]! - this.X[j * F + d]!;
          r2 += df * df * ls[d]!;
        }
        const r = Math.sqrt(r2);
        R[i * n + j] = r;
        const k = sf2 * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
        K[i * n + j] = k;
        K[j * n + i] = k;
      }
    }
    const L = Float64Array.from(K);
    const g = new Float64Array(F + 2);
    if (!cholesky(L, n)) return { v: Infinity, g };
    const a = Float64Array.from(this.y);
    forwardSolve(L, n, a);
    let v = 0;
    for (let i = 0; i < n; i++) v += 0.5 * a[i]! * a[i]! + Math.log(L[i * n + i]!);
    backSolve(L, n, a);
    const Kinv = choleskyInverse(L, n);
    // W = ααᵀ − K⁻¹ ; dNLL/dθ = −½ Σ W ∘ dK/dθ
    for (let i = 0; i < n; i++) {
      const wii = a[i]! * a[i]! - Kinv[i * n + i]!;
      g[F]! += -0.5 * wii * sf2;
      g[F + 1]! += -0.5 * wii * sn2;
      for (let j = 0; j < i; j++) {
        const w = 2 * (a[i]! * a[j]! - Kinv[i * n + j]!); // both triangles
        const r = R[i * n + j]!;
        const e = Math.exp(-SQRT5 * r);
        g[F]! += -0.5 * w * K[i * n + j]!;
        const c = sf2 * (5 / 3) * (1 + SQRT5 * r) * e;
        for (let d = 0; d < F; d++) {
          const df = this.X[i * F + d]! - this.X[j * F + d]!;
          g[d]! += -0.5 * w * c * df * df * ls[d]!;
        }
      }
    }
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
    const X: number[][] = [];
    for (let i = 0; i < this.n; i++) X.push(Array.from(this.X.subarray(i * this.f, (i + 1) * this.f)));
    X.push(x);
    const next = new Gp(X, [...this.y, y], this.theta);
    next.factor();
    return next;
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
        for (let j = 0; j < i; j++) {
          const k = this.kernel(i, this.X, j * F);
          K[i * n + j] = k;
          K[j * n + i] = k;
        }
      }
      if (cholesky(K, n)) {
        this.L = K;
        const a = Float64Array.from(this.y);
        forwardSolve(K, n, a);
        backSolve(K, n, a);
        this.alpha = a;
        return true;
      }
    }
    return false;
  }

  private kernel(i: number, other: ArrayLike<number>, off: number): number {
    const F = this.f;
    let r2 = 0;
    for (let d = 0; d < F; d++) {
      const df = this.X[i * F + d]! - other[off + d]!;
      r2 += (df * df) / Math.exp(2 * this.theta[d]!);
    }
    const r = Math.sqrt(r2);
    return Math.exp(this.theta[F]!) * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
  }

  /** Posterior mean and standard deviation at x (noise-free). */
  predict(x: ArrayLike<number>, scratch?: Float64Array): { mu: number; sd: number } {
    const n = this.n;
    if (!this.L || !this.alpha) return { mu: 0, sd: Math.exp(0.5 * this.theta[this.f]!) };
    const F = this.f;
    const k = scratch && scratch.length >= n ? scratch : new Float64Array(n);
    const inv = new Float64Array(F);
    for (let d = 0; d < F; d++) inv[d] = Math.exp(-2 * this.theta[d]!);
    const sf2 = Math.exp(this.theta[F]!);
    let mu = 0;
    for (let i = 0; i < n; i++) {
      let r2 = 0;
      for (let d = 0; d < F; d++) {
        const df = this.X[i * F + d]! - x[d]!;
        r2 += df * df * inv[d]!;
      }
      const r = Math.sqrt(r2);
      const kv = sf2 * (1 + SQRT5 * r + (5 / 3) * r2) * Math.exp(-SQRT5 * r);
      k[i] = kv;
      mu += kv * this.alpha[i]!;
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
