/**
 * Commission schemes as backtrader's CommInfoBase computes them (oracle README "Commission,
 * cash and value"): the commission of a fill, the cash value of a size (`getvaluesize`), the
 * profit and loss of a price move and the futures cash adjustment. Stock-like schemes have
 * `mult` 1.0 and no margin; a futures scheme (`per_contract`) values a position at its margin.
 */
import { BacktestError, type CommissionScheme } from '../types';

/** The broker's view of one commission scheme (one per backtest: every feed uses it). */
export class CommInfo {
  /** Stock-like (percent, per share) or futures-like (per contract). */
  readonly stocklike: boolean;
  /** Contract multiplier (1.0 for stock-like schemes). */
  readonly mult: number;
  /** Cash held per contract (futures only). */
  readonly margin: number;
  /** Percent: the fraction of value; fixed: the amount per unit. */
  private readonly rate: number;
  private readonly perc: boolean;

  constructor(readonly scheme: CommissionScheme) {
    this.stocklike = scheme.kind !== 'per_contract';
    this.perc = scheme.kind === 'percent';
    this.rate = scheme.kind === 'percent' ? scheme.rate : scheme.amount;
    this.mult = scheme.kind === 'per_contract' ? scheme.mult : 1.0;
    this.margin = scheme.kind === 'per_contract' ? scheme.margin : 0;
  }

  /** Commission of `q` units at `p`: `abs(q) * r * p` (percent) or `abs(q) * a` (fixed). */
  comm(q: number, p: number): number {
    return this.perc ? Math.abs(q) * this.rate * p : Math.abs(q) * this.rate;
  }

  /** backtrader `getvaluesize`: `q * p` for stock-like (negative for a short), `abs(q) * margin` for futures. */
  vs(q: number, p: number): number {
    return this.stocklike ? q * p : Math.abs(q) * this.margin;
  }

  /** backtrader `profitandloss`: `q * (p1 - p0) * mult`. */
  pnl(q: number, p0: number, p1: number): number {
    return q * (p1 - p0) * this.mult;
  }

  /** backtrader `cashadjust`: futures move cash with the price, `q * (p1 - p0) * mult`; stocks do not. */
  cashAdjust(q: number, p0: number, p1: number): number {
    return this.stocklike ? 0.0 : q * (p1 - p0) * this.mult;
  }
}

function bad(what: string): never {
  throw new BacktestError(what);
}

/** The scheme of a config value: a bare number is a percent fraction. @throws BacktestError when out of range. */
export function commissionScheme(c: number | CommissionScheme): CommissionScheme {
  const s: CommissionScheme = typeof c === 'number' ? { kind: 'percent', rate: c } : c;
  switch (s?.kind) {
    case 'percent':
      if (!(Number.isFinite(s.rate) && s.rate >= 0 && s.rate < 1)) bad(`commission must be a fraction between 0 and 1 (0.001 = 0.1%), got ${s.rate}.`);
      break;
    case 'per_share':
      if (!(Number.isFinite(s.amount) && s.amount >= 0)) bad(`commission per share must be an amount >= 0 (e.g. 0.005), got ${s.amount}.`);
      break;
    case 'per_contract':
      if (!(Number.isFinite(s.amount) && s.amount >= 0)) bad(`commission per contract must be an amount >= 0 (e.g. 2.5), got ${s.amount}.`);
      if (!(Number.isFinite(s.margin) && s.margin > 0)) bad(`a per-contract commission needs a margin > 0 (the cash held per contract, e.g. margin 2000), got ${s.margin}.`);
      if (!(Number.isFinite(s.mult) && s.mult > 0)) bad(`a per-contract commission needs a multiplier > 0 (e.g. mult 10), got ${s.mult}.`);
      break;
    default:
      bad(`commission must be a fraction (0.001) or { kind: 'percent' | 'per_share' | 'per_contract', … }, got ${JSON.stringify(c)}.`);
  }
  return s;
}
