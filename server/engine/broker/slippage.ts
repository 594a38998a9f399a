/**
 * Slippage as backtrader's BackBroker applies it with `set_slippage_perc` / `set_slippage_fixed`
 * and their defaults (`slip_open`, `slip_limit`, `slip_match` on; `slip_out` off): a price moved
 * against the order, capped at the bar's high (buys) or floored at its low (sells). Without
 * slippage every price is returned as it is.
 */
import { BacktestError, type SlippageScheme } from '../types';

/** True when the scheme moves any price (what `new Slippage(s).on` says, without the object). */
export function slippageOn(s: SlippageScheme | null | undefined): boolean {
  return (s?.kind === 'percent' ? s.rate : 0.0) !== 0 || (s?.kind === 'fixed' ? s.amount : 0.0) !== 0;
}

/** The slippage of one backtest. */
export class Slippage {
  private readonly perc: number;
  private readonly fixed: number;
  /** True when any slippage applies. */
  readonly on: boolean;

  constructor(s: SlippageScheme | null | undefined) {
    this.perc = s?.kind === 'percent' ? s.rate : 0.0;
    this.fixed = s?.kind === 'fixed' ? s.amount : 0.0;
    this.on = slippageOn(s);
  }

  /** backtrader `_slip_up(pmax, price)`: a buy's price, worse by the slippage, at most `pmax`. */
  up(pmax: number, price: number): number {
    let p: number;
    if (this.perc) p = price * (1 + this.perc);
    else if (this.fixed) p = price + this.fixed;
    else return price;
    return p <= pmax ? p : pmax;
  }

  /** backtrader `_slip_down(pmin, price)`: a sell's price, worse by the slippage, at least `pmin`. */
  down(pmin: number, price: number): number {
    let p: number;
    if (this.perc) p = price * (1 - this.perc);
    else if (this.fixed) p = price - this.fixed;
    else return price;
    return p >= pmin ? p : pmin;
  }
}

/** Checks a slippage setting. @throws BacktestError when out of range. */
export function checkSlippage(s: SlippageScheme | null | undefined): void {
  if (s === null || s === undefined) return;
  if (s.kind === 'percent') {
    if (!(Number.isFinite(s.rate) && s.rate >= 0 && s.rate < 1)) throw new BacktestError(`slippage must be a fraction between 0 and 1 (0.0005 = 0.05%), got ${s.rate}.`);
  } else if (s.kind === 'fixed') {
    if (!(Number.isFinite(s.amount) && s.amount >= 0)) throw new BacktestError(`fixed slippage must be a price amount >= 0 (e.g. 0.02), got ${s.amount}.`);
  } else throw new BacktestError(`slippage must be { kind: 'percent', rate } or { kind: 'fixed', amount }, got ${JSON.stringify(s)}.`);
}
