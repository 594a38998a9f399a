import { builtinParams } from './schema';
import type { StrategyDefinition } from '../strategy-api';

/**
 * EMA crossover entries; exits at an ATR stop, an ATR target or the opposite cross. The levels
 * come from the signal bar's close and ATR (not the fill price), as in the golden runs.
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
    // Exact: while flat, a bar where cx is 0 neither buys nor touches stop/target (they are set
    // only on a buy, which needs cx > 0); while long, every bar is checked.
    ctx.nextOnlyOn(cx, 'flat');
    let stop = NaN;
    let target = NaN;
    return (b) => {
      const i = b.i;
      const ci = c[i]!;
      if (b.position === 0) {
        if (cx[i]! > 0 && b.buy()) {
          stop = ci - sl * atr[i]!;
          target = ci + tp * atr[i]!;
        }
      } else if (ci <= stop) b.close('stop');
      else if (ci >= target) b.close('target');
      else if (cx[i]! < 0) b.close('cross');
    };
  },
};
