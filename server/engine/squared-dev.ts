/**
 * `math.fsum((x - avg)**2 for x in xs)` as backtrader's standard deviations take it, bit for
 * bit: Python's squares are glibc's pow (glibc-pow.ts), which differs from `d*d` by an ulp for
 * about 1 square in 1,200, and one such square moves the sum when it sits near a rounding
 * boundary (seen against the oracle in 1 of ~600 daily Sharpes).
 *
 * Emulating glibc for every square would cost ~0.6 µs each; instead the loop sums `d*d` in
 * double-double and marks the few squares (~3 %) near a rounding midpoint, the only ones glibc
 * may round the other way, with the most they could move the sum (their ulp: the "slack").
 * When the rounding is certain despite the slack (~92 % of daily Sharpes on the SMA grid) that
 * is the answer; otherwise the marked squares are taken as glibc does, largest first, until the
 * rest cannot move it; the exact partials are the last resort (54 of 20,841 daily sums).
 *
 * The price of parity: the marking (~2.3 ns a term, Dekker's error and Rump's ufp) and the
 * resolutions took a 5,036-bar SMA backtest from ~57 to ~77 µs of CPU (engine-bench run_grid)
 * and an EMA/ATR one on 2,500 bars from ~43 to ~54 µs. No cheaper test is sound: without
 * marking, the only bound on what glibc's squares could move is about an ulp of the sum.
 */
import { ExactSum, certifiedRound, ddBound } from './fsum';
import { pySquare, squareErr, squareSlack } from './glibc-pow';

/** The slack is itself a rounded sum (of powers of 2, each add off by ≤ 2^-53 relative). */
const SLACK_ROUNDING = 1 + 2 ** -40;

/** The loop's results: the double-double sum, the slack, the marked squares. */
const L = { s: 0.0, e: 0.0, slack: 0.0, inexact: false, marked: 0 };
let markedAt = new Int32Array(256);
let markedUlp = new Float64Array(256); // filled for a resolution only
const exact = new ExactSum();

/**
 * Σ (a[i] − avg)**2 over [from, to), plus `zp + ze` (an exact extra term: the caller's repeated
 * squares), rounded once, as Python's `math.fsum` of Python's squares.
 */
export function sumSquaredDev(a: ArrayLike<number>, avg: number, from: number, to: number, zp = 0, ze = 0): number {
  squaresLoop(a, avg, from, to, zp, ze);
  const { s, e, inexact, slack } = L;
  const dd = inexact ? ddBound(to - from + 2, Math.abs(s) + Math.abs(e) + 2 * Math.abs(ze)) : 0;
  const r = certifiedRound(s, e, dd + slack * SLACK_ROUNDING);
  if (r === r) return r;
  const t = resolveMarked(a, avg, s, e, dd, slack);
  return t === t ? t : exactSum(a, avg, from, to, zp, ze);
}

/**
 * The loop alone, so that nothing rare follows it in the same function: code compiled on stack
 * replacement (mid-loop, in the first backtest) has no feedback for what comes after the loop.
 */
function squaresLoop(a: ArrayLike<number>, avg: number, from: number, to: number, zp: number, ze: number): void {
  let s = zp;
  let e = ze;
  let slack = 0.0;
  let marked = 0;
  let inexact = false;
  for (let j = from; j < to; j++) {
    const d = a[j]! - avg;
    const q = d * d;
    const sl = squareSlack(q, squareErr(d, q));
    if (sl !== 0) {
      if (marked === markedAt.length) markedAt = grown(markedAt);
      markedAt[marked++] = j;
      slack += sl;
    }
    const t = s + q;
    const bp = t - s;
    const w = s - (t - bp) + (q - bp);
    s = t;
    const u = e + w;
    const bq = u - e;
    if (e - (u - bq) + (w - bq) !== 0) inexact = true;
    e = u;
  }
  L.s = s;
  L.e = e;
  L.slack = slack;
  L.marked = marked;
  L.inexact = inexact;
}

/** A twice longer copy. */
function grown(at: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const g = new Int32Array(at.length * 2);
  g.set(at);
  return g;
}

/** The most each marked square can move the sum (as the loop counted it), into `markedUlp`. */
function markedUlps(a: ArrayLike<number>, avg: number, n: number): void {
  if (markedUlp.length < n) markedUlp = new Float64Array(markedAt.length);
  for (let i = 0; i < n; i++) {
    const d = a[markedAt[i]!]! - avg;
    const q = d * d;
    markedUlp[i] = squareSlack(q, squareErr(d, q));
  }
}

/**
 * Takes the marked squares as glibc does, the largest slack first, folding each difference
 * into the sum, until the rounding is certain; NaN if it never is.
 */
function resolveMarked(a: ArrayLike<number>, avg: number, s: number, e0: number, dd: number, slack: number): number {
  const n = L.marked;
  markedUlps(a, avg, n);
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => markedUlp[y]! - markedUlp[x]!);
  let e = e0;
  let lost = 0; // what folding the differences into e rounded away
  let rest = slack;
  for (let i = 0; i < n; i++) {
    const m = order[i]!;
    const d = a[markedAt[m]!]! - avg;
    const delta = pySquare(d) - d * d; // 0 or an ulp: exact
    if (delta !== 0) {
      const u = e + delta;
      const bp = u - e;
      lost += Math.abs(e - (u - bp) + (delta - bp));
      e = u;
    }
    rest -= markedUlp[m]!;
    const r = certifiedRound(s, e, dd + Math.max(rest, 0) * SLACK_ROUNDING + 2 * lost);
    if (r === r) return r;
  }
  return NaN;
}

/** The same sum with exact partials and Python's squares (nothing cheaper could decide). */
function exactSum(a: ArrayLike<number>, avg: number, from: number, to: number, zp: number, ze: number): number {
  const x = exact;
  x.reset();
  for (let j = from; j < to; j++) {
    const d = a[j]! - avg;
    if (d !== 0) x.add(pySquare(d));
  }
  if (zp !== 0) x.add(zp);
  if (ze !== 0) x.add(ze);
  return x.value();
}
