/**
 * The strategy context of the general bar loop: what `setup` and `next` see (strategy-api.ts),
 * one `FeedState` per feed, and the translation of the strategy's calls into orders (size,
 * type, prices checked here; the loop queues them).
 */
import { FeedIndicators } from './feed-indicators';
import type { IndicatorCache } from './indicator-cache';
import { CLOSE, LIMIT, MARKET, Order, STOP, STOP_LIMIT, STOP_TRAIL, trailAdjust } from './orders/order';
import type { Feed, OrderEvent, OrderOptions, OrderRef, OrderTarget, PriceField, StrategyContext } from './strategy-api';
import { floorDiv } from './pyfloat';
import { BacktestError, type OrderKind, type PriceData } from './types';
import type * as ind from './indicators';

/** One feed in the general loop: its indicators, its current bar and its position. */
export class FeedState extends FeedIndicators implements Feed {
  /** Current bar index (-1 before the first). */
  i = -1;
  position = 0;
  positionPrice = 0;

  constructor(
    readonly index: number,
    data: PriceData,
    cache: IndicatorCache,
  ) {
    super(data, cache);
  }
}

/** What the context needs from the loop. */
export interface OrderSink {
  /** Queues a new order for the next bar's cash check. */
  submit(o: Order): void;
  /** Cancels an accepted order (false when it is not in the pending queue). */
  cancel(o: Order): boolean;
  /** Cancels feed `f`'s protective orders (a strategy order against the position replaces them). */
  cancelProtective(f: number): void;
  /** The clock tick now. */
  readonly tick: number;
  /** Commission multiplier (1 for stocks). */
  readonly mult: number;
  /** Futures: the cash held per contract (0 for stocks). */
  readonly margin: number;
}

const TYPES = new Map<unknown, number>([
  ['market', MARKET],
  ['close', CLOSE],
  ['limit', LIMIT],
  ['stop', STOP],
  ['stop_limit', STOP_LIMIT],
  ['stop_trail', STOP_TRAIL],
]);

export class BarContext implements StrategyContext {
  tick = 0;
  cash = 0;
  value = 0;
  inSetup = true;
  listener: ((e: OrderEvent) => void) | null = null;
  private readonly d0: FeedState;
  private readonly fixed: boolean;
  private readonly sizeValue: number;

  constructor(
    readonly datas: readonly FeedState[],
    private readonly sink: OrderSink,
    sizing: { kind: 'fixed' | 'percent'; value: number },
  ) {
    this.d0 = datas[0]!;
    this.fixed = sizing.kind === 'fixed';
    this.sizeValue = sizing.value;
  }

  get data(): PriceData {
    return this.d0.data;
  }
  get bars(): number {
    return this.d0.bars;
  }
  get i(): number {
    return this.d0.i;
  }
  get position(): number {
    return this.d0.position;
  }
  get positionPrice(): number {
    return this.d0.positionPrice;
  }

  // -- orders ---------------------------------------------------------------------------------

  buy(options?: OrderOptions): OrderRef | null {
    return this.order(1, options, null);
  }

  sell(options?: OrderOptions): OrderRef | null {
    return this.order(-1, options, null);
  }

  close(options?: string | { label?: string; data?: number; type?: 'market' | 'close' }): OrderRef | null {
    const o = typeof options === 'string' ? { label: options } : (options ?? {});
    return this.closeAs(o.data ?? 0, null, o.label ?? null, o.type);
  }

  /** `close()` with the order's kind (built-ins: `signal`, `reverse`). */
  closeAs(f: number, kind: OrderKind | null, label: string | null, type?: 'market' | 'close'): Order | null {
    const feed = this.feed(f, 'close');
    const s = feed.position;
    if (s === 0) return null;
    return this.order(s > 0 ? -1 : 1, { size: Math.abs(s), data: f, label: label ?? undefined, type }, kind);
  }

  orderTarget(t: OrderTarget): OrderRef | null {
    const given = (t.size !== undefined ? 1 : 0) + (t.value !== undefined ? 1 : 0) + (t.percent !== undefined ? 1 : 0);
    if (given !== 1) throw new BacktestError('orderTarget() takes exactly one of size, value or percent, e.g. orderTarget({ percent: 50 }).');
    const f = t.data ?? 0;
    if (t.size !== undefined) return this.targetSize(f, checkNumber(t.size, 'orderTarget size'), null, t.label ?? null);
    const target = t.value !== undefined ? checkNumber(t.value, 'orderTarget value') : (checkNumber(t.percent!, 'orderTarget percent') / 100) * this.value;
    return this.targetValue(f, target, null, t.label ?? null);
  }

  /** backtrader `order_target_size`. */
  targetSize(f: number, target: number, kind: OrderKind | null, label: string | null): Order | null {
    const s = this.feed(f, 'orderTarget').position;
    if (target === 0 && s !== 0) return this.closeAs(f, kind, label);
    if (target > s) return this.order(1, { size: target - s, data: f, label: label ?? undefined }, kind);
    if (target < s) return this.order(-1, { size: s - target, data: f, label: label ?? undefined }, kind);
    return null;
  }

  /** The study's sizing (the default order size). */
  get sizing(): { kind: 'fixed' | 'percent'; value: number } {
    return { kind: this.fixed ? 'fixed' : 'percent', value: this.sizeValue };
  }

  /** backtrader `getvalue(datas=[d])`: feed f's position valued at its close (`getvaluesize`). */
  valueOf(f: number): number {
    const feed = this.feed(f, 'value');
    const s = feed.position;
    return this.sink.margin ? Math.abs(s) * this.sink.margin : s * feed.data.close[feed.i]!;
  }

  /**
   * backtrader `order_target_value`: units from `getsize(close, |target - value|)`. A difference
   * under one unit (size 0) is no order — backtrader's buy()/sell() return None for size 0
   * without creating one — so it returns null before `order`, and the feed's protective orders
   * stay (only an order against the position cancels them). test/engine/oracle-plan-cases.test.ts.
   */
  targetValue(f: number, target: number, kind: OrderKind | null, label: string | null): Order | null {
    const feed = this.feed(f, 'orderTarget');
    const s = feed.position;
    if (target === 0 && s !== 0) return this.closeAs(f, kind, label);
    const c = feed.data.close[feed.i]!;
    const v = this.valueOf(f);
    const unit = this.sink.margin ? this.sink.margin : c;
    if (target > v) {
      const size = Math.trunc(1.0 * floorDiv(target - v, unit));
      return size > 0 ? this.order(1, { size, data: f, label: label ?? undefined }, kind) : null;
    }
    if (target < v) {
      const size = Math.trunc(1.0 * floorDiv(v - target, unit));
      return size > 0 ? this.order(-1, { size, data: f, label: label ?? undefined }, kind) : null;
    }
    return null;
  }

  cancel(order: OrderRef): boolean {
    if (!(order instanceof Order)) throw new BacktestError('cancel() takes an order returned by buy(), sell(), close() or orderTarget().');
    return this.sink.cancel(order);
  }

  onOrder(listener: (event: OrderEvent) => void): void {
    if (!this.inSetup) throw new BacktestError('onOrder() was called in the per-bar function; call it in setup().');
    if (typeof listener !== 'function') throw new BacktestError('onOrder() takes a function (event) => { ... }.');
    this.listener = listener;
  }

  /**
   * The study's size for an order on feed `f`: fixed units, or
   * `int(V / (close * mult) * (percent / 100.0))` (backtrader's percent sizer; 0 when not finite).
   */
  defaultSize(f: FeedState): number {
    if (this.fixed) return this.sizeValue;
    const x = (this.value / (f.data.close[f.i]! * this.sink.mult)) * (this.sizeValue / 100.0);
    return Number.isFinite(x) ? Math.trunc(x) : 0;
  }

  /** Creates and queues an order of side `sign`. @throws BacktestError for a size, type or price that cannot be ordered. */
  order(sign: 1 | -1, opts: OrderOptions | undefined, kind: OrderKind | null): Order | null {
    const what = sign > 0 ? 'buy' : 'sell';
    if (this.inSetup) throw new BacktestError(`${what}() was called in setup(); call it from the function setup() returns, which runs on every bar.`);
    if (opts !== undefined && (opts === null || typeof opts !== 'object')) throw new BacktestError(`${what}() takes an options object like { size: 10 } or nothing, got ${JSON.stringify(opts)}.`);
    const feed = this.feed(opts?.data ?? 0, what);
    let size: number;
    if (opts?.size !== undefined) {
      size = opts.size;
      if (!(typeof size === 'number' && Number.isFinite(size) && size > 0)) {
        throw new BacktestError(`${what}({ size: ${JSON.stringify(opts.size)} }): a size must be a number > 0 (units); to exit use close(), to skip the order do not call ${what}().`);
      }
    } else {
      size = this.defaultSize(feed);
      if (size <= 0) return null;
    }
    this.prices(opts, feed, what);
    const { exec, price, plimit } = this.px;
    const s = feed.position;
    const against = s !== 0 && s > 0 !== sign > 0;
    if (against) this.sink.cancelProtective(feed.index);
    const k: OrderKind = kind ?? (against ? 'signal' : 'entry');
    const trailPercent = exec === STOP_TRAIL ? (opts?.trailPercent ?? 0) : 0;
    const trailAmount = exec === STOP_TRAIL ? (opts?.trailAmount ?? 0) : 0;
    const o = new Order(feed.index, sign * size, exec, price, plimit, trailPercent, trailAmount, feed.i, feed.data.close[feed.i]!, k, opts?.label ?? null, true);
    if (exec === STOP_TRAIL) {
      o.price = sign > 0 ? Infinity : -Infinity;
      trailAdjust(o, o.createdClose);
    }
    if (opts?.oco !== undefined) joinOco(o, opts.oco);
    this.sink.submit(o);
    return o;
  }

  /** `prices()`'s answer (one object reused: no allocation per order). */
  private readonly px = { exec: MARKET, price: 0.0, plimit: 0.0 };

  /** The execution type, reference price and limit of an order from its options, into `px`. */
  private prices(opts: OrderOptions | undefined, feed: FeedState, what: string): void {
    const px = this.px;
    if (opts === undefined || (opts.type === undefined && opts.price === undefined && opts.limit === undefined && opts.trailPercent === undefined && opts.trailAmount === undefined)) {
      const c = feed.data.close[feed.i]!;
      px.exec = MARKET;
      px.price = c;
      px.plimit = c;
      return;
    }
    const type = opts?.type ?? 'market';
    const exec = TYPES.get(type);
    if (exec === undefined) throw new BacktestError(`${what}({ type: ${JSON.stringify(type)} }): the type must be market, close, limit, stop, stop_limit or stop_trail.`);
    const c = feed.data.close[feed.i]!;
    const price = opts?.price;
    const needPrice = exec === LIMIT || exec === STOP || exec === STOP_LIMIT;
    if (needPrice) checkPrice(price, `${what}({ type: '${type}' }) needs a price > 0 (the ${exec === LIMIT ? 'limit' : 'trigger'})`);
    else if (price !== undefined) throw new BacktestError(`${what}({ type: '${type}' }) takes no price; a price is for limit, stop and stop_limit orders.`);
    if (exec === STOP_LIMIT) checkPrice(opts?.limit, `${what}({ type: 'stop_limit' }) needs a limit > 0 (the limit price once triggered)`);
    else if (opts?.limit !== undefined) throw new BacktestError(`${what}({ type: '${type}' }) takes no limit; a limit is for stop_limit orders.`);
    if (exec === STOP_TRAIL) {
      const p = opts?.trailPercent;
      const a = opts?.trailAmount;
      const okP = p !== undefined && Number.isFinite(p) && p > 0 && p < 1;
      const okA = a !== undefined && Number.isFinite(a) && a > 0;
      if (okP === okA || (p !== undefined && a !== undefined)) {
        throw new BacktestError(`${what}({ type: 'stop_trail' }) needs one of trailPercent (a fraction in (0, 1), 0.05 = 5%) or trailAmount (a price amount > 0).`);
      }
    }
    px.exec = exec;
    px.price = needPrice ? price! : c;
    px.plimit = exec === STOP_LIMIT ? opts!.limit! : needPrice ? price! : c;
  }

  private feed(f: number, what: string): FeedState {
    const feed = this.datas[f];
    if (!feed) throw new BacktestError(`${what}(): there is no data ${JSON.stringify(f)}; the strategy has ${this.datas.length} (0 to ${this.datas.length - 1}).`);
    if (feed.i < 0) throw new BacktestError(`${what}(): data ${f} (${feed.data.file}) has no bar yet at this tick; wait until datas[${f}].i >= 0.`);
    return feed;
  }

  // -- data 0's indicators ----------------------------------------------------------------------

  warmup(index: number): void {
    this.d0.warmup(index);
  }
  sma(period: number, source?: PriceField): Float64Array {
    return this.d0.sma(period, source);
  }
  ema(period: number, source?: PriceField): Float64Array {
    return this.d0.ema(period, source);
  }
  smma(period: number, source?: PriceField): Float64Array {
    return this.d0.smma(period, source);
  }
  rsi(period: number, source?: PriceField): Float64Array {
    return this.d0.rsi(period, source);
  }
  atr(period: number): Float64Array {
    return this.d0.atr(period);
  }
  trueRange(): Float64Array {
    return this.d0.trueRange();
  }
  bollinger(period: number, devfactor: number, source?: PriceField): ind.Bands {
    return this.d0.bollinger(period, devfactor, source);
  }
  stddev(period: number, source?: PriceField): Float64Array {
    return this.d0.stddev(period, source);
  }
  macd(fast?: number, slow?: number, signal?: number, source?: PriceField): ind.Macd {
    return this.d0.macd(fast, slow, signal, source);
  }
  stochastic(period?: number, pfast?: number, pslow?: number): ind.Stochastic {
    return this.d0.stochastic(period, pfast, pslow);
  }
  donchian(period: number): ind.Channel {
    return this.d0.donchian(period);
  }
  highest(period: number, source?: PriceField): Float64Array {
    return this.d0.highest(period, source);
  }
  lowest(period: number, source?: PriceField): Float64Array {
    return this.d0.lowest(period, source);
  }
  roc(period: number, source?: PriceField): Float64Array {
    return this.d0.roc(period, source);
  }
  crossover(a: Float64Array, b: Float64Array): Float64Array {
    return this.d0.crossover(a, b);
  }
  nextOnlyOn(signal: Float64Array, when?: 'always' | 'flat'): void {
    if (this.datas.length > 1) throw new BacktestError('nextOnlyOn() works with one feed only; this strategy has several.');
    this.d0.nextOnlyOn(signal, when);
  }
}

/** Adds `o` to the OCO group of `leader` (backtrader `_ocoize`: one group per leader). */
function joinOco(o: Order, leader: OrderRef): void {
  if (!(leader instanceof Order)) throw new BacktestError('oco takes an order returned by buy(), sell() or close().');
  if (!leader.alive) return; // the group is gone: backtrader then starts nothing for it
  if (leader.oco === null) leader.oco = [leader];
  leader.oco.push(o);
  o.oco = leader.oco;
}

function checkPrice(p: number | undefined, what: string): void {
  if (!(typeof p === 'number' && Number.isFinite(p) && p > 0)) throw new BacktestError(`${what}, got ${JSON.stringify(p)}.`);
}

function checkNumber(x: number, what: string): number {
  if (!(typeof x === 'number' && Number.isFinite(x))) throw new BacktestError(`${what} must be a finite number, got ${JSON.stringify(x)}.`);
  return x;
}
