/**
 * The broker and the strategy API: SEMANTICS §8's edge cases, user strategies, parameter and
 * config checks, the metric catalogue, the memo bound.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { METRICS } from '../../grammar/metrics';
import { BUILTIN_STRATEGIES } from '../../grammar/builtins';
import {
  BacktestError,
  IndicatorCache,
  asStrategyDefinition,
  defineStrategy,
  getStrategy,
  listStrategies,
  loadPrices,
  parsePrices,
  runBacktest,
  type BacktestConfig,
  type StrategyDefinition,
} from '../../server/engine/index';
import { DATA } from '../support/engine-golden';

const ALLIN: BacktestConfig = { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } };
const STAKE10: BacktestConfig = { cash: 100000, commission: 0.001, sizing: { kind: 'fixed', value: 10 } };
const orcl = loadPrices(path.join(DATA, 'orcl-1995-2014.txt'), { from: '2005-01-01', to: '2014-12-31' });

/** Synthetic bars from closes; open = the given opens or the close. */
function bars(closes: number[], opens?: number[]) {
  const lines = ['Date,Open,High,Low,Close,Volume'];
  const start = Date.UTC(2020, 0, 1);
  closes.forEach((c, i) => {
    const d = new Date(start + i * 86400000).toISOString().slice(0, 10);
    const o = opens?.[i] ?? c;
    lines.push(`${d},${o},${Math.max(o, c) + 1},${Math.min(o, c) - 1},${c},1000`);
  });
  // Some cases trade on a zero close: keep the prices as written (the loader refuses them by default).
  return parsePrices(lines.join('\n'), 'synthetic.csv', undefined, { prices: 'allow' });
}

/** A strategy that buys on the given bars and closes on others. */
function scripted(buyAt: number[], closeAt: number[] = []): StrategyDefinition {
  return defineStrategy({
    name: 'scripted',
    params: [],
    setup: () => (b) => {
      if (buyAt.includes(b.i)) b.buy();
      if (closeAt.includes(b.i)) b.close('script');
    },
  });
}

test('no trades (fast == slow): Sharpe and profit factor null, SQN 0, no drawdown', () => {
  const r = runBacktest(orcl, 'sma_cross', { fast: 20, slow: 20 }, ALLIN);
  const m = r.metrics;
  assert.equal(m.trades, 0);
  assert.equal(m.sharpe, null);
  assert.equal(m.sharpe_default, null);
  assert.equal(m.profit_factor, null);
  assert.equal(m.sqn, 0);
  assert.equal(m.max_drawdown_pct, 0);
  assert.equal(m.final_value, 100000);
  assert.equal(m.win_rate_pct, null);
  assert.equal(m.calmar, null);
  assert.equal(m.exposure_pct, 0);
  assert.equal(r.first_next_date, '2005-02-01');
});

test('a position open at the end is marked to the last close, not counted as a trade', () => {
  const d = bars([10, 11, 12, 13]);
  const r = runBacktest(d, scripted([0]), {}, STAKE10, { equity: true });
  assert.equal(r.trades.length, 0);
  assert.equal(r.metrics.trades_open, 1);
  assert.equal(r.metrics.trades_closed, 0);
  assert.equal(r.metrics.end_position_size, 10);
  assert.equal(r.metrics.end_position_price, 11);
  // Bought 10 at the open of bar 1 (11) with 0.1% commission; marked at 13.
  const cash = 100000 - 10 * 11 - 10 * 0.001 * 11;
  assert.equal(r.metrics.final_cash, cash);
  assert.equal(r.metrics.final_value, cash + 10 * 13);
  assert.equal(r.equity![3], r.metrics.final_value);
  assert.equal(r.metrics.exposure_pct, 75);
});

test('an order created on the last bar is never executed', () => {
  const d = bars([10, 11, 12, 13]);
  const r = runBacktest(d, scripted([3]), {}, STAKE10);
  assert.equal(r.metrics.trades_open, 0);
  assert.equal(r.metrics.final_value, 100000);
  assert.equal(r.rejected.length, 0);
});

test('market orders fill at the next open; commission is charged per side on the fill value', () => {
  const d = bars([10, 11, 12, 13, 14], [9, 10.5, 11.5, 12.5, 13.5]);
  const r = runBacktest(d, scripted([0], [2]), {}, STAKE10);
  assert.equal(r.trades.length, 1);
  const t = r.trades[0]!;
  assert.equal(t.entry_date, '2020-01-02');
  assert.equal(t.exit_date, '2020-01-04');
  assert.equal(t.signal_date, '2020-01-01');
  assert.equal(t.exit_signal_date, '2020-01-03');
  assert.equal(t.entry_fill_price, 10.5);
  assert.equal(t.exit_price, 12.5);
  assert.equal(t.pnl, 10 * (12.5 - 10.5));
  assert.equal(t.commission, 0.0 + 10 * 0.001 * 10.5 + 10 * 0.001 * 12.5);
  assert.equal(t.pnlcomm, t.pnl - t.commission);
  assert.equal(t.barlen, 2);
  assert.equal(t.exit_reason, 'signal');
  assert.equal(t.exit_signal, 'script');
  assert.equal(t.direction, 'long');
  assert.equal(r.metrics.won, 1);
  // Exactly one closed trade: SQN 0, no loss → profit factor undefined.
  assert.equal(r.metrics.sqn, 0);
  assert.equal(r.metrics.profit_factor, null);
  assert.equal(r.metrics.win_rate_pct, 100);
});

test('margin: a buy the cash cannot pay is rejected at submission or at the fill, and the strategy stays flat', () => {
  // Submission: 20,000 shares at the creation close 10 cost more than the cash.
  const big: BacktestConfig = { cash: 100000, commission: 0.001, sizing: { kind: 'fixed', value: 20000 } };
  const d = bars([10, 10, 10, 10]);
  const r1 = runBacktest(d, scripted([0]), {}, big);
  assert.deepEqual(r1.rejected, [{ date: '2020-01-02', stage: 'submit', side: 'buy', status: 'Margin', size: 20000, created_date: '2020-01-01', created_price: 10, kind: 'entry' }]);
  assert.equal(r1.metrics.rejected_orders, 1);
  assert.equal(r1.metrics.trades_open, 0);
  // Fill: all-in 100% passes at the creation close but the next open gaps up 10%.
  const all: BacktestConfig = { cash: 100000, commission: 0, sizing: { kind: 'percent', value: 100 } };
  const g = bars([10, 11, 11, 11], [10, 11, 11, 11]);
  const r2 = runBacktest(g, scripted([0, 1]), {}, all);
  assert.equal(r2.rejected.length, 1);
  assert.equal(r2.rejected[0]!.stage, 'exec');
  // The next signal (bar 1) is sized again from the unchanged cash and fills.
  assert.equal(r2.metrics.trades_open, 1);
  assert.equal(r2.metrics.end_position_size, Math.trunc((100000 / 11) * 1));
});

test('golden edge cases: rejections, an open end position and exactly one trade all occur', () => {
  const yhoo = loadPrices(path.join(DATA, 'yhoo-1996-2014.txt'));
  const one = runBacktest(yhoo, 'rsi_mr', { period: 21, lower: 25, upper: 60 }, ALLIN);
  assert.equal(one.metrics.trades, 1);
  assert.equal(one.metrics.sqn, 0);
  const open = runBacktest(yhoo, 'rsi_mr', { period: 21, lower: 25, upper: 80 }, ALLIN);
  assert.equal(open.metrics.trades_open, 1);
  assert.equal(open.metrics.end_position_price, 11.3);
  const rej = runBacktest(orcl, 'sma_cross', { fast: 5, slow: 20 }, ALLIN);
  assert.equal(rej.metrics.rejected_orders, 1);
  assert.equal(rej.rejected[0]!.date, '2009-03-19');
});

test('a user strategy written against the API matches the built-in bit for bit', () => {
  const mine = defineStrategy({
    name: 'my_cross',
    params: [
      { name: 'fast', type: 'int', default: 10, doc: 'fast' },
      { name: 'slow', type: 'int', default: 30, doc: 'slow' },
    ],
    setup(ctx, p) {
      const f = ctx.sma(Number(p.fast));
      const s = ctx.sma(Number(p.slow));
      const cx = ctx.crossover(f, s);
      return (b) => {
        if (b.position === 0 && cx[b.i]! > 0) b.buy();
        else if (b.position > 0 && cx[b.i]! < 0) b.close();
      };
    },
  });
  for (const [fast, slow] of [
    [10, 30],
    [5, 200],
    [50, 20],
  ]) {
    const a = runBacktest(orcl, mine, { fast: fast!, slow: slow! }, ALLIN);
    const b = runBacktest(orcl, 'sma_cross', { fast: fast!, slow: slow! }, ALLIN);
    assert.deepEqual(a.metrics, b.metrics);
    assert.equal(a.first_next_date, b.first_next_date);
  }
});

test('the warm-up waits for every series asked for, and warmup() can extend it', () => {
  let firstBar = -1;
  const s = defineStrategy({
    name: 'w',
    params: [],
    setup(ctx) {
      ctx.rsi(14);
      ctx.atr(20);
      return (b) => {
        if (firstBar < 0) firstBar = b.i;
      };
    },
  });
  runBacktest(orcl, s, {}, ALLIN);
  assert.equal(firstBar, 20);
  firstBar = -1;
  const s2 = { ...s, setup: (ctx: Parameters<StrategyDefinition['setup']>[0], p: Parameters<StrategyDefinition['setup']>[1]) => (ctx.warmup(100), s.setup(ctx, p)) };
  runBacktest(orcl, s2, {}, ALLIN);
  assert.equal(firstBar, 100);
});

test('parameters: defaults filled, numeric strings accepted, unknown names and bad values rejected', () => {
  const def = runBacktest(orcl, 'sma_cross', {}, ALLIN);
  const explicit = runBacktest(orcl, 'sma_cross', { fast: '10', slow: 30 }, ALLIN);
  assert.deepEqual(def.metrics, explicit.metrics);
  assert.throws(() => runBacktest(orcl, 'sma_cross', { fats: 10 }, ALLIN), (e: unknown) => e instanceof BacktestError && /has no parameter 'fats'; its parameters are fast, slow/.test(e.message));
  assert.throws(() => runBacktest(orcl, 'sma_cross', { fast: 2.5 }, ALLIN), /'fast' of 'sma_cross' must be an integer, got 2.5/);
  assert.throws(() => runBacktest(orcl, 'boll', { mode: 'sideways' }, ALLIN), /must be one of 'reversion', 'breakout', got 'sideways'/);
  assert.throws(() => runBacktest(orcl, 'sma_cross', { fast: 0 }, ALLIN), /period must be an integer ≥ 1, got 0/);
  assert.throws(() => runBacktest(orcl, 'nope', {}, ALLIN), /unknown strategy 'nope'/);
  assert.throws(() => runBacktest(orcl, 'sma_cross', {}, { ...ALLIN, cash: -1 }), /cash must be a positive number/);
  assert.throws(() => runBacktest(orcl, 'sma_cross', {}, { ...ALLIN, commission: 2 }), /commission must be a fraction/);
  assert.throws(() => runBacktest(orcl, 'sma_cross', {}, { ...ALLIN, sizing: { kind: 'fixed', value: 1.5 } }), /whole number of units/);
});

test('every built-in runs on every sample file and reports every catalogue metric, null instead of NaN', () => {
  const names = BUILTIN_STRATEGIES.map((s) => s.name);
  assert.deepEqual(listStrategies().map((s) => s.name).sort(), [...names].sort());
  assert.equal(getStrategy('rsi_mr'), getStrategy('rsi_reversion'));
  assert.equal(getStrategy('boll'), getStrategy('bollinger'));
  const cache = new IndicatorCache();
  for (const f of ['orcl-1995-2014.txt', 'yhoo-1996-2014.txt', 'nvda-1999-2014.txt', 'orcl-2014.txt', '2006-day-001.txt']) {
    const d = loadPrices(path.join(DATA, f));
    for (const s of listStrategies()) {
      const r = runBacktest(d, s.name, {}, ALLIN, { cache });
      for (const m of METRICS) {
        assert.ok(m.name in r.metrics, `${s.name} on ${f}: ${m.name} missing`);
        const v = r.metrics[m.name];
        assert.ok(v === null || Number.isFinite(v), `${s.name} on ${f}: ${m.name} = ${v}`);
      }
      assert.equal(r.metrics.trades, r.trades.length);
      assert.equal(r.metrics.negative_years, Object.values(r.yearly).filter((y) => y < 0).length);
    }
  }
});

test('every metric a backtest reports is in the catalogue, so objectives and constraints may name it', () => {
  const r = runBacktest(orcl, 'sma_cross', { fast: 10, slow: 30, direction: 'both' }, ALLIN);
  const known = new Set(METRICS.map((m) => m.name));
  assert.deepEqual(Object.keys(r.metrics).filter((k) => !known.has(k)), []);
  assert.ok(r.metrics.trades_short! > 0 && r.metrics.trades_long! > 0);
});

test('contract metrics: friendly names equal their golden keys, derived ones are consistent', () => {
  const r = runBacktest(orcl, 'sma_cross', { fast: 10, slow: 30 }, ALLIN);
  const m = r.metrics;
  assert.equal(m.trades, m.trades_closed);
  assert.equal(m.max_drawdown, m.max_drawdown_money);
  assert.equal(m.sharpe, m.sharpe_days_ann_rf0);
  assert.equal(m.total_return_pct, (m.final_value! / 100000 - 1) * 100);
  assert.equal(m.win_rate_pct, (100 * m.won!) / m.trades!);
  assert.equal(m.avg_trade_pnl, m.pnl_net_total! / m.trades!);
  assert.equal(m.calmar, m.cagr_pct! / m.max_drawdown_pct!);
  // 2005-01-03 … 2014-12-31 is 9.99 years.
  const years = (Date.UTC(2014, 11, 31) - Date.UTC(2005, 0, 3)) / 86400000 / 365.25;
  assert.ok(Math.abs(m.cagr_pct! - (Math.pow(m.final_value! / 100000, 1 / years) - 1) * 100) < 1e-9);
  assert.ok(m.sortino! > m.sharpe!, 'downside deviation is below the full deviation here');
});

test('the indicator cache is bounded and a grid reuses its series', () => {
  const small = new IndicatorCache(200_000);
  for (const fast of [5, 10, 15, 20]) for (const slow of [30, 50, 100]) runBacktest(orcl, 'sma_cross', { fast, slow }, ALLIN, { cache: small, trades: false });
  assert.ok(small.storedBytes <= 200_000, `${small.storedBytes}`);
  const big = new IndicatorCache();
  for (const fast of [5, 10, 15, 20]) for (const slow of [30, 50, 100]) runBacktest(orcl, 'sma_cross', { fast, slow }, ALLIN, { cache: big, trades: false });
  // 7 SMAs computed once each; crossovers are per-run scratch, never stored.
  assert.equal(big.misses, 7);
  assert.equal(big.size, 7);
  const again = runBacktest(orcl, 'sma_cross', { fast: 10, slow: 50 }, ALLIN, { cache: big });
  assert.equal(big.misses, 7);
  assert.deepEqual(again.metrics, runBacktest(orcl, 'sma_cross', { fast: 10, slow: 50 }, ALLIN, { cache: small }).metrics);
});

test('macd_cross and donchian_breakout trade and respect their warm-ups', () => {
  const m = runBacktest(orcl, 'macd_cross', {}, ALLIN);
  assert.ok(m.metrics.trades! > 10);
  assert.equal(m.first_next_date, '2005-02-22'); // bar 34: EMA(26) from bar 25, its EMA(9) from bar 33, the cross one bar later
  const d = runBacktest(orcl, 'donchian_breakout', { entry: 20, exit: 10 }, ALLIN);
  assert.ok(d.metrics.trades! > 10);
  assert.equal(d.first_next_date, '2005-02-01'); // bar 20: reads the previous bar's 20-bar channel
});

test('strategy mistakes are clear errors: orders in setup, a setup without a per-bar function, a bad module', () => {
  const early = defineStrategy({ name: 'early', params: [], setup: (ctx) => (ctx.buy(), () => {}) });
  assert.throws(() => runBacktest(orcl, early, {}, ALLIN), /buy\(\) was called in setup\(\); call it from the function setup\(\) returns/);
  const none = { name: 'none', params: [], setup: () => undefined } as unknown as StrategyDefinition;
  assert.throws(() => runBacktest(orcl, none, {}, ALLIN), /strategy 'none': setup\(\) must return the per-bar function, got undefined/);
  const thrower = defineStrategy({ name: 'thrower', params: [], setup: () => (b) => { if (b.i === 100) throw new Error('boom at 100'); } });
  assert.throws(() => runBacktest(orcl, thrower, {}, ALLIN), /boom at 100/);
  const ok = asStrategyDefinition({ default: { name: 'x', params: [{ name: 'p', type: 'int', default: 1, doc: '' }], setup: () => () => {} } }, 'x.ts');
  assert.equal(ok.name, 'x');
  assert.throws(() => asStrategyDefinition({}, 'm.ts'), /m\.ts: the strategy has no 'name' string\. A strategy module exports default \{ name, params/);
  assert.throws(() => asStrategyDefinition({ default: { name: 'y', params: [] } }, 'y.ts'), /y\.ts: strategy 'y' has no setup\(\) function/);
  assert.throws(() => asStrategyDefinition({ name: 'z', setup() {}, params: [{ name: 'a', type: 'number' }] }, 'z.ts'), /parameter 1 of 'z' needs a name and a type of int, float, string or bool/);
  assert.throws(() => asStrategyDefinition(null, 'n.ts'), /n\.ts: the module has no default export object/);
});

test('a zero close cannot size a percent order: no order, no crash', () => {
  const d = bars([10, 0, 10, 10]);
  const r = runBacktest(d, scripted([1]), {}, ALLIN);
  assert.equal(r.metrics.trades_open, 0);
  assert.equal(r.metrics.final_value, 100000);
});

test('data shorter than the warm-up: no next() call, no trade, defined metrics', () => {
  const d = bars([10, 11, 12, 13, 14]);
  const r = runBacktest(d, 'sma_cross', { fast: 10, slow: 30 }, ALLIN);
  assert.equal(r.first_next_date, null);
  assert.equal(r.metrics.trades, 0);
  assert.equal(r.metrics.final_value, 100000);
  assert.equal(r.metrics.bars, 5);
  const one = runBacktest(bars([10]), 'rsi_reversion', {}, ALLIN);
  assert.equal(one.metrics.cagr_pct, null);
  assert.equal(one.metrics.sharpe, null);
  assert.deepEqual(Object.keys(one.yearly), ['2020-12-31']);
});

test('Bollinger and MACD grids share their underlying series in the memo', () => {
  const c1 = new IndicatorCache();
  for (const devfactor of [1.5, 2, 2.5]) for (const mode of ['reversion', 'breakout']) runBacktest(orcl, 'bollinger', { period: 20, devfactor, mode }, ALLIN, { cache: c1, trades: false });
  // SMA(20), StdDev(20), then one band set per dev factor.
  assert.equal(c1.misses, 2 + 3);
  const c2 = new IndicatorCache();
  for (const signal of [5, 9, 13]) runBacktest(orcl, 'macd_cross', { fast: 12, slow: 26, signal }, ALLIN, { cache: c2, trades: false });
  // EMA(12), EMA(26), the MACD line, then per signal period the MACD lines (the crossover is
  // per-run scratch).
  assert.equal(c2.misses, 3 + 3);
  const cold = runBacktest(orcl, 'macd_cross', { fast: 12, slow: 26, signal: 13 }, ALLIN, { trades: false });
  const warm = runBacktest(orcl, 'macd_cross', { fast: 12, slow: 26, signal: 13 }, ALLIN, { cache: c2, trades: false });
  assert.deepEqual(warm.metrics, cold.metrics);
});
