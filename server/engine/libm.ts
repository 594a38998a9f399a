/**
 * A correctly rounded natural logarithm. backtrader's Returns analyzer calls glibc's `log`,
 * which rounds correctly in all but very rare cases; V8's `Math.log` (fdlibm) is off by one ulp
 * for about 4% of inputs (golden/SEMANTICS.md §9). One Newton step in double-double arithmetic
 * from `Math.log` gives the correctly rounded value, so `returns_rtot` and friends match glibc.
 */
import { prodErr, sumErr } from './error-free';

// ln 2 as the unevaluated sum of three doubles (from a 80-digit decimal value).
const LN2_HI = 0.6931471805599453;
const LN2_MID = 2.3190468138462996e-17;
const LN2_LO = 5.707708438416212e-34;

/** A double-double number: the unevaluated sum hi + lo, |lo| ≤ ulp(hi)/2. */
interface DD {
  hi: number;
  lo: number;
}

function twoSum(a: number, b: number, out: DD): DD {
  const s = a + b;
  out.hi = s;
  out.lo = sumErr(a, b, s);
  return out;
}

function twoProd(a: number, b: number, out: DD): DD {
  const p = a * b;
  out.hi = p;
  out.lo = prodErr(a, b, p);
  return out;
}

const tmp: DD = { hi: 0, lo: 0 };
const tmp2: DD = { hi: 0, lo: 0 };

/** a + b in double-double. */
function ddAdd(ah: number, al: number, bh: number, bl: number, out: DD): DD {
  twoSum(ah, bh, tmp);
  const lo = tmp.lo + al + bl;
  return twoSum(tmp.hi, lo, out);
}

/** a · b in double-double. */
function ddMul(ah: number, al: number, bh: number, bl: number, out: DD): DD {
  twoProd(ah, bh, tmp2);
  const lo = tmp2.lo + (ah * bl + al * bh);
  return twoSum(tmp2.hi, lo, out);
}

// Scratch double-doubles (this runs once per backtest; no allocation).
const r: DD = { hi: 0, lo: 0 };
const p: DD = { hi: 0, lo: 0 };
const acc: DD = { hi: 1, lo: 0 };
const q: DD = { hi: 0, lo: 0 };

/** e^y as a double-double, accurate to about 1e-30 relative, for |y| < 700. */
function expDD(y: number, out: DD): DD {
  const k = Math.round(y / LN2_HI);
  // r = y - k·ln2, in double-double (k·LN2_HI is not exact in one double).
  r.hi = y;
  r.lo = 0;
  twoProd(k, LN2_HI, p);
  ddAdd(r.hi, r.lo, -p.hi, -p.lo, r);
  twoProd(k, LN2_MID, p);
  ddAdd(r.hi, r.lo, -p.hi, -p.lo, r);
  ddAdd(r.hi, r.lo, -k * LN2_LO, 0, r);
  // exp(r) = exp(r / 256)^256: a short Taylor series, then 8 squarings.
  const sh = r.hi / 256;
  const sl = r.lo / 256;
  // Horner: 1 + s(1 + s/2(1 + s/3(...))), 10 terms (|s| < 0.0014: the rest is < 1e-35).
  acc.hi = 1;
  acc.lo = 0;
  for (let n = 10; n >= 1; n--) {
    // s / n in double-double: a plain division would lose ~1e-16 of the term.
    const qh = sh / n;
    twoProd(qh, n, q);
    const ql = (sh - q.hi - q.lo + sl) / n;
    ddMul(acc.hi, acc.lo, qh, ql, acc);
    ddAdd(acc.hi, acc.lo, 1, 0, acc);
  }
  for (let i = 0; i < 8; i++) ddMul(acc.hi, acc.lo, acc.hi, acc.lo, acc);
  const scale = 2 ** k;
  out.hi = acc.hi * scale;
  out.lo = acc.lo * scale;
  return out;
}

const e: DD = { hi: 0, lo: 0 };
const d: DD = { hi: 0, lo: 0 };

/** ln(x) rounded to nearest (what glibc's `log` returns); NaN for x ≤ 0 or non-finite x. */
export function logCorrectlyRounded(x: number): number {
  if (!(x > 0) || x === Infinity) return x === 0 ? -Infinity : x === Infinity ? Infinity : NaN;
  const y0 = Math.log(x);
  if (y0 === 0) return 0;
  if (!(Math.abs(y0) < 700) || x < 1e-300) return y0; // outside the range used here: keep V8's
  expDD(y0, e);
  // Newton: ln x = y0 + (x − e^y0) / e^y0 + O(δ²); x − e^y0 is nearly exact (Sterbenz).
  ddAdd(x, 0, -e.hi, -e.lo, d);
  const delta = (d.hi + d.lo) / e.hi;
  return y0 + delta;
}
