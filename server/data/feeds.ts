/**
 * A study's data feeds as the run path carries them: references (file, range, how to read it)
 * in the task payload, loaded once into shared buffers, and one function that runs a trial on
 * them — all feeds at once for a multi-feed strategy, or one backtest per symbol for a basket.
 */
import type { Metrics } from '../../protocol/run-events';
import { runBacktest } from '../engine/backtest';
import type { IndicatorCache } from '../engine/indicator-cache';
import type { StrategyDefinition } from '../engine/strategy-api';
import type { BacktestConfig } from '../engine/types';
import { basketClock, runBasket } from './basket';
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
  const data = feeds.length === 1 ? feeds[0]! : feeds;
  return (strategy, params) => runBacktest(data, strategy, params, config, { trades: false, cache }).metrics;
}
