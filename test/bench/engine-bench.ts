/**
 * Engine throughput, single thread: backtests per second per built-in strategy on
 * orcl-1995-2014.txt (5,036 bars) over a parameter grid,
 * - cold: a fresh indicator cache per backtest (every series computed),
 * - grid: one cache for the grid, first pass (what an optimizer run sees),
 * - memo: the same grid again with every series memoized.
 * Reference: backtrader 1.9.78 `optstrategy` ran 162 SMA-cross combinations on this file at
 * 2.61 backtests/s on one CPU of this machine kind (../shared issue 5). Prints one JSON object.
 */
import * as path from 'node:path';
import { IndicatorCache, loadPrices, runBacktest, type BacktestConfig, type PriceData } from '../../server/engine/index';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const BACKTRADER_PER_S = 2.61;
const CONFIG: BacktestConfig = { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } };

type Params = Record<string, number | string>;

function grid(axes: Record<string, (number | string)[]>): Params[] {
  let out: Params[] = [{}];
  for (const [k, vs] of Object.entries(axes)) out = out.flatMap((p) => vs.map((v) => ({ ...p, [k]: v })));
  return out;
}

const range = (a: number, b: number, s: number) => Array.from({ length: Math.floor((b - a) / s) + 1 }, (_, i) => a + i * s);

/** ~160 combinations each; sma_cross is the 162-point grid size of the backtrader reference. */
const GRIDS: Record<string, Params[]> = {
  sma_cross: grid({ fast: range(5, 39, 2), slow: range(40, 200, 20) }),
  ema_atr: grid({ ema_fast: [5, 8, 12, 16], ema_slow: [26, 50, 100], atr_period: [14, 20], atr_sl_multiplier: [1, 2, 3], atr_tp_multiplier: [2, 4, 6, 8] }).slice(0, 162),
  rsi_reversion: grid({ period: range(5, 30, 3), lower: [20, 25, 30, 35], upper: [60, 65, 70, 75, 80] }).slice(0, 162),
  bollinger: grid({ period: range(10, 60, 5), devfactor: [1.5, 2, 2.5, 3], mode: ['reversion', 'breakout'] }).slice(0, 162),
  macd_cross: grid({ fast: range(6, 16, 2), slow: range(20, 40, 4), signal: [5, 7, 9, 11, 13] }).slice(0, 162),
  donchian_breakout: grid({ entry: range(10, 60, 5), exit: range(5, 40, 5) }).slice(0, 162),
};

/** Runs `pass` until at least `minMs` elapsed; returns backtests per second. */
function rate(runs: number, pass: () => void, minMs: number): number {
  let n = 0;
  const t0 = process.hrtime.bigint();
  let el = 0;
  do {
    pass();
    n += runs;
    el = Number(process.hrtime.bigint() - t0) / 1e6;
  } while (el < minMs);
  return (n * 1000) / el;
}

function bench(data: PriceData, name: string, combos: Params[]) {
  // Warm the JIT on a few combinations first.
  const warm = new IndicatorCache();
  for (const p of combos.slice(0, 20)) runBacktest(data, name, p, CONFIG, { cache: warm, trades: false });
  const cold = rate(combos.length, () => {
    for (const p of combos) runBacktest(data, name, p, CONFIG, { cache: new IndicatorCache(), trades: false });
  }, 1500);
  let cache = new IndicatorCache();
  const gridRate = rate(combos.length, () => {
    cache = new IndicatorCache();
    for (const p of combos) runBacktest(data, name, p, CONFIG, { cache, trades: false });
  }, 1500);
  const memo = rate(combos.length, () => {
    for (const p of combos) runBacktest(data, name, p, CONFIG, { cache, trades: false });
  }, 1500);
  const withTrades = rate(combos.length, () => {
    for (const p of combos) runBacktest(data, name, p, CONFIG, { cache, trades: true });
  }, 800);
  const r = (x: number) => Math.round(x);
  return {
    combos: combos.length,
    cold_per_s: r(cold),
    grid_per_s: r(gridRate),
    memo_per_s: r(memo),
    memo_with_trades_per_s: r(withTrades),
    grid_vs_backtrader: r(gridRate / BACKTRADER_PER_S),
    memo_vs_backtrader: r(memo / BACKTRADER_PER_S),
  };
}

const only = process.argv.slice(2);
const data = loadPrices(path.join(ROOT, 'samples', 'data', 'orcl-1995-2014.txt'));
const strategies: Record<string, ReturnType<typeof bench>> = {};
for (const [name, combos] of Object.entries(GRIDS)) {
  if (only.length && !only.includes(name)) continue;
  strategies[name] = bench(data, name, combos);
  process.stderr.write(`engine-bench ${name}: ${JSON.stringify(strategies[name])}\n`);
}
const t0 = process.hrtime.bigint();
const loaded = loadPrices(path.join(ROOT, 'samples', 'data', 'orcl-1995-2014.txt'));
const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
process.stdout.write(
  JSON.stringify({
    data: 'orcl-1995-2014.txt',
    bars: loaded.bars,
    load_ms: Math.round(loadMs * 10) / 10,
    reference_backtrader_per_s: BACKTRADER_PER_S,
    goal_per_s: BACKTRADER_PER_S * 5000,
    strategies,
  }) + '\n',
);
