import { builtinParams } from './schema';
import { runScratch } from '../scratch';
import type { StrategyDefinition } from '../strategy-api';

/**
 * Donchian (turtle-style) breakout: buy when the close exceeds the highest high of the previous
 * `entry` bars, sell when it falls below the lowest low of the previous `exit` bars.
 */
export const donchianBreakout: StrategyDefinition = {
  name: 'donchian_breakout',
  params: builtinParams('donchian_breakout'),
  setup(ctx, p) {
    const c = ctx.data.close;
    const entry = p.entry as number;
    const exit = p.exit as number;
    const hi = ctx.highest(entry, 'high');
    const lo = ctx.lowest(exit, 'low');
    // The channels of the previous bar are read, so wait one bar more than they need.
    ctx.warmup(Math.max(entry, exit));
    // Exact: next acts only on a bar where one of its two tests passes, and keeps no state.
    const n = ctx.bars;
    const sig = runScratch.take(n); // valid for this run; every element written below
    if (n > 0) sig[0] = 0; // before the warm-up (≥ 1): never called
    for (let i = 1; i < n; i++) {
      const x = c[i]!;
      sig[i] = x > hi[i - 1]! || x < lo[i - 1]! ? 1 : 0;
    }
    ctx.nextOnlyOn(sig);
    return (b) => {
      const i = b.i;
      if (b.position === 0) {
        if (c[i]! > hi[i - 1]!) b.buy();
      } else if (c[i]! < lo[i - 1]!) b.close('channel');
    };
  },
};
