/**
 * A study's data feeds as the run path carries them: references (file, range, how to read it)
 * in the task payload, loaded once into shared buffers, and one function that runs a trial on
 * them — all feeds at once for a multi-feed strategy, or one backtest per symbol for a basket.
 */
import type { Metrics, TrialSymbol } from '../../protocol/run-events';
import { backtestMetrics, runBacktest } from '../engine/backtest';
import type { IndicatorCache } from '../engine/indicator-cache';
import type { StrategyDefinition } from '../engine/strategy-api';
import type { BacktestConfig } from '../engine/types';
import type { Trade } from '../engine/types';
import { basketClock, runBasket, runBasketRecorded } from './basket';
import { barStamp } from './store';
import { loadPrices } from './load';
import type { LoadOptions, PriceData } from './types';

/** One feed of a task: an absolute file, the study's range, and how to read the file. */
export interface FeedRef {
  file: string;
  from?: string;
  to?: string;
  options?: LoadOptions;
}

/** Loads every feed (data 0 first). `given` are feeds already loaded, in order (e.g. data 0). */
export function loadFeeds(refs: readonly FeedRef[], given: PriceData | readonly PriceData[] = []): PriceData[] {
  const have: readonly PriceData[] = Array.isArray(given) ? given : [given as PriceData];
  return refs.map((r, i) => have[i] ?? loadPrices(r.file, { from: r.from, to: r.to }, r.options));
}

/** The id of a set of feeds (the journal's data hash): data 0's id alone for one feed. */
export function feedsId(feeds: readonly PriceData[]): string {
  return feeds.map((f) => f.id).join('+');
}

/**
 * A trial runner over loaded feeds: `basket` runs one backtest per feed and reports the summed
 * account with per-symbol metrics (basket.ts); otherwise the strategy sees every feed.
 */
export function feedRunner(
  feeds: readonly PriceData[],
  basket: boolean,
  config: BacktestConfig,
  cache: IndicatorCache,
): (strategy: string | StrategyDefinition, params: Record<string, number | string | boolean>) => Metrics {
  if (basket) {
    const clock = basketClock(feeds);
    return (strategy, params) => runBasket(feeds, clock, strategy, params, config, { cache });
  }
  // The array as it is (one feed or several): a single feed would be wrapped in a new one per trial.
  return (strategy, params) => backtestMetrics(feeds, strategy, params, config, cache);
}

/** One trial run once with its records (the Trial card, `optstudy trial`). */
export interface RecordedRun {
  metrics: Metrics;
  trades: Trade[];
  /** Portfolio value per bar — per tick of the feeds' union clock with several feeds or a basket. */
  equity: { dates: string[]; values: number[] };
  /** A basket: each symbol's metrics and equity, in the basket's order. */
  symbols?: { symbol: string; metrics: Metrics; equity: { date: string; value: number }[] }[];
}

/**
 * Runs one trial over loaded feeds with its records: one feed, several feeds for one strategy,
 * or a basket (`symbols` names its feeds) — the same numbers as the run's `feedRunner`.
 */
export function runRecorded(
  feeds: readonly PriceData[],
  symbols: readonly string[] | undefined,
  strategy: string | StrategyDefinition,
  params: Record<string, number | string | boolean>,
  config: BacktestConfig,
): RecordedRun {
  if (symbols) {
    const clock = basketClock(feeds);
    const { metrics, record, results } = runBasketRecorded(feeds, clock, strategy, params, config);
    return {
      metrics,
      trades: results.flatMap((r) => r.trades).sort((a, b) => (a.exit_date < b.exit_date ? -1 : a.exit_date > b.exit_date ? 1 : 0)),
      equity: { dates: Array.from({ length: clock.ticks }, (_, t) => clock.stamp(t)), values: Array.from(record.values) },
      symbols: results.map((r, s) => ({
        symbol: symbols[s]!,
        metrics: r.metrics,
        equity: Array.from(r.equity!, (value, i) => ({ date: barStamp(feeds[s]!, i), value })),
      })),
    };
  }
  const r = runBacktest(feeds.length === 1 ? feeds[0]! : feeds, strategy, params, config, { equity: true, trades: true });
  const values = Array.from(r.equity ?? []);
  const stamps = feeds.length === 1 ? (i: number) => barStamp(feeds[0]!, i) : basketClock(feeds).stamp;
  return { metrics: r.metrics, trades: r.trades, equity: { dates: values.map((_, i) => stamps(i)), values } };
}

/**
 * One trial over loaded feeds with the portfolio value per tick (validation windows: a
 * holdout's tail, a walk-forward fold): the run's numbers (`feedRunner`), a basket's summed
 * account with each symbol's own metrics beside it.
 */
export function runWithEquity(
  feeds: readonly PriceData[],
  symbols: readonly string[] | undefined,
  strategy: string | StrategyDefinition,
  params: Record<string, number | string | boolean>,
  config: BacktestConfig,
): { metrics: Metrics; equity: ArrayLike<number>; symbols?: TrialSymbol[] } {
  if (symbols) {
    const { metrics, record, results } = runBasketRecorded(feeds, basketClock(feeds), strategy, params, config);
    return { metrics, equity: record.values, symbols: results.map((r, s) => ({ symbol: symbols[s]!, metrics: r.metrics })) };
  }
  const r = runBacktest(feeds.length === 1 ? feeds[0]! : feeds, strategy, params, config, { equity: true, trades: false });
  return { metrics: r.metrics, equity: r.equity! };
}
