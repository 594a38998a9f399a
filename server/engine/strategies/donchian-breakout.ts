import { builtinParams } from './schema';
import { directionNext } from './rules';
import { runScratch } from '../scratch';
import type { StrategyDefinition } from '../strategy-api';

/**
 * Donchian (turtle-style) breakout: long when the close exceeds the highest high of the
 * previous `entry` bars, exit when it falls below the lowest low of the previous `exit` bars;
 * shorts mirror it (below the lowest low of `entry` bars, exit above the highest high of `exit`).
 */
export const donchianBreakout: StrategyDefinition = {
  name: 'donchian_breakout',
  params: builtinParams('donchian_breakout'),
  setup(ctx, p) {
    const c = ctx.data.close;
    const entry = p.entry as number;
    const exit = p.exit as number;
    const dir = p.direction ?? 'long';
    const hiE = ctx.highest(entry, 'high');
    const loX = ctx.lowest(exit, 'low');
    const loE = dir === 'long' ? loX : ctx.lowest(entry, 'low');
    const hiX = dir === 'long' ? hiE : ctx.highest(exit, 'high');
    // The channels of the previous bar are read, so wait one bar more than they need.
    ctx.warmup(Math.max(entry, exit));
    // Exact: the rules act only on a bar where one of their tests passes, and keep no state.
    const n = ctx.bars;
    const sig = runScratch.take(n); // valid for this run; every element written below
    if (n > 0) sig[0] = 0; // before the warm-up (≥ 1): never called
    for (let i = 1; i < n; i++) {
      const x = c[i]!;
      sig[i] = x > hiE[i - 1]! || x < loX[i - 1]! || x < loE[i - 1]! || x > hiX[i - 1]! ? 1 : 0;
    }
    ctx.nextOnlyOn(sig);
    return directionNext(
      {
        longEntry: (i) => c[i]! > hiE[i - 1]!,
        longExit: (i) => (c[i]! < loX[i - 1]! ? 'channel' : null),
        shortEntry: (i) => c[i]! < loE[i - 1]!,
        shortExit: (i) => (c[i]! > hiX[i - 1]! ? 'channel' : null),
      },
      p,
    );
  },
};
