/**
 * The common machinery of the single-feed built-ins (oracle strategies.py `OracleStrategy`):
 * a strategy gives its entry and exit rules for both sides, and `direction` picks how they
 * trade (rule 7): `long` and `short` use one side; `both` enters long first when flat, and a
 * signal for the other side while in a position reverses it (cancel the protective orders,
 * close at the next open with exit reason `reverse`, then enter the other side, sized on this
 * bar). Protective orders (stop_loss_pct, …) are the engine's, for every strategy.
 */
import type { BarContext } from '../context';
import type { NextFunction, StrategyContext, StrategyParams } from '../strategy-api';

/** A built-in's signals on bar i (a feed index); exits return their label (`cross`, `mid`, …) or null. */
export interface SignalRules {
  longEntry(i: number): boolean;
  longExit(i: number): string | null;
  shortEntry(i: number): boolean;
  shortExit(i: number): string | null;
  /** Called right after an entry order was created on bar i (ema_atr sets its levels here). */
  onEntry?(sign: 1 | -1, i: number): void;
}

export type Direction = 'long' | 'short' | 'both';

/** The `next` of `rules` for `p.direction` (default long). */
export function directionNext(rules: SignalRules, p: StrategyParams): NextFunction {
  const d = (p.direction ?? 'long') as Direction;
  if (d === 'short') return shortNext(rules);
  if (d === 'both') return bothNext(rules);
  return longNext(rules);
}

function longNext(r: SignalRules): NextFunction {
  const on = r.onEntry;
  return (b) => {
    const i = b.i;
    if (b.position === 0) {
      if (r.longEntry(i) && b.buy() !== null && on) on(1, i);
    } else {
      const lab = r.longExit(i);
      if (lab !== null) b.close(lab);
    }
  };
}

function shortNext(r: SignalRules): NextFunction {
  const on = r.onEntry;
  return (b) => {
    const i = b.i;
    if (b.position === 0) {
      if (r.shortEntry(i) && b.sell() !== null && on) on(-1, i);
    } else if (b.position < 0) {
      const lab = r.shortExit(i);
      if (lab !== null) b.close(lab);
    }
  };
}

function bothNext(r: SignalRules): NextFunction {
  const enter = (b: BarContext, sign: 1 | -1, i: number): void => {
    if (b.order(sign, undefined, 'entry') !== null && r.onEntry) r.onEntry(sign, i);
  };
  return (ctx: StrategyContext) => {
    const b = ctx as BarContext;
    const i = b.i;
    const pos = b.position;
    if (pos === 0) {
      if (r.longEntry(i)) enter(b, 1, i);
      else if (r.shortEntry(i)) enter(b, -1, i);
    } else if (pos > 0) {
      if (r.shortEntry(i)) {
        b.closeAs(0, 'reverse', null);
        enter(b, -1, i);
      } else {
        const lab = r.longExit(i);
        if (lab !== null) b.close(lab);
      }
    } else if (r.longEntry(i)) {
      b.closeAs(0, 'reverse', null);
      enter(b, 1, i);
    } else {
      const lab = r.shortExit(i);
      if (lab !== null) b.close(lab);
    }
  };
}
