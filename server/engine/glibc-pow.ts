/**
 * glibc's `pow`, bit for bit, for the two powers backtrader takes: `x ** 2` (every squared
 * deviation in its standard deviations: Sharpe, SQN, Bollinger) and `x ** 0.5` (Bollinger's
 * standard deviation). CPython's float `**` calls the C library's `pow`, and glibc's (2.28 on,
 * the x86-64 build with FMA that runs on this machine kind) is not correctly rounded: about 1 in
 * 1,200 squares differs from `x * x` by one ulp, and so does `Math.sqrt` from `pow(x, 0.5)`.
 * One such term can move a Sharpe or SQN by an ulp (seen against the oracle: 1 in ~700 random
 * scenarios), or a Bollinger band across a close.
 *
 * The algorithm is the one glibc took from Arm's optimized-routines (MIT): log(x) in double-double
 * from a 128-entry table and a degree-8 polynomial, then exp from a 128-entry table of 2^(k/128)
 * and a degree-5 polynomial. Every operation below is the one glibc's compiled code performs,
 * fused multiply-adds included (GCC contracts `a*b + c` into one FMA under -mfma), each emulated
 * exactly. The tables are not copied: they are computed here from their definitions (BigInt
 * arithmetic, on the first call that needs them: ~12 ms).
 *
 * The fast paths (`pySquare`, `pySqrt`) return `x*x` / `Math.sqrt(x)` unless the exact value
 * lies within 1/64 ulp of a rounding midpoint (see NEAR), so only ~3 % of inputs take the
 * emulation.
 */

import { SPLIT, fma } from './error-free';
import { FRAC, ONE, lnRatio, sqrtFixed, toDouble, toFixed } from './fixed-point';
import { LN2_HI, LN2_LO } from './glibc-log'; // ln 2 split as glibc's log and pow both have it

const F = new Float64Array(1);
const W = new Int32Array(F.buffer); // W[0] low word, W[1] high word (little-endian)

/** The high 32 bits of a double. */
function hiWord(x: number): number {
  F[0] = x;
  return W[1]!;
}

// ---------------------------------------------------------------------------------------------
// Exact arithmetic (the fused multiply-add is error-free.ts's)

// Rump's ufp (the largest power of 2 ≤ |x|) in three flops, as in fsum.ts.
const PHI = 2 ** 52 + 1;
const ONE_MINUS_U = 1 - 2 ** -53;

// ---------------------------------------------------------------------------------------------
// The tables, from their definitions (fixed-point.ts: 2^-128 per unit, ~20 bits beyond what
// rounding logctail and T[k] to a double needs)

const N = 128;
let tables: { invc: Float64Array; logc: Float64Array; logctail: Float64Array; h: Float64Array; t: Float64Array } | null = null;

/**
 * pow's log table: the range [0x1.69555p-1, 0x1.69555p0) of z in 128 subintervals; for each,
 * 1/c from its centre (N/centre or 2N/centre rounded, over N or 2N: few bits, so z/c − 1 is
 * exact), log c split as logc (rounded to 2^-43) plus logctail. exp's table: 2^(k/128) as
 * H[k]·(1 + T[k]). Both equal glibc 2.36's tables entry for entry (checked against its source
 * when this was written); test/engine/glibc-pow.test.ts checks the results against Python.
 */
function buildTables(): NonNullable<typeof tables> {
  const invc = new Float64Array(N);
  const logc = new Float64Array(N);
  const logctail = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    const [z0, z1] = subinterval(i);
    const centre = (z0 + z1) / 2;
    const den = centre < 1 ? N : 2 * N;
    const num = Math.round(den / centre);
    invc[i] = num / den;
    const lnc = lnRatio(BigInt(den), BigInt(num)); // ln c = ln(den/num)
    const lc = (lnc + (1n << (FRAC - 44n))) >> (FRAC - 43n); // round(2^43·ln c)
    logc[i] = Number(lc) / 2 ** 43;
    const tail = lnc - (lc << (FRAC - 43n));
    logctail[i] = toDouble(tail);
  }
  const h = new Float64Array(N);
  const t = new Float64Array(N);
  let root = 2n * ONE; // 2^(1/128) by seven square roots of 2
  for (let s = 0; s < 7; s++) root = sqrtFixed(root);
  let p = ONE;
  for (let k = 0; k < N; k++) {
    h[k] = toDouble(p);
    const hk = toFixed(h[k]!);
    const d = ((p - hk) << FRAC) / hk; // (2^(k/N) − H)/H
    t[k] = toDouble(d);
    p = (p * root) >> FRAC;
  }
  return { invc, logc, logctail, h, t };
}

/** The first and last z of pow's log subinterval i: bits OFF + i·2^45 up to one below i + 1. */
function subinterval(i: number): [number, number] {
  W[1] = 0x3fe69555 + i * 0x2000; // OFF = 0x3fe6955500000000, i << 45 in the high word
  W[0] = 0;
  const z0 = F[0]!;
  W[1] = 0x3fe69555 + (i + 1) * 0x2000 - 1;
  W[0] = -1;
  return [z0, F[0]!];
}

// ---------------------------------------------------------------------------------------------
// pow

// log1p(r) − r + r²/2 ≈ r³·(A1 + r·A2 + r⁴/4·(…)): glibc's scaled coefficients.
const A1 = -0.6666666666666679;
const A2 = 0.5000000000000007;
const A3 = 0.7999999995323976;
const A4 = -0.6666666663487739;
const A5 = -1.142909628459501;
const A6 = 1.0000415263675542;
const INV_LN2_N = 184.6649652337873;
const SHIFT = 6755399441055744; // 1.5·2^52
const NEG_LN2_HI_N = -0.005415212348111709;
const NEG_LN2_LO_N = -1.2864023111638346e-14;
const C2 = 0.49999999999996786;
const C3 = 0.16666666666665886;
const C4 = 0.0416666808410674;
const C5 = 0.008333335853059549;

/**
 * log(x) as LOG.hi + LOG.tail (glibc's log_inline), from x's high word `hx` (exponent field
 * already lowered by 52 for a subnormal x, wrapping as glibc's 64-bit `ix` does) and low word.
 */
const LOG = { hi: 0, tail: 0 };
function logInline(hx: number, lx: number): void {
  const T = tables!;
  const tmpHi = (hx - 0x3fe69555) | 0; // tmp = ix − OFF (OFF's low word is 0)
  const i = (tmpHi >>> 13) & (N - 1);
  const kd = tmpHi >> 20;
  W[1] = (hx - (tmpHi & 0xfff00000)) | 0;
  W[0] = lx;
  const z = F[0]!;
  const r = fma(z, T.invc[i]!, -1.0);
  const t1 = fma(kd, LN2_HI, T.logc[i]!);
  const t2 = r + t1;
  const lo1 = fma(kd, LN2_LO, T.logctail[i]!);
  const lo2 = r + (t1 - t2);
  const ar = r * -0.5;
  const ar2 = r * ar;
  const ar3 = r * ar2;
  const hi = t2 + ar2;
  const lo3 = fma(r, ar, -ar2);
  const lo4 = ar2 + (t2 - hi);
  const p = fma(ar2, fma(ar2, fma(r, A6, A5), fma(r, A4, A3)), fma(r, A2, A1));
  const lo = fma(ar3, p, lo4 + (lo3 + (lo1 + lo2)));
  const y = hi + lo;
  LOG.hi = y;
  LOG.tail = lo + (hi - y);
}

/** exp(y·(lhi + ltail)) with glibc's rounding (exp_inline for a positive result). */
function expInline(y: number, lhi: number, ltail: number): number {
  const ehi = y * lhi;
  const abstop = (hiWord(ehi) >>> 20) & 0x7ff;
  let special = false;
  if (((abstop - 0x3c9) >>> 0) > 62) {
    if (abstop < 0x3c9) return ehi + 1.0; // |ehi| < 2^-54
    if (abstop > 1032) return ehi < 0 ? 0 : Infinity;
    special = true; // 512 ≤ |ehi| < 1024: the scale may leave the normal range
  }
  const kdS = fma(ehi, INV_LN2_N, SHIFT);
  F[0] = kdS;
  const ki = W[0]!; // kdS = 1.5·2^52 + k: k sits in the low word
  const kd = kdS - SHIFT;
  const r0 = fma(kd, NEG_LN2_LO_N, fma(kd, NEG_LN2_HI_N, ehi));
  // For y = 2 both fused steps are exact (2·lhi is ehi): skip their emulation on the hot path.
  const elo = y === 2 ? 2 * ltail : fma(y, ltail, fma(y, lhi, -ehi));
  return scaled(ki, elo + r0, special);
}

/** 2^(k/N)·exp(r): the table, the polynomial and the final scaling of exp_inline. */
function scaled(ki: number, r: number, special: boolean): number {
  const T = tables!;
  const j = ki & (N - 1);
  const e = (ki - j) / N;
  const r2 = r * r;
  const tmp = fma(r2 * r2, fma(r, C5, C4), fma(r2, fma(r, C3, C2), r + T.t[j]!));
  if (!special) {
    const s = T.h[j]! * 2 ** e;
    return fma(tmp, s, s);
  }
  if (ki >= 0) {
    const s = T.h[j]! * 2 ** (e - 1009);
    return fma(tmp, s, s) * 2 ** 1009;
  }
  const s = T.h[j]! * 2 ** (e + 1022);
  const st = tmp * s;
  let v = s + st;
  if (Math.abs(v) < 1.0) {
    // Into the subnormal range: round once, as glibc does with its `one` trick.
    const lo0 = st + (s - v);
    const hi = v + 1.0;
    v = hi + (lo0 + (v + (1.0 - hi))) - 1.0;
  }
  return v * 2 ** -1022;
}

/**
 * glibc's pow(x, y) for finite x > 0 and finite y ≠ 0 (what CPython's `**` calls, after it has
 * taken |x| for an integral power of a negative number).
 */
export function glibcPow(x: number, y: number): number {
  if (tables === null) tables = buildTables();
  if (x === 1) return 1;
  let hx: number;
  if (x < 2.2250738585072014e-308) {
    F[0] = x * 4503599627370496; // 2^52, then 52 off the exponent field (it may wrap)
    hx = (W[1]! - (52 << 20)) | 0;
  } else {
    F[0] = x;
    hx = W[1]!;
  }
  logInline(hx, W[0]!);
  return expInline(y, LOG.hi, LOG.tail);
}

// ---------------------------------------------------------------------------------------------
// The fast paths: the correctly rounded value unless the exact one is near a rounding midpoint

/**
 * Where glibc may round the other way: within 1/64 ulp of a midpoint. Its result strays at most
 * ~0.0085 ulp from the exact value for |y·log x| ≤ 100 (the rounding of r + tail and of two
 * fused steps in exp, ~0.002 ulp each, plus the log's 1.3·2^-68 relative error; measured: at
 * most 0.0083 on 2·10^8 squares and roots). Outside [2^-144, 2^144] every value is emulated.
 */
const NEAR = 0.5 - 1 / 64;
const SAFE_LO = 2 ** -144;
const SAFE_HI = 2 ** 144;

/** The spacing of doubles at q's binade (ulp(q) for q > 0, not at a power of 2's lower side). */
function ulpOf(q: number): number {
  const t = PHI * q;
  return Math.abs(t - ONE_MINUS_U * t) * 2 ** -52;
}

/**
 * How far glibc's `d ** 2` may be from `q = d*d`: 0 when they are surely equal, else the most it
 * can move (it is then q or the neighbour on the exact square's side: the spacing above q).
 * `e` is the exact d² − q. The test compares against the spacing below q, half the one above
 * at a power of 2, so that no branch on e's sign runs per square (this runs once per bar).
 */
export function squareSlack(q: number, e: number): number {
  if (!(q >= SAFE_LO && q <= SAFE_HI)) return q === 0 ? 0 : 2 * ulpOf(q) + 1e-300;
  const t = PHI * (q * ONE_MINUS_U); // Rump's ufp of q·(1 − 2^-53): the binade below a power of 2
  const below = Math.abs(t - ONE_MINUS_U * t) * 2 ** -52;
  if (!(Math.abs(e) > NEAR * below)) return 0;
  return below * 9007199254740992 === q ? 2 * below : below;
}

/** The exact error of d*d (Dekker's product, one split for a square). */
export function squareErr(d: number, q: number): number {
  const t = SPLIT * d;
  const dh = t - (t - d);
  const dl = d - dh;
  return dh * dh - q + 2 * dh * dl + dl * dl;
}

/** Python's `d ** 2` (glibc's pow(|d|, 2.0)). */
export function pySquare(d: number): number {
  const q = d * d;
  if (q - q !== 0) return q; // inf or NaN
  return squareSlack(q, squareErr(d, q)) === 0 ? q : glibcPow(Math.abs(d), 2);
}

/** Python's `v ** 0.5` for v ≥ 0 (glibc's pow(v, 0.5)); NaN below 0, as `Math.sqrt`. */
export function pySqrt(v: number): number {
  const s = Math.sqrt(v);
  if (!(v > 0) || v - v !== 0) return s;
  if (!(v >= SAFE_LO && v <= SAFE_HI)) return glibcPow(v, 0.5);
  const sh = s * s;
  const r = v - sh - squareErr(s, sh); // v − s² (v − sh is exact: sh is within an ulp of v)
  const u = ulpOf(s);
  const half = r < 0 && u * 2 ** 52 === s ? u / 2 : u;
  return Math.abs(r / (2 * s)) > NEAR * half ? glibcPow(v, 0.5) : s;
}
