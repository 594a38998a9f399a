/**
 * Types for writing an OptStudy strategy module (`strategy module "strategies/x.ts"`).
 * Copy this file next to your strategies and `import type { StrategyDefinition } from
 * './optstudy-strategy'` for completion and checks in your editor. It declares exactly the
 * engine's strategy API (a test in the OptStudy repository keeps the two identical).
 *
 * Semantics follow backtrader's defaults: `next` sees bar i's close; `buy()`/`close()` create a
 * market order that fills at bar i+1's open; long only, one position at a time.
 */

export type ParamType = 'int' | 'float' | 'string' | 'bool';
export type ParamValue = number | string | boolean;

/** One declared parameter: the editor completes, hovers and type-checks it in studies. */
export interface ParamSchema {
  name: string;
  type: ParamType;
  default: ParamValue;
  doc: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
}

/** The bars, as columns. */
export interface PriceData {
  file: string;
  bars: number;
  /** The bar's calendar day as yyyymmdd integers. */
  date: Int32Array;
  /** Intraday feeds only: seconds after midnight of each bar, as written in the file. */
  time?: Int32Array;
  /** The detected bar spacing: `minutes/5` for 5-minute bars, `days/1` for daily ones. */
  spacing: { unit: 'seconds' | 'minutes' | 'days' | 'weeks' | 'months'; compression: number };
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  openInterest?: Float64Array;
  buffer: SharedArrayBuffer;
  id: string;
  offset: number;
  capacity: number;
  /** What the loader skipped or repaired. */
  warnings?: string[];
}

export interface Bands {
  mid: Float64Array;
  top: Float64Array;
  bot: Float64Array;
}
export interface Macd {
  macd: Float64Array;
  signal: Float64Array;
  histo: Float64Array;
}
export interface Channel {
  upper: Float64Array;
  lower: Float64Array;
  mid: Float64Array;
}
export interface Stochastic {
  k: Float64Array;
  d: Float64Array;
}

export type StrategyParams = Record<string, ParamValue>;
export type PriceField = 'open' | 'high' | 'low' | 'close' | 'volume';

/** What a strategy sees: indicators in `setup`, the bar and the broker in `next`. */
export interface StrategyContext {
  readonly data: PriceData;
  readonly bars: number;
  /** The current bar index (in `next`). */
  readonly i: number;
  /** Shares held (0 when flat). */
  readonly position: number;
  readonly cash: number;
  readonly positionPrice: number;
  /** Buys at the next open, sized by the study's sizing; true when an order was created. */
  buy(): boolean;
  /** Sells the whole position at the next open. */
  close(reason?: string): boolean;
  sell(): boolean;
  /** Do not call `next` before bar `index`. */
  warmup(index: number): void;
  sma(period: number, source?: PriceField): Float64Array;
  ema(period: number, source?: PriceField): Float64Array;
  smma(period: number, source?: PriceField): Float64Array;
  rsi(period: number, source?: PriceField): Float64Array;
  atr(period: number): Float64Array;
  trueRange(): Float64Array;
  bollinger(period: number, devfactor: number, source?: PriceField): Bands;
  stddev(period: number, source?: PriceField): Float64Array;
  macd(fast?: number, slow?: number, signal?: number, source?: PriceField): Macd;
  stochastic(period?: number, pfast?: number, pslow?: number): Stochastic;
  donchian(period: number): Channel;
  highest(period: number, source?: PriceField): Float64Array;
  lowest(period: number, source?: PriceField): Float64Array;
  roc(period: number, source?: PriceField): Float64Array;
  /** +1 / -1 on the bar `a` crosses above / below `b`, else 0; valid during this backtest only. */
  crossover(a: Float64Array, b: Float64Array): Float64Array;
  /**
   * Call `next` only on bars where `signal[i]` is not 0 (NaN counts as not 0); with 'flat', only
   * while flat. Exact only when `next` does nothing on the skipped bars. Call in `setup`; the
   * signal must not change during the run.
   */
  nextOnlyOn(signal: Float64Array, when?: 'always' | 'flat'): void;
}

export type NextFunction = (ctx: StrategyContext) => void;

/** What a strategy module exports by default. */
export interface StrategyDefinition {
  name: string;
  doc?: string;
  params: readonly ParamSchema[];
  aliases?: readonly string[];
  /** Called once per backtest; returns the function called on every bar after the warm-up. */
  setup(ctx: StrategyContext, params: StrategyParams): NextFunction;
}
