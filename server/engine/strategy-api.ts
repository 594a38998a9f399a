/**
 * The one strategy API: built-in strategies and user modules (`strategy module "x.ts"`) both
 * export a `StrategyDefinition`. A strategy asks for its indicator series once, in `setup`
 * (they are whole precomputed columns, memoized per worker), and returns a `next` function the
 * engine calls on every bar from the warm-up on. A whole strategy fits in 20 lines:
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
 * Semantics (backtrader's defaults): `next` sees bar i's close; `buy()`/`close()` create a
 * market order that fills at bar i+1's open. Long only, one position at a time; an order is
 * always resolved before the next call, so no pending-order bookkeeping is needed.
 */
import type { ParamSchema, ParamValue } from '../../grammar/builtins';
import type { Bands, Channel, Macd, Stochastic } from './indicators';
import type { PriceData } from './types';

/** Parameter values as a strategy receives them (schema defaults filled in). */
export type StrategyParams = Record<string, ParamValue>;

/** A price column an indicator can be computed on. */
export type PriceField = 'open' | 'high' | 'low' | 'close' | 'volume';

/**
 * What a strategy sees. In `setup` use the indicator functions (each returns a memoized series,
 * `NaN` where not yet defined, and raises the warm-up to its first defined bar); in `next` read
 * `i` and `position` and call `buy()` or `close()`.
 */
export interface StrategyContext {
  /** The bars (columns: `date`, `open`, `high`, `low`, `close`, `volume`). */
  readonly data: PriceData;
  /** Number of bars. */
  readonly bars: number;
  /** The current bar index (in `next`). */
  readonly i: number;
  /** Shares held (0 when flat). */
  readonly position: number;
  /** Cash now (after this bar's fills). */
  readonly cash: number;
  /** Price of the open position (its fill price), 0 when flat. */
  readonly positionPrice: number;

  /**
   * Buys at the next open, sized by the study's sizing. Ignored when already long.
   * @returns true when an order was created (false when long or the size rounds to 0).
   */
  buy(): boolean;
  /**
   * Sells the whole position at the next open. `reason` is kept on the trade (`exit_reason`).
   * @returns true when an order was created.
   */
  close(reason?: string): boolean;
  /** Same as `close()`. */
  sell(): boolean;

  /**
   * Do not call `next` before bar `index` (the engine already waits for every series asked
   * for in `setup` to be defined; use this when reading `[i - k]`).
   */
  warmup(index: number): void;

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
  /**
   * Calls `next` only on bars where `signal[i]` is not 0 (NaN counts as not 0), from the
   * warm-up on, instead of on every bar; with `when = 'flat'` only while flat (every bar while
   * a position is held). An optimization that is exact only if `next` does nothing and changes
   * no state of its own on the skipped bars: e.g. a rule that acts on crossover bars only. Call
   * in `setup`; a second call replaces the first. The signal is read when the run starts (after
   * `setup`) and must not change during the run.
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
