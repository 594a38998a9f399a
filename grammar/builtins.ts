/**
 * The parameter schemas of the built-in strategies: one registry shared by the language
 * (completion, hover, type checks) and the engine (which implements each name in
 * server/engine/strategies/). Pure data: no engine code lives here.
 */

/** The value types a strategy parameter can have. */
export type ParamType = 'int' | 'float' | 'string' | 'bool';

/** A parameter's value as the language and the engine see it. */
export type ParamValue = number | string | boolean;

/** One declared parameter of a strategy. */
export interface ParamSchema {
  name: string;
  type: ParamType;
  default: ParamValue;
  /** One line shown in completion and hover. */
  doc: string;
  /** Allowed values for a `string` parameter. */
  choices?: readonly string[];
  /** Smallest sensible value (a warning, not an error, below it). */
  min?: number;
  max?: number;
}

/** A strategy the engine knows by name. */
export interface StrategySchema {
  name: string;
  doc: string;
  params: readonly ParamSchema[];
  /** Other names accepted for this strategy (the golden files' names). */
  aliases?: readonly string[];
  /**
   * A backtrader strategy's own analyzers by name: their values are metrics `NAME.key…`
   * (`ta.won.total`). Absent for other strategies.
   */
  analyzers?: readonly string[];
}

/**
 * The parameters every strategy has, built-in or module (DESIGN.md "The market model"): the
 * side it trades and the protective orders the engine places at each entry fill (0 = off).
 */
export const COMMON_PARAMS: readonly ParamSchema[] = [
  {
    name: 'direction',
    type: 'string',
    default: 'long',
    choices: ['long', 'short', 'both'],
    doc: '`long`, `short` (mirrored rules) or `both` (a signal for the other side reverses the position).',
  },
  {
    name: 'stop_loss_pct',
    type: 'float',
    default: 0,
    min: 0,
    max: 100,
    doc: 'Stop-loss order this percent from the entry fill price, placed at the fill (0 = off).',
  },
  {
    name: 'take_profit_pct',
    type: 'float',
    default: 0,
    min: 0,
    doc: 'Take-profit limit order this percent from the entry fill price, placed at the fill (0 = off); one-cancels-other with the stops.',
  },
  {
    name: 'trail_pct',
    type: 'float',
    default: 0,
    min: 0,
    max: 100,
    doc: 'Trailing stop this percent from the best close since the entry (0 = off); one-cancels-other with the stop and take.',
  },
];

/** A schema's own parameters followed by the common ones it does not declare itself. */
export function withCommonParams(params: readonly ParamSchema[]): ParamSchema[] {
  return [...params, ...COMMON_PARAMS.filter((c) => !params.some((p) => p.name === c.name))];
}

const OWN_PARAMS: readonly StrategySchema[] = [
  {
    name: 'sma_cross',
    doc: 'Long when the fast simple moving average crosses above the slow one; flat when it crosses below.',
    params: [
      { name: 'fast', type: 'int', default: 10, min: 1, doc: 'Period of the fast SMA, in bars.' },
      { name: 'slow', type: 'int', default: 30, min: 1, doc: 'Period of the slow SMA, in bars.' },
    ],
  },
  {
    name: 'ema_atr',
    doc: 'EMA crossover entries with ATR-based stop-loss and take-profit exits (levels set at the signal bar).',
    params: [
      { name: 'ema_fast', type: 'int', default: 12, min: 1, doc: 'Period of the fast EMA, in bars.' },
      { name: 'ema_slow', type: 'int', default: 26, min: 1, doc: 'Period of the slow EMA, in bars.' },
      { name: 'atr_period', type: 'int', default: 14, min: 1, doc: 'Period of the Average True Range, in bars.' },
      { name: 'atr_sl_multiplier', type: 'float', default: 2.0, min: 0, doc: 'Stop-loss distance below the signal close, in ATRs.' },
      { name: 'atr_tp_multiplier', type: 'float', default: 4.0, min: 0, doc: 'Take-profit distance above the signal close, in ATRs.' },
    ],
  },
  {
    name: 'rsi_reversion',
    aliases: ['rsi_mr'],
    doc: "Mean reversion on Wilder's RSI: buy when RSI falls below `lower`, sell when it rises above `upper`.",
    params: [
      { name: 'period', type: 'int', default: 14, min: 1, doc: 'RSI period, in bars.' },
      { name: 'lower', type: 'float', default: 30, min: 0, max: 100, doc: 'Buy when RSI is below this level.' },
      { name: 'upper', type: 'float', default: 70, min: 0, max: 100, doc: 'Sell when RSI is above this level.' },
    ],
  },
  {
    name: 'bollinger',
    aliases: ['boll'],
    doc: 'Bollinger Bands: `reversion` buys below the lower band and exits at the middle; `breakout` buys above the upper band and exits below the middle.',
    params: [
      { name: 'period', type: 'int', default: 20, min: 1, doc: 'Period of the middle SMA and the standard deviation, in bars.' },
      { name: 'devfactor', type: 'float', default: 2.0, min: 0, doc: 'Band width in standard deviations.' },
      { name: 'mode', type: 'string', default: 'reversion', choices: ['reversion', 'breakout'], doc: '`reversion` or `breakout`.' },
    ],
  },
  {
    name: 'macd_cross',
    doc: 'Long when the MACD line (EMA(fast) − EMA(slow)) crosses above its signal line; flat when it crosses below.',
    params: [
      { name: 'fast', type: 'int', default: 12, min: 1, doc: 'Period of the fast EMA, in bars.' },
      { name: 'slow', type: 'int', default: 26, min: 1, doc: 'Period of the slow EMA, in bars.' },
      { name: 'signal', type: 'int', default: 9, min: 1, doc: 'Period of the signal line (an EMA of MACD), in bars.' },
    ],
  },
  {
    name: 'donchian_breakout',
    doc: 'Channel breakout: buy when the close exceeds the highest high of the previous `entry` bars; sell when it falls below the lowest low of the previous `exit` bars.',
    params: [
      { name: 'entry', type: 'int', default: 20, min: 1, doc: 'Entry channel length, in bars.' },
      { name: 'exit', type: 'int', default: 10, min: 1, doc: 'Exit channel length, in bars.' },
    ],
  },
  {
    name: 'momentum_rotation',
    doc: 'Momentum rotation over several data feeds: every `rebalance` bars, hold the `top` feeds with the highest rate of change over `lookback` bars (the study sizing split between them; long only).',
    params: [
      { name: 'lookback', type: 'int', default: 20, min: 1, doc: 'Rate-of-change period, in bars.' },
      { name: 'top', type: 'int', default: 1, min: 1, doc: 'How many feeds to hold.' },
      { name: 'rebalance', type: 'int', default: 20, min: 1, doc: 'Bars between rebalances (the first is on the first bar every feed is warmed up).' },
    ],
  },
];

/** The built-ins with their own parameters and the common ones (direction, protective orders). */
export const BUILTIN_STRATEGIES: readonly StrategySchema[] = OWN_PARAMS.map((s) => ({ ...s, params: withCommonParams(s.params) }));

/** Finds a built-in by name or alias. */
export function findBuiltinStrategy(name: string): StrategySchema | undefined {
  return BUILTIN_STRATEGIES.find((s) => s.name === name || s.aliases?.includes(name));
}
