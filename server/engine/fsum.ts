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
