/**
 * Order matching against one bar, as backtrader's BackBroker `_try_exec_*` does it (oracle
 * strategies.py rules 3–6): the price an order executes at on a bar with open/high/low/close
 * o, h, l, c, or NaN when it does not execute there. A trailing stop that did not execute
 * moves its trigger with the close here; a stop-limit remembers being triggered.
 */
import type { Slippage } from '../broker/slippage';
import { sessionEnd } from '../clock';
import { CLOSE, LIMIT, MARKET, STOP, STOP_LIMIT, STOP_TRAIL, trailAdjust, type Order } from './order';

/** The bar an order is tried on: its feed's current bar (a feed without a new bar keeps its last). */
export interface BarPrices {
  o: number;
  h: number;
  l: number;
  c: number;
  /** The feed moved to a new bar since the order was created (a market order needs one). */
  advanced: boolean;
  /** Close orders: the bar's key and the key of the order's creation bar (clock.ts). */
  key: number;
  createdKey: number;
}

/** The execution price of `o` on bar `b`, or NaN. May change `o.price` (trailing), `o.triggered`, `o.pannotated`. */
export function matchOrder(o: Order, b: BarPrices, slip: Slippage): number {
  switch (o.exec) {
    case MARKET:
      if (!b.advanced) return NaN; // can only execute after creation time
      return o.isBuy ? slip.up(b.h, b.o) : slip.down(b.l, b.o);
    case CLOSE:
      return matchClose(o, b);
    case LIMIT:
      return matchLimit(o.isBuy, o.price, b, slip);
    case STOP:
    case STOP_TRAIL: {
      const p = matchStop(o.isBuy, o.price, b, slip);
      if (p !== p && o.exec === STOP_TRAIL) trailAdjust(o, b.c);
      return p;
    }
    case STOP_LIMIT:
      return o.triggered ? matchLimit(o.isBuy, o.plimit, b, slip) : matchStopLimit(o, b, slip);
  }
  return NaN;
}

/** Rule 4: a stop at trigger `p`; a gap through it fills at the (slipped) open. */
function matchStop(buy: boolean, p: number, b: BarPrices, slip: Slippage): number {
  if (buy) {
    if (b.o >= p) return slip.up(b.h, b.o);
    if (b.h >= p) return slip.up(b.h, p);
  } else {
    if (b.o <= p) return slip.down(b.l, b.o);
    if (b.l <= p) return slip.down(b.l, p);
  }
  return NaN;
}

/**
 * Rule 5: a limit at `p`; a gap through it fills at the open (slipped, never worse than the
 * limit: a buy is capped at min(high, p), a sell floored at p only), an intrabar touch at p.
 */
function matchLimit(buy: boolean, p: number, b: BarPrices, slip: Slippage): number {
  if (buy) {
    if (p >= b.o) return slip.up(Math.min(b.h, p), b.o);
    if (p >= b.l) return p;
  } else {
    if (p <= b.o) return slip.down(p, b.o);
    if (p <= b.h) return p;
  }
  return NaN;
}

/**
 * backtrader `_try_exec_stoplimit`: once the trigger is crossed the order becomes a limit at
 * `plimit`; on the trigger bar itself only the cases the bar's shape decides are filled.
 */
function matchStopLimit(o: Order, b: BarPrices, slip: Slippage): number {
  const pc = o.price;
  const pl = o.plimit;
  if (o.isBuy) {
    if (b.o >= pc) {
      o.triggered = true;
      return matchLimit(true, pl, b, slip);
    }
    if (b.h >= pc) {
      o.triggered = true;
      if (b.o > b.c) {
        if (pl >= pc) return slip.up(b.h, pc);
        if (pl >= b.c) return pl;
      } else if (pl >= pc) return slip.up(b.h, pc);
    }
  } else {
    if (b.o <= pc) {
      o.triggered = true;
      return matchLimit(false, pl, b, slip);
    }
    if (b.l <= pc) {
      o.triggered = true;
      if (b.o <= b.c) {
        if (pl <= pc) return slip.down(b.l, pc);
        if (pl <= b.c) return pl;
      } else if (pl <= pc) return slip.down(b.l, pc);
    }
  }
  return NaN;
}

/**
 * backtrader `_try_exec_close`: a Close order fills at the close of its session: on daily bars
 * the next bar's close; on intraday bars, seen from the first bar after the creation day, the
 * last close of that day (`pannotated`; the fill is then dated at the previous bar, and
 * CLOSE_AGO.prev says so).
 */
function matchClose(o: Order, b: BarPrices): number {
  const dteos = sessionEnd(b.createdKey);
  if (b.key > b.createdKey && b.key >= dteos) {
    if (o.pannotated === o.pannotated && b.key > dteos) {
      CLOSE_AGO.prev = true;
      return o.pannotated;
    }
    CLOSE_AGO.prev = false;
    return b.c;
  }
  o.pannotated = b.c;
  return NaN;
}

/** Set by a Close order's match: true when it executed at the previous bar's close (dated there). */
export const CLOSE_AGO = { prev: false };
