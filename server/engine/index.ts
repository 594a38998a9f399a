/**
 * The backtest engine's public API: price data (load, share with workers, slice), one
 * backtest, memoized indicators, the built-in strategy registry and the strategy API that
 * user modules implement. Semantics follow backtrader 1.9.78 bit for bit (../shared/oracle).
 *
 * Where things live: bar loops (loop.ts general, fast-loop.ts fast path; backtest.ts picks),
 * the clock of several feeds (clock.ts), the broker — cash, positions, value, the cash check
 * (broker/broker.ts), commission schemes (broker/commission.ts), slippage (broker/slippage.ts) —
 * orders and their matching rules (orders/), round trips and fill records (trades.ts), the
 * strategy context (context.ts, feed-indicators.ts), metrics (metrics.ts), built-ins (strategies/).
 */
export type {
  BacktestConfig,
  BacktestResult,
  CommissionScheme,
  DateRange,
  ExitReason,
  Fill,
  OrderKind,
  PriceData,
  Rejection,
  SharedPrices,
  SlippageScheme,
  Spacing,
  Trade,
} from './types';
export { BacktestError, PriceDataError } from './types';
export { attachPrices, barStamp, formatDate, loadPrices, parseDate, parsePrices, sharePrices, sliceBars, slicePrices } from './prices';
export { DEFAULT_CONFIG, backtestMetrics, resolveParams, runBacktest, strategyParams, type BacktestOptions } from './backtest';
export { percentCommission, studyConfig } from './study-config';
export { IndicatorCache } from './indicator-cache';
export { getStrategy, listStrategies } from './strategies/registry';
export type {
  Feed,
  Indicators,
  NextFunction,
  OrderEvent,
  OrderOptions,
  OrderRef,
  OrderTarget,
  OrderType,
  PriceField,
  StrategyContext,
  StrategyDefinition,
  StrategyParams,
} from './strategy-api';
export { asStrategyDefinition, defineStrategy } from './strategy-api';
export * as indicators from './indicators';
export { ExactSum, fsum } from './fsum';
