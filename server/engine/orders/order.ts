/**
 * An order as the broker keeps it: backtrader's Order with the fields the bar loop needs
 * (creation data, execution type, status, OCO group), and the public view a strategy gets.
 */
import type { ExecType, OrderKind } from '../types';

/** Execution types (backtrader `Order.ExecTypes`, in its order). */
export const MARKET = 0;
export const CLOSE = 1;
export const LIMIT = 2;
export const STOP = 3;
export const STOP_LIMIT = 4;
export const STOP_TRAIL = 5;
export const EXEC_NAMES: readonly ExecType[] = ['Market', 'Close', 'Limit', 'Stop', 'StopLimit', 'StopTrail'];

/** What a strategy can see of an order's life. */
export type OrderStatus = 'submitted' | 'accepted' | 'filled' | 'cancelled' | 'rejected';

let nextId = 1;

/** One order. Prices are IEEE doubles as backtrader keeps them; sizes are signed (sell < 0). */
export class Order {
  readonly id = nextId++;
  status: OrderStatus = 'submitted';
  /** Units still to execute (signed; 0 once filled). */
  remaining: number;
  /** backtrader `created.price`: the close at creation (market, close), the limit, or the trigger (stop, stop-limit, trailing). */
  price: number;
  /** The limit of a stop-limit order (`created.pricelimit`). */
  plimit: number;
  /** A stop-limit whose trigger was hit (then it is a limit order). */
  triggered = false;
  /** A Close order's last seen close while it waits for the session end (backtrader `pannotated`). */
  pannotated = NaN;
  /** The OCO group (shared array) this order belongs to, if any. */
  oco: Order[] | null = null;
  /** Fill data, once filled. */
  filledPrice = NaN;
  filledSize = 0;
  commission = 0;

  constructor(
    /** The feed index. */
    readonly data: number,
    /** Signed requested size (buy > 0, sell < 0). */
    readonly size: number,
    readonly exec: number,
    price: number,
    plimit: number,
    /** Trailing distance as a fraction of the close (StopTrail), or 0. */
    readonly trailPercent: number,
    /** Trailing distance as a price amount (StopTrail), or 0. */
    readonly trailAmount: number,
    /** The feed's own bar index at creation. */
    readonly createdBar: number,
    /** backtrader `created.pclose`: the feed's close at creation. */
    readonly createdClose: number,
    readonly kind: OrderKind,
    /** The strategy's label for the exit (`exit_signal`). */
    readonly label: string | null,
    /** Goes through the cash check of the next bar (backtrader `checksubmit`); protective orders skip it. */
    readonly check: boolean,
  ) {
    this.remaining = size;
    this.price = price;
    this.plimit = plimit;
  }

  get isBuy(): boolean {
    return this.size > 0;
  }

  /** Still able to execute (submitted or accepted). */
  get alive(): boolean {
    return this.status === 'submitted' || this.status === 'accepted';
  }

  get execType(): ExecType {
    return EXEC_NAMES[this.exec]!;
  }
}

/** backtrader `StopTrail.trailadjust(price)`: moves the trigger with `price`, only in the order's favour. */
export function trailAdjust(o: Order, price: number): void {
  const amount = o.trailAmount ? o.trailAmount : o.trailPercent ? price * o.trailPercent : 0.0;
  if (o.isBuy) {
    const x = price + amount;
    if (x < o.price) o.price = x;
  } else {
    const x = price - amount;
    if (x > o.price) o.price = x;
  }
}
