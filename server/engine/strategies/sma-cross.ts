import { builtinParams } from './schema';
import { directionNext } from './rules';
import type { StrategyDefinition } from '../strategy-api';

/** SMA crossover: long when SMA(fast) crosses above SMA(slow); the mirror for shorts. */
export const smaCross: StrategyDefinition = {
  name: 'sma_cross',
  params: builtinParams('sma_cross'),
  setup(ctx, p) {
    const cx = ctx.crossover(ctx.sma(p.fast as number), ctx.sma(p.slow as number));
    // Exact: on a bar where cx is 0 no rule fires, and the rules keep no state.
    ctx.nextOnlyOn(cx);
    return directionNext(crossRules(cx), p);
  },
};

/** Crossover rules (sma_cross, macd_cross): cross up enters long / exits short, cross down the mirror. */
export function crossRules(cx: Float64Array) {
  return {
    longEntry: (i: number) => cx[i]! > 0,
    longExit: (i: number) => (cx[i]! < 0 ? 'cross' : null),
    shortEntry: (i: number) => cx[i]! < 0,
    shortExit: (i: number) => (cx[i]! > 0 ? 'cross' : null),
  };
}
