import { builtinParams } from './schema';
import type { StrategyDefinition } from '../strategy-api';

/** MACD: long when the MACD line crosses above its signal line, flat when it crosses below. */
export const macdCross: StrategyDefinition = {
  name: 'macd_cross',
  params: builtinParams('macd_cross'),
  setup(ctx, p) {
    const m = ctx.macd(p.fast as number, p.slow as number, p.signal as number);
    const cx = ctx.crossover(m.macd, m.signal);
    // Exact: on a bar where cx is 0 neither branch below acts, and the rule keeps no state.
    ctx.nextOnlyOn(cx);
    return (b) => {
      const x = cx[b.i]!;
      if (b.position === 0) {
        if (x > 0) b.buy();
      } else if (x < 0) b.close('cross');
    };
  },
};
