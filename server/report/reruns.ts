/**
 * Robustness figures that need more than the journal: the best trial's equity and trades and
 * the return series of many trials, obtained by re-running backtests with the engine (same
 * data, strategy and broker settings as the study). From them: the Deflated Sharpe Ratio with
 * measured skewness and kurtosis, PBO by CSCV over the trials' daily returns, and a Monte Carlo
 * bootstrap of the best trial's trades. Only built-in strategies are re-run here (modules and
 * external commands need the run's workers); otherwise the section says why it is missing.
 */
import * as path from 'node:path';
import type { StudyModel } from '../../grammar';
import type { DeflatedSharpeSummary } from '../../protocol/analysis';
import type { TrialEvent } from '../../protocol/run-events';
import { bootstrapTrades, deflatedSharpe, probabilityOfBacktestOverfitting, returnsFromEquity, type PboResult, type TradeBootstrap } from '../analysis/overfitting';
import { moments, variance } from '../analysis/stats';
import { isFeasible, keyValue, sortByKey, type Direction } from '../analysis/trial-data';
import { studyConfig, type BacktestConfig, type PriceData } from '../engine';
import { symbolNames } from '../data/basket';
import { stampDay } from '../data/datetime';
import { loadFeeds, runRecorded } from '../data/feeds';
import { loadOptions } from '../data/types';

export interface RerunOptions {
  /** Trials re-run for CSCV (evenly spread over the run, the best always included); default 64. */
  maxStrategies?: number;
  /** CSCV partitions (even); default 16, fewer for short data. */
  partitions?: number;
  bootstrapIterations?: number;
  seed?: number;
}

export interface Reruns {
  available: boolean;
  /** Why re-runs were skipped, when they were. */
  reason?: string;
  best?: {
    number: number;
    dates: string[];
    equity: number[];
    trades: number;
  };
  deflatedSharpe?: DeflatedSharpeSummary & { sharpePerBar: number; skew: number; kurtosis: number };
  pbo?: Omit<PboResult, 'logits' | 'isPerformance' | 'oosPerformance'> & { logitHistogram: { lo: number; hi: number; count: number }[]; strategiesUsed: number[] };
  bootstrap?: TradeBootstrap;
  /** Re-run metrics differing from the journal's (should be empty: same engine, same inputs). */
  mismatches: string[];
}

/**
 * Re-runs what the robustness section needs; `studyFile` locates the data (paths are relative
 * to it). Never throws: problems end up in `reason`.
 */
export function computeReruns(studyFile: string, study: StudyModel | null, trials: readonly TrialEvent[], directions: readonly Direction[], opts: RerunOptions = {}): Reruns {
  const none = (reason: string): Reruns => ({ available: false, reason, mismatches: [] });
  if (!study) return none('the study file is not available, so its data and strategy are unknown');
  if (!study.strategy || study.strategy.kind !== 'builtin') return none(`strategy '${study.strategy?.name ?? '?'}' is not a built-in; re-runs need the run's workers`);
  if (!study.data) return none('the study names no data file');
  // Every feed, read as the study says; a basket re-runs each symbol and sums the accounts (server/data).
  const refs = study.datas?.length ? study.datas : [study.data];
  const symbols = study.basket ? symbolNames(refs.map((d) => d.path)) : undefined;
  let feeds: PriceData[];
  try {
    feeds = loadFeeds(refs.map((d) => ({ file: path.resolve(path.dirname(studyFile), d.path), from: d.from, to: d.to, options: loadOptions(d) })));
  } catch (e) {
    return none(`the data could not be loaded: ${e instanceof Error ? e.message : String(e)}`);
  }
  const config: BacktestConfig = studyConfig(study);
  const strategy = study.strategy.name;
  const ranked = sortByKey(trials, 'score', directions[0] ?? 'maximize');
  const best = ranked[0];
  if (!best) return none('no feasible trial to re-run');
  const out: Reruns = { available: true, mismatches: [] };
  const run = (t: TrialEvent) => {
    const rec = runRecorded(feeds, symbols, strategy, t.params, config);
    const r = { metrics: rec.metrics, equity: Float64Array.from(rec.equity.values), trades: rec.trades, dates: rec.equity.dates };
    // Same engine, same inputs: the journal's metrics must come back. Say so if not.
    for (const key of ['final_value', 'trades', 'sharpe'] as const) {
      const a = r.metrics[key];
      const b = t.metrics[key];
      if (b !== undefined && a !== b && out.mismatches.length < 10) out.mismatches.push(`trial ${t.number}: ${key} re-ran as ${a}, journal says ${b}`);
    }
    return r;
  };
  try {
    const rb = run(best);
    const equity = Array.from(rb.equity);
    out.best = { number: best.number, dates: rb.dates, equity, trades: rb.trades.length };
    // DSR with the best trial's measured moments.
    // The sharpe metric is per calendar day (intraday bars too, as backtrader): so are its moments and T.
    const days = dayCloses(rb.dates, rb.equity);
    const rets = returnsFromEquity(days).subarray(firstActive(days));
    const m = moments(rets);
    const sharpes = trials.filter(isFeasible).map((t) => keyValue(t, { metric: 'sharpe' })).filter((x): x is number => x !== null);
    const ran = trials.filter((t) => t.state !== 'failed').length;
    const bestSharpe = keyValue(best, { metric: 'sharpe' });
    if (rets.length > 2 && m.std > 0 && sharpes.length >= 2 && bestSharpe !== null) {
      // SR̂ and the trials' variance both come from the run's own sharpe metric (annualized
      // with √252), so they share one definition; the re-run adds the moments it lacks.
      const srBar = bestSharpe / Math.sqrt(252);
      const d = deflatedSharpe({ sharpe: srBar, observations: rets.length, trials: ran, sharpeVariance: variance(sharpes) / 252, skew: m.skew, kurtosis: m.kurtosis });
      out.deflatedSharpe = {
        sharpe: srBar * Math.sqrt(252), expectedMaxSharpe: d.sr0 * Math.sqrt(252), dsr: d.dsr, psr: d.psr, trials: ran, observations: rets.length,
        momentsMeasured: true, sharpePerBar: srBar, skew: m.skew, kurtosis: m.kurtosis,
      };
    }
    const pnls = rb.trades.map((t) => t.pnlcomm);
    // Percent sizing compounds: resample trade returns. Fixed sizing: resample money P&Ls.
    if (pnls.length >= 2)
      out.bootstrap = bootstrapTrades(pnls, study.cash, { iterations: opts.bootstrapIterations ?? 2000, seed: opts.seed ?? 42, mode: study.sizing.kind === 'percent' ? 'returns' : 'pnl' });
    // CSCV over an even spread of feasible trials (in run order) plus the best.
    const feasible = trials.filter(isFeasible);
    const maxN = Math.max(2, opts.maxStrategies ?? 64);
    const chosen = new Set<TrialEvent>([best]);
    const step = feasible.length / Math.min(feasible.length, maxN - 1);
    for (let k = 0; chosen.size < Math.min(feasible.length, maxN) && k * step < feasible.length; k++) chosen.add(feasible[Math.floor(k * step)]!);
    const cols = [...chosen].sort((a, b) => a.number - b.number);
    if (cols.length >= 2) {
      const series = cols.map((t) => (t === best ? returnsFromEquity(rb.equity!) : returnsFromEquity(run(t).equity)));
      const T = series[0]!.length;
      let S = opts.partitions ?? 16;
      while (S > 2 && T < S * 20) S -= 2;
      if (T >= 2 * S) {
        const matrix: Float64Array[] = [];
        for (let t = 0; t < T; t++) matrix.push(Float64Array.from(series, (s) => s[t]!));
        const p = probabilityOfBacktestOverfitting(matrix, S);
        out.pbo = {
          pbo: p.pbo, combinations: p.combinations, partitions: p.partitions, strategies: p.strategies, observations: p.observations,
          degradationSlope: p.degradationSlope, probabilityOfLoss: p.probabilityOfLoss, logitHistogram: histogram(p.logits, 20),
          strategiesUsed: cols.map((t) => t.number),
        };
      }
    }
  } catch (e) {
    return { ...out, available: out.best !== undefined, reason: `a re-run failed: ${e instanceof Error ? e.message : String(e)}` };
  }
  return out;
}

/** The equity at each calendar day's last bar (stamps `YYYY-MM-DD`, or with a time on intraday bars). */
function dayCloses(dates: readonly string[], equity: ArrayLike<number>): Float64Array {
  const out: number[] = [];
  for (let i = 0; i < equity.length; i++) if (i === equity.length - 1 || stampDay(dates[i + 1]!) !== stampDay(dates[i]!)) out.push(equity[i]!);
  return Float64Array.from(out);
}

/** The first bar where the equity moves: the warm-up's flat returns would understate volatility. */
function firstActive(equity: ArrayLike<number>): number {
  for (let i = 1; i < equity.length; i++) if (equity[i] !== equity[0]) return Math.max(0, i - 1);
  return 0;
}

function histogram(xs: number[], bins: number): { lo: number; hi: number; count: number }[] {
  const finite = xs.filter(Number.isFinite);
  if (!finite.length) return [];
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  const w = (hi - lo) / bins || 1;
  const out = Array.from({ length: bins }, (_, b) => ({ lo: lo + b * w, hi: lo + (b + 1) * w, count: 0 }));
  for (const x of finite) out[Math.min(bins - 1, Math.floor((x - lo) / w))]!.count++;
  return out;
}
