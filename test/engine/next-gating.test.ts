/**
 * The strategy API's run-scoped pieces: `nextOnlyOn` (the per-bar function skipped on bars where
 * a signal is 0) and the scratch series `crossover` returns. The built-ins that gate their
 * `next` must give exactly what they give ungated: same metrics (every key, `===` through
 * deepEqual), same trades, rejections, warm-up and equity curve, on real data over grids.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  BacktestError,
  IndicatorCache,
  backtestMetrics,
  defineStrategy,
  getStrategy,
  indicators,
  loadPrices,
  runBacktest,
  type BacktestConfig,
  type BacktestResult,
  type StrategyContext,
  type StrategyDefinition,
} from '../../server/engine/index';
import { DATA } from '../support/engine-golden';

const ALLIN: BacktestConfig = { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } };
const STAKE: BacktestConfig = { cash: 10000, commission: 0.001, sizing: { kind: 'fixed', value: 50 } };
const FILES = ['orcl-1995-2014.txt', 'nvda-1999-2014.txt', 'yhoo-1996-2014.txt', '2006-day-001.txt'].map((f) => loadPrices(path.join(DATA, f)));

/** The same strategy with `nextOnlyOn` ignored: `next` runs on every bar, as before gating. */
function ungated(def: StrategyDefinition): StrategyDefinition {
  return {
    ...def,
    name: `${def.name}_ungated`,
    setup(ctx, p) {
      let gated = 0;
      const proxy = new Proxy(ctx, {
        get(target, prop) {
          if (prop === 'nextOnlyOn') return () => gated++;
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
      const next = def.setup(proxy as StrategyContext, p);
      assert.equal(gated, 1, `${def.name} is expected to gate its next`);
      return next;
    },
  };
}

function sameRun(a: BacktestResult, b: BacktestResult, where: string): void {
  assert.deepEqual(a.metrics, b.metrics, where);
  assert.deepEqual(a.trades, b.trades, where);
  assert.deepEqual(a.rejected, b.rejected, where);
  assert.equal(a.first_next_date, b.first_next_date, where);
  assert.deepEqual(a.yearly, b.yearly, where);
  assert.deepEqual(a.equity, b.equity, where);
  assert.deepEqual(a.cash, b.cash, where);
}

const GRIDS: Record<string, Record<string, number | string>[]> = {
  sma_cross: [2, 3, 5, 10, 20, 50, 80].flatMap((fast) => [4, 10, 30, 100, 200, 300].map((slow) => ({ fast, slow }))),
  macd_cross: [3, 8, 12, 20].flatMap((fast) => [10, 26, 40].flatMap((slow) => [2, 9, 15].map((signal) => ({ fast, slow, signal })))),
  donchian_breakout: [1, 3, 10, 20, 55].flatMap((entry) => [1, 5, 10, 20].map((exit) => ({ entry, exit }))),
  ema_atr: [3, 12, 30].flatMap((ema_fast) =>
    [10, 26, 80].flatMap((ema_slow) => [
      { ema_fast, ema_slow, atr_period: 14, atr_sl_multiplier: 1, atr_tp_multiplier: 2 },
      { ema_fast, ema_slow, atr_period: 5, atr_sl_multiplier: 3, atr_tp_multiplier: 8 },
      { ema_fast, ema_slow, atr_period: 30, atr_sl_multiplier: 0, atr_tp_multiplier: 0.5 },
    ]),
  ),
};

for (const [name, grid] of Object.entries(GRIDS)) {
  test(`${name}: gated next gives exactly the ungated run (${grid.length} combinations × ${FILES.length} files × 2 sizings)`, () => {
    const def = getStrategy(name)!;
    const plain = ungated(def);
    const cache = new IndicatorCache();
    let trades = 0;
    for (const data of FILES) {
      for (const config of [ALLIN, STAKE]) {
        for (const p of grid) {
          const where = `${name} ${path.basename(data.file)} ${JSON.stringify(p)} ${config.sizing.kind}`;
          const a = runBacktest(data, def, p, config, { equity: true, cache });
          const b = runBacktest(data, plain, p, config, { equity: true });
          sameRun(a, b, where);
          // The optimizer's path too (no trades list, the shared scratch buffers).
          assert.deepEqual(runBacktest(data, def, p, config, { trades: false, cache }).metrics, b.metrics, where);
          trades += a.trades.length;
        }
      }
    }
    assert.ok(trades > 100, `the grid trades (${trades})`);
  });
}

test('nextOnlyOn: next runs exactly on the non-zero and NaN bars from the warm-up on; "flat" runs every bar while long', () => {
  const data = FILES[0]!;
  const n = data.bars;
  const signal = new Float64Array(n);
  for (let i = 0; i < n; i++) signal[i] = i % 97 === 0 ? 1 : i % 89 === 0 ? NaN : 0;
  const seen = (when: 'always' | 'flat', hold: boolean) => {
    const bars: number[] = [];
    const held: boolean[] = [];
    const s = defineStrategy({
      name: 'probe',
      params: [],
      setup(ctx) {
        ctx.warmup(300);
        ctx.nextOnlyOn(signal, when);
        return (b) => {
          bars.push(b.i);
          held.push(b.position > 0);
          if (hold && b.position === 0) b.buy();
        };
      },
    });
    runBacktest(data, s, {}, ALLIN);
    return { bars, held };
  };
  const want: number[] = [];
  for (let i = 300; i < n; i++) if (signal[i] !== 0) want.push(i);
  assert.deepEqual(seen('always', false).bars, want);
  assert.deepEqual(seen('always', true).bars, want);
  assert.deepEqual(seen('flat', false).bars, want);
  // Holding from the first gated bar on: the bar of the buy, then every bar (long from the fill).
  const flat = seen('flat', true);
  assert.deepEqual(flat.bars, [want[0]!, ...Array.from({ length: n - want[0]! - 1 }, (_, k) => want[0]! + 1 + k)]);
  assert.ok(flat.held.slice(1).every((h) => h));
});

test('a user strategy gated on its own signal equals its ungated self', () => {
  const data = FILES[1]!;
  const mine = (gate: boolean) =>
    defineStrategy({
      name: 'rsi_band',
      params: [],
      setup(ctx) {
        const rsi = ctx.rsi(10);
        const sig = new Float64Array(ctx.bars);
        // Gated before the signal is filled: the engine reads it when the run starts.
        if (gate) ctx.nextOnlyOn(sig);
        for (let i = 0; i < ctx.bars; i++) sig[i] = rsi[i]! < 30 || rsi[i]! > 70 ? 1 : 0;
        return (b) => {
          if (b.position === 0 && rsi[b.i]! < 30) b.buy();
          else if (b.position > 0 && rsi[b.i]! > 70) b.close('rsi');
        };
      },
    });
  const a = runBacktest(data, mine(true), {}, ALLIN, { equity: true });
  const b = runBacktest(data, mine(false), {}, ALLIN, { equity: true });
  assert.ok(a.trades.length > 5);
  sameRun(a, b, 'rsi_band');
});

test('nextOnlyOn mistakes are clear errors', () => {
  const data = FILES[3]!;
  const run = (setup: StrategyDefinition['setup']) => runBacktest(data, { name: 'bad', params: [], setup }, {}, ALLIN);
  assert.throws(() => run((ctx) => (ctx.nextOnlyOn(new Float64Array(3)), () => {})), (e: unknown) => e instanceof BacktestError && /one value per bar/.test(e.message));
  assert.throws(
    () => run((ctx) => (ctx.nextOnlyOn(new Float64Array(ctx.bars), 'sometimes' as 'flat'), () => {})),
    (e: unknown) => e instanceof BacktestError && /'always' or 'flat'/.test(e.message),
  );
  assert.throws(
    () => run((ctx) => (b) => b.nextOnlyOn(new Float64Array(ctx.bars))),
    (e: unknown) => e instanceof BacktestError && /in setup\(\)/.test(e.message),
  );
});

test('crossover series are per-run scratch: two in one strategy are distinct and both right, reused across runs', () => {
  const data = FILES[0]!;
  const kept: Float64Array[][] = [];
  const two = defineStrategy({
    name: 'two_crosses',
    params: [],
    setup(ctx) {
      const f = ctx.sma(5);
      const s = ctx.sma(20);
      const l = ctx.sma(60);
      const a = ctx.crossover(f, s);
      const b = ctx.crossover(s, l);
      assert.notEqual(a.buffer, b.buffer);
      assert.deepEqual(a, indicators.crossover(f, s));
      assert.deepEqual(b, indicators.crossover(s, l));
      kept.push([a, b]);
      return (bar) => {
        if (bar.position === 0 && a[bar.i]! > 0 && b[bar.i]! >= 0) bar.buy();
        else if (bar.position > 0 && a[bar.i]! < 0) bar.close();
      };
    },
  });
  const cache = new IndicatorCache();
  const r1 = runBacktest(data, two, {}, ALLIN, { cache });
  const r2 = runBacktest(data, two, {}, ALLIN, { cache });
  assert.deepEqual(r1.metrics, r2.metrics);
  assert.ok(r1.trades.length > 10);
  // The second run got the first run's buffers back: nothing per-backtest is kept in the cache.
  assert.ok(kept[1]!.every((x) => kept[0]!.includes(x)));
  assert.equal(cache.size, 3);
});

test('a strategy cannot run a backtest from inside its own (the scratch is per thread)', () => {
  const data = FILES[3]!;
  const nested = defineStrategy({
    name: 'nested',
    params: [],
    setup(ctx) {
      runBacktest(ctx.data, 'sma_cross', {}, ALLIN);
      return () => {};
    },
  });
  assert.throws(() => runBacktest(data, nested, {}, ALLIN), (e: unknown) => e instanceof BacktestError && /cannot run a backtest/.test(e.message));
  // The engine is usable again afterwards.
  assert.equal(runBacktest(data, 'sma_cross', {}, ALLIN).metrics.bars, data.bars);
});

test("the fast loop's crossovers of cached series are shared between runs, and every run's numbers stay the general loop's", () => {
  // An EMA/ATR grid in grid order: the ATR parameters vary inside each EMA pair (memo hits),
  // six pairs go round twice (more than the memo keeps: evictions, buffers taken over), and a
  // second feed of another length in between.
  const cache = new IndicatorCache();
  const pairs = [[5, 20], [8, 20], [5, 30], [12, 40], [3, 9], [20, 50]];
  let runs = 0;
  for (const round of [0, 1])
    for (const [f, s] of pairs)
      for (const data of round === 0 ? [FILES[0]!] : [FILES[0]!, FILES[3]!])
        for (const atr of [10, 14])
          for (const sl of [1, 2.5]) {
            const params = { ema_fast: f!, ema_slow: s!, atr_period: atr, atr_sl_multiplier: sl, atr_tp_multiplier: 4 };
            const fast = backtestMetrics(data, 'ema_atr', params, ALLIN, cache);
            const general = runBacktest(data, 'ema_atr', params, ALLIN, { cache, loop: 'general', trades: false }).metrics;
            assert.deepEqual(fast, general, `${data.file} ${JSON.stringify(params)}`);
            runs++;
          }
  assert.equal(runs, 72);
});
