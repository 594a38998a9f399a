/**
 * Error-free transformations: the exact rounding error of one product or one sum, so that
 * a·b = p + prodErr(a, b, p) and a + b = s + sumErr(a, b, s) hold exactly. The engine's exact
 * sums, its correctly rounded log and its emulation of glibc's pow are built on them.
 */

/** Veltkamp's splitter, 2^27 + 1: splits a double into two halves of at most 26 bits. */
export const SPLIT = 134217729;

/** The rounding error of p = a·b (Dekker; exact without overflow or deep underflow). */
export function prodErr(a: number, b: number, p: number): number {
  let t = SPLIT * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLIT * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/** The rounding error of s = a + b (Knuth's TwoSum). */
export function sumErr(a: number, b: number, s: number): number {
  const bp = s - a;
  return a - (s - bp) + (b - bp);
}
