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
    // Scratch for one rebalance (it runs every `rebalance` bars of every backtest of a grid:
    // no allocation per call). `rank`: feed indexes, best first; `wants`: per feed, the target.
    const rank = new Int32Array(n);
    const keys = new Float64Array(n);
    const wants = new Float64Array(n);
    const sells = new Int32Array(n);
    const buys = new Int32Array(n);
    return () => {
      if (calls++ % every) return;
      rankFeeds(feeds, rocs, keys, rank);
      wants.fill(0);
      for (let k = 0; k < top && k < n; k++) wants[rank[k]!] = 1;
      let ns = 0;
      let nb = 0;
      if (sizing.kind === 'fixed') {
        for (let f = 0; f < n; f++) {
          const target = wants[f] ? sizing.value : 0;
          const cur = feeds[f]!.position;
          wants[f] = target;
          if (target < cur) sells[ns++] = f;
          else if (target > cur) buys[nb++] = f;
        }
        for (let k = 0; k < ns; k++) b.targetSize(sells[k]!, wants[sells[k]!]!, 'rebalance', null);
        for (let k = 0; k < nb; k++) b.targetSize(buys[k]!, wants[buys[k]!]!, 'rebalance', null);
        return;
      }
      const w = sizing.value / 100.0 / top;
      const total = b.value;
      for (let f = 0; f < n; f++) {
        const wf = wants[f] ? w : 0.0;
        wants[f] = wf;
        if (!wf) {
          if (feeds[f]!.position) sells[ns++] = f;
          continue;
        }
        const target = wf * total;
        const value = b.valueOf(f);
        if (target < value) sells[ns++] = f;
        else if (target > value) buys[nb++] = f;
      }
      for (let k = 0; k < ns; k++) b.targetValue(sells[k]!, wants[sells[k]!]! * b.value, 'rebalance', null);
      for (let k = 0; k < nb; k++) b.targetValue(buys[k]!, wants[buys[k]!]! * b.value, 'rebalance', null);
    };
  },
};

/**
 * Feed indexes into `rank`, the highest rate of change first, ties (and feeds without a rate
 * yet, ranked last) in feed order: an insertion sort, stable, for a handful of feeds.
 */
function rankFeeds(feeds: readonly { i: number }[], rocs: readonly Float64Array[], keys: Float64Array, rank: Int32Array): void {
  const n = rank.length;
  for (let f = 0; f < n; f++) {
    const kf = key(rocs[f]![feeds[f]!.i]!);
    let j = f;
    while (j > 0 && keys[j - 1]! < kf) {
      keys[j] = keys[j - 1]!;
      rank[j] = rank[j - 1]!;
      j--;
    }
    keys[j] = kf;
    rank[j] = f;
  }
}

/** The ranking key: the rate of change, NaN last (as -inf). */
function key(r: number): number {
  return r === r ? r : -Infinity;
}
