import { builtinParams } from './schema';
import { directionNext } from './rules';
import type { StrategyDefinition } from '../strategy-api';

/** RSI mean reversion: long when RSI < lower, exit when RSI > upper; shorts mirror (`rsi_mr` in the golden files). */
export const rsiReversion: StrategyDefinition = {
  name: 'rsi_reversion',
  aliases: ['rsi_mr'],
  params: builtinParams('rsi_reversion'),
  setup(ctx, p) {
    const rsi = ctx.rsi(p.period as number);
    const lower = p.lower as number;
    const upper = p.upper as number;
    return directionNext(
      {
        longEntry: (i) => rsi[i]! < lower,
        longExit: (i) => (rsi[i]! > upper ? 'rsi_upper' : null),
        shortEntry: (i) => rsi[i]! > upper,
        shortExit: (i) => (rsi[i]! < lower ? 'rsi_lower' : null),
      },
      p,
    );
  },
};
