import { builtinParams } from './schema';
import { directionNext } from './rules';
import type { StrategyDefinition } from '../strategy-api';

/**
 * Bollinger Bands. `reversion`: long below the lower band, exit above the middle; short above
 * the upper band, exit below the middle. `breakout`: long above the upper band, exit below the
 * middle; short below the lower band, exit above the middle (`boll` in the golden files).
 */
export const bollinger: StrategyDefinition = {
  name: 'bollinger',
  aliases: ['boll'],
  params: builtinParams('bollinger'),
  setup(ctx, p) {
    const c = ctx.data.close;
    const { mid, top, bot } = ctx.bollinger(p.period as number, p.devfactor as number);
    const breakout = p.mode === 'breakout';
    const above = (i: number, band: Float64Array) => c[i]! > band[i]!;
    const below = (i: number, band: Float64Array) => c[i]! < band[i]!;
    return directionNext(
      breakout
        ? {
            longEntry: (i) => above(i, top),
            longExit: (i) => (below(i, mid) ? 'mid' : null),
            shortEntry: (i) => below(i, bot),
            shortExit: (i) => (above(i, mid) ? 'mid' : null),
          }
        : {
            longEntry: (i) => below(i, bot),
            longExit: (i) => (above(i, mid) ? 'mid' : null),
            shortEntry: (i) => above(i, top),
            shortExit: (i) => (below(i, mid) ? 'mid' : null),
          },
      p,
    );
  },
};
