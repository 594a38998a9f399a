/**
 * Positions' round trips: backtrader's Trade (one per feed at a time, updated by each fill's
 * closing part, then its opening part) and the records the results list — closed trades as
 * the oracle's recorder builds them, fills and rejections. Also the per-trade sums the metrics
 * need (pnl, pnlcomm, long/short counts).
 */
import type { Execution } from './broker/broker';
import type { CommInfo } from './broker/commission';
import type { Order } from './orders/order';
import { stampOf } from './clock';
import type { ExitReason, Fill, PriceData, Rejection, Trade } from './types';

/** backtrader's Trade of one feed. */
interface OpenTrade {
  size: number;
  price: number;
  commission: number;
  pnl: number;
  /** The feed's bar index at the opening fill. */
  barOpen: number;
  /** The record being built (trades are only recorded when asked for). */
  rec: Trade | null;
}

/** A fill's place in time: the feed's bar now (backtrader `len(data)`, for bar lengths), and the dates of the fill and of the order's creation. */
interface FillWhen {
  bar: number;
  date: string;
  created: string;
}

/** Closed trades and fills of one backtest. */
export class TradeBook {
  private readonly open: (OpenTrade | null)[];
  /** Closed trades' pnl and pnlcomm in closing order (the first `closed`). */
  pnl: Float64Array = new Float64Array(64);
  pnlcomm: Float64Array = new Float64Array(64);
  closed = 0;
  long = 0;
  short = 0;
  readonly trades: Trade[] = [];
  readonly fills: Fill[] = [];
  readonly rejected: Rejection[] = [];

  constructor(
    feeds: number,
    private readonly ci: CommInfo,
    /** Build the trade, fill and rejection records (an optimizer only needs the sums). */
    private readonly records: boolean,
    /** Feed names, when there are several (records then carry `data`). */
    private readonly names: readonly string[] | null,
  ) {
    this.open = new Array<OpenTrade | null>(feeds).fill(null);
  }

  /**
   * Records one execution of `o` on `data`, whose bar is `bar` now; the fill is dated at
   * `fillBar` (backtrader `_addnotification` → `Trade.update`, then the recorder).
   */
  fill(o: Order, ex: Execution, data: PriceData, bar: number, fillBar: number): void {
    const f = o.data;
    const when: FillWhen = this.records ? { bar, date: stampOf(data, fillBar), created: stampOf(data, o.createdBar) } : { bar, date: '', created: '' };
    if (this.records) this.fills.push(this.fillRecord(o, ex, when));
    if (ex.closed !== 0) this.reduce(f, o, ex, when);
    if (ex.opened !== 0) this.increase(f, o, ex, when);
  }

  private reduce(f: number, o: Order, ex: Execution, when: FillWhen): void {
    const t = this.open[f]!;
    const q = ex.closed;
    t.commission += ex.closedComm;
    const old = t.size;
    t.size += q;
    t.pnl += this.ci.pnl(-q, t.price, ex.price);
    if (t.rec && this.names) countFill(t.rec, t.size);
    if (t.size !== 0 || old === 0) return;
    const pnlcomm = t.pnl - t.commission;
    this.push(t.pnl, pnlcomm, old > 0);
    if (t.rec) this.trades.push(this.closeRecord(t, o, ex, when, pnlcomm));
    this.open[f] = null;
  }

  private increase(f: number, o: Order, ex: Execution, when: FillWhen): void {
    let t = this.open[f];
    const q = ex.opened;
    if (!t) {
      t = { size: 0, price: 0.0, commission: 0.0, pnl: 0.0, barOpen: when.bar, rec: null };
      this.open[f] = t;
    }
    t.commission += ex.openedComm;
    const old = t.size;
    t.size += q;
    // backtrader: (oldsize * price + size * px) / newsize, also when opening from 0.
    t.price = (old * t.price + q * ex.price) / t.size;
    if (old === 0) {
      if (this.records) t.rec = this.openRecord(o, ex, when);
    } else if (t.rec && this.names) countFill(t.rec, t.size);
  }

  private push(pnl: number, pnlcomm: number, long: boolean): void {
    if (this.closed === this.pnl.length) {
      this.pnl = grow(this.pnl);
      this.pnlcomm = grow(this.pnlcomm);
    }
    this.pnl[this.closed] = pnl;
    this.pnlcomm[this.closed] = pnlcomm;
    this.closed++;
    if (long) this.long++;
    else this.short++;
  }

  private openRecord(o: Order, ex: Execution, when: FillWhen): Trade {
    const r = {
      entry_date: when.date,
      exit_date: '',
      entry_price: NaN,
      exit_price: NaN,
      size: ex.opened,
      pnl: NaN,
      pnlcomm: NaN,
      entry_fill_price: ex.price,
      exit_order_avg_price: NaN,
      commission: NaN,
      entry_comm: 0.0 + ex.openedComm,
      exit_comm: NaN,
      barlen: 0,
      signal_date: when.created,
      exit_signal_date: '',
      direction: ex.opened > 0 ? 'long' : 'short',
      exit_reason: 'signal',
      exit_signal: null,
    } as Trade;
    if (this.names) {
      r.data = this.names[o.data];
      r.n_fills = 1;
      r.max_size = Math.abs(ex.opened);
    }
    return r;
  }

  private closeRecord(t: OpenTrade, o: Order, ex: Execution, when: FillWhen, pnlcomm: number): Trade {
    const r = t.rec!;
    r.exit_date = when.date;
    r.entry_price = t.price;
    r.exit_price = ex.price;
    r.pnl = t.pnl;
    r.pnlcomm = pnlcomm;
    r.exit_order_avg_price = (0.0 + ex.size * ex.price) / ex.size;
    r.commission = t.commission;
    r.exit_comm = 0.0 + ex.closedComm;
    r.barlen = when.bar - t.barOpen;
    r.exit_signal_date = when.created;
    r.exit_reason = exitReason(o, ex);
    r.exit_signal = r.exit_reason === 'signal' ? o.label : null;
    return r;
  }

  private fillRecord(o: Order, ex: Execution, when: FillWhen): Fill {
    const q = ex.size;
    const r: Fill = {
      date: when.date,
      side: o.isBuy ? 'buy' : 'sell',
      size: q,
      price: ex.price,
      avg_price: (0.0 + q * ex.price) / q,
      value: 0.0 + (ex.closedValue + ex.openedValue),
      comm: 0.0 + (ex.closedComm + ex.openedComm),
      created_date: when.created,
      created_price: o.price,
      kind: o.kind,
      exectype: o.execType,
    };
    if (this.names) r.data = this.names[o.data];
    return r;
  }

  /** Records a Margin rejection of `o` (at the cash check, or at the fill). */
  reject(o: Order, stage: 'submit' | 'exec', data: PriceData, bar: number): void {
    this.rejections++;
    if (!this.records) return;
    const r: Rejection = { date: stampOf(data, bar), stage, side: o.isBuy ? 'buy' : 'sell', status: 'Margin', size: o.size, created_date: stampOf(data, o.createdBar), created_price: o.price, kind: o.kind };
    if (this.names) r.data = this.names[o.data];
    this.rejected.push(r);
  }

  /** Number of rejections (also when records are off). */
  rejections = 0;
}

/** Several feeds: one more fill changed the position (now `size`). */
function countFill(r: Trade, size: number): void {
  r.n_fills! += 1;
  if (Math.abs(size) > r.max_size!) r.max_size = Math.abs(size);
}

/** A closing fill's reason: the order's kind (a reversal through zero in one order: `reverse`). */
function exitReason(o: Order, ex: Execution): ExitReason {
  if (ex.opened !== 0) return 'reverse';
  switch (o.kind) {
    case 'stop':
    case 'take':
    case 'trail':
    case 'reverse':
    case 'rebalance':
      return o.kind;
    default:
      return 'signal';
  }
}

function grow(a: Float64Array): Float64Array {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
}
