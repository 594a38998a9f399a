import { builtinParams } from './schema';
import { directionNext } from './rules';
import { crossRules } from './sma-cross';
import type { StrategyDefinition } from '../strategy-api';

/** MACD: long when the MACD line crosses above its signal line; the mirror for shorts. */
export const macdCross: StrategyDefinition = {
  name: 'macd_cross',
  params: builtinParams('macd_cross'),
  setup(ctx, p) {
    const m = ctx.macd(p.fast as number, p.slow as number, p.signal as number);
    const cx = ctx.crossover(m.macd, m.signal);
    // Exact: on a bar where cx is 0 no rule fires, and the rules keep no state.
    ctx.nextOnlyOn(cx);
    return directionNext(crossRules(cx), p);
  },
};
