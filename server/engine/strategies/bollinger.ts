import { builtinParams } from './schema';
import type { StrategyDefinition } from '../strategy-api';

/**
 * Bollinger Bands. `reversion`: buy below the lower band, exit above the middle. `breakout`:
 * buy above the upper band, exit below the middle (`boll` in the golden files).
 */
export const bollinger: StrategyDefinition = {
  name: 'bollinger',
  aliases: ['boll'],
  params: builtinParams('bollinger'),
  setup(ctx, p) {
    const c = ctx.data.close;
    const { mid, top, bot } = ctx.bollinger(p.period as number, p.devfactor as number);
    if (p.mode === 'breakout') {
      return (b) => {
        const i = b.i;
        if (b.position === 0) {
          if (c[i]! > top[i]!) b.buy();
        } else if (c[i]! < mid[i]!) b.close('mid');
      };
    }
    return (b) => {
      const i = b.i;
      if (b.position === 0) {
        if (c[i]! < bot[i]!) b.buy();
      } else if (c[i]! > mid[i]!) b.close('mid');
    };
  },
};
