import { builtinParams } from './schema';
import type { BarContext } from '../context';
import { BacktestError } from '../types';
import type { StrategyDefinition } from '../strategy-api';

/**
 * Momentum rotation over several feeds (oracle strategies.py `MomentumRotation`): on the first
 * bar every feed is warmed up and then every `rebalance` bars, rank the feeds by their rate of
 * change over `lookback` bars (ties: the earlier feed) and hold the first `top`: percent
 * sizing splits the study's percent between them (`order_target_percent`), fixed sizing holds
 * that many units of each. Sells go first, then buys, each in feed order.
 */
export const momentumRotation: StrategyDefinition = {
  name: 'momentum_rotation',
  params: builtinParams('momentum_rotation'),
  setup(ctx, p) {
    if (p.direction !== 'long') throw new BacktestError(`momentum_rotation is long-only: direction must be long, got '${String(p.direction)}'.`);
    const b = ctx as BarContext;
    const lookback = p.lookback as number;
    const top = p.top as number;
    const every = p.rebalance as number;
    const feeds = b.datas;
    const rocs = feeds.map((f) => f.roc(lookback));
    const n = feeds.length;
    const sizing = b.sizing;
    let calls = 0;
    return () => {
      if (calls++ % every) return;
      const order = [...Array(n).keys()].sort((x, y) => key(rocs[y]![feeds[y]!.i]!) - key(rocs[x]![feeds[x]!.i]!) || x - y);
      const selected = new Set(order.slice(0, top));
      if (sizing.kind === 'fixed') {
        const sells: [number, number][] = [];
        const buys: [number, number][] = [];
        for (let f = 0; f < n; f++) {
          const target = selected.has(f) ? sizing.value : 0;
          const cur = feeds[f]!.position;
          if (target < cur) sells.push([f, target]);
          else if (target > cur) buys.push([f, target]);
        }
        for (const [f, target] of [...sells, ...buys]) b.targetSize(f, target, 'rebalance', null);
        return;
      }
      const w = sizing.value / 100.0 / top;
      const total = b.value;
      const sells: [number, number][] = [];
      const buys: [number, number][] = [];
      for (let f = 0; f < n; f++) {
        const wf = selected.has(f) ? w : 0.0;
        const feed = feeds[f]!;
        if (!wf) {
          if (feed.position) sells.push([f, wf]);
          continue;
        }
        const target = wf * total;
        const value = b.valueOf(f);
        if (target < value) sells.push([f, wf]);
        else if (target > value) buys.push([f, wf]);
      }
      for (const [f, wf] of [...sells, ...buys]) b.targetValue(f, wf * b.value, 'rebalance', null);
    };
  },
};

/** The ranking key: the rate of change, NaN last (as -inf). */
function key(r: number): number {
  return r === r ? r : -Infinity;
}
