/**
 * Real backtests for the analysis tests (not a test file itself): runs built-in strategies
 * with the engine on the sample price files and shapes the results like the run's trial
 * events / journal lines. Nothing here invents a metric.
 */
import * as path from 'node:path';
import { DEFAULT_CONFIG, loadPrices, runBacktest, sliceBars, type PriceData } from '../../server/engine';
import type { TrialEvent } from '../../protocol/run-events';

export const ROOT = path.join(__dirname, '../../..');
export const DATA = path.join(ROOT, 'samples/data');

const loaded = new Map<string, PriceData>();
export function prices(file = 'orcl-1995-2014.txt'): PriceData {
  let d = loaded.get(file);
  if (!d) loaded.set(file, (d = loadPrices(path.join(DATA, file))));
  return d;
}

/** The bar dates of `data` as YYYY-MM-DD. */
export function datesOf(data: PriceData): string[] {
  return Array.from(data.date, (d) => `${String(d).slice(0, 4)}-${String(d).slice(4, 6)}-${String(d).slice(6, 8)}`);
}

/**
 * A grid of real backtests: every combination of `grid`, scored by `score` (null → infeasible,
 * like a violated constraint). Trial numbers follow the grid order.
 */
export function runGrid(
  strategy: string, grid: Record<string, (number | string)[]>, opts: { data?: PriceData; stage?: string; score?: (m: TrialEvent['metrics']) => number | number[] | null; equity?: boolean } = {},
): { trials: TrialEvent[]; equity: Float64Array[] } {
  const data = opts.data ?? prices();
  const names = Object.keys(grid);
  const combos: Record<string, number | string>[] = [{}];
  for (const n of names) {
    const next: Record<string, number | string>[] = [];
    for (const c of combos) for (const v of grid[n]!) next.push({ ...c, [n]: v });
    combos.splice(0, combos.length, ...next);
  }
  const score = opts.score ?? ((m) => (typeof m.sharpe === 'number' && (m.trades ?? 0) >= 3 ? m.sharpe : null));
  const trials: TrialEvent[] = [];
  const equity: Float64Array[] = [];
  combos.forEach((params, number) => {
    const r = runBacktest(data, strategy, params, DEFAULT_CONFIG, { equity: opts.equity ?? false, trades: false });
    const s = score(r.metrics);
    trials.push({
      type: 'trial', stage: opts.stage ?? 'grid', number, params, metrics: r.metrics, score: s, state: s === null ? 'infeasible' : 'complete',
      ...(s === null ? { error: 'constraint: trades >= 3 and a defined sharpe' } : {}),
    });
    if (r.equity) equity.push(r.equity);
  });
  return { trials, equity };
}

/** One real backtest on bars [start, end) of `data`. */
export function backtestRange(strategy: string, params: Record<string, number | string>, data: PriceData, start: number, end: number) {
  return runBacktest(sliceBars(data, start, end), strategy, params, DEFAULT_CONFIG, { equity: true, trades: true });
}
