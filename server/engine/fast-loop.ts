/**
 * The fast bar loop: one feed, long only, market orders, a percent commission, no slippage and
 * no protective orders — what a built-in strategy with the default `direction long` runs in an
 * optimizer grid. It gives exactly the general loop's results (loop.ts; test/engine proves it
 * on every golden) at a fraction of the cost: plain fields instead of order objects, and quiet
 * bars (warm-up, a closed `nextOnlyOn` gate, no order) valued in bulk.
 *
 * Per bar (golden/SEMANTICS.md §2–3): 1) a pending buy is checked at its creation price
 * (submission check), 2) the pending order fills at this bar's open (or is rejected for
 * margin), 3) the portfolio is valued at the close with backtrader's exact expression,
 * 4) the strategy's `next` runs from the warm-up on. Float expressions keep backtrader's order
 * and grouping: `cash + ((pos*pp) + pnl)` is not always `cash + pos*px`.
 */
import { stampOf } from './clock';
import { startRun } from './cross-memo';
import { FeedIndicators } from './feed-indicators';
import type { IndicatorCache } from './indicator-cache';
import { newLoopOutput, type LoopOutput } from './loop-output';
import type { Feed, NextFunction, OrderRef, StrategyContext } from './strategy-api';
import { BacktestError, type BacktestConfig, type Fill, type PriceData, type Rejection, type Trade } from './types';

const NO_ORDER = 0;
const BUY = 1;
const CLOSE = 2;

/** What `buy()`/`close()` return on the fast path (built-ins only test it for truth). */
const PLACED: OrderRef = Object.freeze({ id: 0, data: 0, size: 0, status: 'submitted', filledPrice: NaN, filledSize: 0, commission: 0, price: NaN });

/**
 * The context a built-in sees on the fast path. The loop writes `i` before each `next` call,
 * `position`, `cash` and `positionPrice` when a fill changes them, and reads the order back:
 * plain fields keep it fast. Only `buy()` (while flat) and `close()` order here; the rest of
 * the API needs the general loop, and the fast path is chosen only for strategies that do not
 * use it.
 */
export class FastContext extends FeedIndicators implements StrategyContext, Feed {
  i = 0;
  position = 0;
  cash = 0;
  positionPrice = 0;
  order = NO_ORDER;
  orderSize = 0;
  orderBar = 0;
  orderReason = '';
  readonly datas: readonly Feed[] = [this];
  private readonly close_: Float64Array;
  private readonly fixed: boolean;
  private readonly sizeValue: number;

  constructor(data: PriceData, cache: IndicatorCache, config: BacktestConfig) {
    super(data, cache);
    // Built-ins only run here, and they never write into a crossover: it may be shared.
    this.memoCrosses = true;
    startRun();
    this.close_ = data.close;
    this.fixed = config.sizing.kind === 'fixed';
    this.sizeValue = this.fixed ? config.sizing.value : config.sizing.value / 100;
  }

  get tick(): number {
    return this.i;
  }

  get value(): number {
    return this.position !== 0 ? longValue(this.close_[this.i]!, this.cash, this.position, this.positionPrice) : this.cash + (0.0 + 0.0);
  }

  buy(options?: unknown): OrderRef | null {
    if (options !== undefined) throw notHere('buy(options)');
    if (this.inSetup) throw new BacktestError('buy() was called in setup(); call it from the function setup() returns, which runs on every bar.');
    if (this.position !== 0 || this.order !== NO_ORDER) throw notHere('buy() while long or with an order pending');
    // backtrader's all-in sizer: int(value / close * 0.95), evaluated left to right, truncated
    // (value is the cash while flat).
    const size = this.fixed ? this.sizeValue : Math.trunc((this.cash / this.close_[this.i]!) * this.sizeValue);
    if (!(size > 0 && size < Infinity)) return null; // a zero or negative close cannot size an order
    this.order = BUY;
    this.orderSize = size;
    this.orderBar = this.i;
    return PLACED;
  }

  close(options?: string | { label?: string }): OrderRef | null {
    if (this.inSetup) throw new BacktestError('close() was called in setup(); call it from the function setup() returns, which runs on every bar.');
    if (this.position === 0) return null;
    if (this.order !== NO_ORDER) throw notHere('close() with an order pending');
    this.order = CLOSE;
    this.orderBar = this.i;
    this.orderReason = typeof options === 'string' ? options : (options?.label ?? '');
    return PLACED;
  }

  sell(): OrderRef | null {
    throw notHere('sell()');
  }
  orderTarget(): OrderRef | null {
    throw notHere('orderTarget()');
  }
  cancel(): boolean {
    throw notHere('cancel()');
  }
  onOrder(): void {
    throw notHere('onOrder()');
  }
}

function notHere(what: string): BacktestError {
  return new BacktestError(`internal: ${what} is not available on the fast bar loop (a built-in marked fast used it).`);
}

// Per-thread scratch buffers, grown as needed, so a grid does not allocate per backtest.
const NO_EVENTS = new Float64Array(0);
let valuesBuf: Float64Array = new Float64Array(0);
let pnlBuf: Float64Array = new Float64Array(64);
let pnlcommBuf: Float64Array = new Float64Array(64);
/**
 * The output a metrics-only run gets (`reuse`): refilled by every such run on this thread, its
 * record lists always empty (nothing is recorded without `wantRecords`).
 */
const quietOut = newLoopOutput();

/**
 * Runs the fast loop over `data` with the strategy's `next` (setup already ran on `ctx`).
 * `reuse` (no records, no equity): the output is this thread's, valid until the next such run.
 *
 * One long function on purpose: the bar loop's state (cash, position, the open trade, the gate
 * cursor) lives in locals that TurboFan keeps in registers across bars; split into functions,
 * that state would travel through an object or boxed return values on every bar. What is not
 * per-bar work is already out of line below (valuing quiet stretches, building records).
 */
export function runFastLoop(data: PriceData, ctx: FastContext, next: NextFunction, config: BacktestConfig, rate: number, wantRecords: boolean, equity: boolean, reuse = false): LoopOutput {
  const out = reuse && !wantRecords && !equity ? quietOut : newLoopOutput();
  const n = data.bars;
  const start = ctx.start;
  const o = data.open;
  const c = data.close;
  const comm = rate;
  if (valuesBuf.length < n) valuesBuf = new Float64Array(n);
  const values = equity ? new Float64Array(n) : valuesBuf;
  const cashes = equity ? new Float64Array(n) : undefined;

  // × 1 (exact): a raw double from the start; seeded with the tagged field, TurboFan kept the
  // loop variable tagged and boxed each new value.
  let cash = config.cash * 1;
  ctx.cash = cash;
  let pos = 0;
  let pprice = 0.0;
  let closed = 0;
  let inMarket = 0;
  const trades = out.trades;
  const fills = out.fills;
  const rejected = out.rejected;
  let rejections = 0;
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
          rejections++;
          if (wantRecords) rejected.push(rejection(data, i, 'submit', size, ctx.orderBar));
        } else {
          const px = o[i]!;
          let newcash = cash - size * px;
          const cm = Math.abs(size) * comm * px;
          newcash -= cm;
          if (newcash < 0.0) {
            rejections++;
            if (wantRecords) rejected.push(rejection(data, i, 'exec', size, ctx.orderBar));
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
            if (wantRecords) fills.push(fillRecord(data, i, ctx.orderBar, size, px, 0.0 + size * px, tComm, 'entry'));
          }
        }
      } else {
        const px = o[i]!;
        const closedSize = -pos;
        const bpnl = pos * (px - pprice) * 1.0;
        const value = pos * pprice;
        cash += value + bpnl * 1;
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
        if (wantRecords) {
          fills.push(fillRecord(data, i, ctx.orderBar, closedSize, px, 0.0 + value, 0.0 + cm, 'signal'));
          trades.push(tradeRecord(data, tEntryBar, i, tSignalBar, ctx.orderBar, pos, tPrice, tFill, px, tpnl, pnlcomm, commission, tComm, cm, ctx.orderReason));
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
  out.values = values;
  out.cashes = cashes;
  out.ticks = n;
  out.dates = data.date;
  out.times = data.time;
  out.finalCash = cash;
  out.endSize[0] = pos;
  out.endPrice[0] = pprice;
  out.pnl = pnlBuf;
  out.pnlcomm = pnlcommBuf;
  out.closed = closed;
  out.long = closed;
  out.rejections = rejections;
  out.inMarket = inMarket;
  out.firstNext = start < n ? start : -1;
  return out;
}

/*
 * Small helpers out of the main loop: they compile (and reach optimized code) on their own,
 * and keep the loop small for TurboFan; a fresh worker otherwise spent its first hundreds of
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

function rejection(data: PriceData, i: number, stage: 'submit' | 'exec', size: number, orderBar: number): Rejection {
  return { date: stampOf(data, i), stage, side: 'buy', status: 'Margin', size, created_date: stampOf(data, orderBar), created_price: data.close[orderBar]!, kind: 'entry' };
}

function fillRecord(data: PriceData, i: number, orderBar: number, size: number, px: number, value: number, comm: number, kind: 'entry' | 'signal'): Fill {
  return {
    date: stampOf(data, i),
    side: size > 0 ? 'buy' : 'sell',
    size,
    price: px,
    avg_price: (0 * 0.0 + size * px) / size,
    value,
    comm,
    created_date: stampOf(data, orderBar),
    created_price: data.close[orderBar]!,
    kind,
    exectype: 'Market',
  };
}

/** A closed round trip as the golden files list it. */
function tradeRecord(
  data: PriceData,
  entry: number,
  exit: number,
  signal: number,
  exitSignal: number,
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
    entry_date: stampOf(data, entry),
    exit_date: stampOf(data, exit),
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
    barlen: exit - entry,
    signal_date: stampOf(data, signal),
    exit_signal_date: stampOf(data, exitSignal),
    direction: 'long',
    exit_reason: 'signal',
    exit_signal: reason === '' ? null : reason,
  };
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
