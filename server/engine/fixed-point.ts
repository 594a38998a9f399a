/**
 * Big fixed-point numbers (BigInt, FRAC fractional bits) for building the libm emulations' tables
 * from their definitions: logarithms of ratios, square roots, and rounding to the nearest double.
 * Used once per table, on first use (milliseconds).
 */

/** Fractional bits: a fixed-point number v stands for v·2^-FRAC. */
export const FRAC = 128n;
export const ONE = 1n << FRAC;

/** The double nearest to v·2^-FRAC, ties to even. */
export function toDouble(v: bigint): number {
  if (v <= 0n) return v === 0n ? 0 : -toDouble(-v);
  const bits = v.toString(2).length;
  if (bits <= 53) return Number(v) * 2 ** -Number(FRAC); // exact
  const shift = BigInt(bits - 53);
  let m = v >> shift;
  const rest = v - (m << shift);
  const half = 1n << (shift - 1n);
  if (rest > half || (rest === half && (m & 1n) === 1n)) m += 1n;
  return Number(m) * 2 ** (bits - 53 - Number(FRAC));
}

/** The double d as a fixed-point number (exact: d has at most 53 bits above 2^-FRAC). */
export function toFixed(d: number): bigint {
  let e = 0;
  let m = Math.abs(d);
  while (!Number.isInteger(m)) (m *= 2), e++;
  const v = (BigInt(m) << FRAC) >> BigInt(e);
  return d < 0 ? -v : v;
}

/** ln(a/b) for positive integers, by atanh: 2·Σ z^(2n+1)/(2n+1), z = (a−b)/(a+b). */
export function lnRatio(a: bigint, b: bigint): bigint {
  if (a < b) return -lnRatio(b, a); // a positive series: `>>` floors, and −1 would never reach 0
  const z = ((a - b) << FRAC) / (a + b);
  const z2 = (z * z) >> FRAC;
  let term = z;
  let sum = 0n;
  for (let n = 1n; term !== 0n; n += 2n) {
    sum += term / n;
    term = (term * z2) >> FRAC;
  }
  return 2n * sum;
}

/** The integer square root of v·2^FRAC, i.e. √(v·2^-FRAC) in fixed point. */
export function sqrtFixed(v: bigint): bigint {
  const n = v << FRAC;
  // Newton's iteration from above (a double's root, raised past any rounding of it).
  let x = (BigInt(Math.floor(Math.sqrt(Number(v) / 2 ** Number(FRAC)) * 2 ** 52)) + 2n) << (FRAC - 52n);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}
