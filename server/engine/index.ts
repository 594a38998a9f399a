/**
 * The backtest engine's public API: price data (load, share with workers, slice), one
 * backtest, memoized indicators, the built-in strategy registry and the strategy API that
 * user modules implement. Semantics follow backtrader 1.9.78 bit for bit (golden/SEMANTICS.md).
 */
export type { BacktestConfig, BacktestResult, DateRange, PriceData, Rejection, SharedPrices, Spacing, Trade } from './types';
export { BacktestError, PriceDataError } from './types';
export { attachPrices, barStamp, formatDate, loadPrices, parseDate, parsePrices, sharePrices, sliceBars, slicePrices } from './prices';
export { DEFAULT_CONFIG, resolveParams, runBacktest, type BacktestOptions } from './backtest';
export { IndicatorCache } from './indicator-cache';
export { getStrategy, listStrategies } from './strategies/registry';
export type { NextFunction, PriceField, StrategyContext, StrategyDefinition, StrategyParams } from './strategy-api';
export { asStrategyDefinition, defineStrategy } from './strategy-api';
export * as indicators from './indicators';
export { ExactSum, fsum } from './fsum';
