import { builtinParams } from './schema';
import type { StrategyDefinition } from '../strategy-api';

/** SMA crossover: long when SMA(fast) crosses above SMA(slow), flat when it crosses below. */
export const smaCross: StrategyDefinition = {
  name: 'sma_cross',
  params: builtinParams('sma_cross'),
  setup(ctx, p) {
    const cx = ctx.crossover(ctx.sma(p.fast as number), ctx.sma(p.slow as number));
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
