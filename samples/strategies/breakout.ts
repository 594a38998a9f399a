/**
 * A channel breakout with a volatility filter, written as a user module: buy when the close
 * breaks above the highest high of the last `entry` bars while ATR is at least `min_atr_pct`
 * of the price; sell when it breaks below the lowest low of the last `exit` bars.
 */
import type { StrategyDefinition } from './optstudy-strategy';

export default {
  name: 'breakout',
  doc: 'Donchian breakout entries with a volatility filter, channel exits.',
  params: [
    { name: 'entry', type: 'int', default: 20, min: 2, doc: 'Entry channel length, in bars.' },
    { name: 'exit', type: 'int', default: 10, min: 2, doc: 'Exit channel length, in bars.' },
    { name: 'min_atr_pct', type: 'float', default: 1.0, min: 0, doc: 'Minimum ATR(14) as a percent of the close to take an entry.' },
  ],
  setup(ctx, p) {
    const entry = ctx.donchian(Number(p.entry));
    const exit = ctx.donchian(Number(p.exit));
    const atr = ctx.atr(14);
    const close = ctx.data.close;
    const minAtr = Number(p.min_atr_pct) / 100;
    // The channels include the current bar: compare with the previous bar's channel.
    ctx.warmup(Math.max(Number(p.entry), Number(p.exit)) + 1);
    return (bar) => {
      const i = bar.i;
      if (bar.position === 0) {
        if (close[i]! > entry.upper[i - 1]! && atr[i]! >= minAtr * close[i]!) bar.buy();
      } else if (close[i]! < exit.lower[i - 1]!) {
        bar.close('channel');
      }
    };
  },
} satisfies StrategyDefinition;
