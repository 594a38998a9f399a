/**
 * The backtest loop and broker, replicating backtrader 1.9.78's defaults bit for bit
 * (golden/SEMANTICS.md §2–3): per bar, 1) a pending buy is checked at its creation price
 * (submission check), 2) the pending order fills at this bar's open (or is rejected for
 * margin), 3) the portfolio is valued at the close with backtrader's exact expression,
 * 4) the strategy's `next` runs from the warm-up on. Float expressions keep backtrader's order
 * and grouping: `cash + ((pos*pp) + pnl)` is not always `cash + pos*px`.
 */
import type { ParamSchema } from '../../grammar/builtins';
import { IndicatorCache } from './indicator-cache';
import { runScratch as arena } from './scratch';
import * as ind from './indicators';
import { computeMetrics, type RunRecord } from './metrics';
import { formatDate } from './prices';
import type { NextFunction, PriceField, StrategyContext, StrategyDefinition, StrategyParams } from './strategy-api';
import { getStrategy } from './strategies/registry';
import { BacktestError, type BacktestConfig, type BacktestResult, type PriceData, type Trade } from './types';

/** Options of one backtest. */
export interface BacktestOptions {
  /** Return the value and cash per bar. */
  equity?: boolean;
  /** Build the `trades` list (default true; an optimizer that only needs metrics passes false). */
  trades?: boolean;
  /** Memoized indicators (one per worker); without it each backtest computes its own. */
  cache?: IndicatorCache;
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

const NO_ORDER = 0;
const BUY = 1;
const CLOSE = 2;

/**
 * The context a strategy sees. The loop writes `i` before each `next` call, `position`, `cash`
 * and `positionPrice` when a fill changes them, and reads the order back: plain fields keep it
 * fast. (Per-thread scratch buffers make `runBacktest` non-reentrant: do not call it from a
 * strategy.)
 */
class EngineContext implements StrategyContext {
  i = 0;
  position = 0;
  cash = 0;
  positionPrice = 0;
  /** Warm-up: `next` runs from this bar on. */
  start = 0;
  order = NO_ORDER;
  orderSize = 0;
  orderBar = 0;
  orderReason = '';
  /** True while the strategy's setup() runs: orders are refused then. */
  inSetup = true;
  /** `nextOnlyOn`'s signal: `next` is skipped on bars where it is 0. */
  gate: Float64Array | null = null;
  /** The gate applies while flat only (`nextOnlyOn(signal, 'flat')`). */
  gateFlatOnly = false;
  /** This run's crossovers and the bars where each is not 0. */
  private readonly crossEvents: { series: Float64Array; events: ind.SignalEvents }[] = [];
  readonly bars: number;
  private readonly close_: Float64Array;
  private readonly fixed: boolean;
  private readonly sizeValue: number;

  constructor(
    readonly data: PriceData,
    private readonly cache: IndicatorCache,
    config: BacktestConfig,
  ) {
    this.bars = data.bars;
    this.close_ = data.close;
    this.fixed = config.sizing.kind === 'fixed';
    this.sizeValue = this.fixed ? config.sizing.value : config.sizing.value / 100;
  }

  buy(): boolean {
    if (this.position !== 0 || this.order !== NO_ORDER) return false;
    if (this.inSetup) throw new BacktestError('buy() was called in setup(); call it from the function setup() returns, which runs on every bar.');
    // backtrader's all-in sizer: int(cash / close * 0.95), evaluated left to right, truncated.
    const size = this.fixed ? this.sizeValue : Math.trunc((this.cash / this.close_[this.i]!) * this.sizeValue);
    if (!(size > 0 && size < Infinity)) return false; // a zero or negative close cannot size an order
    this.order = BUY;
    this.orderSize = size;
    this.orderBar = this.i;
    return true;
  }

  close(reason = ''): boolean {
    if (this.inSetup) throw new BacktestError('close() was called in setup(); call it from the function setup() returns, which runs on every bar.');
    if (this.position <= 0 || this.order !== NO_ORDER) return false;
    this.order = CLOSE;
    this.orderBar = this.i;
    this.orderReason = reason;
    return true;
  }

  sell(): boolean {
    return this.close();
  }

  warmup(index: number): void {
    if (index > this.start) this.start = index;
  }

  private memo<T>(key: string, compute: () => T, first: (v: T) => number): T {
    const r = this.cache.get(this.data.id, key, () => {
      const value = compute();
      return { value, first: first(value) };
    });
    this.warmup(r.first);
    return r.value;
  }

  private series(key: string, compute: () => Float64Array): Float64Array {
    return this.memo(key, compute, ind.firstValid);
  }

  private src(source: PriceField | undefined): Float64Array {
    const s = source ?? 'close';
    const col = this.data[s];
    if (!(col instanceof Float64Array)) throw new BacktestError(`unknown price field '${String(source)}'; use open, high, low, close or volume.`);
    return col;
  }

  sma(period: number, source?: PriceField): Float64Array {
    return this.series(`sma|${source ?? 'close'}|${period}`, () => ind.sma(this.src(source), period));
  }
  ema(period: number, source?: PriceField): Float64Array {
    return this.series(`ema|${source ?? 'close'}|${period}`, () => ind.ema(this.src(source), period));
  }
  smma(period: number, source?: PriceField): Float64Array {
    return this.series(`smma|${source ?? 'close'}|${period}`, () => ind.smma(this.src(source), period));
  }
  rsi(period: number, source?: PriceField): Float64Array {
    return this.series(`rsi|${source ?? 'close'}|${period}`, () => ind.rsi(this.src(source), period));
  }
  atr(period: number): Float64Array {
    const d = this.data;
    return this.series(`atr|${period}`, () => ind.atr(d.high, d.low, d.close, period));
  }
  trueRange(): Float64Array {
    const d = this.data;
    return this.series('tr', () => ind.trueRange(d.high, d.low, d.close));
  }
  stddev(period: number, source?: PriceField): Float64Array {
    return this.series(`stddev|${source ?? 'close'}|${period}`, () => ind.stddev(this.src(source), period, this.sma(period, source)));
  }
  bollinger(period: number, devfactor: number, source?: PriceField): ind.Bands {
    // Built from the memoized SMA and standard deviation, so a grid over dev factors shares them.
    return this.memo(`bb|${source ?? 'close'}|${period}|${devfactor}`, () => ind.bandsFrom(this.sma(period, source), this.stddev(period, source), devfactor), maxFirst);
  }
  macd(fast = 12, slow = 26, signal = 9, source?: PriceField): ind.Macd {
    // Built from memoized EMAs and MACD line, so a grid shares them across signal periods.
    return this.memo(
      `macd|${source ?? 'close'}|${fast}|${slow}|${signal}`,
      () => {
        const line = this.series(`macdline|${source ?? 'close'}|${fast}|${slow}`, () => ind.difference(this.ema(fast, source), this.ema(slow, source)));
        return ind.macdFrom(line, signal);
      },
      maxFirst,
    );
  }
  stochastic(period = 14, pfast = 3, pslow = 3): ind.Stochastic {
    const d = this.data;
    return this.memo(`stoch|${period}|${pfast}|${pslow}`, () => ind.stochastic(d.high, d.low, d.close, period, pfast, pslow), maxFirst);
  }
  donchian(period: number): ind.Channel {
    const d = this.data;
    return this.memo(`donchian|${period}`, () => ind.donchian(d.high, d.low, period), maxFirst);
  }
  highest(period: number, source?: PriceField): Float64Array {
    return this.series(`highest|${source ?? 'high'}|${period}`, () => ind.highest(this.src(source ?? 'high'), period));
  }
  lowest(period: number, source?: PriceField): Float64Array {
    return this.series(`lowest|${source ?? 'low'}|${period}`, () => ind.lowest(this.src(source ?? 'low'), period));
  }
  roc(period: number, source?: PriceField): Float64Array {
    return this.series(`roc|${source ?? 'close'}|${period}`, () => ind.roc(this.src(source), period));
  }
  crossover(a: Float64Array, b: Float64Array): Float64Array {
    // Not memoized: in a grid every (a, b) pair is new. A reused per-thread buffer, valid for
    // this run only (a fresh array per backtest, page faults and GC included, cost more).
    if (a.length < this.bars || b.length < this.bars) throw new BacktestError(`crossover: both series need one value per bar (${this.bars}), got ${a.length} and ${b.length}.`);
    const out = arena.take(this.bars);
    const events: ind.SignalEvents = { at: arena.take(this.bars), count: 0 };
    this.warmup(ind.crossoverInto(out, a, b, events));
    this.crossEvents.push({ series: out, events });
    return out;
  }
  nextOnlyOn(signal: Float64Array, when: 'always' | 'flat' = 'always'): void {
    if (!this.inSetup) throw new BacktestError('nextOnlyOn() was called in the per-bar function; call it in setup().');
    if (!(signal instanceof Float64Array) || signal.length < this.bars) {
      throw new BacktestError(`nextOnlyOn: the signal must be a Float64Array with one value per bar (${this.bars}).`);
    }
    if (when !== 'always' && when !== 'flat') throw new BacktestError(`nextOnlyOn: 'when' must be 'always' or 'flat', got ${JSON.stringify(when)}.`);
    this.gate = signal;
    this.gateFlatOnly = when === 'flat';
  }

  /**
   * The bars where the gate signal is not 0: a crossover of this run listed them while it was
   * computed; another signal is scanned once, when the run starts (after setup).
   */
  gateEvents(): ind.SignalEvents | null {
    const g = this.gate;
    if (g === null) return null;
    for (const c of this.crossEvents) if (c.series === g) return c.events;
    const events: ind.SignalEvents = { at: arena.take(this.bars), count: 0 };
    ind.signalEvents(g, this.bars, events);
    return events;
  }
}

function maxFirst(v: object): number {
  let f = 0;
  for (const x of Object.values(v)) if (x instanceof Float64Array) f = Math.max(f, ind.firstValid(x));
  return f;
}

/** Fills defaults and checks values against the strategy's schema. @throws BacktestError */
export function resolveParams(def: StrategyDefinition, params: Record<string, number | string | boolean>): StrategyParams {
  const out: StrategyParams = {};
  for (const k in params) {
    if (!def.params.some((p: ParamSchema) => p.name === k)) {
      throw new BacktestError(
        `strategy '${def.name}' has no parameter '${k}'; its parameters are ${def.params.map((p) => p.name).join(', ') || '(none)'}.`,
      );
    }
  }
  for (const p of def.params) {
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

function checkConfig(c: BacktestConfig): void {
  if (!(Number.isFinite(c.cash) && c.cash > 0)) throw new BacktestError(`cash must be a positive number, got ${c.cash}.`);
  if (!(Number.isFinite(c.commission) && c.commission >= 0 && c.commission < 1)) {
    throw new BacktestError(`commission must be a fraction between 0 and 1 (0.001 = 0.1%), got ${c.commission}.`);
  }
  const s = c.sizing;
  if (s?.kind === 'fixed') {
    if (!(Number.isInteger(s.value) && s.value > 0)) throw new BacktestError(`fixed sizing takes a whole number of shares > 0, got ${s.value}.`);
  } else if (s?.kind === 'percent') {
    if (!(Number.isFinite(s.value) && s.value > 0 && s.value <= 100)) throw new BacktestError(`percent sizing takes a percent of cash in (0, 100], got ${s.value}.`);
  } else {
    throw new BacktestError(`sizing must be fixed or percent.`);
  }
}

// Per-thread scratch buffers, grown as needed, so a grid does not allocate per backtest.
const NO_EVENTS = new Float64Array(0);
let running = false;
let valuesBuf: Float64Array = new Float64Array(0);
let pnlBuf: Float64Array = new Float64Array(64);
let pnlcommBuf: Float64Array = new Float64Array(64);

/**
 * Runs one backtest. `strategy` is a built-in name (or alias) or a definition (a user module).
 * @throws BacktestError for an unknown strategy, bad parameters or config.
 */
export function runBacktest(
  data: PriceData,
  strategy: string | StrategyDefinition,
  params: Record<string, number | string | boolean>,
  config: BacktestConfig,
  options: BacktestOptions = {},
): BacktestResult {
  const def = typeof strategy === 'string' ? getStrategy(strategy) : strategy;
  if (!def) throw new BacktestError(`unknown strategy '${String(strategy)}'.`);
  checkConfig(config);
  const p = resolveParams(def, params);
  // The scratch arena and buffers are per thread: a strategy that ran a backtest from inside
  // its own would have its series taken back under it.
  if (running) throw new BacktestError('runBacktest() was called from inside a strategy; a strategy cannot run a backtest.');
  running = true;
  try {
    const n = data.bars;
    const ctx = new EngineContext(data, options.cache ?? new IndicatorCache(), config);
    // Only fills change these; the loop updates them there instead of on every bar.
    ctx.cash = config.cash;
    const next: NextFunction = def.setup(ctx, p);
    if (typeof next !== 'function') throw new BacktestError(`strategy '${def.name}': setup() must return the per-bar function, got ${typeof next}.`);
    ctx.inSetup = false;
    const start = ctx.start;

    const o = data.open;
    const c = data.close;
    const comm = config.commission;
    const wantTrades = options.trades !== false;
    if (valuesBuf.length < n) valuesBuf = new Float64Array(n);
    const values = options.equity ? new Float64Array(n) : valuesBuf;
    const cashes = options.equity ? new Float64Array(n) : undefined;

    // × 1 (exact): a raw double from the start; seeded with the tagged field, TurboFan kept the
    // loop variable tagged and boxed each new value.
    let cash = config.cash * 1;
    let pos = 0;
    let pprice = 0.0;
    let closed = 0;
    let inMarket = 0;
    const trades: Trade[] = [];
    const rejected: BacktestResult['rejected'] = [];
    // The open trade.
    let tEntryBar = 0;
    let tSignalBar = 0;
    let tPrice = 0.0;
    let tFill = 0.0;
    let tComm = 0.0;

    const gate = ctx.gate;
    const gateFlatOnly = ctx.gateFlatOnly;
    const events = ctx.gateEvents();
    const eventAt = events === null ? NO_EVENTS : events.at;
    const eventCount = events === null ? 0 : events.count;
    let ev = 0; // the first event not yet behind the loop
    for (let i = 0; i < n; ) {
      const order = ctx.order;
      if (order !== NO_ORDER) {
        ctx.order = NO_ORDER;
        if (order === BUY) {
          const size = ctx.orderSize;
          const pc = c[ctx.orderBar]!;
          // Submission check at the creation price (checksubmit=True).
          if (cash - size * pc - Math.abs(size) * comm * pc < 0) {
            rejected.push(rejection(data, i, 'submit', size, ctx.orderBar));
          } else {
            const px = o[i]!;
            let newcash = cash - size * px;
            const cm = Math.abs(size) * comm * px;
            newcash -= cm;
            if (newcash < 0.0) {
              rejected.push(rejection(data, i, 'exec', size, ctx.orderBar));
            } else {
              cash = newcash;
              pos = size;
              pprice = px;
              ctx.cash = cash;
              ctx.position = pos;
              ctx.positionPrice = pprice;
              tEntryBar = i;
              tSignalBar = ctx.orderBar;
              tPrice = (0 * 0.0 + size * px) / size; // backtrader Trade.price
              tFill = px;
              tComm = 0.0 + cm;
            }
          }
        } else {
          const px = o[i]!;
          const closedSize = -pos;
          const bpnl = pos * (px - pprice) * 1.0;
          cash += pos * pprice + bpnl * 1;
          const cm = Math.abs(closedSize) * comm * px;
          cash -= cm;
          const tpnl = 0.0 + pos * (px - tPrice) * 1.0;
          const commission = tComm + cm;
          const pnlcomm = tpnl - commission;
          if (closed === pnlBuf.length) {
            pnlBuf = grow(pnlBuf);
            pnlcommBuf = grow(pnlcommBuf);
          }
          pnlBuf[closed] = tpnl;
          pnlcommBuf[closed] = pnlcomm;
          closed++;
          if (wantTrades) {
            const d = data.date;
            trades.push(
              tradeRecord(d[tEntryBar]!, d[i]!, d[tSignalBar]!, d[ctx.orderBar]!, i - tEntryBar, pos, tPrice, tFill, px, tpnl, pnlcomm, commission, tComm, cm, ctx.orderReason),
            );
          }
          pos = 0;
          pprice = 0.0;
          ctx.cash = cash;
          ctx.position = 0;
          ctx.positionPrice = 0.0;
        }
      }
      // Broker value as backtrader computes it (not always cash + pos*close, bit for bit).
      let value: number;
      if (pos !== 0) {
        value = longValue(c[i]!, cash, pos, pprice);
        inMarket++;
      } else {
        value = cash + (0.0 + 0.0);
      }
      values[i] = value;
      if (cashes) cashes[i] = cash;
      if (i >= start && (gate === null || gate[i] !== 0 || (gateFlatOnly && pos !== 0))) {
        ctx.i = i;
        next(ctx);
      }
      i++;
      if (ctx.order !== NO_ORDER) continue;
      // Quiet bars: no order to fill and no call of `next` (the warm-up, or a zero gate signal),
      // so position and cash stay as they are and only the value moves, with the close.
      let j = i < start ? (start < n ? start : n) : i;
      if (gate !== null && !(gateFlatOnly && pos !== 0)) {
        // The next bar where the gate opens: the first event at or after j.
        while (ev < eventCount && eventAt[ev]! < j) ev++;
        j = ev < eventCount ? eventAt[ev]! : n;
      }
      if (j === i) continue;
      if (pos !== 0) {
        valueLong(values, c, i, j, cash, pos, pprice);
        inMarket += j - i;
      } else {
        valueFlat(values, i, j, cash);
      }
      if (cashes) cashes.fill(cash, i, j);
      i = j;
    }
    // An order created on the last bar is never executed.
    ctx.order = NO_ORDER;

    const record: RunRecord = {
      values,
      dates: data.date,
      bars: n,
      cash0: config.cash,
      finalCash: cash,
      endPositionSize: pos,
      endPositionPrice: pprice,
      pnl: pnlBuf,
      pnlcomm: pnlcommBuf,
      closed,
      rejected: rejected.length,
      barsInMarket: inMarket,
    };
    const metrics = n > 0 ? computeMetrics(record) : {};
    // The per-year object is built on first read: a grid that only ranks by metrics never pays
    // for it. An enumerable own getter (a literal's: Object.defineProperty on every result cost
    // more), so JSON and structured clones still carry it.
    let yearly: Record<string, number> | undefined;
    const result = {
      metrics,
      trades,
      first_next_date: start < n ? formatDate(data.date[start]!) : null,
      rejected,
      get yearly(): Record<string, number> {
        if (!yearly) {
          yearly = {};
          const keys = record.yearKeys ?? [];
          for (let y = 0; y < keys.length; y++) yearly[keys[y]!] = record.yearReturns![y]!;
        }
        return yearly;
      },
    } as BacktestResult;
    if (options.equity) {
      result.equity = values;
      result.cash = cashes;
    }
    return result;
  } finally {
    running = false;
    arena.releaseAll();
  }
}

/*
 * Small helpers out of the main loop: they compile (and reach optimized code) on their own,
 * and keep runBacktest small for TurboFan; a fresh worker otherwise spent its first hundreds of
 * backtests waiting for one large compile.
 */

/**
 * The broker's value at close `ck` holding `pos` bought at `pprice`, term for term as
 * backtrader computes it (not always cash + pos*close, bit for bit).
 */
function longValue(ck: number, cash: number, pos: number, pprice: number): number {
  const dvalue = pos * ck;
  const dun = pos * (ck - pprice) * 1.0;
  let pvu = 0.0 + (dvalue - dun) / 1.0;
  pvu += dun;
  return cash + pvu;
}

/** Values of bars [i, j) held long. */
function valueLong(values: Float64Array, c: Float64Array, i: number, j: number, cash: number, pos: number, pprice: number): void {
  for (let k = i; k < j; k++) values[k] = longValue(c[k]!, cash, pos, pprice);
}

/** Values of bars [i, j) while flat. */
function valueFlat(values: Float64Array, i: number, j: number, cash: number): void {
  const flat = cash + (0.0 + 0.0);
  for (let k = i; k < j; k++) values[k] = flat;
}

function rejection(data: PriceData, i: number, stage: 'submit' | 'exec', size: number, orderBar: number): BacktestResult['rejected'][number] {
  return { date: formatDate(data.date[i]!), stage, size, created_date: formatDate(data.date[orderBar]!) };
}

/** A closed round trip as the golden files list it (dates as yyyymmdd). */
function tradeRecord(
  entry: number,
  exit: number,
  signal: number,
  exitSignal: number,
  barlen: number,
  size: number,
  entryPrice: number,
  entryFill: number,
  px: number,
  pnl: number,
  pnlcomm: number,
  commission: number,
  entryComm: number,
  exitComm: number,
  reason: string,
): Trade {
  const closedSize = -size;
  return {
    entry_date: formatDate(entry),
    exit_date: formatDate(exit),
    entry_price: entryPrice,
    exit_price: px,
    size,
    pnl,
    pnlcomm,
    entry_fill_price: entryFill,
    exit_order_avg_price: (0 * 0.0 + closedSize * px) / closedSize,
    commission,
    entry_comm: entryComm,
    exit_comm: exitComm,
    barlen,
    signal_date: formatDate(signal),
    exit_signal_date: formatDate(exitSignal),
    ...(reason ? { exit_reason: reason } : {}),
  };
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
