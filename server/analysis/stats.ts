/**
 * Numeric building blocks for the analyses: moments, ranks, correlations, the normal and F
 * distributions (through the regularized incomplete gamma and beta functions) and a seeded PRNG.
 * Pure, allocation-light, no dependencies: the panel, the CLI and the report share them.
 */

/** Euler–Mascheroni constant (the DSR's expected-maximum formula uses it). */
export const EULER_GAMMA = 0.5772156649015329;

/** Arithmetic mean; NaN for an empty list. */
export function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return xs.length ? s / xs.length : NaN;
}

/** Sample variance (n − 1 denominator); NaN below two values. */
export function variance(xs: ArrayLike<number>, ddof = 1): number {
  const n = xs.length;
  if (n - ddof <= 0) return NaN;
  const m = mean(xs);
  let s = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - m;
    s += d * d;
  }
  return s / (n - ddof);
}

/** Sample standard deviation (n − 1 denominator unless `ddof` says otherwise). */
export function std(xs: ArrayLike<number>, ddof = 1): number {
  return Math.sqrt(variance(xs, ddof));
}

/**
 * Skewness and (non-excess) kurtosis with population moments (the biased estimators the DSR
 * paper uses: γ3 = m3/m2^1.5, γ4 = m4/m2², so a normal sample gives γ4 ≈ 3).
 */
export function moments(xs: ArrayLike<number>): { mean: number; std: number; skew: number; kurtosis: number } {
  const n = xs.length;
  const m = mean(xs);
  let m2 = 0;
  let m3 = 0;
  let m4 = 0;
  for (let i = 0; i < n; i++) {
    const d = xs[i]! - m;
    const d2 = d * d;
    m2 += d2;
    m3 += d2 * d;
    m4 += d2 * d2;
  }
  m2 /= n;
  m3 /= n;
  m4 /= n;
  const sd = n > 1 ? Math.sqrt((m2 * n) / (n - 1)) : NaN;
  return { mean: m, std: sd, skew: m2 > 0 ? m3 / Math.pow(m2, 1.5) : 0, kurtosis: m2 > 0 ? m4 / (m2 * m2) : 3 };
}

/** The q-quantile (0..1) of already sorted values, linear interpolation (numpy's default). */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  const h = (n - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Ranks 1..n with ties given their average rank (as Spearman's rho needs). A native numeric
 * sort of a copy plus a binary search per value: much faster than a comparator sort of indices.
 */
export function averageRanks(xs: ArrayLike<number>): Float64Array {
  const n = xs.length;
  const sorted = Float64Array.from(xs).sort();
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = xs[i]!;
    // First index ≥ v and first index > v: the tie block [lo, hi).
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const m = (lo + hi) >>> 1;
      if (sorted[m]! < v) lo = m + 1;
      else hi = m;
    }
    let a = lo;
    hi = n;
    while (a < hi) {
      const m = (a + hi) >>> 1;
      if (sorted[m]! <= v) a = m + 1;
      else hi = m;
    }
    ranks[i] = (lo + a - 1) / 2 + 1;
  }
  return ranks;
}

/** Pearson's correlation; null when either side is constant or there are fewer than 3 pairs. */
export function pearson(xs: ArrayLike<number>, ys: ArrayLike<number>): number | null {
  const n = Math.min(xs.length, ys.length);
  if (n < 3) return null;
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    const dy = ys[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx <= 0 || syy <= 0) return null;
  const r = sxy / Math.sqrt(sxx * syy);
  return Math.max(-1, Math.min(1, r));
}

/** Spearman's rank correlation (Pearson over average ranks, so ties are handled). */
export function spearman(xs: ArrayLike<number>, ys: ArrayLike<number>): number | null {
  return pearson(averageRanks(xs), averageRanks(ys));
}

// ---------------------------------------------------------------------------------------------
// Special functions

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; ~15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  x -= 1;
  let a = LANCZOS[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized lower incomplete gamma P(a, x) (series below a + 1, continued fraction above). */
export function gammaP(a: number, x: number): number {
  if (x <= 0) return 0;
  if (x < a + 1) {
    let sum = 1 / a;
    let del = sum;
    let ap = a;
    for (let n = 0; n < 500; n++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      if (Math.abs(del) < Math.abs(sum) * 1e-16) break;
    }
    return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
  }
  return 1 - gammaQcf(a, x);
}

/** Upper tail Q(a, x) by Lentz's continued fraction (valid for x ≥ a + 1). */
function gammaQcf(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 500; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

/** Standard normal CDF Φ(x), accurate to ~1e-15 absolute (erf through P(1/2, x²/2)). */
export function normCdf(x: number): number {
  if (!Number.isFinite(x)) return x > 0 ? 1 : x < 0 ? 0 : NaN;
  const z = (x * x) / 2;
  if (x >= 0) return 0.5 + 0.5 * gammaP(0.5, z);
  // The lower tail straight from Q keeps relative accuracy far out (no 1 − P cancellation).
  return 0.5 * (z < 1.5 ? 1 - gammaP(0.5, z) : gammaQcf(0.5, z));
}

/** Standard normal quantile Φ⁻¹(p): Acklam's rational approximation plus one Halley step. */
export function normPpf(p: number): number {
  if (p <= 0) return -Infinity;
  if (p >= 1) return Infinity;
  const a = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
  const b = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
  const c = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
  const plow = 0.02425;
  let x: number;
  if (p < plow) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - plow) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) / ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  // One Halley refinement brings the ~1e-9 approximation to full double precision.
  const e = normCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** Continued fraction for the incomplete beta (modified Lentz). */
function betacf(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  const qab = a + b;
  const qap = a + 1;
  const qam = a - 1;
  let c = 1;
  let d = 1 - (qab * x) / qap;
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 1000; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (qab + m) * x) / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    if (Math.abs(del - 1) < 1e-15) break;
  }
  return h;
}

/**
 * ln I_x(a, b), the log of the regularized incomplete beta function. Working in logs keeps
 * p-values far below 1e-308 meaningful as −log10 p instead of flushing them to 0.
 */
export function logIncBeta(x: number, a: number, b: number): number {
  if (x <= 0) return -Infinity;
  if (x >= 1) return 0;
  const lbt = logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return lbt + Math.log(betacf(a, b, x)) - Math.log(a);
  const upper = Math.exp(lbt + Math.log(betacf(b, a, 1 - x)) - Math.log(b));
  return Math.log1p(-upper);
}

/** Regularized incomplete beta I_x(a, b). */
export function incBeta(x: number, a: number, b: number): number {
  return Math.exp(logIncBeta(x, a, b));
}

/** ln of the F distribution's upper tail P(F > f) with (d1, d2) degrees of freedom. */
export function fLogSf(f: number, d1: number, d2: number): number {
  if (!(f > 0)) return 0;
  // P(F > f) = I_{d2/(d2 + d1 f)}(d2/2, d1/2)
  return logIncBeta(d2 / (d2 + d1 * f), d2 / 2, d1 / 2);
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness (every Monte Carlo and bootstrap here is reproducible from its seed)

/** A seeded PRNG returning floats in [0, 1) (mulberry32: tiny, fast, good enough for resampling). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
