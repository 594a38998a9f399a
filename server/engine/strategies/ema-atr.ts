import { builtinParams } from './schema';
import { directionNext } from './rules';
import type { StrategyDefinition } from '../strategy-api';

/**
 * EMA crossover entries; exits at an ATR stop, an ATR target or the opposite cross (market
 * orders at the next open). The levels come from the signal bar's close and ATR (not the fill
 * price), as in the golden runs; shorts mirror them.
 */
export const emaAtr: StrategyDefinition = {
  name: 'ema_atr',
  params: builtinParams('ema_atr'),
  setup(ctx, p) {
    const c = ctx.data.close;
    const cx = ctx.crossover(ctx.ema(p.ema_fast as number), ctx.ema(p.ema_slow as number));
    const atr = ctx.atr(p.atr_period as number);
    const sl = p.atr_sl_multiplier as number;
    const tp = p.atr_tp_multiplier as number;
    // Exact: while flat, a bar where cx is 0 enters nothing and touches no level (they are set
    // only at an entry, which needs cx != 0); in a position every bar is checked.
    ctx.nextOnlyOn(cx, 'flat');
    // The open trade's [stop, target] in an array of doubles (stored unboxed): captured `let`
    // numbers were boxed anew at each entry, garbage on every trade of every grid backtest.
    const lv = [NaN, NaN];
    return directionNext(
      {
        longEntry: (i) => cx[i]! > 0,
        longExit: (i) => {
          const ci = c[i]!;
          return ci <= lv[0]! ? 'stop' : ci >= lv[1]! ? 'target' : cx[i]! < 0 ? 'cross' : null;
        },
        shortEntry: (i) => cx[i]! < 0,
        shortExit: (i) => {
          const ci = c[i]!;
          return ci >= lv[0]! ? 'stop' : ci <= lv[1]! ? 'target' : cx[i]! > 0 ? 'cross' : null;
        },
        onEntry: (sign, i) => {
          const ci = c[i]!;
          const a = atr[i]!;
          lv[0] = sign > 0 ? ci - sl * a : ci + sl * a;
          lv[1] = sign > 0 ? ci + tp * a : ci - tp * a;
        },
      },
      p,
    );
  },
};
