/**
 * Will the chosen parameters hold up?
 * - plateau scores on grids: mean − λ·std of the score over the ±k-step neighbourhood, and
 *   "needle" flags for peaks that stand far above their neighbours;
 * - holdout validation: optimize in-sample, re-run the top K out-of-sample, report both;
 * - walk-forward validation (rolling or anchored folds): re-optimize per fold, run the best on
 *   the next out-of-sample window, stitch the out-of-sample equity, and compute Pardo's
 *   walk-forward efficiency (annualized OOS return / annualized IS return).
 * The procedures take callbacks (`optimize`, `backtest`) so the optimizer wires in its own
 * search and engine; nothing here imports them.
 */
import type { PlateauScore } from '../../protocol/analysis';
import { stampDay } from '../data/datetime';
import { mean, spearman, std } from './stats';
import { encodeParams, isFeasible, keyValue, type Direction, type ParamEncoding, type RankKey, type TrialLike } from './trial-data';
import type { BarWindow, HoldoutReport, HoldoutRow, Metrics, ParamValues, TrialSymbol, WalkForwardFoldResult, WalkForwardReport } from '../../protocol/run-events';

// The validation reports are part of the run events (the end event carries them): one shape, declared there.
export type { HoldoutReport, HoldoutRow, WalkForwardFoldResult, WalkForwardReport };
/** A window of bars: [start, end) indices and their first and last dates. */
export type BarRange = BarWindow;

export type { PlateauScore };

// ---------------------------------------------------------------------------------------------
// Plateau / neighbourhood scores

export interface PlateauOptions {
  /** Neighbourhood half-width in grid steps per parameter (default 1). */
  k?: number;
  /** Penalty on the neighbourhood's standard deviation (default 1). */
  lambda?: number;
  key?: RankKey;
  direction?: Direction;
  /** A trial is a needle when it beats its neighbours' mean by more than this many standard deviations of all scores (default 1). */
  needleZ?: number;
  /** Only score these trials (e.g. the finalists); default all feasible trials. */
  only?: readonly TrialLike[];
  /** The parameters forming the grid; default those with more than one value. */
  params?: readonly string[];
}


/**
 * Plateau scores over a grid of trials. Each parameter's distinct values form its axis; the
 * neighbourhood of a point is every grid point within ±k steps on every axis (a hypercube).
 * Repeated parameter sets are averaged. Failed or infeasible neighbours are left out of the
 * mean and counted separately.
 */
export function plateauScores(trials: readonly TrialLike[], opts: PlateauOptions = {}): PlateauScore[] {
  const k = opts.k ?? 1;
  const lambda = opts.lambda ?? 1;
  const key = opts.key ?? 'score';
  const sign = (opts.direction ?? 'maximize') === 'maximize' ? 1 : -1;
  const needleZ = opts.needleZ ?? 1;
  const allEnc = encodeParams(trials, opts.params ?? Object.keys(trials[0]?.params ?? {}));
  const grid = new PlateauGrid(opts.params ? allEnc : allEnc.filter((e) => e.values.length > 1), trials, key);
  const out: PlateauScore[] = [];
  for (const t of opts.only ?? trials) {
    if (!isFeasible(t)) continue;
    const c = grid.cellOf(t);
    const self = keyValue(t, key);
    if (!c || self === null) continue;
    const selfId = grid.idOf(c);
    const { neigh, cells, infeasible } = grid.around(c, selfId, k);
    const selfMean = grid.values.get(selfId)!;
    const withSelf = [selfMean.sum / selfMean.n, ...neigh];
    const m = mean(withSelf);
    const s = withSelf.length > 1 ? std(withSelf, 0) : 0;
    const others = neigh.length ? mean(neigh) : null;
    const needle = others !== null && grid.globalStd > 0 && sign * (self - others) > needleZ * grid.globalStd;
    out.push({
      ...(t.number !== undefined ? { number: t.number } : {}),
      ...(t.stage !== undefined ? { stage: t.stage } : {}),
      params: t.params,
      score: self,
      robust: m - sign * lambda * s,
      neighbourhoodMean: m,
      neighbourhoodStd: s,
      neighbours: neigh.length,
      cells,
      infeasibleNeighbours: infeasible,
      needle,
    });
  }
  return out;
}

/**
 * The trials on their grid: each parameter's distinct values an axis, cells numbered in mixed
 * radix (one digit per axis, so lookups need no strings), repeated parameter sets averaged.
 */
class PlateauGrid {
  readonly values = new Map<number, { sum: number; n: number }>();
  /** Cells whose trials all failed or were infeasible. */
  readonly bad = new Set<number>();
  /** The spread of every feasible value: the yardstick of a needle. */
  readonly globalStd: number;
  private readonly axisIndex: Map<unknown, number>[];
  private readonly radix: number[];

  constructor(
    private readonly encs: readonly ParamEncoding[],
    trials: readonly TrialLike[],
    key: RankKey,
  ) {
    this.axisIndex = encs.map((e) => new Map<unknown, number>(e.values.map((v, i) => [v, i])));
    this.radix = encs.map((e) => e.values.length);
    const all: number[] = [];
    for (const t of trials) {
      const c = this.cellOf(t);
      if (!c) continue;
      const id = this.idOf(c);
      const v = isFeasible(t) ? keyValue(t, key) : null;
      if (v === null) {
        this.bad.add(id);
        continue;
      }
      const e = this.values.get(id) ?? { sum: 0, n: 0 };
      e.sum += v;
      e.n++;
      this.values.set(id, e);
      all.push(v);
    }
    this.globalStd = all.length > 1 ? std(all) : 0;
  }

  cellOf(t: TrialLike): number[] | null {
    const out: number[] = [];
    for (let d = 0; d < this.encs.length; d++) {
      const i = this.axisIndex[d]!.get(t.params?.[this.encs[d]!.name]);
      if (i === undefined) return null;
      out.push(i);
    }
    return out;
  }

  idOf(c: readonly number[]): number {
    let id = 0;
    for (let d = 0; d < c.length; d++) id = id * this.radix[d]! + c[d]!;
    return id;
  }

  /** The cells within ±k steps of `c` on every axis (a hypercube), `c` itself left out. */
  around(c: readonly number[], selfId: number, k: number): { neigh: number[]; cells: number; infeasible: number } {
    const neigh: number[] = [];
    let cells = 0;
    let infeasible = 0;
    const off = new Array<number>(c.length).fill(-k);
    const total = Math.pow(2 * k + 1, c.length);
    for (let step = 0; step < total; step++) {
      const cell = this.offset(c, off);
      const id = cell ? this.idOf(cell) : selfId;
      if (id !== selfId) {
        cells++;
        const e = this.values.get(id);
        if (e) neigh.push(e.sum / e.n);
        else if (this.bad.has(id)) infeasible++;
      }
      nextOffset(off, k);
    }
    return { neigh, cells, infeasible };
  }

  /** `c` moved by `off`, or null when that leaves the grid. */
  private offset(c: readonly number[], off: readonly number[]): number[] | null {
    const cell: number[] = [];
    for (let d = 0; d < c.length; d++) {
      const j = c[d]! + off[d]!;
      if (j < 0 || j >= this.radix[d]!) return null;
      cell.push(j);
    }
    return cell;
  }
}

/** The next offset in [-k, k]^d (an odometer). */
export function nextOffset(off: number[], k: number): void {
  for (let d = 0; d < off.length; d++) {
    if (off[d]! < k) {
      off[d]!++;
      return;
    }
    off[d] = -k;
  }
}

// ---------------------------------------------------------------------------------------------
// Holdout and walk-forward

/** A window of bars: indices [start, end) into the run's bars and its first and last dates. */

/** What a re-run returns (the engine's result fits). */
export interface BacktestResultLike {
  metrics: Metrics;
  /** The objective's value, when the caller computes it. */
  score?: number | null;
  /** Portfolio value per bar of the window, for stitching and annualizing. */
  equity?: ArrayLike<number>;
  /** A basket: each symbol's own metrics on the window. */
  symbols?: TrialSymbol[];
}

/** The optimizer run on one window: ranked parameter sets, best first. */
export type OptimizeFn = (range: BarRange) => Promise<{ params: ParamValues; score?: number | null; metrics?: Metrics }[]>;
export type BacktestFn = (params: ParamValues, range: BarRange) => Promise<BacktestResultLike>;

function rangeOf(dates: readonly string[], start: number, end: number): BarRange {
  return { start, end, from: dates[start]!, to: dates[end - 1]! };
}

/** Splits the bars into an in-sample head and an out-of-sample tail of `fraction` (0..1). */
export function holdoutSplit(dates: readonly string[], fraction: number): { inSample: BarRange; outOfSample: BarRange } {
  const n = dates.length;
  if (!(fraction > 0 && fraction < 1)) throw new Error(`holdout fraction must be between 0 and 1 (exclusive), got ${fraction}`);
  const oos = Math.round(n * fraction);
  if (oos < 2 || n - oos < 2) throw new Error(`holdout of ${Math.round(fraction * 100)}% leaves too few bars on one side (${n} bars)`);
  return { inSample: rangeOf(dates, 0, n - oos), outOfSample: rangeOf(dates, n - oos, n) };
}



/** `validate holdout P%`: optimize on the head, re-run the top K on the tail. */
export async function runHoldout(input: {
  dates: readonly string[]; fraction: number; topK?: number; optimize: OptimizeFn; backtest: BacktestFn;
  score?: (r: BacktestResultLike) => number | null;
}): Promise<HoldoutReport> {
  const { inSample, outOfSample } = holdoutSplit(input.dates, input.fraction);
  const ranked = (await input.optimize(inSample)).slice(0, input.topK ?? 5);
  const scoreOf = input.score ?? ((r: BacktestResultLike) => (typeof r.score === 'number' ? r.score : null));
  const rows: HoldoutRow[] = [];
  for (const [i, r] of ranked.entries()) {
    const oos = await input.backtest(r.params, outOfSample);
    rows.push({
      rank: i + 1,
      params: r.params,
      inSample: { score: r.score ?? null, ...(r.metrics ? { metrics: r.metrics } : {}) },
      outOfSample: { score: scoreOf(oos), metrics: oos.metrics, ...(oos.symbols ? { symbols: oos.symbols } : {}) },
    });
  }
  const pairs = rows.filter((r) => r.inSample.score !== null && r.outOfSample.score !== null);
  const is = pairs.map((r) => r.inSample.score!);
  const os = pairs.map((r) => r.outOfSample.score!);
  const mi = mean(is);
  return {
    inSample,
    outOfSample,
    rows,
    rankCorrelation: pairs.length >= 3 ? spearman(is, os) : null,
    retention: pairs.length && mi !== 0 ? mean(os) / mi : null,
  };
}

export interface WalkForwardFold {
  fold: number;
  train: BarRange;
  test: BarRange;
}

/**
 * Fold windows for `folds` folds with `train` (0..1) of each window in-sample. Test windows
 * are consecutive and together cover the tail after the first training window; rolling
 * training windows slide with them, anchored ones all start at bar 0.
 * With n bars, test length S = ⌊n / (folds + train/(1 − train))⌋ and the first training
 * window takes the rest, so the first window's train share is `train`.
 */
export function walkForwardSplits(dates: readonly string[], opts: { folds: number; train: number; anchored?: boolean }): WalkForwardFold[] {
  const n = dates.length;
  const { folds, train } = opts;
  if (!(Number.isInteger(folds) && folds >= 1)) throw new Error(`walk-forward needs a whole number of folds ≥ 1, got ${folds}`);
  if (!(train > 0 && train < 1)) throw new Error(`walk-forward train share must be between 0 and 1 (exclusive), got ${train}`);
  const s = Math.floor(n / (folds + train / (1 - train)));
  const t0 = n - folds * s;
  if (s < 2 || t0 < 2) throw new Error(`${n} bars are too few for ${folds} walk-forward folds`);
  const out: WalkForwardFold[] = [];
  for (let f = 0; f < folds; f++) {
    const testStart = t0 + f * s;
    const testEnd = f === folds - 1 ? n : testStart + s;
    const trainStart = opts.anchored ? 0 : f * s;
    out.push({ fold: f + 1, train: rangeOf(dates, trainStart, testStart), test: rangeOf(dates, testStart, testEnd) });
  }
  return out;
}

/**
 * Annualized return of a window from its equity curve (or its total_return_pct metric), 252
 * trading days a year; `days` is the window's trading days (`tradingDays`: its bars on daily data).
 */
export function annualizedReturn(r: BacktestResultLike, days: number): number | null {
  let total: number | null = null;
  if (r.equity && r.equity.length >= 2 && r.equity[0]! > 0) total = r.equity[r.equity.length - 1]! / r.equity[0]! - 1;
  else if (typeof r.metrics.total_return_pct === 'number') total = r.metrics.total_return_pct / 100;
  if (total === null || days < 1) return null;
  if (total <= -1) return -1;
  return Math.pow(1 + total, 252 / days) - 1;
}

/**
 * The calendar days with a bar among `dates[start…end)` (sorted stamps, `YYYY-MM-DD` or with a
 * time): a window of 5-minute bars over 21 days is 21 days, not 1,638 "days" of 252 a year.
 */
export function tradingDays(dates: readonly string[], start: number, end: number): number {
  let days = 0;
  let last = '';
  for (let i = start; i < end; i++) {
    const day = stampDay(dates[i]!);
    if (day !== last) (days++, (last = day));
  }
  return days;
}



/** `validate walkforward { folds F, train P%, anchored }`. */
export async function runWalkForward(input: {
  dates: readonly string[]; folds: number; train: number; anchored?: boolean; optimize: OptimizeFn; backtest: BacktestFn;
  score?: (r: BacktestResultLike) => number | null;
}): Promise<WalkForwardReport> {
  const splits = walkForwardSplits(input.dates, input);
  const scoreOf = input.score ?? ((r: BacktestResultLike) => (typeof r.score === 'number' ? r.score : null));
  const folds: WalkForwardFoldResult[] = [];
  const stitched: { date: string; value: number }[] = [];
  for (const sp of splits) {
    const ranked = await input.optimize(sp.train);
    const best = ranked[0];
    if (!best) throw new Error(`walk-forward fold ${sp.fold}: the optimizer found no feasible parameters on ${sp.train.from} … ${sp.train.to}`);
    const is = await input.backtest(best.params, sp.train);
    const oos = await input.backtest(best.params, sp.test);
    const isAnn = annualizedReturn(is, tradingDays(input.dates, sp.train.start, sp.train.end));
    const oosAnn = annualizedReturn(oos, tradingDays(input.dates, sp.test.start, sp.test.end));
    folds.push({
      ...sp,
      params: best.params,
      inSample: { score: scoreOf(is), metrics: is.metrics, annualizedReturn: isAnn, ...(is.symbols ? { symbols: is.symbols } : {}) },
      outOfSample: { score: scoreOf(oos), metrics: oos.metrics, annualizedReturn: oosAnn, ...(oos.symbols ? { symbols: oos.symbols } : {}) },
      efficiency: isAnn !== null && oosAnn !== null && isAnn !== 0 ? oosAnn / isAnn : null,
    });
    if (oos.equity && oos.equity.length && oos.equity[0]! > 0) {
      const base = stitched.length ? stitched[stitched.length - 1]!.value : oos.equity[0]!;
      const scale = base / oos.equity[0]!;
      const len = oos.equity.length;
      for (let i = 0; i < len; i++) {
        // Equity arrays cover the test window bar for bar; dates come from the run's bars. The
        // fold's first bar starts at the previous fold's last value (a flat day at the seam).
        const date = input.dates[sp.test.start + Math.min(i, sp.test.end - sp.test.start - 1)]!;
        stitched.push({ date, value: oos.equity[i]! * scale });
      }
    }
  }
  const isAnns = folds.map((f) => f.inSample.annualizedReturn).filter((x): x is number => x !== null);
  const oosAnns = folds.map((f) => f.outOfSample.annualizedReturn).filter((x): x is number => x !== null);
  const mIs = isAnns.length ? mean(isAnns) : null;
  return {
    anchored: Boolean(input.anchored),
    folds,
    stitchedEquity: stitched,
    efficiency: mIs !== null && mIs !== 0 && oosAnns.length ? mean(oosAnns) / mIs : null,
    stitchedReturnPct: stitched.length >= 2 ? (100 * stitched[stitched.length - 1]!.value) / stitched[0]!.value - 100 : null,
    profitableFolds: folds.filter((f) => (f.outOfSample.annualizedReturn ?? 0) > 0).length,
  };
}
