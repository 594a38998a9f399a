/**
 * Cash and positions, as backtrader's BackBroker keeps them (oracle README "Commission, cash
 * and value"): the execution of a fill (`_execute`), the cash check of submitted orders
 * (`check_submitted`), the futures mark-to-market and the portfolio value. Every float
 * expression keeps backtrader's order and grouping.
 */
import type { Order } from '../orders/order';
import type { CommInfo } from './commission';

/** One feed's position. */
export class Position {
  size = 0;
  price = 0.0;
  /** Futures: the price cash was last adjusted to. */
  adjbase = 0.0;
}

/** What one execution did (the parts of backtrader's OrderExecutionBit the records need). */
export interface Execution {
  /** Executed signed size (closed + opened); 0 when nothing executed. */
  size: number;
  price: number;
  closed: number;
  opened: number;
  closedValue: number;
  openedValue: number;
  closedComm: number;
  openedComm: number;
  /** Position size before and after. */
  before: number;
  after: number;
  /** The opening part was refused for lack of cash (status Margin). */
  margin: boolean;
}

/** The broker of one backtest. */
export class Broker {
  cash: number;
  readonly positions: Position[];
  /** Filled by `execute` (one execution at a time). */
  readonly ex: Execution = { size: 0, price: 0, closed: 0, opened: 0, closedValue: 0, openedValue: 0, closedComm: 0, openedComm: 0, before: 0, after: 0, margin: false };

  private readonly scratch: Position[];
  private readonly seen: Uint8Array;

  constructor(
    cash: number,
    feeds: number,
    readonly ci: CommInfo,
  ) {
    this.cash = cash * 1;
    this.positions = Array.from({ length: feeds }, () => new Position());
    this.scratch = Array.from({ length: feeds }, () => new Position());
    this.seen = new Uint8Array(feeds);
  }

  /**
   * Executes `o`'s remaining size at `px` (backtrader `_execute` with ago = 0). The closing part
   * always executes; the opening part is refused (status Margin) when it would leave cash < 0.
   */
  execute(o: Order, px: number): Execution {
    const ci = this.ci;
    const pos = this.positions[o.data]!;
    const size = o.remaining;
    const s = pos.size;
    const closed = closedPart(s, size);
    const opened = size - closed;
    const ppOrig = pos.price;
    let cash = this.cash;
    const ex = this.ex;
    ex.before = s;
    ex.margin = false;
    ex.closedValue = ex.closedComm = ex.openedValue = ex.openedComm = 0.0;
    if (closed !== 0) {
      const pnl = ci.pnl(-closed, ppOrig, px);
      const cv = ci.vs(-closed, ppOrig);
      cash += cv + (ci.stocklike ? pnl : 0);
      const cc = ci.comm(closed, px);
      cash -= cc;
      if (!ci.stocklike) cash += ci.cashAdjust(-closed, pos.adjbase, px);
      this.cash = cash;
      ex.closedValue = cv;
      ex.closedComm = cc;
    }
    let op = opened;
    if (opened !== 0) {
      const ov = ci.vs(opened, px);
      cash -= ov;
      const oc = ci.comm(opened, px);
      cash -= oc;
      if (cash < 0.0) {
        op = 0;
        ex.margin = true;
      } else {
        const psize = s + size;
        // Futures added to an open position: its old part is first marked to this price.
        if (!ci.stocklike && Math.abs(psize) > Math.abs(opened)) cash += ci.cashAdjust(psize - opened, pos.adjbase, px);
        pos.adjbase = px;
        this.cash = cash;
        ex.openedValue = ov;
        ex.openedComm = oc;
      }
    }
    const exec = closed + op;
    ex.size = exec;
    ex.price = px;
    ex.closed = closed;
    ex.opened = op;
    if (exec !== 0) {
      updatePosition(pos, exec, px);
      o.remaining -= exec;
    }
    ex.after = pos.size;
    return ex;
  }

  /**
   * backtrader `check_submitted`: the orders submitted on the previous tick, pseudo-executed in
   * order at their created price with a running cash and scratch positions. Returns, per order,
   * whether it passes; a failed order's effect stays on the running cash.
   */
  checkSubmitted(orders: readonly (Order | undefined)[], n: number, pass: boolean[]): void {
    const ci = this.ci;
    let cash = this.cash;
    // Scratch copies of the positions, reused (one per feed; `seen` marks the ones copied).
    const scratch = this.scratch;
    const seen = this.seen;
    seen.fill(0);
    for (let k = 0; k < n; k++) {
      const o = orders[k]!;
      const pos = scratch[o.data]!;
      if (!seen[o.data]) {
        const real = this.positions[o.data]!;
        pos.size = real.size;
        pos.price = real.price;
        seen[o.data] = 1;
      }
      const px = o.price;
      const size = o.remaining;
      const closed = closedPart(pos.size, size);
      const opened = size - closed;
      updatePosition(pos, size, px);
      if (closed !== 0) {
        cash += ci.vs(-closed, px) + 0;
        cash -= ci.comm(closed, px);
      }
      if (opened !== 0) {
        cash -= ci.vs(opened, px);
        cash -= ci.comm(opened, px);
      }
      pass[k] = cash >= 0.0;
    }
  }

  /** Futures: every open position's cash moves with the close (`cashadjust` to C, base = C). */
  markToMarket(closes: ArrayLike<number>): void {
    const ci = this.ci;
    if (ci.stocklike) return;
    const ps = this.positions;
    for (let f = 0; f < ps.length; f++) {
      const p = ps[f]!;
      if (p.size !== 0) {
        const c = closes[f]!;
        this.cash += ci.cashAdjust(p.size, p.adjbase, c);
        p.adjbase = c;
      }
    }
  }

  /** backtrader `_get_value`: cash plus each feed's position at its last close (`closes[f]`), in feed order. */
  value(closes: ArrayLike<number>): number {
    const ci = this.ci;
    const ps = this.positions;
    let u = 0.0;
    for (let f = 0; f < ps.length; f++) {
      const p = ps[f]!;
      const c = closes[f]!;
      const dv = ci.vs(p.size, c);
      const du = p.size === 0 ? 0 : ci.pnl(p.size, p.price, c);
      if (dv > 0) {
        u = u + (dv - du) / 1.0;
        u = u + du;
      } else u = u + dv;
    }
    return this.cash + u;
  }
}

/** The part of `q` that reduces position `s` (with q's sign); the rest, `q - closed`, opens. */
function closedPart(s: number, q: number): number {
  if (s === 0 || (s > 0) === (q > 0)) return 0;
  const n = s + q;
  if (n === 0 || (n > 0) === (s > 0)) return q;
  return -s;
}

/** backtrader `Position.update`: the new size and price of a position after `q` at `px`. */
function updatePosition(p: Position, q: number, px: number): void {
  const old = p.size;
  const n = old + q;
  p.size = n;
  if (n === 0) p.price = 0.0;
  else if (old === 0) p.price = px;
  else if ((old > 0 && q > 0) || (old < 0 && q < 0)) p.price = (p.price * old + q * px) / n;
  else if ((old > 0 && n < 0) || (old < 0 && n > 0)) p.price = px;
}
