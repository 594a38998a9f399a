/**
 * The one strategy API: built-in strategies and user modules (`strategy module "x.ts"`) both
 * export a `StrategyDefinition`. A strategy asks for its indicator series once, in `setup`
 * (whole precomputed columns, memoized per worker), and returns a `next` function the engine
 * calls on every bar from the warm-up on. A whole strategy fits in 20 lines:
 *
 * ```ts
 * import type { StrategyDefinition } from '../server/engine/strategy-api';
 * export default {
 *   name: 'breakout',
 *   params: [{ name: 'period', type: 'int', default: 20, doc: 'Channel length, in bars.' }],
 *   setup(ctx, p) {
 *     const ch = ctx.donchian(Number(p.period));
 *     const close = ctx.data.close;
 *     ctx.warmup(Number(p.period)); // we look at the previous bar's channel
 *     return (bar) => {
 *       const i = bar.i;
 *       if (bar.position === 0 && close[i]! > ch.upper[i - 1]!) bar.buy();
 *       else if (bar.position > 0 && close[i]! < ch.lower[i - 1]!) bar.close();
 *     };
 *   },
 * } satisfies StrategyDefinition;
 * ```
 *
 * Semantics are backtrader 1.9.78's (docs/strategies.md): `next` sees bar i's close; a market
 * order created there fills at bar i+1's open; limit, stop, stop-limit, trailing and close
 * orders fill by backtrader's matching rules; positions are signed (a `sell` while flat opens
 * a short). Every strategy also takes the parameters `direction`, `stop_loss_pct`,
 * `take_profit_pct` and `trail_pct` (protective orders the engine places at each entry fill).
 */
import type { ParamSchema, ParamValue } from '../../grammar/builtins';
import type { Bands, Channel, Macd, Stochastic } from './indicators';
import type { PriceData } from './types';

/** Parameter values as a strategy receives them (schema defaults filled in). */
export type StrategyParams = Record<string, ParamValue>;

/** A price column an indicator can be computed on. */
export type PriceField = 'open' | 'high' | 'low' | 'close' | 'volume';

/**
 * How an order executes (backtrader's execution types):
 * - `market`: at the next bar's open;
 * - `close`: at the close of the next bar (daily), or of the session it was created in (intraday);
 * - `limit`: at `price` or better (a gap through it fills at the open);
 * - `stop`: a market order once the price trades at `price` (a gap fills at the open);
 * - `stop_limit`: a limit order at `limit` once the price trades at `price`;
 * - `stop_trail`: a stop whose trigger follows the close at `trailPercent` / `trailAmount`.
 */
export type OrderType = 'market' | 'close' | 'limit' | 'stop' | 'stop_limit' | 'stop_trail';

/** What to order. Every field is optional: `buy()` is a market buy of the study's size on data 0. */
export interface OrderOptions {
  /** Units (> 0). Default: the study's `sizing` at this bar. */
  size?: number;
  /** Default `market`. */
  type?: OrderType;
  /** The limit (`limit`) or the trigger (`stop`, `stop_limit`). */
  price?: number;
  /** The limit of a `stop_limit` once triggered. */
  limit?: number;
  /** `stop_trail`: the trigger trails the close by this fraction (0.05 = 5%). */
  trailPercent?: number;
  /** `stop_trail`: the trigger trails the close by this price amount. */
  trailAmount?: number;
  /** The feed to trade (index into `ctx.datas`, default 0). */
  data?: number;
  /** One-cancels-other: when either order fills or is cancelled, the others of the group are cancelled. */
  oco?: OrderRef;
  /** Your name for this exit, kept as the trade's `exit_signal`. */
  label?: string;
}

/** An order as the strategy sees it (a live view: fields change as the broker works it). */
export interface OrderRef {
  readonly id: number;
  /** The feed index. */
  readonly data: number;
  /** Signed size asked for (buys > 0, sells < 0). */
  readonly size: number;
  /** `submitted` until the next bar's cash check, then `accepted`, then `filled`, `cancelled` or `rejected`. */
  readonly status: 'submitted' | 'accepted' | 'filled' | 'cancelled' | 'rejected';
  /** Execution price once filled (after slippage), else NaN. */
  readonly filledPrice: number;
  /** Executed signed size. */
  readonly filledSize: number;
  /** Commission paid on the fill. */
  readonly commission: number;
  /** The order's reference price: the close at creation (market, close), the limit, or the current trigger. */
  readonly price: number;
}

/** A change of an order's state, delivered before `next` on the bar it happened (see `onOrder`). */
export interface OrderEvent {
  status: 'filled' | 'rejected' | 'cancelled';
  order: OrderRef;
  /** The bar it happened on (`YYYY-MM-DD`, or with `THH:MM:SS` on intraday data). */
  date: string;
}

/** A target for `orderTarget`: exactly one of size, value or percent. */
export interface OrderTarget {
  /** Units to hold (negative: short). */
  size?: number;
  /** Position value to hold, in cash. */
  value?: number;
  /** Percent of the portfolio value to hold (50 = half). */
  percent?: number;
  data?: number;
  label?: string;
}

/** Indicators of one feed: each returns a memoized series (`NaN` where undefined) and raises the warm-up. */
export interface Indicators {
  sma(period: number, source?: PriceField): Float64Array;
  ema(period: number, source?: PriceField): Float64Array;
  /** Wilder's smoothed moving average. */
  smma(period: number, source?: PriceField): Float64Array;
  /** RSI (Wilder, safediv). */
  rsi(period: number, source?: PriceField): Float64Array;
  atr(period: number): Float64Array;
  trueRange(): Float64Array;
  bollinger(period: number, devfactor: number, source?: PriceField): Bands;
  stddev(period: number, source?: PriceField): Float64Array;
  macd(fast?: number, slow?: number, signal?: number, source?: PriceField): Macd;
  /** Slow stochastic (%K smoothed by `pfast`, %D by `pslow`). */
  stochastic(period?: number, pfast?: number, pslow?: number): Stochastic;
  donchian(period: number): Channel;
  highest(period: number, source?: PriceField): Float64Array;
  lowest(period: number, source?: PriceField): Float64Array;
  /** Rate of change as a fraction. */
  roc(period: number, source?: PriceField): Float64Array;
  /**
   * +1 / -1 on the bar `a` crosses above / below `b`, else 0. Not memoized: a scratch series
   * valid during this backtest only (do not keep it after the run).
   */
  crossover(a: Float64Array, b: Float64Array): Float64Array;
  /** Do not call `next` before this feed's bar `index` (for reads like `[i - k]`). */
  warmup(index: number): void;
}

/** One feed of a multi-feed strategy: its bars, its indicators, its position. */
export interface Feed extends Indicators {
  readonly data: PriceData;
  /** This feed's current bar index (-1 before its first bar; a feed without a new bar keeps its last). */
  readonly i: number;
  /** Units held (negative: short). */
  readonly position: number;
  /** Average price of the position, 0 when flat. */
  readonly positionPrice: number;
}

/**
 * What a strategy sees. In `setup` use the indicator functions; in `next` read `i` and
 * `position`, and order. Indicator functions and `position` here are data 0's (`datas[k]` for
 * the others).
 */
export interface StrategyContext extends Indicators {
  /** Data 0's bars (columns: `date`, `open`, `high`, `low`, `close`, `volume`). */
  readonly data: PriceData;
  /** Every feed, data 0 first. */
  readonly datas: readonly Feed[];
  /** Number of data 0's bars. */
  readonly bars: number;
  /** Data 0's current bar index (in `next`). */
  readonly i: number;
  /** The clock tick (equals `i` with one feed). */
  readonly tick: number;
  /** Data 0's position in units (negative: short; 0 when flat). */
  readonly position: number;
  /** Data 0's average position price, 0 when flat. */
  readonly positionPrice: number;
  /** Cash now (after this bar's fills). */
  readonly cash: number;
  /** Portfolio value at this bar's close (what percent sizing uses). */
  readonly value: number;

  /**
   * Buys: a market order at the next open of the study's size, unless `options` say otherwise.
   * @returns the order, or null when the size rounds to 0 (nothing ordered).
   */
  buy(options?: OrderOptions): OrderRef | null;
  /** Sells (opens or adds to a short when not long). Same options as `buy`. */
  sell(options?: OrderOptions): OrderRef | null;
  /**
   * Closes the whole position of data 0 (or `options.data`) with a market order at the next
   * open; a string is the exit's label (`exit_signal`). @returns null when flat.
   */
  close(options?: string | { label?: string; data?: number; type?: 'market' | 'close' }): OrderRef | null;
  /** Orders the difference to a target size, value or percent of the portfolio; null when already there. */
  orderTarget(target: OrderTarget): OrderRef | null;
  /** Cancels an accepted order (one created on this bar is accepted at the next bar only). @returns true when cancelled. */
  cancel(order: OrderRef): boolean;
  /** Calls `listener` for each filled, rejected or cancelled order, before `next`. Call in `setup`. */
  onOrder(listener: (event: OrderEvent) => void): void;

  /**
   * Calls `next` only on bars where `signal[i]` is not 0 (NaN counts as not 0), from the
   * warm-up on, instead of on every bar; with `when = 'flat'` only while flat (every bar while
   * a position is held). An optimization that is exact only if `next` does nothing and changes
   * no state of its own on the skipped bars: e.g. a rule that acts on crossover bars only. Call
   * in `setup`; a second call replaces the first. The signal is read when the run starts (after
   * `setup`) and must not change during the run. One feed only.
   */
  nextOnlyOn(signal: Float64Array, when?: 'always' | 'flat'): void;
}

/** The per-bar rule a strategy's `setup` returns. */
export type NextFunction = (ctx: StrategyContext) => void;

/** A strategy: built-in or user module. */
export interface StrategyDefinition {
  /** The name used in studies (`strategy NAME`). */
  name: string;
  /** One line for hovers. */
  doc?: string;
  /** Declared parameters (same schema as grammar/builtins.ts). */
  params: readonly ParamSchema[];
  /** Other accepted names. */
  aliases?: readonly string[];
  /** Called once per backtest; returns the function called on every bar after the warm-up. */
  setup(ctx: StrategyContext, params: StrategyParams): NextFunction;
}

/** Identity helper that gives a user module's object literal its type. */
export function defineStrategy(def: StrategyDefinition): StrategyDefinition {
  return def;
}

const PARAM_TYPES = new Set(['int', 'float', 'string', 'bool']);

/**
 * Checks what a user module exports (its `default`, or the module itself) and returns it as a
 * definition. @throws Error naming `source` and what to fix, for a value that is not one.
 */
export function asStrategyDefinition(value: unknown, source: string): StrategyDefinition {
  const v = (value && typeof value === 'object' && 'default' in value ? (value as { default: unknown }).default : value) as Partial<StrategyDefinition> | null;
  const fail = (what: string): never => {
    throw new Error(`${source}: ${what}. A strategy module exports default { name, params: [...], setup(ctx, params) { return (bar) => { ... } } }.`);
  };
  if (!v || typeof v !== 'object') fail('the module has no default export object');
  if (typeof v!.name !== 'string' || v!.name === '') fail("the strategy has no 'name' string");
  if (typeof v!.setup !== 'function') fail(`strategy '${v!.name}' has no setup() function`);
  if (!Array.isArray(v!.params)) fail(`strategy '${v!.name}' has no 'params' array (use [] for none)`);
  for (const [i, p] of v!.params!.entries()) {
    if (!p || typeof p.name !== 'string' || !PARAM_TYPES.has(p.type)) {
      fail(`parameter ${i + 1} of '${v!.name}' needs a name and a type of int, float, string or bool`);
    }
  }
  return v as StrategyDefinition;
}
