/**
 * One backtest: checks the strategy, its parameters and the broker settings, runs the strategy
 * on a bar loop and computes the metrics. Two loops give the same numbers: the general one
 * (loop.ts: several feeds, shorts, every order type, protective orders, every commission
 * scheme, slippage) and a fast one for what an optimizer grid of a long-only built-in needs
 * (fast-loop.ts). Semantics are backtrader 1.9.78's, bit for bit (../shared/oracle/README.md).
 */
import { withCommonParams, type ParamSchema } from '../../grammar/builtins';
import { Broker } from './broker/broker';
import { CommInfo, commissionScheme } from './broker/commission';
import { checkSlippage, Slippage, slippageOn } from './broker/slippage';
import { tickStamp } from './clock';
import { BarContext, FeedState } from './context';
import { FastContext, runFastLoop } from './fast-loop';
import { IndicatorCache } from './indicator-cache';
import { GeneralLoop, type Protection } from './loop';
import type { LoopOutput } from './loop-output';
import { computeMetrics, type RunRecord } from './metrics';
import type { NextFunction, StrategyDefinition, StrategyParams } from './strategy-api';
import { getStrategy, isFastBuiltin } from './strategies/registry';
import { TradeBook } from './trades';
import { BacktestError, type BacktestConfig, type BacktestResult, type CommissionScheme, type PriceData } from './types';
import { runScratch as arena } from './scratch';

/** Options of one backtest. */
export interface BacktestOptions {
  /** Return the value and cash per bar. */
  equity?: boolean;
  /** Build the `trades`, `fills` and `rejected` lists (default true; an optimizer that only needs metrics passes false). */
  trades?: boolean;
  /** Memoized indicators (one per worker); without it each backtest computes its own. */
  cache?: IndicatorCache;
  /** `general` runs the general loop even where the fast one applies (tests compare the two). */
  loop?: 'auto' | 'general';
}

/**
 * The settings of the golden runs (backtrader with `setcommission(0.001)` and a 95% all-in
 * sizer): what `optstudy backtest` uses when an option is not given.
 */
export const DEFAULT_CONFIG: Readonly<BacktestConfig> = Object.freeze({
  cash: 100000,
  commission: 0.001,
  sizing: Object.freeze({ kind: 'percent', value: 95 }) as BacktestConfig['sizing'],
});

/** A strategy's parameters: its own and the common ones (direction, stop_loss_pct, take_profit_pct, trail_pct). */
export function strategyParams(def: StrategyDefinition): ParamSchema[] {
  return withCommonParams(def.params);
}

/** A definition's full schema and its names, made once per definition (again if its `params` array is replaced). */
const SCHEMAS = new WeakMap<StrategyDefinition, { params: readonly ParamSchema[]; schema: ParamSchema[]; names: Set<string> }>();

function schemaOf(def: StrategyDefinition): { schema: ParamSchema[]; names: Set<string> } {
  let s = SCHEMAS.get(def);
  if (s === undefined || s.params !== def.params) {
    const schema = strategyParams(def);
    s = { params: def.params, schema, names: new Set(schema.map((p) => p.name)) };
    SCHEMAS.set(def, s);
  }
  return s;
}

/** Fills defaults and checks values against the strategy's schema. @throws BacktestError */
export function resolveParams(def: StrategyDefinition, params: Record<string, number | string | boolean>): StrategyParams {
  const { schema, names } = schemaOf(def);
  const out: StrategyParams = {};
  for (const k in params) {
    if (!names.has(k)) {
      throw new BacktestError(`strategy '${def.name}' has no parameter '${k}'; its parameters are ${schema.map((p) => p.name).join(', ')}.`);
    }
  }
  for (const p of schema) {
    let v = Object.prototype.hasOwnProperty.call(params, p.name) ? params[p.name]! : p.default;
    if (p.type === 'int' || p.type === 'float') {
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) v = Number(v);
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        throw new BacktestError(`parameter '${p.name}' of '${def.name}' must be a number, got ${JSON.stringify(v)}.`);
      }
      if (p.type === 'int' && !Number.isInteger(v)) {
        throw new BacktestError(`parameter '${p.name}' of '${def.name}' must be an integer, got ${v}.`);
      }
    } else if (p.type === 'bool') {
      if (v === 'true') v = true;
      else if (v === 'false') v = false;
      if (typeof v !== 'boolean') throw new BacktestError(`parameter '${p.name}' of '${def.name}' must be true or false, got ${JSON.stringify(v)}.`);
    } else {
      v = String(v);
      if (p.choices && !p.choices.includes(v)) {
        throw new BacktestError(`parameter '${p.name}' of '${def.name}' must be one of ${p.choices.map((c) => `'${c}'`).join(', ')}, got '${v}'.`);
      }
    }
    out[p.name] = v;
  }
  return out;
}

/** The protective percents of resolved parameters. @throws BacktestError for a negative or absurd one. */
function protection(p: StrategyParams): Protection {
  return { stop: percentParam(p, 'stop_loss_pct'), take: percentParam(p, 'take_profit_pct'), trail: percentParam(p, 'trail_pct', 100) };
}

function percentParam(p: StrategyParams, name: string, below?: number): number {
  const v = p[name] as number;
  if (v < 0 || (below !== undefined && v >= below)) {
    throw new BacktestError(`${name} must be a percent >= 0${below !== undefined ? ` and below ${below}` : ''} (0 = off), got ${v}.`);
  }
  return v;
}

function checkConfig(c: BacktestConfig): CommissionScheme {
  if (!(Number.isFinite(c.cash) && c.cash > 0)) throw new BacktestError(`cash must be a positive number, got ${c.cash}.`);
  const scheme = commissionScheme(c.commission);
  checkSlippage(c.slippage);
  const s = c.sizing;
  if (s?.kind === 'fixed') {
    if (!(Number.isInteger(s.value) && s.value > 0)) throw new BacktestError(`fixed sizing takes a whole number of units > 0, got ${s.value}.`);
  } else if (s?.kind === 'percent') {
    if (!(Number.isFinite(s.value) && s.value > 0 && s.value <= 100)) throw new BacktestError(`percent sizing takes a percent of the portfolio value in (0, 100], got ${s.value}.`);
  } else {
    throw new BacktestError(`sizing must be fixed or percent.`);
  }
  return scheme;
}

// The scratch arena and value buffer are per thread: a strategy that ran a backtest from inside
// its own would have its series taken back under it.
let running = false;
let valuesBuf: Float64Array = new Float64Array(0);

/**
 * Runs one backtest on one feed or several (data 0 first). `strategy` is a built-in name (or
 * alias) or a definition (a user module).
 * @throws BacktestError for an unknown strategy, bad parameters or config, or an order the
 * strategy cannot place (the message says what to do).
 */
export function runBacktest(
  data: PriceData | readonly PriceData[],
  strategy: string | StrategyDefinition,
  params: Record<string, number | string | boolean>,
  config: BacktestConfig,
  options: BacktestOptions = {},
): BacktestResult {
  return backtest(data, strategy, params, config, options, false, result);
}

/**
 * The metrics of one backtest alone: `runBacktest(…, { trades: false, cache }).metrics`, the
 * same numbers, without the result object, the per-year returns or a fresh loop output and
 * run record (this thread's are refilled). A pool worker runs tens of thousands of these;
 * what each allocated beyond its metrics was garbage, and young-generation collections in two
 * workers at once contend for the same cores. @throws BacktestError as runBacktest
 */
export function backtestMetrics(
  data: PriceData | readonly PriceData[],
  strategy: string | StrategyDefinition,
  params: Record<string, number | string | boolean>,
  config: BacktestConfig,
  cache?: IndicatorCache,
): Record<string, number | null> {
  return backtest(data, strategy, params, config, { trades: false, cache }, true, metricsOnly);
}

type Finish<T> = (feeds: readonly PriceData[], out: LoopOutput, config: BacktestConfig, equity: boolean) => T;

/** Checks, runs the loop that applies (`quiet`: a reused output) and hands its output to `finish`. */
function backtest<T>(
  data: PriceData | readonly PriceData[],
  strategy: string | StrategyDefinition,
  params: Record<string, number | string | boolean>,
  config: BacktestConfig,
  options: BacktestOptions,
  quiet: boolean,
  finish: Finish<T>,
): T {
  const def = typeof strategy === 'string' ? getStrategy(strategy) : strategy;
  if (!def) throw new BacktestError(`unknown strategy '${String(strategy)}'.`);
  const feeds: readonly PriceData[] = Array.isArray(data) ? data : [data as PriceData];
  if (feeds.length === 0) throw new BacktestError('a backtest needs at least one data feed.');
  const scheme = checkConfig(config);
  const p = resolveParams(def, params);
  const prot = protection(p);
  if (running) throw new BacktestError('runBacktest() was called from inside a strategy; a strategy cannot run a backtest.');
  running = true;
  try {
    const cache = options.cache ?? new IndicatorCache();
    const wantRecords = options.trades !== false;
    const equity = options.equity === true;
    const fast =
      options.loop !== 'general' &&
      feeds.length === 1 &&
      isFastBuiltin(def) &&
      p.direction === 'long' &&
      prot.stop === 0 &&
      prot.take === 0 &&
      prot.trail === 0 &&
      scheme.kind === 'percent' &&
      !slippageOn(config.slippage);
    const out = fast ? runFast(feeds[0]!, def, p, config, scheme, cache, wantRecords, equity, quiet) : runGeneral(feeds, def, p, config, scheme, prot, cache, wantRecords, equity);
    return finish(feeds, out, config, equity);
  } finally {
    running = false;
    arena.releaseAll();
  }
}

function setupOf(def: StrategyDefinition, ctx: Parameters<StrategyDefinition['setup']>[0], p: StrategyParams): NextFunction {
  const next = def.setup(ctx, p);
  if (typeof next !== 'function') throw new BacktestError(`strategy '${def.name}': setup() must return the per-bar function, got ${typeof next}.`);
  return next;
}

function runFast(data: PriceData, def: StrategyDefinition, p: StrategyParams, config: BacktestConfig, scheme: CommissionScheme, cache: IndicatorCache, records: boolean, equity: boolean, reuse: boolean): LoopOutput {
  const ctx = new FastContext(data, cache, config);
  const next = setupOf(def, ctx, p);
  ctx.inSetup = false;
  return runFastLoop(data, ctx, next, config, (scheme as { rate: number }).rate, records, equity, reuse);
}

function runGeneral(
  data: readonly PriceData[],
  def: StrategyDefinition,
  p: StrategyParams,
  config: BacktestConfig,
  scheme: CommissionScheme,
  prot: Protection,
  cache: IndicatorCache,
  records: boolean,
  equity: boolean,
): LoopOutput {
  const feeds = data.map((d, k) => new FeedState(k, d, cache));
  const ci = new CommInfo(scheme);
  const broker = new Broker(config.cash, feeds.length, ci);
  const book = new TradeBook(feeds.length, ci, records, feeds.length > 1 ? data.map((d) => feedName(d)) : null);
  const loop = new GeneralLoop(feeds, broker, new Slippage(config.slippage), book, prot);
  const ctx = new BarContext(feeds, loop, config.sizing);
  const next = setupOf(def, ctx, p);
  ctx.inSetup = false;
  for (const f of feeds) f.inSetup = false;
  const T = loop.clock.ticks;
  if (valuesBuf.length < T) valuesBuf = new Float64Array(T);
  return loop.run(ctx, next, equity ? new Float64Array(T) : valuesBuf, equity ? new Float64Array(T) : undefined);
}

/** A feed's name in multi-feed records: its file name. */
function feedName(d: PriceData): string {
  return d.file.replace(/^.*[\\/]/, '');
}

/** A loop's output as the metric computation takes it, written into `r`. */
function fillRecord(r: RunRecord, feeds: readonly PriceData[], out: LoopOutput, config: BacktestConfig): RunRecord {
  r.values = out.values;
  r.dates = out.dates;
  r.intraday = out.times !== undefined;
  r.annual = annualFactor(feeds[0]!);
  r.bars = out.ticks;
  r.cash0 = config.cash;
  r.finalCash = out.finalCash;
  r.endPositionSize = out.endSize[0]!;
  r.endPositionPrice = out.endPrice[0]!;
  r.pnl = out.pnl;
  r.pnlcomm = out.pnlcomm;
  r.closed = out.closed;
  r.long = out.long;
  r.short = out.short;
  r.rejected = out.rejections;
  r.barsInMarket = out.inMarket;
  let open = 0;
  for (const size of out.endSize) if (size !== 0) open++;
  r.openTrades = open;
  return r;
}

/** A run record with every field (one shape), for `fillRecord`. */
function newRecord(): RunRecord {
  const none = new Float64Array(0);
  return { values: none, dates: new Int32Array(0), intraday: false, annual: 1, bars: 0, cash0: 0, finalCash: 0, endPositionSize: 0, endPositionPrice: 0, pnl: none, pnlcomm: none, closed: 0, long: 0, short: 0, rejected: 0, barsInMarket: 0, openTrades: 0 };
}

/** This thread's record for metrics-only runs (refilled each time; never handed out). */
const quietRecord = newRecord();

/** backtestMetrics' finish: the metrics, computed from this thread's record, without the per-year returns. */
function metricsOnly(feeds: readonly PriceData[], out: LoopOutput, config: BacktestConfig): Record<string, number | null> {
  return out.ticks > 0 ? computeMetrics(fillRecord(quietRecord, feeds, out, config), false) : {};
}

/** The result object: metrics, records, the per-year returns built on first read. */
function result(feeds: readonly PriceData[], out: LoopOutput, config: BacktestConfig, equity: boolean): BacktestResult {
  const n = out.ticks;
  const record = fillRecord(newRecord(), feeds, out, config);
  const metrics = n > 0 ? computeMetrics(record) : {};
  // The per-year object is built on first read: a grid that only ranks by metrics never pays
  // for it. An enumerable own getter (a literal's: Object.defineProperty on every result cost
  // more), so JSON and structured clones still carry it.
  let yearly: Record<string, number> | undefined;
  const res = {
    metrics,
    trades: out.trades,
    fills: out.fills,
    first_next_date: out.firstNext >= 0 ? tickStamp({ date: out.dates, time: out.times }, out.firstNext) : null,
    rejected: out.rejected,
    warnings: out.warnings,
    get yearly(): Record<string, number> {
      if (!yearly) {
        yearly = {};
        const keys = record.yearKeys ?? [];
        for (let y = 0; y < keys.length; y++) yearly[keys[y]!] = record.yearReturns![y]!;
      }
      return yearly;
    },
  } as BacktestResult;
  if (feeds.length > 1) res.end_positions = feeds.map((d, k) => ({ data: feedName(d), size: out.endSize[k]!, price: out.endPrice[k]! }));
  if (equity) {
    res.equity = out.values;
    res.cash = out.cashes;
  }
  return res;
}

/** backtrader Returns' annualisation factor for a feed's spacing (no entry for minutes: 1). */
function annualFactor(d: PriceData): number {
  switch (d.spacing.unit) {
    case 'days':
      return 252.0;
    case 'weeks':
      return 52.0;
    case 'months':
      return 12.0;
    default:
      return 1.0;
  }
}

