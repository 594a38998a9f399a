/**
 * Metrics of one backtest, as backtrader's analyzers compute them (golden/SEMANTICS.md §6),
 * plus the friendlier contract names of grammar/metrics.ts. Undefined values are `null`.
 * Sums that backtrader takes with `math.fsum` are exactly rounded here too: in double-double
 * with a proof that the rounding is right (exact when the error terms summed exactly, else a
 * certified bound), falling back to exact partials when neither decides. Sums it accumulates
 * with `+=` are accumulated in order.
 */
import { prodErr } from './error-free';
import { pySquare } from './glibc-pow';
import { glibcExpm1 } from './glibc-expm1';
import { glibcLog } from './glibc-log';
import { certifiedRound, ddBound, fsum, fsumFast } from './fsum';
import { sumSquaredDev } from './squared-dev';

/** What the broker loop hands over to the metric computation. */
export interface RunRecord {
  /** Portfolio value per bar (all bars, warm-up included). */
  values: Float64Array;
  /** Bar (clock tick) dates, yyyymmdd. */
  dates: Int32Array;
  /** Several bars a day: Sharpe takes one return per calendar day (backtrader TimeReturn, Days). */
  intraday: boolean;
  /** backtrader Returns' annualisation factor: 252 (days), 52 (weeks), 12 (months), 1 (minutes). */
  annual: number;
  bars: number;
  cash0: number;
  finalCash: number;
  endPositionSize: number;
  endPositionPrice: number;
  /** Closed trades' pnl and pnlcomm, in order (first `closed` entries). */
  pnl: Float64Array;
  pnlcomm: Float64Array;
  closed: number;
  /** Closed long and short trades. */
  long: number;
  short: number;
  rejected: number;
  /** Bars that ended with an open position. */
  barsInMarket: number;
  /** Positions open at the end (one per feed at most). */
  openTrades: number;
  /** Set by computeMetrics: `YYYY-12-31` keys and the returns of those years. */
  yearKeys?: readonly string[];
  yearReturns?: readonly number[];
}

const SQRT252 = Math.sqrt(252);
let scratch: Float64Array = new Float64Array(0);

function scratchOf(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(Math.max(n, scratch.length * 2));
  return scratch;
}

/*
 * The work is split into small functions on purpose: one big computeMetrics (with fsum, the
 * certified rounding and the logarithm inlined) took TurboFan 100–300 ms per compile, and a
 * rare path (a certified rounding that needs the exact sum) deoptimized it and paid that again.
 * A fresh worker ran unoptimized code meanwhile: most of the cost of its first thousand
 * backtests. Rare paths live in functions of their own.
 */

/** What the trade pass finds (one backtest at a time per thread). */
const T = { won: 0, gp: 0.0, gl: 0.0, gtot: 0.0, ntot: 0.0, gpPre: 0.0, glPre: 0.0 };

/** TradeAnalyzer's sums over closed trades, and our pre-commission split. */
function tradePass(pnl: Float64Array, pnlcomm: Float64Array, closed: number): void {
  // TradeAnalyzer: sequential += in trade order; won when pnlcomm >= 0 (backtrader counts a
  // zero-P&L trade as won).
  let won = 0;
  let gp = 0.0;
  let gl = 0.0;
  let gtot = 0.0;
  let ntot = 0.0;
  // Own extra: the same split before commission, with exact sums (fsum of the winners' and the
  // losers' pnl, gathered apart in the scratch buffer).
  const split = scratchOf(closed * 2);
  let np = 0;
  let nn = 0;
  for (let k = 0; k < closed; k++) {
    const pc = pnlcomm[k]!;
    if (pc >= 0.0) {
      won++;
      gp += pc;
    } else gl += pc;
    const x = pnl[k]!;
    gtot += x;
    ntot += pc;
    if (x > 0) split[np++] = x;
    else if (x < 0) split[closed + nn++] = x;
  }
  T.won = won;
  T.gp = gp;
  T.gl = gl;
  T.gtot = gtot;
  T.ntot = ntot;
  T.gpPre = fsumFast(split, 0, np);
  T.glPre = fsumFast(split, closed, closed + nn);
}

/** What the pass over the portfolio values finds. */
const E = { k: 0, mdd: 0.0, mmd: 0.0, mlen: 0, s1: 0.0, e1: 0.0, down: 0.0, inexact: 0 };

/**
 * One pass for the DrawDown analyzer and the daily returns; the non-zero returns go to `nz`.
 * Sums that backtrader takes with math.fsum run in double-double here and are certified (or
 * redone exactly) by the caller. Flat bars (value unchanged, return exactly 0) cost almost
 * nothing: only non-zero returns are kept.
 */
function equityPass(v: Float64Array, n: number, cash0: number, nz: Float64Array): void {
  let k = 0; // non-zero returns in nz[0..k)
  let peak = -Infinity;
  let peakMd = 0; // the deepest fall since the current peak
  let mdd = 0.0;
  let mmd = 0.0;
  let len = 0;
  let mlen = 0;
  // × 1 (exact for every number) makes the loop variable a raw double: seeded with the tagged
  // parameter, TurboFan kept it tagged and boxed every new value (~45 KB a backtest).
  let prev = cash0 * 1;
  let s1 = 0; // Σ r (double-double: s1 + e1)
  let e1 = 0;
  let inexact = 0;
  let down = 0; // Σ r² over r < 0 (Sortino)
  for (let i = 0; i < n; i++) {
    const x = v[i]!;
    if (x > peak) {
      peak = x;
      peakMd = 0;
    }
    const md = peak - x;
    if (md !== 0) {
      // dd = 100*md/peak is non-zero exactly when md is, and for one peak it grows with md:
      // only a new deepest fall can give a new maximum.
      if (++len > mlen) mlen = len;
      if (md > peakMd) {
        peakMd = md;
        if (md > mmd) mmd = md;
        const dd = (100.0 * md) / peak;
        if (dd > mdd) mdd = dd;
      }
    } else len = 0;
    if (x !== prev) {
      const ri = x / prev - 1.0;
      if (ri !== 0) {
        nz[k++] = ri;
        const t = s1 + ri;
        const bp = t - s1;
        const q = s1 - (t - bp) + (ri - bp);
        s1 = t;
        const u = e1 + q;
        const bq = u - e1;
        if (e1 - (u - bq) + (q - bq) !== 0) inexact = 1;
        e1 = u;
        // Sortino is ours, not backtrader's: a plain sum is enough.
        if (ri < 0) down += ri * ri;
      }
      prev = x;
    }
  }
  E.k = k;
  E.mdd = mdd;
  E.mmd = mmd;
  E.mlen = mlen;
  E.s1 = s1;
  E.e1 = e1;
  E.down = down;
  E.inexact = inexact;
}

/** math.fsum of the daily returns from the pass's double-double sum. */
function dailySum(nz: Float64Array, k: number): number {
  let sum = E.s1 + E.e1;
  if (E.inexact) {
    let a1 = 0; // Σ|r| for the error bound, only needed on this path
    for (let j = 0; j < k; j++) a1 += Math.abs(nz[j]!);
    sum = certifiedRound(E.s1, E.e1, ddBound(k, a1)); // ddBound's factor 2 covers a1's own rounding
  }
  return sum === sum ? sum : fsum(nz, 0, k);
}

/**
 * math.fsum((r - avg)**2 for every bar's return r): one per bar (warm-up zeros included); the
 * z zero returns each add (0 - avg)**2, z times that exactly (TwoProduct). Python's squares
 * (glibc's pow) throughout: squared-dev.ts.
 */
function dailySquares(nz: Float64Array, k: number, n: number, avg: number): number {
  const q0 = pySquare(avg);
  const z = n - k;
  const zp = z * q0;
  const ze = prodErr(z, q0, zp); // zp + ze = z*q0 exactly
  return sumSquaredDev(nz, avg, 0, k, zp, ze);
}

/**
 * TimeReturn(Years) into `yr` (less the risk-free rate) and, with `keep`, into
 * `r.yearKeys`/`r.yearReturns`; returns the count of negative years.
 */
function yearlyPass(r: RunRecord, years: YearEnds, v: Float64Array, cash0: number, yr: Float64Array, keep: boolean): number {
  const ny = years.ends.length;
  const rets: number[] | null = keep ? new Array<number>(ny) : null;
  let negYears = 0;
  let prev = cash0;
  for (let y = 0; y < ny; y++) {
    const x = v[years.ends[y]!]!;
    const ry = x / prev - 1.0;
    if (rets !== null) rets[y] = ry;
    if (ry < 0) negYears++;
    yr[y] = ry - YEARLY_RF;
    prev = x;
  }
  if (rets !== null) {
    r.yearKeys = years.keys;
    r.yearReturns = rets;
  }
  return negYears;
}

/** The default SharpeRatio over the yearly returns (rf 1%, population stddev), from `yr`. */
function yearlySharpe(yr: Float64Array, ny: number): number | null {
  if (ny === 0) return null;
  const ya = fsumFast(yr, 0, ny) / ny;
  const ysd = Math.sqrt(sumSquaredDev(yr, ya, 0, ny) / ny);
  return ysd !== 0 ? ya / ysd : null;
}

/** SQN over closed trades' pnlcomm. */
function sqnOf(pnlcomm: Float64Array, closed: number): number | null {
  if (closed <= 1) return 0;
  const av = fsumFast(pnlcomm, 0, closed) / closed;
  const psd = Math.sqrt(sumSquaredDev(pnlcomm, av, 0, closed) / closed);
  return psd !== 0 ? (Math.sqrt(closed) * av) / psd : null;
}

/**
 * Computes every metric. With `years` (default) also sets `r.yearKeys`/`r.yearReturns`: the
 * calendar-year returns (backtrader TimeReturn, Years) keyed `YYYY-12-31`.
 *
 * Kept whole on purpose (it runs once per backtest): the passes are already functions of their
 * own, and what is left is their results and the one result literal. A second function building
 * that literal from ~20 arguments boxes the doubles it is passed: measured +200–300 bytes per
 * call over ~1.3 KB (5,000 bars, 120 trades, years=false).
 */
export function computeMetrics(r: RunRecord, years = true): Record<string, number | null> {
  const { values: v, bars: n, cash0, pnlcomm, closed } = r;
  const finalValue = v[n - 1]!;
  const trOpen = r.openTrades;

  tradePass(r.pnl, pnlcomm, closed);
  const { won, gp, gl, gtot, ntot, gpPre, glPre } = T;

  const nz = scratchOf(n);
  equityPass(v, n, cash0, nz);
  const { mdd, mmd, mlen } = E;
  // Intraday: drawdown per bar (above), returns per calendar day (the last value of each day).
  let nd = n;
  if (r.intraday) {
    const days = dayValues(v, r.dates, n);
    nd = days.length;
    equityPass(days, nd, cash0, nz);
  }
  const k = E.k;

  // SharpeRatio(Days, annualize, rf 0).
  const avg = dailySum(nz, k) / nd;
  const sd = Math.sqrt(dailySquares(nz, k, nd, avg) / nd);
  const sharpe = sd !== 0 ? SQRT252 * (avg / sd) : null;
  // Own extra: Sortino with target 0 (downside deviation over all days).
  const dsd = Math.sqrt(E.down / nd);

  // TimeReturn(Years) and the default SharpeRatio over it; nz is reused (the daily returns are
  // no longer needed).
  const ends = yearEnds(r.dates);
  const negYears = yearlyPass(r, ends, v, cash0, nz, years);
  const sharpeY = yearlySharpe(nz, ends.ends.length);

  // Returns analyzer (log returns; -inf when the value ends below zero, as backtrader), with
  // glibc's log and expm1 as Python's math module takes them (Math.log and Math.expm1 are
  // fdlibm's: an ulp off for ~4 % and ~0.05 % of inputs).
  const ratio = finalValue / cash0;
  const rtot = ratio > 0 ? glibcLog(ratio) : -Infinity;
  const ravg = rtot / n;
  const rnorm = ravg > -Infinity ? glibcExpm1(ravg * r.annual) : ravg;

  const sqn = sqnOf(pnlcomm, closed);

  const dates = r.dates;
  const span = (dayNumber(dates[n - 1]!) - dayNumber(dates[0]!)) / 365.25;
  let cagr: number | null = null;
  if (span > 0) cagr = finalValue > 0 ? (Math.pow(finalValue / cash0, 1 / span) - 1) * 100 : -100;

  // One literal, so every result object has the same shape (and one allocation).
  return {
    final_value: finalValue,
    final_cash: r.finalCash,
    end_position_size: r.endPositionSize,
    end_position_price: r.endPositionPrice,
    trades_total: closed + trOpen,
    trades_closed: closed,
    trades_open: trOpen,
    won,
    lost: closed - won,
    gross_profit: gp,
    gross_loss: gl,
    profit_factor: closed > 0 && gl !== 0 ? gp / Math.abs(gl) : null,
    pnl_gross_total: gtot,
    pnl_net_total: ntot,
    gross_profit_pre_comm: gpPre,
    gross_loss_pre_comm: glPre,
    profit_factor_pre_comm: closed > 0 && glPre !== 0 ? gpPre / Math.abs(glPre) : null,
    max_drawdown_pct: mdd,
    max_drawdown_money: mmd,
    max_drawdown_len: mlen,
    sharpe_days_ann_rf0: sharpe,
    sharpe_default: sharpeY,
    sharpe_a: sharpeY === null ? null : Math.sqrt(1) * sharpeY,
    returns_rtot: numOrNegInf(rtot),
    returns_ravg: numOrNegInf(ravg),
    returns_rnorm: numOrNegInf(rnorm),
    returns_rnorm100: numOrNegInf(rnorm * 100.0),
    sqn,
    sqn_trades: closed,
    rejected_orders: r.rejected,
    bars: n,
    trades_long: r.long,
    trades_short: r.short,
    // Contract names (grammar/metrics.ts).
    trades: closed,
    max_drawdown: mmd,
    sharpe,
    total_return_pct: (finalValue / cash0 - 1) * 100,
    cagr_pct: cagr,
    sortino: dsd !== 0 ? SQRT252 * (avg / dsd) : null,
    calmar: cagr !== null && mdd !== 0 ? cagr / mdd : null,
    exposure_pct: (100 * r.barsInMarket) / n,
    win_rate_pct: closed > 0 ? (100 * won) / closed : null,
    avg_trade_pnl: closed > 0 ? ntot / closed : null,
    negative_years: negYears,
  };
}


/** backtrader's default risk-free rate per year: `pow(1.0 + 0.01, 1.0) - 1.0`. */
const YEARLY_RF = 1.0 + 0.01 - 1.0;

/** A finite value or -inf (backtrader's log return of a value that ended below zero); NaN → null. */
function numOrNegInf(x: number): number | null {
  return Number.isFinite(x) || x === -Infinity ? x : null;
}

let dayBuf: Float64Array = new Float64Array(0);

/** The value at the last bar of each calendar day (backtrader TimeReturn with timeframe Days). */
function dayValues(v: Float64Array, dates: Int32Array, n: number): Float64Array {
  if (dayBuf.length < n) dayBuf = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < n; i++) if (i === n - 1 || dates[i + 1] !== dates[i]) dayBuf[k++] = v[i]!;
  return dayBuf.subarray(0, k);
}

interface YearEnds {
  ends: Int32Array;
  keys: string[];
}

const YEAR_ENDS = new WeakMap<Int32Array, YearEnds>();

/** The last bar of each calendar year and its `YYYY-12-31` key; computed once per date column. */
function yearEnds(dates: Int32Array): YearEnds {
  let y = YEAR_ENDS.get(dates);
  if (!y) {
    const ends: number[] = [];
    const keys: string[] = [];
    const n = dates.length;
    for (let i = 0; i < n; i++) {
      const yr = Math.floor(dates[i]! / 10000);
      if (i === n - 1 || Math.floor(dates[i + 1]! / 10000) !== yr) {
        ends.push(i);
        keys.push(`${yr}-12-31`);
      }
    }
    y = { ends: Int32Array.from(ends), keys };
    YEAR_ENDS.set(dates, y);
  }
  return y;
}

/** Days since 1970-01-01 of a yyyymmdd date. */
function dayNumber(d: number): number {
  return Date.UTC((d / 10000) | 0, (((d / 100) | 0) % 100) - 1, d % 100) / 86400000;
}

/*
 * Type feedback for the common paths before any loop here gets hot. The first real backtest
 * runs these loops long enough for on-stack replacement, which compiled the code after a loop
 * without feedback (not reached yet); that code then deoptimized on every later call that
 * entered the cached OSR code (hundreds to thousands of deopts in a fresh worker). V8 allocates
 * a function's feedback vector only after several calls, hence 16 runs. Four synthetic bars
 * across a year end, a won and a lost trade: microseconds, once per thread.
 */
for (let run = 0; run < 16; run++) {
  computeMetrics({
    values: Float64Array.of(100.5, 101.25, 99.75, 102.125),
    dates: Int32Array.of(20201230, 20201231, 20210104, 20210105),
    intraday: false,
    annual: 252.0,
    bars: 4,
    cash0: 100,
    finalCash: 0,
    endPositionSize: 1,
    endPositionPrice: 101.25,
    pnl: Float64Array.of(1.5, -1.25),
    pnlcomm: Float64Array.of(0.5, -1.5),
    closed: 2,
    long: 2,
    short: 0,
    rejected: 0,
    barsInMarket: 3,
    openTrades: 1,
  });
}
