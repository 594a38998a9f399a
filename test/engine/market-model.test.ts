/**
 * The market model's edges, on synthetic bars where every number can be worked out by hand:
 * shorts and their cash, orders the broker cannot fill, bad orders, a margin call, the order
 * events a strategy sees, backtrader's cancel quirk — and the fast loop against the general
 * one on every built-in and sample file (the fast path must be the general loop, faster).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { BacktestError, IndicatorCache, defineStrategy, listStrategies, loadPrices, parsePrices, runBacktest, type BacktestConfig, type OrderEvent, type OrderRef, type StrategyContext } from '../../server/engine/index';
import { DATA, ORACLE_DATA } from '../support/engine-golden';

/** Bars from (open, high, low, close) tuples, one per day from 2020-01-01. */
function bars(rows: [number, number, number, number][]) {
  const lines = ['Date,Open,High,Low,Close,Volume'];
  rows.forEach(([o, h, l, c], i) => lines.push(`${new Date(Date.UTC(2020, 0, 1 + i)).toISOString().slice(0, 10)},${o},${h},${l},${c},1000`));
  return parsePrices(lines.join('\n'), 'synthetic.csv');
}

const flat = (n: number, px = 10) => Array.from({ length: n }, () => [px, px + 1, px - 1, px] as [number, number, number, number]);
const FIXED10: BacktestConfig = { cash: 1000, commission: 0, sizing: { kind: 'fixed', value: 10 } };

/** A strategy that runs `at[i]` on bar i. */
function script(at: Record<number, (c: StrategyContext) => void>, listen?: (e: OrderEvent) => void) {
  return defineStrategy({
    name: 'script',
    params: [],
    setup(ctx) {
      if (listen) ctx.onOrder(listen);
      return (b) => at[b.i]?.(b);
    },
  });
}

test('a short: the sale adds its proceeds to cash, the value marks it to the close, the cover pays it back', () => {
  const d = bars([[10, 11, 9, 10], [10, 11, 9, 10], [8, 9, 7, 8], [7, 8, 6, 7], [7, 8, 6, 7]]);
  const r = runBacktest(d, script({ 0: (b) => b.sell(), 2: (b) => b.close('cover') }), {}, FIXED10, { equity: true });
  // Sold 10 at 10 (bar 1's open): cash 1100, value 1100 - 10*10 = 1000 at bar 1's close.
  assert.deepEqual([...r.cash!], [1000, 1100, 1100, 1100 - 70, 1100 - 70]);
  assert.deepEqual([...r.equity!], [1000, 1000, 1100 - 80, 1030, 1030]);
  const t = r.trades[0]!;
  assert.equal(t.direction, 'short');
  assert.equal(t.size, -10);
  assert.equal(t.pnl, 30);
  assert.equal(t.exit_signal, 'cover');
  assert.equal(r.metrics.trades_short, 1);
  assert.equal(r.metrics.trades_long, 0);
});

test('a cover the cash cannot pay is rejected (Margin), the short stays open, the run warns', () => {
  // Short 100 at 10 with 1000 cash (cash 2000), the price triples: covering needs 3000.
  const d = bars([...flat(2), [30, 31, 29, 30], [30, 31, 29, 30], [30, 31, 29, 30]]);
  const cfg: BacktestConfig = { cash: 1000, commission: 0, sizing: { kind: 'fixed', value: 100 } };
  const r = runBacktest(d, script({ 0: (b) => b.sell(), 2: (b) => b.close() }), {}, cfg);
  assert.equal(r.rejected.length, 1);
  assert.equal(r.rejected[0]!.side, 'buy');
  assert.equal(r.rejected[0]!.stage, 'submit');
  assert.equal(r.metrics.end_position_size, -100);
  assert.equal(r.metrics.final_value, 2000 - 3000);
  assert.equal(r.metrics.returns_rtot, -Infinity); // backtrader: log of a negative ratio is -inf
  assert.match(r.warnings.join('\n'), /the portfolio value fell below 0 \(-1000\.00\) at 2020-01-03/);
});

test('futures: margin held per contract, cash marked to market every bar, a margin call warned about', () => {
  const d = bars([[100, 101, 99, 100], [100, 101, 99, 100], [90, 91, 89, 90], [80, 81, 79, 80], [80, 81, 79, 80]]);
  const cfg: BacktestConfig = { cash: 3000, commission: { kind: 'per_contract', amount: 2, margin: 2000, mult: 10 }, sizing: { kind: 'fixed', value: 1 } };
  const r = runBacktest(d, script({ 0: (b) => b.buy() }), {}, cfg, { equity: true });
  // Bought 1 at 100: cash 3000 - 2000 - 2 = 998; then -100, then -100 more per bar of -10 × mult.
  assert.deepEqual([...r.cash!], [3000, 998, 898, 798, 798]);
  assert.deepEqual([...r.equity!], [3000, 2998, 2898, 2798, 2798]);
  const broke = runBacktest(d, script({ 0: (b) => b.buy() }), {}, { ...cfg, cash: 2100 });
  assert.equal(broke.metrics.final_cash, 2100 - 2002 - 200);
  assert.match(broke.warnings.join('\n'), /margin call/);
});

test('orders the strategy cannot place are errors that say what to do', () => {
  const d = bars(flat(5));
  const cases: [(b: StrategyContext) => unknown, RegExp][] = [
    [(b) => b.buy({ size: 0 }), /a size must be a number > 0 .*to exit use close\(\)/],
    [(b) => b.sell({ size: -3 }), /a size must be a number > 0/],
    [(b) => b.buy({ size: NaN }), /a size must be a number > 0/],
    [(b) => b.buy({ type: 'limit' }), /needs a price > 0 \(the limit\)/],
    [(b) => b.buy({ type: 'stop', price: -5 }), /needs a price > 0 \(the trigger\), got -5/],
    [(b) => b.buy({ type: 'stop_limit', price: 11 }), /needs a limit > 0/],
    [(b) => b.sell({ type: 'stop_trail' }), /needs one of trailPercent .* or trailAmount/],
    [(b) => b.sell({ type: 'stop_trail', trailPercent: 5 }), /trailPercent \(a fraction in \(0, 1\), 0.05 = 5%\)/],
    [(b) => b.buy({ price: 10 }), /takes no price/],
    [(b) => b.buy({ type: 'iceberg' as never }), /the type must be market, close, limit, stop, stop_limit or stop_trail/],
    [(b) => b.buy({ data: 3 }), /there is no data 3; the strategy has 1/],
    [(b) => b.orderTarget({ size: 5, percent: 10 }), /exactly one of size, value or percent/],
    [(b) => b.cancel({} as OrderRef), /cancel\(\) takes an order/],
  ];
  for (const [act, re] of cases) assert.throws(() => runBacktest(d, script({ 1: act }), {}, FIXED10), (e: unknown) => e instanceof BacktestError && re.test(e.message), String(re));
  assert.throws(() => runBacktest(d, script({}), { stop_loss_pct: -1 }, FIXED10), /stop_loss_pct must be a percent >= 0/);
  assert.throws(() => runBacktest(d, script({}), { trail_pct: 100 }, FIXED10), /trail_pct must be a percent >= 0 and below 100/);
  assert.throws(() => runBacktest(d, script({}), { direction: 'up' }, FIXED10), /'direction' of 'script' must be one of 'long', 'short', 'both'/);
  assert.throws(() => runBacktest(d, 'sma_cross', {}, { ...FIXED10, commission: { kind: 'per_contract', amount: 1, margin: 0, mult: 10 } }), /needs a margin > 0/);
  assert.throws(() => runBacktest(d, 'sma_cross', {}, { ...FIXED10, slippage: { kind: 'percent', rate: 2 } }), /slippage must be a fraction between 0 and 1/);
  // A default size that rounds to 0 is no order, not an error.
  const none = runBacktest(d, script({ 1: (b) => assert.equal(b.buy(), null) }), {}, { cash: 5, commission: 0, sizing: { kind: 'percent', value: 50 } });
  assert.equal(none.fills.length, 0);
});

test('the strategy hears of every fill, rejection and cancel before next, with the date', () => {
  const d = bars(flat(8));
  const seen: string[] = [];
  let stop: OrderRef | null = null;
  const s = script(
    {
      0: (b) => b.buy({ size: 500 }), // 5000 > 1000 cash: rejected at the next bar's check
      1: (b) => b.buy(),
      2: (b) => {
        stop = b.sell({ type: 'stop', price: 5, size: 10 });
      },
      // Created on bar 2, accepted on bar 3: cancellable from then on.
      3: (b) => assert.equal(b.cancel(stop!), true),
      4: (b) => assert.equal(stop!.status, 'cancelled'),
    },
    (e) => seen.push(`${e.date} ${e.status} ${e.order.size}${e.status === 'filled' ? ' @' + e.order.filledPrice : ''}`),
  );
  runBacktest(d, s, {}, FIXED10);
  // The cancel is dated on the bar it was made (bar 3) and heard on the next.
  assert.deepEqual(seen, ['2020-01-02 rejected 500', '2020-01-03 filled 10 @10', '2020-01-04 cancelled -10']);
});

test('backtrader quirk: an order created on this bar cannot be cancelled on this bar', () => {
  const d = bars(flat(6));
  let placed: OrderRef | null = null;
  const r = runBacktest(
    d,
    script({
      1: (b) => {
        placed = b.buy({ type: 'limit', price: 10.5 });
        assert.equal(b.cancel(placed!), false);
      },
    }),
    {},
    FIXED10,
  );
  assert.equal(placed!.status, 'filled');
  assert.equal(r.fills[0]!.exectype, 'Limit');
});

test('protective orders: placed at the entry fill, live from the next bar, cancelled by a signal exit', () => {
  // Entry fills at bar 1's open (10); the stop at 9.5 is not hit by bar 1's own low (9) but by bar 2's.
  const d = bars([[10, 11, 9, 10], [10, 11, 9, 10], [10, 10.5, 9, 9.8], [10, 11, 9, 10], [10, 11, 9, 10]]);
  const r = runBacktest(d, script({ 0: (b) => b.buy() }), { stop_loss_pct: 5 }, FIXED10);
  assert.equal(r.fills[1]!.kind, 'stop');
  assert.equal(r.fills[1]!.date, '2020-01-03');
  assert.equal(r.fills[1]!.price, 10 * (1.0 - 5 / 100.0));
  assert.equal(r.trades[0]!.exit_reason, 'stop');
  // A signal exit on bar 1 cancels the group before bar 2 could trigger it.
  const x = runBacktest(d, script({ 0: (b) => b.buy(), 1: (b) => b.close('early') }), { stop_loss_pct: 5 }, FIXED10);
  assert.deepEqual(
    x.fills.map((f) => f.kind),
    ['entry', 'signal'],
  );
  assert.equal(x.trades[0]!.exit_signal, 'early');
});

test('metrics never hold NaN: null where undefined, numbers (or -inf returns) elsewhere', () => {
  const d = bars(flat(40));
  for (const name of listStrategies().map((s) => s.name)) {
    for (const direction of ['long', 'short', 'both']) {
      if (name === 'momentum_rotation' && direction !== 'long') continue;
      const r = runBacktest(d, name, { direction, stop_loss_pct: 2, trail_pct: 3 }, FIXED10);
      for (const [k, v] of Object.entries(r.metrics)) assert.ok(v === null || (typeof v === 'number' && !Number.isNaN(v)), `${name} ${direction} ${k} = ${v}`);
    }
  }
});

test('the fast loop gives exactly what the general loop gives: every built-in, every sample file, daily and 5-minute bars', () => {
  const files = ['orcl-2014.txt', 'nvda-1999-2014.txt', '2006-day-001.txt'].map((f) => loadPrices(path.join(DATA, f)));
  files.push(loadPrices(path.join(ORACLE_DATA, '2006-min-005.txt')));
  const cache = new IndicatorCache();
  const configs: BacktestConfig[] = [
    { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } },
    { cash: 50000, commission: 0.0025, sizing: { kind: 'fixed', value: 37 } },
  ];
  let compared = 0;
  for (const d of files)
    for (const s of listStrategies()) {
      if (s.name === 'momentum_rotation') continue;
      for (const cfg of configs) {
        const fast = runBacktest(d, s.name, {}, cfg, { cache, equity: true });
        const general = runBacktest(d, s.name, {}, cfg, { cache, equity: true, loop: 'general' });
        assert.deepEqual(general.metrics, fast.metrics, `${s.name} on ${d.file}`);
        assert.deepEqual(general.trades, fast.trades, `${s.name} on ${d.file}`);
        assert.deepEqual(general.fills, fast.fills, `${s.name} on ${d.file}`);
        assert.deepEqual(general.rejected, fast.rejected, `${s.name} on ${d.file}`);
        assert.deepEqual([...general.equity!], [...fast.equity!]);
        assert.deepEqual([...general.cash!], [...fast.cash!]);
        compared++;
      }
    }
  assert.equal(compared, 48);
});
