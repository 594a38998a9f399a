/**
 * The general bar loop (oracle README "The bar loop"): any number of feeds on a union clock,
 * signed positions, every order type, protective orders, every commission scheme, slippage.
 * Per tick, in backtrader's order (BackBroker.next, then Strategy._oncepost):
 *   1. the cash check of the orders submitted on the previous tick (broker.checkSubmitted);
 *   2. one walk of the pending queue in queue order: each order is matched against its feed's
 *      current bar (orders/matching.ts) and executed (broker.execute); a fill of an OCO member
 *      cancels the rest of its group at once;
 *   3. futures mark-to-market; 4. the portfolio value;
 *   5. notifications: an entry fill submits its protective orders (stop, take, trail: one OCO
 *      group, live from the next tick), then the strategy's `onOrder` listener;
 *   6. the value is recorded (warm-up included) and `next` runs once every feed is warmed up.
 */
import { barKey, clockOf, stampOf, tickStamp, type Clock } from './clock';
import type { Broker } from './broker/broker';
import type { Slippage } from './broker/slippage';
import type { BarContext, FeedState, OrderSink } from './context';
import type { LoopOutput } from './loop-output';
import { CLOSE_AGO, matchOrder, type BarPrices } from './orders/matching';
import { CLOSE, LIMIT, Order, STOP, STOP_TRAIL, trailAdjust } from './orders/order';
import { CANCELLED, EventQueue, FILLED, OrderQueue, REJECTED } from './orders/queue';
import type { NextFunction, OrderEvent } from './strategy-api';
import type { TradeBook } from './trades';

/** The protective orders every strategy takes, in percent (0 = off). */
export interface Protection {
  stop: number;
  take: number;
  trail: number;
}

const NO_EVENTS = new Float64Array(0);

/** One run of the general loop. */
export class GeneralLoop implements OrderSink {
  tick = 0;
  readonly mult: number;
  readonly margin: number;
  private submitted = new OrderQueue();
  /** The cash check's copy of `submitted` (orders submitted during it wait for the next tick). */
  private checking = new OrderQueue();
  private pending = new OrderQueue();
  /** The other pending buffer: a walk moves the orders that stay from one to the other. */
  private spare = new OrderQueue();
  /** Order events waiting for step 5; those the listener causes wait in `later` for the next tick. */
  private events = new EventQueue();
  private later = new EventQueue();
  /** The queue being walked (step 2) and the position in it. */
  private walking: OrderQueue | null = null;
  private walkAt = 0;
  private readonly protect: (Order[] | null)[];
  private readonly pass: boolean[] = [];
  private readonly closes: Float64Array;
  private readonly bar: BarPrices = { o: 0.5, h: 0.5, l: 0.5, c: 0.5, advanced: false, key: 0.5, createdKey: 0.5 };
  private negativeCashWarned = false;
  readonly warnings: string[] = [];
  readonly clock: Clock;

  constructor(
    readonly feeds: readonly FeedState[],
    readonly broker: Broker,
    private readonly slip: Slippage,
    readonly book: TradeBook,
    private readonly prot: Protection,
  ) {
    this.mult = broker.ci.mult;
    this.margin = broker.ci.stocklike ? 0 : broker.ci.margin;
    this.protect = feeds.map(() => null);
    this.closes = new Float64Array(feeds.length);
    this.clock = clockOf(feeds.map((f) => f.data));
  }

  submit(o: Order): void {
    this.submitted.push(o);
  }

  cancel(o: Order): boolean {
    const k = this.pending.indexOf(o);
    if (k < 0) return false; // backtrader: only orders in the pending queue can be cancelled
    this.pending.removeAt(k);
    this.cancelled(o);
    this.ocoCheck(o);
    return true;
  }

  cancelProtective(f: number): void {
    const group = this.protect[f];
    if (!group) return;
    this.protect[f] = null;
    for (const o of group) if (o.alive) this.cancel(o);
  }

  private cancelled(o: Order): void {
    o.status = 'cancelled';
    this.events.push(CANCELLED, o, this.feeds[o.data]!.i, 0, NaN);
  }

  /**
   * backtrader `_ococheck`: the group of `o` is spent; its other members still in the pending
   * queue are cancelled, from the queue's end (during a walk the queue is the rest of the walk
   * followed by the orders already put back).
   */
  private ocoCheck(o: Order): void {
    const g = o.oco;
    if (g === null) return;
    for (const m of g) m.oco = null;
    const pending = this.pending;
    for (let k = pending.n - 1; k >= 0; k--) {
      const m = pending.get(k);
      if (m !== o && m.status === 'accepted' && g.includes(m)) {
        pending.removeAt(k);
        this.cancelled(m);
      }
    }
    // Then the rest of the walk (before the orders put back in the queue), from its end.
    const w = this.walking;
    if (w === null) return;
    for (let k = w.n - 1; k > this.walkAt; k--) {
      const m = w.get(k);
      if (m !== o && m.status === 'accepted' && g.includes(m)) this.cancelled(m);
    }
  }

  /** Step 1: the cash check of last tick's orders. */
  private checkSubmitted(): void {
    const orders = this.submitted;
    this.submitted = this.checking;
    this.checking = orders;
    if (this.pass.length < orders.n) this.pass.length = orders.n;
    this.broker.checkSubmitted(orders.items, orders.n, this.pass);
    for (let k = 0; k < orders.n; k++) {
      const o = orders.get(k);
      if (o.status !== 'submitted') continue;
      if (this.pass[k]) {
        o.status = 'accepted';
        this.pending.push(o);
      } else this.reject(o, 'submit');
    }
    orders.clear();
  }

  private reject(o: Order, stage: 'submit' | 'exec'): void {
    o.status = 'rejected';
    const feed = this.feeds[o.data]!;
    this.book.reject(o, stage, feed.data, feed.i);
    this.events.push(REJECTED, o, feed.i, 0, NaN);
    this.ocoCheck(o);
  }

  /** Step 2: one walk of the pending queue. */
  private walkPending(): void {
    const queue = this.pending;
    const next = this.spare;
    this.pending = next;
    this.walking = queue;
    for (let k = 0; k < queue.n; k++) {
      this.walkAt = k;
      const o = queue.get(k);
      if (o.status !== 'accepted') continue; // cancelled by an OCO fill earlier in this walk
      const feed = this.feeds[o.data]!;
      const i = feed.i;
      if (i < 0) {
        next.push(o);
        continue;
      }
      const d = feed.data;
      const b = this.bar;
      b.o = d.open[i]!;
      b.h = d.high[i]!;
      b.l = d.low[i]!;
      b.c = d.close[i]!;
      b.advanced = i > o.createdBar;
      if (o.exec === CLOSE) {
        b.key = barKey(d, i);
        b.createdKey = barKey(d, o.createdBar);
      }
      const px = matchOrder(o, b, this.slip);
      if (px !== px) {
        next.push(o);
        continue;
      }
      this.execute(o, feed, px, o.exec === CLOSE && CLOSE_AGO.prev ? i - 1 : i);
    }
    this.walking = null;
    queue.clear();
    this.spare = queue;
  }

  private execute(o: Order, feed: FeedState, px: number, fillBar: number): void {
    const ex = this.broker.execute(o, px);
    const pos = this.broker.positions[o.data]!;
    feed.position = pos.size;
    feed.positionPrice = pos.price;
    if (ex.size !== 0) {
      o.filledSize += ex.size;
      o.filledPrice = px;
      o.commission += ex.closedComm + ex.openedComm;
      this.book.fill(o, ex, feed.data, feed.i, fillBar);
      const entry = ex.opened !== 0 && (ex.before === 0 || ex.closed !== 0) ? ex.opened : 0;
      if (ex.margin) {
        // The closing part of a reversal executed, its opening part did not.
        this.events.push(FILLED, o, fillBar, 0, px);
      } else {
        o.status = 'filled';
        this.events.push(FILLED, o, fillBar, entry, px);
        this.ocoCheck(o);
      }
    }
    if (ex.margin) this.reject(o, 'exec');
  }

  /** Step 5: protective orders of entry fills, then the strategy's listener. */
  private notify(ctx: BarContext): void {
    const events = this.events;
    if (events.n === 0) return;
    // Events the listener causes (a cancel) are delivered on the next tick, as backtrader does.
    this.events = this.later;
    const listener = ctx.listener;
    for (let k = 0; k < events.n; k++) {
      const o = events.orders[k]!;
      if (events.opened[k] !== 0) this.protectEntry(o.data, events.opened[k]!, events.price[k]!);
      if (listener) listener({ status: events.statusName(k), order: o, date: stampOf(this.feeds[o.data]!.data, events.bar[k]!) });
    }
    events.clear();
    this.later = events;
  }

  /**
   * strategies.py rule 2: at an entry fill (tick e) of `opened` units at raw price `F`, one OCO
   * group stop, take, trail for the whole size, accepted at once (no cash check), tried from
   * tick e+1 on.
   */
  private protectEntry(f: number, opened: number, F: number): void {
    const { stop: sl, take: tp, trail: tr } = this.prot;
    if (!sl && !tp && !tr) return;
    const long = opened > 0;
    const group: Order[] = [];
    if (sl) group.push(this.protective(f, opened, STOP, long ? F * (1.0 - sl / 100.0) : F * (1.0 + sl / 100.0), 0, 'stop'));
    if (tp) group.push(this.protective(f, opened, LIMIT, long ? F * (1.0 + tp / 100.0) : F * (1.0 - tp / 100.0), 0, 'take'));
    if (tr) {
      const o = this.protective(f, opened, STOP_TRAIL, long ? -Infinity : Infinity, tr / 100.0, 'trail');
      trailAdjust(o, o.createdClose);
      group.push(o);
    }
    for (const o of group) {
      o.oco = group.length > 1 ? group : null;
      o.status = 'accepted';
      this.pending.push(o);
    }
    this.protect[f] = group;
  }

  /** One protective order of feed f against a position opened by `opened` units (no cash check). */
  private protective(f: number, opened: number, exec: number, price: number, trail: number, kind: 'stop' | 'take' | 'trail'): Order {
    const feed = this.feeds[f]!;
    const i = feed.i;
    const size = -opened; // the other side of the position
    return new Order(f, size, exec, price, price, trail, 0, i, feed.data.close[i]!, kind, null, false);
  }

  /**
   * Runs the loop: `start[f]` is feed f's warm-up (its own bar index where `next` may begin).
   * `values`/`cashes` receive the value (and cash) of every tick.
   */
  run(ctx: BarContext, next: NextFunction, values: Float64Array, cashes: Float64Array | undefined): LoopOutput {
    const clock = this.clock;
    const T = clock.ticks;
    const feeds = this.feeds;
    const nf = feeds.length;
    const broker = this.broker;
    const closes = this.closes;
    const startTick = firstTick(clock, feeds);
    // The gate of `nextOnlyOn` (one feed: ticks are data 0's bars).
    const f0 = feeds[0]!;
    const gate = nf === 1 ? f0.gate : null;
    const gateFlatOnly = f0.gateFlatOnly;
    const ev = nf === 1 ? f0.gateEvents() : null;
    const eventAt = ev === null ? NO_EVENTS : ev.at;
    const eventCount = ev === null ? 0 : ev.count;
    const quietOk = nf === 1 && broker.ci.stocklike;
    const c0 = f0.data.close;
    let e = 0;
    let inMarket = 0;
    for (let t = 0; t < T; ) {
      this.tick = t;
      if (nf === 1) {
        // One feed: ticks are its bars.
        f0.i = t;
        closes[0] = c0[t]!;
      } else this.advance(t);
      if (this.submitted.n) this.checkSubmitted();
      if (this.pending.n) this.walkPending();
      broker.markToMarket(closes);
      const value = broker.value(closes);
      ctx.tick = t;
      ctx.cash = broker.cash;
      ctx.value = value;
      this.notify(ctx);
      values[t] = value;
      if (cashes) cashes[t] = broker.cash;
      if (this.inMarket()) inMarket++;
      if ((broker.cash < 0 || value < 0) && !this.negativeCashWarned) this.warnNegative(t, value);
      if (t >= startTick && (gate === null || gate[t] !== 0 || (gateFlatOnly && f0.position !== 0))) {
        next(ctx);
      }
      t++;
      if (!quietOk || this.submitted.n || this.pending.n || this.events.n) continue;
      // Quiet ticks (one stock feed, no order anywhere, no `next` call): only the value moves.
      let j = t < startTick ? Math.min(startTick, T) : t;
      if (gate !== null && !(gateFlatOnly && f0.position !== 0)) {
        while (e < eventCount && eventAt[e]! < j) e++;
        j = e < eventCount ? eventAt[e]! : T;
      }
      if (j <= t) continue;
      const held = f0.position !== 0;
      valueQuiet(values, f0.data.close, t, j, broker.cash, f0.position, f0.positionPrice);
      if (cashes) cashes.fill(broker.cash, t, j);
      if (held) inMarket += j - t;
      t = j;
    }
    return {
      values,
      cashes,
      ticks: T,
      dates: clock.date,
      times: clock.time,
      finalCash: broker.cash,
      endSize: broker.positions.map((p) => p.size),
      endPrice: broker.positions.map((p) => p.price),
      pnl: this.book.pnl,
      pnlcomm: this.book.pnlcomm,
      closed: this.book.closed,
      long: this.book.long,
      short: this.book.short,
      rejections: this.book.rejections,
      inMarket,
      firstNext: startTick < T ? startTick : -1,
      trades: this.book.trades,
      fills: this.book.fills,
      rejected: this.book.rejected,
      warnings: this.warnings,
    };
  }

  /** Several feeds: each feed's current bar at tick t, and its close (a feed without a bar keeps its last). */
  private advance(t: number): void {
    const feeds = this.feeds;
    const bar = this.clock.bar;
    for (let f = 0; f < feeds.length; f++) {
      const feed = feeds[f]!;
      const b = bar[f]![t]!;
      feed.i = b;
      this.closes[f] = b >= 0 ? feed.data.close[b]! : 0;
    }
  }

  private inMarket(): boolean {
    const ps = this.broker.positions;
    for (let f = 0; f < ps.length; f++) if (ps[f]!.size !== 0) return true;
    return false;
  }

  /** Once per run: the account went below zero (a short or futures position lost more than it holds). */
  private warnNegative(t: number, value: number): void {
    this.negativeCashWarned = true;
    const when = tickStamp(this.clock, t);
    const why =
      value < 0
        ? `the portfolio value fell below 0 (${value.toFixed(2)}) at ${when}: the positions lost more than the account holds; backtrader keeps them open and rejects (Margin) orders the cash cannot pay, and returns_* are -inf if the run ends below 0`
        : this.broker.ci.stocklike
          ? `cash fell below 0 (${this.broker.cash.toFixed(2)}) at ${when}: a closing fill cost more than the cash (backtrader never refuses the closing part of a fill); it rejects (Margin) new orders until the cash allows`
          : `cash fell below 0 (${this.broker.cash.toFixed(2)}) at ${when}: a margin call — the futures position lost more than the free cash; backtrader keeps it open and rejects new orders until the cash allows`;
    this.warnings.push(`${why}. Use a smaller size, more cash or a stop_loss_pct.`);
  }
}

/** The first tick where every feed has reached its warm-up bar (backtrader's minimum period per data). */
function firstTick(clock: Clock, feeds: readonly FeedState[]): number {
  const T = clock.ticks;
  let t = 0;
  for (let f = 0; f < feeds.length; f++) {
    const bar = clock.bar[f]!;
    const s = feeds[f]!.start;
    while (t < T && bar[t]! < s) t++;
  }
  return t;
}

/** Values of ticks [i, j) of one stock feed held at `pos` (0: flat), with backtrader's expression. */
function valueQuiet(values: Float64Array, c: Float64Array, i: number, j: number, cash: number, pos: number, pp: number): void {
  if (pos === 0) {
    const flat = cash + (0.0 + 0.0);
    for (let k = i; k < j; k++) values[k] = flat;
  } else if (pos > 0) {
    for (let k = i; k < j; k++) {
      const ck = c[k]!;
      const dv = pos * ck;
      const du = pos * (ck - pp) * 1.0;
      let u = 0.0 + (dv - du) / 1.0;
      u = u + du;
      values[k] = cash + u;
    }
  } else {
    for (let k = i; k < j; k++) values[k] = cash + (0.0 + pos * c[k]!);
  }
}
