/**
 * Shared types of the backtest engine: price data, configuration and results. The engine's
 * semantics follow backtrader 1.9.78 defaults bit for bit (see docs in each module).
 */

// Price data is defined by the loader (server/data/types.ts); re-exported for the engine.
export type { DateRange, PriceData, SharedPrices, Spacing } from '../data/types';
export { PriceDataError } from '../data/types';

/** Broker settings of one backtest. */
export interface BacktestConfig {
  /** Starting cash. */
  cash: number;
  /** Commission as a fraction of traded value, charged per side (0.001 = 0.1%). */
  commission: number;
  /**
   * `fixed`: `value` shares per entry. `percent`: `int(cash / close * (value / 100))` shares at
   * the signal bar (backtrader's all-in sizer with 95 → 0.95).
   */
  sizing: { kind: 'fixed' | 'percent'; value: number };
}

/** One closed round trip (an open position at the end is not a trade). */
export interface Trade {
  /** Date of the entry fill (`YYYY-MM-DD`). */
  entry_date: string;
  /** Date of the exit fill. */
  exit_date: string;
  /** backtrader `Trade.price`: `(0*0.0 + size*open)/size`, may differ from the fill by 1 ulp. */
  entry_price: number;
  /** The exit fill price (the open of the exit bar). */
  exit_price: number;
  size: number;
  /** `size * (exit_price - entry_price) * 1.0`. */
  pnl: number;
  /** `pnl - commission`. */
  pnlcomm: number;
  /** The raw entry fill price (the open of the entry bar). */
  entry_fill_price: number;
  /** backtrader `order.executed.price` of the exit order. */
  exit_order_avg_price: number;
  /** `0.0 + entry_comm + exit_comm`. */
  commission: number;
  entry_comm: number;
  exit_comm: number;
  /** Bars between entry and exit fills. */
  barlen: number;
  /** The bar where the entry order was created. */
  signal_date: string;
  /** The bar where the exit order was created. */
  exit_signal_date: string;
  /** Why the strategy closed (the reason passed to `close()`), when it gave one. */
  exit_reason?: string;
}

/** A buy order the broker rejected for lack of cash (backtrader status `Margin`). */
export interface Rejection {
  /** The bar where it was rejected (the bar after its creation). */
  date: string;
  /** `submit`: the check at the creation price failed; `exec`: the fill at the open would overdraw cash. */
  stage: 'submit' | 'exec';
  size: number;
  /** The bar where the strategy created the order. */
  created_date: string;
}

/** What one backtest reports. */
export interface BacktestResult {
  /** Every metric of grammar/metrics.ts; `null` where undefined (never NaN). */
  metrics: Record<string, number | null>;
  /** Calendar-year returns keyed `YYYY-12-31` (backtrader TimeReturn, Years); built on first read. */
  yearly: Record<string, number>;
  /** Closed trades in order (empty unless `options.trades` is not false). */
  trades: Trade[];
  /** Portfolio value per bar, when `options.equity` is set. */
  equity?: Float64Array;
  /** Cash per bar, when `options.equity` is set. */
  cash?: Float64Array;
  /** Date of the first bar where the strategy's `next` ran (`YYYY-MM-DD`), or null if never. */
  first_next_date: string | null;
  /** Buy orders rejected for lack of cash (`Margin`). */
  rejected: Rejection[];
}

/** A strategy name, parameter or config that the engine cannot run. */
export class BacktestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BacktestError';
  }
}
