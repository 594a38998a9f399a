/**
 * `strategy NAME backtrader "file.py:FACTORY"` against backtrader's own `cerebro.optstrategy`
 * on the same grid (#18): the user's Cerebro as written — its own sizer, feed class and
 * options (backtrader's Volume/OpenInterest layout, a date window), futures and per-share
 * commissions, slippage, shorts and reversals, bracket orders, and analyzers — must give
 * identical metrics (`===`): the standard set (computed by OptStudy from the run's record) as
 * backtrader's analyzers compute it, and every user analyzer flattened. Real backtrader, real
 * processes, two workers.
 */
import { test } from 'node:test';
import { backtraderMissing, fixture, optstrategy } from './backtrader-env';
import { assertSameAsOptstrategy, gridStage, optstudyGrid } from './backtrader-runs';

const skip = backtraderMissing();

async function assertParity(factory: string, grid: Record<string, unknown[]>): Promise<void> {
  const expected = optstrategy(factory, grid);
  const trials = await optstudyGrid(`${fixture('parity.py')}:${factory}`, gridStage(grid));
  assertSameAsOptstrategy(expected, trials, factory);
}

test('own sizer (a custom bt.Sizer), percent commission, a GenericCSVData with its own column map', { skip, timeout: 300_000 }, async () => {
  await assertParity('own_sizer', { pfast: [5, 10, 20], pslow: [30, 60] });
});

test("backtrader's own CSV layout (Volume, OpenInterest), a date window, futures commission with margin and multiplier", { skip, timeout: 300_000 }, async () => {
  await assertParity('feed_options', { period: [5, 10], mult: [1.2, 1.5], hold: [3, 6] });
});

test('shorts and reversals (order_target_size) with per-share commission and percent slippage', { skip, timeout: 300_000 }, async () => {
  await assertParity('shorts_slippage', { period: [15, 20, 30], devfactor: [1.5, 2.0] });
});

test('bracket orders (buy_bracket: market entry, stop-loss, take-profit)', { skip, timeout: 300_000 }, async () => {
  await assertParity('brackets', { pfast: [5, 10], pslow: [30, 50], stop: [0.02, 0.05] });
});

test('5-minute bars (per-day Sharpe, per-bar Returns), futures commission, a daily TimeReturn analyzer', { skip, timeout: 300_000 }, async () => {
  await assertParity('intraday', { pfast: [5, 10], pslow: [20, 40] });
});

test('user analyzers flattened (VWR, SharpeRatio, AnnualReturn, TimeReturn, DrawDown, TradeAnalyzer, SQN) with a stock sizer', { skip, timeout: 300_000 }, async () => {
  await assertParity('analyzers', { pfast: [5, 15], pslow: [30, 50] });
});

test("a strategy that reads backtrader's standard observers (self.stats.broker) runs with them, as optstrategy runs it", { skip, timeout: 300_000 }, async () => {
  // OptStudy leaves the plot-only `stdstats` observers out only when nothing can read them
  // (own_sizer above runs without them); without them here every trial would fail.
  const spec = `${fixture('observer_reader.py')}:value_gate`;
  const grid = { pfast: [5, 10], pslow: [30, 50], floor: [90000, 97000, 100000] };
  assertSameAsOptstrategy(optstrategy(spec, grid), await optstudyGrid(spec, gridStage(grid)), 'value_gate');
});
