import { builtinParams } from './schema';
import type { StrategyDefinition } from '../strategy-api';

/** RSI mean reversion: buy when RSI < lower, sell when RSI > upper (`rsi_mr` in the golden files). */
export const rsiReversion: StrategyDefinition = {
  name: 'rsi_reversion',
  aliases: ['rsi_mr'],
  params: builtinParams('rsi_reversion'),
  setup(ctx, p) {
    const rsi = ctx.rsi(p.period as number);
    const lower = p.lower as number;
    const upper = p.upper as number;
    return (b) => {
      const r = rsi[b.i]!;
      if (b.position === 0) {
        if (r < lower) b.buy();
      } else if (r > upper) b.close('rsi_upper');
    };
  },
};
