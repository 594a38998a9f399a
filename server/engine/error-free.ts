/**
 * Error-free transformations: the exact rounding error of one product or one sum, so that
 * a·b = p + prodErr(a, b, p) and a + b = s + sumErr(a, b, s) hold exactly, and on them a fused
 * multiply-add rounded once as the hardware's. The engine's exact sums and its emulations of
 * glibc's pow, log and expm1 (whose x86-64 builds fuse multiply-adds) are built on them.
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

const F = new Float64Array(1);
const W = new Int32Array(F.buffer); // W[0] low word, W[1] high word (little-endian)

/** a + b rounded to odd: an inexact result gets an odd last bit (Boldo & Melquiond). */
function addOdd(a: number, b: number): number {
  const s = a + b;
  const e = sumErr(a, b, s);
  F[0] = s;
  if (e === 0 || (W[0]! & 1) !== 0) return s;
  // s is even and the exact sum lies between s and its neighbour on e's side: step the bits.
  const away = e > 0 === s > 0;
  const lo = W[0]! >>> 0;
  if (away) W[0] = lo + 1;
  else if (lo !== 0) W[0] = lo - 1;
  else {
    W[0] = -1;
    W[1] = W[1]! - 1;
  }
  return F[0]!;
}

/**
 * fma(a, b, c) = a·b + c rounded once, exactly as the hardware does it (Boldo & Melquiond's
 * emulation: the exact product, two error-free sums, one addition rounded to odd).
 */
export function fma(a: number, b: number, c: number): number {
  const uh = a * b;
  if (uh - uh !== 0 || c - c !== 0) return uh + c; // inf/NaN: no fused rounding to emulate
  const ul = prodErr(a, b, uh);
  const th = c + ul;
  const tl = sumErr(c, ul, th);
  const vh = uh + th;
  const vl = sumErr(uh, th, vh);
  return vh + addOdd(tl, vl);
}
