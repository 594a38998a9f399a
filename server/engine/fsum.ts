/**
 * Exactly rounded floating-point sums, bit-identical to Python's `math.fsum` (Shewchuk's
 * non-overlapping partials, CPython's half-even fix-up at the end). backtrader's SMA is
 * `math.fsum(window) / p`; a naive or rolling sum differs in the last ulp for half the bars and
 * flips crossover signals, so parity needs this.
 *
 * `ExactSum` keeps the partials between calls: adding a value and adding its negation leaves
 * the exact sum of the remaining values, so a rolling window costs O(1) per bar and still gives
 * the exactly rounded window sum.
 */

/** An exact running sum of doubles; `value()` is the correctly rounded result (= math.fsum). */
export class ExactSum {
  private p = new Float64Array(32);
  private n = 0;

  /** Forgets everything added so far. */
  reset(): void {
    this.n = 0;
  }

  /** Adds `x` exactly (x must be finite). */
  add(x: number): void {
    const p = this.p;
    let i = 0;
    const n = this.n;
    for (let j = 0; j < n; j++) {
      let y = p[j]!;
      if (Math.abs(x) < Math.abs(y)) {
        const t = x;
        x = y;
        y = t;
      }
      const hi = x + y;
      const lo = y - (hi - x);
      if (lo !== 0) p[i++] = lo;
      x = hi;
    }
    if (x !== 0) {
      if (i === p.length) this.grow();
      this.p[i++] = x;
    }
    this.n = i;
  }

  private grow(): void {
    const q = new Float64Array(this.p.length * 2);
    q.set(this.p);
    this.p = q;
  }

  /** The exact sum rounded to nearest, ties to even (CPython's `math.fsum` final step). */
  value(): number {
    const p = this.p;
    let n = this.n;
    if (n === 0) return 0;
    let hi = p[--n]!;
    let lo = 0;
    while (n > 0) {
      const x = hi;
      const y = p[--n]!;
      hi = x + y;
      const yr = hi - x;
      lo = y - yr;
      if (lo !== 0) break;
    }
    if (n > 0 && ((lo < 0 && p[n - 1]! < 0) || (lo > 0 && p[n - 1]! > 0))) {
      const y = lo * 2;
      const x = hi + y;
      const yr = x - hi;
      if (y === yr) hi = x;
    }
    return hi;
  }
}

const scratch = new ExactSum();

/** `math.fsum(a[from..to))`. */
export function fsum(a: ArrayLike<number>, from = 0, to = a.length): number {
  const s = scratch;
  s.reset();
  let special = 0;
  for (let i = from; i < to; i++) {
    const x = a[i]!;
    if (x - x !== 0) special += x; // NaN or ±inf: the exact sum is that (as in CPython)
    else if (x !== 0) s.add(x);
  }
  return special !== 0 || special !== special ? special : s.value();
}

// ---------------------------------------------------------------------------------------------
// A fast path with a proof: sum in double-double (TwoSum, ~6 flops a term), then check that the
// error bound cannot move the rounding; only when it might (ties, heavy cancellation) fall back
// to the exact partials. The result is always the exactly rounded sum, i.e. `math.fsum`'s.

const U = 2 ** -53;
// Rump's ufp (unit in the first place, the largest power of 2 ≤ |x|) in three flops:
// `q = (2^52 + 1)·x; ufp = |q − (1 − 2^-53)·q|` (Rump, Ogita, Oishi 2008). No bit access, no pow.
const PHI = 2 ** 52 + 1;
const ONE_MINUS_U = 1 - U;
const ULP_OF_UFP = 2 ** -52;

/**
 * The correctly rounded value of `s + e + δ` for an unknown |δ| ≤ `bound`, or NaN when the
 * bound straddles a rounding boundary (the caller then sums exactly).
 */
export function certifiedRound(s: number, e: number, bound: number): number {
  const hi = s + e;
  const bp = hi - s;
  const lo = s - (hi - bp) + (e - bp); // hi + lo = s + e exactly (TwoSum)
  const a = Math.abs(hi);
  if (!(a > 1e-290 && a < 1e290)) return a === 0 && bound === 0 ? hi : NaN;
  const q = PHI * a;
  const ufp = Math.abs(q - ONE_MINUS_U * q);
  const away = ufp * ULP_OF_UFP; // spacing above |hi|
  const toward = a === ufp ? away * 0.5 : away; // spacing below |hi| (halved at a power of 2)
  const up = hi > 0 ? away : toward;
  const down = hi > 0 ? toward : away;
  // The exact sum is hi + lo + δ; it rounds to hi when it stays strictly inside half a spacing.
  return lo + bound < up * 0.5 && lo - bound > -down * 0.5 ? hi : NaN;
}

/**
 * Error bound of a double-double running sum of n terms with Σ|terms| = absSum: the TwoSum
 * errors are exact, only their own sum rounds (≤ n²u²·Σ|x|), doubled for slack.
 */
export function ddBound(n: number, absSum: number): number {
  return 2 * n * n * U * U * absSum;
}

/** `math.fsum(a[from..to))`, fast when the double-double sum decides the rounding. */
export function fsumFast(a: ArrayLike<number>, from = 0, to = a.length): number {
  let s = 0;
  let e = 0;
  let abs = 0;
  let inexact = false;
  for (let i = from; i < to; i++) {
    const x = a[i]!;
    const t = s + x;
    const bp = t - s;
    const q = s - (t - bp) + (x - bp);
    s = t;
    const u = e + q;
    const bq = u - e;
    if (e - (u - bq) + (q - bq) !== 0) inexact = true;
    e = u;
    abs += Math.abs(x);
  }
  // Every error term added exactly: s + e is the exact sum, and one IEEE addition rounds it
  // half-even, as fsum does. Otherwise the error bound must leave the rounding undisturbed.
  if (!inexact) return s + e;
  const r = certifiedRound(s, e, ddBound(to - from, abs));
  return r === r ? r : fsum(a, from, to);
}
