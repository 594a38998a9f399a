/**
 * glibc's `log`, bit for bit: what CPython's `math.log` returns on this machine kind (glibc 2.36,
 * x86-64, the FMA build its ifunc picks on a CPU with FMA and AVX2). backtrader's Returns analyzer
 * takes `math.log(value_end / value_start)`. glibc's log is not correctly rounded: about 1 input
 * in 3,000 (1 in 1,200 within 6 % of 1) rounds the other way, and V8's `Math.log` (fdlibm) is
 * an ulp off for ~4 % of inputs (golden/SEMANTICS.md §9).
 *
 * The algorithm is the one glibc took from Arm's optimized-routines (MIT): near 1, log1p(r) for
 * r = x − 1 as a degree-12 polynomial with r − r²/2 in two doubles; elsewhere x = 2^k·z, z in
 * one of 128 subintervals of [0x1.6p-1, 0x1.6p0), log x = k·ln2 + log c + log1p(z/c − 1) with a
 * degree-6 polynomial. Every operation below is the one glibc's compiled code performs, fused
 * multiply-adds included: read from the disassembly of this machine's libm
 * (`__ieee754_log_fma`, which has debug line info) and checked in C against its `log` on 80
 * million inputs (0 differ; unfused, the same code differs on 21 % of inputs in [0.5, 8)). Each
 * fused step is emulated exactly (error-free.ts).
 */

import { fma } from './error-free';
import { lnRatio, toDouble } from './fixed-point';

const F = new Float64Array(1);
const W = new Int32Array(F.buffer); // W[0] low word, W[1] high word (little-endian)
const Q = new BigInt64Array(F.buffer); // all 64 bits

const N = 128;

/**
 * Where each subinterval's 1/c lies, in ulps from the double nearest to 1/centre. Arm chose each
 * c by a search over ±2^29 candidates (its log_data.c: 768 + logc exact, z − c computable within
 * 2^-66 without an FMA, and log c as close to a double as could be, within 2^-66) that is far
 * too long to rerun, so its outcome is kept here; logc, which follows from it, is computed.
 */
const INVC_ULPS = Int32Array.of(
  -23142382, -57643754, -234334839, -124664804, 19045012, -123323398, -501163255, 342479926,
  -234593306, 57421184, 513617488, -240891478, 85169741, 28659150, 284053799, 342563057,
  -68420459, -346144712, -90113766, -464022980, 285342708, -489548825, 376054848, 47397812,
  -423637851, -260988534, 336107021, 448241578, 154177355, 447893384, 241227555, -420636714,
  -218426730, -96876684, -205835218, -368178198, -345128710, -510284502, 481763731, 209336112,
  429336310, 15489329, 442353177, -417834330, 73183371, 515232680, 507984536, 83787275,
  330409952, 151596684, 377744204, 198302857, 214798271, -345957716, 356163107, 215510022,
  -229897960, -131709726, 215213618, -464519207, -332821996, 385780520, -400344786, 256208139,
  478356527, 345720337, 128466877, 217515751, -162048343, 295127580, -235892775, -69369347,
  93666841, -272860130, 91915174, 29018059, 258893229, 386009280, -241633007, 68399381,
  386341370, 408940642, 65060217, -120872168, 189498853, -32395328, -49955913, 154042178,
  -346113480, 148348366, -396488327, -427431396, 107119491, -500798201, 212184347, 305888811,
  -330297730, -91422864, 6707636, 273897542, -512931067, -500150233, 485589437, -280752730,
  106848032, 30953893, -291342514, -408884927, 149302919, -107851081, 225432558, 460497078,
  -452391632, -490679353, 508304210, 493208081, 336502878, 526975298, -457361038, -312310462,
  -365194252, -421357131, 362015322, 310793228, -441535439, -69145545, -528727990, 433364383,
);

let tables: { invc: Float64Array; logc: Float64Array } | null = null;

/**
 * The table: subinterval i holds the z whose bits are 0x3fe6000000000000 + i·2^45 up to the
 * next; 1/c from its centre and INVC_ULPS, logc = log c rounded to nearest (c = 1/invc exactly:
 * ln(2^53/M) for invc = M·2^-53; ~2 ms for the 128 entries). Each logc must come out a multiple
 * of 2^-43 (Arm's first criterion; a wrong invc would pass with odds under 1 in 2,000), which
 * checks the offsets. test/engine/glibc-log.test.ts checks the results against Python.
 */
function buildTables(): NonNullable<typeof tables> {
  const invc = new Float64Array(N);
  const logc = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    W[1] = 0x3fe60000 + i * 0x2000;
    W[0] = 0;
    const z0 = F[0]!;
    W[1] += 0x2000;
    const centre = (z0 + F[0]!) / 2; // exact: both have at most 8 significant bits
    F[0] = 1 / centre;
    Q[0] = Q[0]! + BigInt(INVC_ULPS[i]!);
    invc[i] = F[0]!;
    const m = invc[i]! * 2 ** 53; // an integer: invc ∈ (0.7, 1.5)
    logc[i] = toDouble(lnRatio(1n << 53n, BigInt(m)));
    if (!Number.isInteger(logc[i]! * 2 ** 43)) throw new Error(`glibc-log: table entry ${i} is not glibc's`);
  }
  return { invc, logc };
}

// ln 2 split as glibc's log and pow both have it: LN2_HI = ln 2 rounded to a multiple of 2^-43
// (so k·LN2_HI + logc is exact), LN2_LO the rest rounded.
export const LN2_HI = 0.6931471805598903;
export const LN2_LO = 5.497923018708371e-14;
// log1p(r) ≈ r + A0·r² + … + A4·r⁶ (Arm's minimax coefficients, A0 just below −1/2).
const A0 = -0.5000000000000001;
const A1 = 0.33333333331825593;
const A2 = -0.2499999999622955;
const A3 = 0.20000304511814496;
const A4 = -0.16667054827627667;
// Near 1: log1p(r) ≈ r + B0·r² + … + B10·r¹².
const B0 = -0.5;
const B1 = 0.3333333333333352;
const B2 = -0.24999999999998432;
const B3 = 0.19999999999320328;
const B4 = -0.16666666669929706;
const B5 = 0.14285715076560868;
const B6 = -0.12499997863982555;
const B7 = 0.11110712032936046;
const B8 = -0.10000486757818193;
const B9 = 0.09181994006195467;
const B10 = -0.08328363062289341;

/** log x near 1: x ∈ [1 − 2^-4, 1 + 0x1.09p-4). */
function logNear1(x: number): number {
  if (x === 1) return 0;
  const r = x - 1.0;
  const r2 = r * r;
  const r3 = r * r2;
  const p = fma(r3, fma(r3, fma(r3, B10, fma(r2, B9, fma(r, B8, B7))), fma(r2, B6, fma(r, B5, B4))), fma(r2, B3, fma(r, B2, B1)));
  // r − r²/2 as hi + lo: rhi has 26 bits, so rhi²·B0 is exact (glibc's fused steps here add an
  // exact product, and round as these plain ones do).
  const w0 = r * 134217728; // 2^27
  const rhi = r + w0 - w0;
  const rlo = r - rhi;
  const w = rhi * rhi * B0;
  const hi = r + w;
  let lo = r - hi + w;
  lo = fma(B0 * rlo, rhi + r, lo);
  return fma(r3, p, lo) + hi;
}

/** glibc's log(x): NaN for x < 0 or NaN, −∞ for ±0, +∞ for +∞. */
export function glibcLog(x: number): number {
  F[0] = x;
  let hx = W[1]!;
  // ix − LO < HI − LO, unsigned (both bounds have a zero low word).
  if (((hx - 0x3fee0000) >>> 0) < 0x3ff10900 - 0x3fee0000) return logNear1(x);
  const top = hx >>> 16;
  if (((top - 0x0010) >>> 0) >= 0x7ff0 - 0x0010) {
    if (x === 0) return -Infinity;
    if (x === Infinity) return x;
    if ((top & 0x8000) !== 0 || (top & 0x7ff0) === 0x7ff0) return NaN;
    // Subnormal: normalize, then take 52 off the exponent field (it wraps, as glibc's 64-bit ix).
    F[0] = x * 4503599627370496; // 2^52
    hx = (W[1]! - (52 << 20)) | 0;
  }
  const lx = W[0]!;
  if (tables === null) tables = buildTables();
  const T = tables;
  // x = 2^k·z, z in subinterval i (glibc's tmp = ix − OFF; OFF's low word is 0).
  const tmpHi = (hx - 0x3fe60000) | 0;
  const i = (tmpHi >>> 13) & (N - 1);
  const kd = tmpHi >> 20;
  W[1] = (hx - (tmpHi & 0xfff00000)) | 0;
  W[0] = lx;
  const z = F[0]!;
  const r = fma(z, T.invc[i]!, -1.0);
  const w = fma(kd, LN2_HI, T.logc[i]!);
  const hi = w + r;
  const lo = fma(kd, LN2_LO, w - hi + r);
  const r2 = r * r;
  return fma(r * r2, fma(r2, fma(r, A4, A3), fma(r, A2, A1)), fma(r2, A0, lo)) + hi;
}
