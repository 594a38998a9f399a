/**
 * The SMA crossover written as a user module: the same rules as the built-in `sma_cross`,
 * so it gives the same numbers (OptStudy's tests check it against backtrader's goldens).
 */
import type { StrategyDefinition } from './optstudy-strategy';

export default {
  name: 'my_sma_cross',
  doc: 'Long when SMA(fast) crosses above SMA(slow); flat when it crosses below.',
  params: [
    { name: 'fast', type: 'int', default: 10, min: 1, doc: 'Period of the fast SMA, in bars.' },
    { name: 'slow', type: 'int', default: 30, min: 1, doc: 'Period of the slow SMA, in bars.' },
  ],
  setup(ctx, p) {
    const cross = ctx.crossover(ctx.sma(Number(p.fast)), ctx.sma(Number(p.slow)));
    return (bar) => {
      if (bar.position === 0 && cross[bar.i]! > 0) bar.buy();
      else if (bar.position > 0 && cross[bar.i]! < 0) bar.close('cross');
    };
  },
} satisfies StrategyDefinition;
