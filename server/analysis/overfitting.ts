/**
 * How much of the best score is luck:
 * - the Probabilistic Sharpe Ratio and the Deflated Sharpe Ratio (Bailey & López de Prado,
 *   "The Deflated Sharpe Ratio", J. Portfolio Management 40(5), 2014);
 * - the Probability of Backtest Overfitting by combinatorially symmetric cross-validation
 *   (Bailey, Borwein, López de Prado & Zhu, "The Probability of Backtest Overfitting", 2017);
 * - a seeded Monte Carlo bootstrap of one trial's trades (drawdown and final-value percentiles).
 * Sharpe ratios here are per observation (not annualized) unless a name says otherwise.
 */
import { EULER_GAMMA, moments, normCdf, normPpf, quantileSorted, seededRandom } from './stats';

/** Sharpe ratio of a return series per observation (mean / sample std); null if undefined. */
export function sharpeOf(returns: ArrayLike<number>): number | null {
  const m = moments(returns);
  return returns.length > 1 && m.std > 0 ? m.mean / m.std : null;
}

/**
 * PSR(SR*) = Φ( (SR̂ − SR*)·√(T − 1) / √(1 − γ3·SR̂ + (γ4 − 1)/4·SR̂²) ): the probability that
 * the true Sharpe exceeds `benchmark` given `T` observations with skewness γ3 and (non-excess)
 * kurtosis γ4.
 */
export function probabilisticSharpe(sr: number, t: number, skew = 0, kurtosis = 3, benchmark = 0): number {
  const denom = 1 - skew * sr + ((kurtosis - 1) / 4) * sr * sr;
  if (!(denom > 0) || t < 2) return NaN;
  return normCdf(((sr - benchmark) * Math.sqrt(t - 1)) / Math.sqrt(denom));
}

/**
 * The expected maximum Sharpe of `n` independent zero-skill trials whose Sharpe estimates have
 * variance `variance`: √V·((1 − γ)Φ⁻¹(1 − 1/N) + γΦ⁻¹(1 − 1/(N·e))) (the DSR's SR₀).
 */
export function expectedMaxSharpe(n: number, variance: number): number {
  if (n <= 1 || !(variance > 0)) return 0;
  return Math.sqrt(variance) * ((1 - EULER_GAMMA) * normPpf(1 - 1 / n) + EULER_GAMMA * normPpf(1 - 1 / (n * Math.E)));
}

export interface DeflatedSharpe {
  /** Observed Sharpe per observation. */
  sharpe: number;
  /** SR₀: the expected maximum Sharpe under no skill (per observation). */
  sr0: number;
  /** DSR = PSR(SR₀), the probability the selected strategy's true Sharpe beats SR₀. */
  dsr: number;
  /** PSR against zero. */
  psr: number;
  trials: number;
  observations: number;
  skew: number;
  kurtosis: number;
  sharpeVariance: number;
}

/**
 * The Deflated Sharpe Ratio. `trials` is the number of backtests actually run; `sharpeVariance`
 * the variance of the trials' Sharpe ratios (same units as `sharpe`). Correlated trials count
 * as fewer independent ones, so using every trial run is the conservative choice.
 */
export function deflatedSharpe(input: { sharpe: number; observations: number; trials: number; sharpeVariance: number; skew?: number; kurtosis?: number }): DeflatedSharpe {
  const skew = input.skew ?? 0;
  const kurtosis = input.kurtosis ?? 3;
  const sr0 = expectedMaxSharpe(input.trials, input.sharpeVariance);
  return {
    sharpe: input.sharpe,
    sr0,
    dsr: probabilisticSharpe(input.sharpe, input.observations, skew, kurtosis, sr0),
    psr: probabilisticSharpe(input.sharpe, input.observations, skew, kurtosis, 0),
    trials: input.trials,
    observations: input.observations,
    skew,
    kurtosis,
    sharpeVariance: input.sharpeVariance,
  };
}

// ---------------------------------------------------------------------------------------------
// PBO by CSCV

export interface PboResult {
  /** Probability of backtest overfitting: share of splits whose in-sample best ranks at or below the out-of-sample median. */
  pbo: number;
  /** Splits evaluated: C(S, S/2). */
  combinations: number;
  partitions: number;
  strategies: number;
  observations: number;
  /** The logits λ = ln(ω/(1 − ω)) per split (ω = relative OOS rank of the IS best). */
  logits: number[];
  /** Per split: the IS best's in-sample and out-of-sample performance (for degradation plots). */
  isPerformance: number[];
  oosPerformance: number[];
  /** OLS slope of OOS on IS performance of the selected strategies (negative = degradation). */
  degradationSlope: number | null;
  /** Share of splits where the selected strategy's OOS performance is below zero. */
  probabilityOfLoss: number;
}

/**
 * CSCV over a T×N matrix of returns (`returns[t][n]`, rows in time order, one column per
 * trial). Rows are cut into `partitions` (even) contiguous blocks; for every half of the blocks
 * as in-sample the best column by Sharpe is taken and ranked out-of-sample on the other half.
 */
export function probabilityOfBacktestOverfitting(returns: readonly (ArrayLike<number>)[], partitions = 16): PboResult {
  const T = returns.length;
  const N = T ? returns[0]!.length : 0;
  if (partitions % 2 !== 0 || partitions < 2) throw new Error(`CSCV needs an even number of partitions, got ${partitions}`);
  if (N < 2) throw new Error('CSCV needs at least two strategies (columns)');
  if (T < partitions * 2) throw new Error(`CSCV needs at least ${partitions * 2} observations for ${partitions} partitions, got ${T}`);
  const S = partitions;
  const sums = blockSums(returns, S);
  const pi = new Float64Array(N);
  const po = new Float64Array(N);
  const logits: number[] = [];
  const isP: number[] = [];
  const oosP: number[] = [];
  let below = 0;
  let loss = 0;
  for (const train of combinations(S, S / 2)) {
    splitSharpes(sums, train, pi, po);
    let best = 0;
    for (let n = 1; n < N; n++) if (pi[n]! > pi[best]!) best = n;
    const lambda = rankLogit(po, best);
    logits.push(lambda);
    isP.push(pi[best]!);
    oosP.push(po[best]!);
    if (lambda <= 0) below++;
    if (po[best]! < 0) loss++;
  }
  const c = logits.length;
  return {
    pbo: below / c,
    combinations: c,
    partitions: S,
    strategies: N,
    observations: T,
    logits,
    isPerformance: isP,
    oosPerformance: oosP,
    degradationSlope: olsSlope(isP, oosP),
    probabilityOfLoss: loss / c,
  };
}

/** Per block and column: count, sum and sum of squares, and the columns' totals over all blocks. */
interface BlockSums {
  cnt: Float64Array;
  sum: Float64Array[];
  sq: Float64Array[];
  totS: Float64Array;
  totQ: Float64Array;
  totC: number;
}

/** The returns' sums per block of rows, so that each split costs O(S·N), not O(T·N). */
function blockSums(returns: readonly (ArrayLike<number>)[], S: number): BlockSums {
  const T = returns.length;
  const N = returns[0]!.length;
  const sum = Array.from({ length: S }, () => new Float64Array(N));
  const sq = Array.from({ length: S }, () => new Float64Array(N));
  const cnt = new Float64Array(S);
  for (let t = 0; t < T; t++) {
    const s = Math.min(S - 1, Math.floor((t * S) / T));
    cnt[s]++;
    const row = returns[t]!;
    for (let n = 0; n < N; n++) {
      const r = row[n]!;
      sum[s]![n] += r;
      sq[s]![n] += r * r;
    }
  }
  // Column totals: the test half is the total minus the training half (half the work per split).
  const totS = new Float64Array(N);
  const totQ = new Float64Array(N);
  let totC = 0;
  for (let b = 0; b < S; b++) {
    totC += cnt[b]!;
    for (let n = 0; n < N; n++) (totS[n] += sum[b]![n]!, (totQ[n] += sq[b]![n]!));
  }
  return { cnt, sum, sq, totS, totQ, totC };
}

/** Every column's Sharpe on the training blocks into `pi` and on the rest into `po`. */
function splitSharpes(b: BlockSums, blocks: number[], pi: Float64Array, po: Float64Array): void {
  let c = 0;
  for (const k of blocks) c += b.cnt[k]!;
  for (let n = 0; n < pi.length; n++) {
    let s1 = 0;
    let s2 = 0;
    for (const k of blocks) (s1 += b.sum[k]![n]!, (s2 += b.sq[k]![n]!));
    pi[n] = blockSharpe(s1, s2, c);
    po[n] = blockSharpe(b.totS[n]! - s1, b.totQ[n]! - s2, b.totC - c);
  }
}

/** Sharpe from a count, sum and sum of squares; ±Infinity (or 0) when the variance is not positive. */
function blockSharpe(s1: number, s2: number, c: number): number {
  const m = s1 / c;
  const v = (s2 - c * m * m) / (c - 1);
  return v > 0 ? m / Math.sqrt(v) : m > 0 ? Infinity : m < 0 ? -Infinity : 0;
}

/** λ = ln(ω/(1 − ω)), ω the selected column's average out-of-sample rank over N + 1 (1 = worst), without sorting. */
function rankLogit(po: Float64Array, best: number): number {
  const N = po.length;
  let lower = 0;
  let ties = 0;
  const x = po[best]!;
  for (let n = 0; n < N; n++) {
    if (po[n]! < x) lower++;
    else if (po[n] === x) ties++;
  }
  const w = (lower + (ties + 1) / 2) / (N + 1);
  return Math.log(w / (1 - w));
}

function olsSlope(xs: number[], ys: number[]): number | null {
  const pts = xs.map((x, i) => [x, ys[i]!] as const).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  if (pts.length < 2) return null;
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  let sxy = 0;
  let sxx = 0;
  for (const [x, y] of pts) (sxy += (x - mx) * (y - my), (sxx += (x - mx) * (x - mx)));
  return sxx > 0 ? sxy / sxx : null;
}

/** All k-subsets of 0..n−1 in lexicographic order. */
export function* combinations(n: number, k: number): Generator<number[]> {
  const c = Array.from({ length: k }, (_, i) => i);
  while (true) {
    yield [...c];
    let i = k - 1;
    while (i >= 0 && c[i] === n - k + i) i--;
    if (i < 0) return;
    c[i]++;
    for (let j = i + 1; j < k; j++) c[j] = c[j - 1]! + 1;
  }
}

/** Daily returns from an equity curve (value per bar); bars with a zero or missing previous value give 0. */
export function returnsFromEquity(equity: ArrayLike<number>): Float64Array {
  const out = new Float64Array(Math.max(0, equity.length - 1));
  for (let i = 1; i < equity.length; i++) {
    const p = equity[i - 1]!;
    out[i - 1] = p > 0 ? equity[i]! / p - 1 : 0;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Monte Carlo bootstrap of trades

export interface Percentiles {
  p5: number;
  p25: number;
  p50: number;
  p75: number;
  p95: number;
}

export interface TradeBootstrap {
  iterations: number;
  trades: number;
  seed: number;
  /** Max drawdown in percent of the running peak, per resampled sequence. */
  maxDrawdownPct: Percentiles;
  maxDrawdown: Percentiles;
  finalValue: Percentiles;
  /** Share of resampled sequences ending below the starting cash. */
  probabilityOfLoss: number;
  /** The drawdown of the trades in their real order, for comparison. */
  actualMaxDrawdownPct: number;
  mode: 'pnl' | 'returns';
}

/**
 * Resamples a trial's closed trades with replacement (`iterations` sequences of the same
 * length, seeded) and reports percentiles of the max drawdown and the final value of the
 * closed-trade equity curve — how bad the drawdown could have been in another order.
 * `pnl` (default) adds money P&Ls, as with fixed-size positions; `returns` compounds each
 * trade's return on the equity before it (P&L / closed equity then), as with percent sizing,
 * so a resampled sequence cannot lose more than everything. An equity that reaches zero in
 * `pnl` mode is ruin: a 100 % drawdown and the sequence stops there.
 */
export function bootstrapTrades(pnls: readonly number[], cash: number, opts: { iterations?: number; seed?: number; mode?: 'pnl' | 'returns' } = {}): TradeBootstrap {
  const iterations = opts.iterations ?? 1000;
  const seed = opts.seed ?? 42;
  const n = pnls.length;
  if (n === 0) throw new Error('bootstrap needs at least one closed trade');
  const mode = opts.mode ?? 'pnl';
  // Trade returns on the closed equity before each trade, in the trades' real order.
  const rets: number[] = [];
  let before = cash;
  for (const p of pnls) {
    rets.push(before > 0 ? p / before : 0);
    before += p;
  }
  const step = mode === 'returns' ? (eq: number, i: number) => eq * (1 + rets[i]!) : (eq: number, i: number) => eq + pnls[i]!;
  const rand = seededRandom(seed);
  const dd = new Float64Array(iterations);
  const ddm = new Float64Array(iterations);
  const fin = new Float64Array(iterations);
  let losses = 0;
  const path = (pick: (i: number) => number): [number, number, number] => {
    let eq = cash;
    let peak = cash;
    let worst = 0;
    let worstM = 0;
    for (let i = 0; i < n; i++) {
      eq = step(eq, pick(i));
      if (eq <= 0) return [100, peak, 0];
      if (eq > peak) peak = eq;
      const m = peak - eq;
      if (m > worstM) worstM = m;
      const pct = peak > 0 ? (100 * m) / peak : 100;
      if (pct > worst) worst = pct;
    }
    return [worst, worstM, eq];
  };
  for (let it = 0; it < iterations; it++) {
    const [w, m, e] = path(() => Math.floor(rand() * n));
    dd[it] = w;
    ddm[it] = m;
    fin[it] = e;
    if (e < cash) losses++;
  }
  const pct = (a: Float64Array): Percentiles => {
    const s = Float64Array.from(a).sort();
    return { p5: quantileSorted(s, 0.05), p25: quantileSorted(s, 0.25), p50: quantileSorted(s, 0.5), p75: quantileSorted(s, 0.75), p95: quantileSorted(s, 0.95) };
  };
  return {
    iterations,
    trades: n,
    seed,
    maxDrawdownPct: pct(dd),
    maxDrawdown: pct(ddm),
    finalValue: pct(fin),
    probabilityOfLoss: losses / iterations,
    actualMaxDrawdownPct: path((i) => i)[0],
    mode,
  };
}
