/**
 * Shared types of the backtest engine: price data, configuration and results. The engine's
 * semantics follow backtrader 1.9.78 defaults bit for bit (see docs in each module).
 */

// Price data is defined by the loader (server/data/types.ts); re-exported for the engine.
export type { DateRange, PriceData, SharedPrices, Spacing } from '../data/types';
export { PriceDataError } from '../data/types';

/**
 * Commission per fill: a fraction of the traded value (`percent`, what a bare number means), a
 * fixed amount per share (`per_share`), or a futures contract's fixed amount per contract with
 * its margin and multiplier (`per_contract`: cash moves with the close every bar).
 */
export type CommissionScheme =
  | { kind: 'percent'; rate: number }
  | { kind: 'per_share'; amount: number }
  | { kind: 'per_contract'; amount: number; margin: number; mult: number };

/** Slippage of fills (backtrader `set_slippage_perc` / `set_slippage_fixed` with their defaults). */
export type SlippageScheme = { kind: 'percent'; rate: number } | { kind: 'fixed'; amount: number };

/** Broker settings of one backtest. */
export interface BacktestConfig {
  /** Starting cash. */
  cash: number;
  /** A fraction of traded value charged per side (0.001 = 0.1%), or a scheme. */
  commission: number | CommissionScheme;
  /** Fill slippage; none when absent or null. */
  slippage?: SlippageScheme | null;
  /**
   * The default order size. `fixed`: `value` units per entry. `percent`:
   * `int(V / (close * mult) * (value / 100))` units at the signal bar, V the portfolio value
   * (backtrader's all-in sizer with 95 → 0.95; V is the cash while flat).
   */
  sizing: { kind: 'fixed' | 'percent'; value: number };
}

/** Why a closed trade ended: the strategy's own exit, a protective order, a reversal or a rebalance. */
export type ExitReason = 'signal' | 'stop' | 'take' | 'trail' | 'reverse' | 'rebalance';

/** What an order was for: an entry, an exit of the strategy, a reversal's close, a protective order, a rebalance. */
export type OrderKind = 'entry' | 'signal' | 'reverse' | 'stop' | 'take' | 'trail' | 'rebalance';

/** backtrader's execution types, as fills name them. */
export type ExecType = 'Market' | 'Close' | 'Limit' | 'Stop' | 'StopLimit' | 'StopTrail';

/** One closed round trip (an open position at the end is not a trade). */
export interface Trade {
  /** Date of the entry fill (`YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM:SS` on intraday data). */
  entry_date: string;
  /** Date of the exit fill. */
  exit_date: string;
  /** backtrader `Trade.price` at the close: the average entry price (`(0*0.0 + size*px)/size` for one fill). */
  entry_price: number;
  /** The exit fill price (raw, after slippage). */
  exit_price: number;
  /** The signed size of the opening fill (negative for a short). */
  size: number;
  /** Σ `(-closed) * (px - Trade.price) * mult` over the closing fills. */
  pnl: number;
  /** `pnl - commission`. */
  pnlcomm: number;
  /** The raw entry fill price. */
  entry_fill_price: number;
  /** backtrader `order.executed.price` of the exit order. */
  exit_order_avg_price: number;
  /** Every commission of the trade (`0.0 + entry_comm + exit_comm` for two fills). */
  commission: number;
  entry_comm: number;
  exit_comm: number;
  /** Bars of the traded feed between entry and exit fills. */
  barlen: number;
  /** The bar where the entry order was created. */
  signal_date: string;
  /** The bar where the exit order was created (a protective order: the entry fill bar). */
  exit_signal_date: string;
  /** `long` or `short`. */
  direction: 'long' | 'short';
  /** Why the trade ended. */
  exit_reason: ExitReason;
  /** The strategy's own label of a `signal` exit (`cross`, `mid`, …, or what a module passed), else null. */
  exit_signal: string | null;
  /** Several feeds: the traded feed's file name. */
  data?: string;
  /** Several feeds: the fills that changed this position (opening and closing included). */
  n_fills?: number;
  /** Several feeds: the largest absolute position size of the trade. */
  max_size?: number;
}

/** One executed order. */
export interface Fill {
  date: string;
  side: 'buy' | 'sell';
  /** Signed executed size. */
  size: number;
  /** Raw execution price (after slippage). */
  price: number;
  /** backtrader `executed.price`. */
  avg_price: number;
  /** backtrader `executed.value` (`vs` of the closed or opened part). */
  value: number;
  comm: number;
  created_date: string;
  /** The order's reference price when created (close, limit or trigger; for a trailing stop the trigger at the fill). */
  created_price: number;
  kind: OrderKind;
  exectype: ExecType;
  /** Several feeds: the feed's file name. */
  data?: string;
}

/** An order the broker rejected for lack of cash (backtrader status `Margin`). */
export interface Rejection {
  /** The bar where it was rejected. */
  date: string;
  /** `submit`: the cash check at the creation price failed; `exec`: the fill would overdraw cash. */
  stage: 'submit' | 'exec';
  side: 'buy' | 'sell';
  status: 'Margin';
  /** Signed size of the order. */
  size: number;
  /** The bar where the strategy created the order. */
  created_date: string;
  created_price: number;
  kind: OrderKind;
  /** Several feeds: the feed's file name. */
  data?: string;
}

/** What one backtest reports. */
export interface BacktestResult {
  /**
   * Every metric of grammar/metrics.ts; `null` where undefined (never NaN). `returns_*` are
   * `-Infinity` when the portfolio ends below zero (backtrader's value).
   */
  metrics: Record<string, number | null>;
  /** Calendar-year returns keyed `YYYY-12-31` (backtrader TimeReturn, Years); built on first read. */
  yearly: Record<string, number>;
  /** Closed trades in order (empty unless `options.trades` is not false). */
  trades: Trade[];
  /** Executed orders in order (empty unless `options.trades` is not false). */
  fills: Fill[];
  /** Portfolio value per bar (per clock tick with several feeds), when `options.equity` is set. */
  equity?: Float64Array;
  /** Cash per bar, when `options.equity` is set. */
  cash?: Float64Array;
  /** Date of the first bar where the strategy's `next` ran, or null if never. */
  first_next_date: string | null;
  /** Orders rejected for lack of cash (`Margin`). */
  rejected: Rejection[];
  /** Several feeds: the position of each feed at the end (`metrics.end_position_*` are data 0's). */
  end_positions?: { data: string; size: number; price: number }[];
  /** Things the user should know about the run (negative cash, a margin shortfall), in order. */
  warnings: string[];
}

/** A strategy name, parameter or config that the engine cannot run. */
export class BacktestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BacktestError';
  }
}
