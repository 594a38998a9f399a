/** Holdout and walk-forward procedures driven by real engine backtests on ORCL 1995–2014. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { annualizedReturn, holdoutSplit, runHoldout, runWalkForward, tradingDays, walkForwardSplits, type BarRange } from '../../server/analysis';
import { sliceBars } from '../../server/engine';
import { barStamp } from '../../server/data/store';
import { backtestRange, datesOf, prices, runGrid } from './real-runs';

const GRID = { fast: [5, 10, 20, 30], slow: [50, 100, 200] };

/** The optimizer for a window: a real grid on those bars, ranked by Sharpe. */
async function optimize(range: BarRange) {
  const { trials } = runGrid('sma_cross', GRID, { data: sliceBars(prices(), range.start, range.end) });
  return trials
    .filter((t) => t.state === 'complete')
    .sort((a, b) => (b.score as number) - (a.score as number))
    .map((t) => ({ params: t.params, score: t.score as number, metrics: t.metrics }));
}
async function backtest(params: Record<string, number | string | boolean>, range: BarRange) {
  const r = backtestRange('sma_cross', params as Record<string, number>, prices(), range.start, range.end);
  return { metrics: r.metrics, score: r.metrics.sharpe ?? null, equity: r.equity! };
}

test('walk-forward splits: rolling and anchored windows by hand', () => {
  const dates = Array.from({ length: 1000 }, (_, i) => `d${i}`);
  // S = ⌊1000 / (5 + 0.7/0.3)⌋ = 136, first train = 1000 − 5·136 = 320.
  const rolling = walkForwardSplits(dates, { folds: 5, train: 0.7 });
  assert.deepEqual(rolling.map((f) => [f.train.start, f.train.end, f.test.start, f.test.end]), [
    [0, 320, 320, 456], [136, 456, 456, 592], [272, 592, 592, 728], [408, 728, 728, 864], [544, 864, 864, 1000],
  ]);
  const anchored = walkForwardSplits(dates, { folds: 5, train: 0.7, anchored: true });
  assert.ok(anchored.every((f) => f.train.start === 0));
  assert.deepEqual(anchored.map((f) => f.test.start), rolling.map((f) => f.test.start));
  assert.equal(rolling[0]!.test.from, 'd320');
  assert.throws(() => walkForwardSplits(dates.slice(0, 10), { folds: 5, train: 0.7 }), /too few/);
  assert.throws(() => walkForwardSplits(dates, { folds: 5, train: 1.2 }), /between 0 and 1/);
  const h = holdoutSplit(dates, 0.3);
  assert.deepEqual([h.inSample.start, h.inSample.end, h.outOfSample.start, h.outOfSample.end], [0, 700, 700, 1000]);
});

test('holdout: the in-sample top K re-run out of sample on real data', async () => {
  const dates = datesOf(prices());
  const r = await runHoldout({ dates, fraction: 0.3, topK: 4, optimize, backtest });
  assert.equal(r.rows.length, 4);
  for (const row of r.rows) {
    const direct = backtestRange('sma_cross', row.params as Record<string, number>, prices(), r.outOfSample.start, r.outOfSample.end);
    assert.deepEqual(row.outOfSample.metrics, direct.metrics);
  }
  const is = r.rows.map((x) => x.inSample.score!);
  assert.deepEqual(is, [...is].sort((a, b) => b - a), 'rows keep the in-sample order');
  assert.equal(r.outOfSample.to, dates[dates.length - 1]);
});

test('walk-forward on real data: per-fold re-optimization, stitched OOS equity, efficiency', async () => {
  const dates = datesOf(prices());
  const r = await runWalkForward({ dates, folds: 4, train: 0.75, anchored: false, optimize, backtest });
  assert.equal(r.folds.length, 4);
  let bars = 0;
  for (const f of r.folds) {
    const best = (await optimize(f.train))[0]!;
    assert.deepEqual(f.params, best.params, 'each fold keeps its own in-sample best');
    assert.equal(f.inSample.score, best.score);
    bars += f.test.end - f.test.start;
    const oos = backtestRange('sma_cross', f.params as Record<string, number>, prices(), f.test.start, f.test.end);
    assert.equal(f.outOfSample.annualizedReturn, annualizedReturn({ metrics: oos.metrics, equity: oos.equity! }, f.test.end - f.test.start));
  }
  assert.equal(r.stitchedEquity.length, bars);
  // Each fold starts where the last one ended.
  let at = 0;
  for (const f of r.folds.slice(0, -1)) {
    at += f.test.end - f.test.start;
    assert.equal(r.stitchedEquity[at]!.value, r.stitchedEquity[at - 1]!.value);
  }
  const isA = r.folds.map((f) => f.inSample.annualizedReturn!);
  const oosA = r.folds.map((f) => f.outOfSample.annualizedReturn!);
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  assert.equal(r.efficiency, mean(oosA) / mean(isA));
  assert.equal(r.stitchedEquity[0]!.date, r.folds[0]!.test.from);
  assert.equal(r.stitchedEquity.at(-1)!.date, dates.at(-1));
});

test('walk-forward on 5-minute bars annualizes over the calendar days of each window, not its bars', async () => {
  const min5 = prices('2006-min-005.txt');
  const dates = Array.from({ length: min5.bars }, (_, i) => barStamp(min5, i));
  const params = { fast: 10, slow: 30 };
  const run = (range: BarRange) => {
    const r = backtestRange('sma_cross', params, min5, range.start, range.end);
    return { metrics: r.metrics, score: r.metrics.sharpe ?? null, equity: r.equity! };
  };
  const r = await runWalkForward({ dates, folds: 3, train: 0.6, optimize: async () => [{ params, score: 0, metrics: {} }], backtest: async (_p, range) => run(range) });
  for (const f of r.folds) {
    const days = new Set(dates.slice(f.test.start, f.test.end).map((d) => d.slice(0, 10))).size;
    assert.ok(days >= 2 && days * 20 < f.test.end - f.test.start, `fold ${f.fold}: ${days} days of ${f.test.end - f.test.start} bars`);
    assert.equal(tradingDays(dates, f.test.start, f.test.end), days);
    const oos = run(f.test);
    const total = oos.equity[oos.equity.length - 1]! / oos.equity[0]! - 1;
    assert.equal(f.outOfSample.annualizedReturn, total <= -1 ? -1 : Math.pow(1 + total, 252 / days) - 1);
  }
});
