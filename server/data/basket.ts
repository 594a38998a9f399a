/**
 * Baskets: the same single-feed strategy run on each of several symbols — one backtest per
 * symbol per trial, each with the study's cash, commission and sizing, exactly as a study of
 * that symbol alone would run it — and the basket's own metrics: those of the summed equity of
 * the symbols' accounts (docs/language.md "Baskets").
 *
 * The summed account: at each tick of the union of the symbols' bar stamps, every symbol's value
 * (its last bar's, or its starting cash before its first bar) is added, starting from
 * N × cash. Its closed trades are every symbol's, ordered by exit bar (symbols in order on the
 * same bar); it is in the market on a tick when any symbol holds a position. Every metric of a
 * backtest is computed on that record by the engine's own metric code.
 *
 * Per-symbol metrics travel with the trial's metrics as `<symbol index>|<metric>` keys (one
 * numeric row for the pool and the journal's packing); `splitSymbolMetrics` turns them into the
 * trial's `symbols` list.
 */
import type { Metrics, TrialSymbol } from '../../protocol/run-events';
import { computeMetrics, type RunRecord } from '../engine/metrics';
import { runBacktest, type BacktestOptions } from '../engine/backtest';
import type { BacktestConfig, BacktestResult } from '../engine/types';
import type { StrategyDefinition } from '../engine/strategy-api';
import { stampKey } from './datetime';
import { barKey, barStamp } from './store';
import type { PriceData } from './types';

/** A symbol's name: its file name without folders and extensions (`orcl-1995-2014`). */
export function symbolName(file: string): string {
  return file.replace(/^.*[\\/]/, '').replace(/(\.(csv|txt|tsv|parquet|gz))+$/i, '');
}

/** Names for a basket's files, made unique (`x`, `x-2`) when two files share a name. */
export function symbolNames(files: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return files.map((f) => {
    const base = symbolName(f);
    const n = (seen.get(base) ?? 0) + 1;
    seen.set(base, n);
    return n === 1 ? base : `${base}-${n}`;
  });
}

/** The union clock of the symbols and, per symbol, its bar at each tick (-1 before its first). */
export interface BasketClock {
  ticks: number;
  dates: Int32Array;
  intraday: boolean;
  /** at[s][t]: symbol s's bar index at tick t. */
  at: Int32Array[];
  /** Tick t's stamp (`YYYY-MM-DD` daily, `YYYY-MM-DDTHH:MM:SS` intraday). */
  stamp(t: number): string;
}

/** Every stamp key (`barKey`) any of the feeds has a bar at, ascending: their union clock. */
export function unionKeys(datas: readonly PriceData[]): Float64Array {
  const keys = new Set<number>();
  for (const d of datas) for (let i = 0; i < d.bars; i++) keys.add(barKey(d, i));
  return Float64Array.from(keys).sort();
}

export function basketClock(datas: readonly PriceData[]): BasketClock {
  const clock = unionKeys(datas);
  const T = clock.length;
  const dates = new Int32Array(T);
  for (let t = 0; t < T; t++) dates[t] = Math.floor(clock[t]! / 100000);
  const at = datas.map((d) => {
    const a = new Int32Array(T);
    let i = -1;
    for (let t = 0; t < T; t++) {
      while (i + 1 < d.bars && barKey(d, i + 1) <= clock[t]!) i++;
      a[t] = i;
    }
    return a;
  });
  const stamp = (t: number): string => {
    // The stamp of a feed with a bar at this tick (every tick is some feed's bar).
    for (let s = 0; s < datas.length; s++) {
      const i = at[s]![t]!;
      if (i >= 0 && barKey(datas[s]!, i) === clock[t]) return barStamp(datas[s]!, i);
    }
    return '';
  };
  return { ticks: T, dates, intraday: datas.some((d) => d.time !== undefined), at, stamp };
}

/** Backtrader Returns' annualisation of a feed's spacing. */
function annualFactor(d: PriceData): number {
  return d.spacing.unit === 'days' ? 252.0 : d.spacing.unit === 'weeks' ? 52.0 : d.spacing.unit === 'months' ? 12.0 : 1.0;
}

/** A trade's exit as a stamp key (daily stamps at the end of their day). */
function exitKey(stamp: string): number {
  const date = Number(stamp.slice(0, 4) + stamp.slice(5, 7) + stamp.slice(8, 10));
  if (stamp.length <= 10) return stampKey(date, -1);
  return stampKey(date, Number(stamp.slice(11, 13)) * 3600 + Number(stamp.slice(14, 16)) * 60 + Number(stamp.slice(17, 19)));
}

/** The summed account of the symbols' results (each run with `equity` and `trades`). */
export function basketRecord(results: readonly BacktestResult[], clock: BasketClock, datas: readonly PriceData[], config: BacktestConfig): RunRecord {
  const T = clock.ticks;
  const values = new Float64Array(T);
  let inMarket = 0;
  for (let t = 0; t < T; t++) {
    let v = 0;
    let any = false;
    for (let s = 0; s < results.length; s++) {
      const i = clock.at[s]![t]!;
      if (i < 0) v += config.cash;
      else {
        v += results[s]!.equity![i]!;
        if (results[s]!.equity![i] !== results[s]!.cash![i]) any = true;
      }
    }
    values[t] = v;
    if (any) inMarket++;
  }
  const trades = results.flatMap((r, s) => r.trades.map((tr) => ({ key: exitKey(tr.exit_date), s, tr })));
  trades.sort((a, b) => a.key - b.key || a.s - b.s);
  const pnl = Float64Array.from(trades, (x) => x.tr.pnl);
  const pnlcomm = Float64Array.from(trades, (x) => x.tr.pnlcomm);
  const m = (k: string): number => results.reduce((a, r) => a + ((r.metrics[k] as number | null) ?? 0), 0);
  return {
    values,
    dates: clock.dates,
    intraday: clock.intraday,
    annual: annualFactor(datas[0]!),
    bars: T,
    cash0: config.cash * results.length,
    finalCash: results.reduce((a, r) => a + r.cash![r.cash!.length - 1]!, 0),
    endPositionSize: 0,
    endPositionPrice: 0,
    pnl,
    pnlcomm,
    closed: trades.length,
    long: trades.filter((x) => x.tr.direction !== 'short').length,
    short: trades.filter((x) => x.tr.direction === 'short').length,
    rejected: m('rejected_orders'),
    barsInMarket: inMarket,
    openTrades: m('trades_open'),
  };
}

/** The key of symbol i's metric in a basket trial's metrics. */
export function symbolKey(i: number, metric: string): string {
  return `${i}|${metric}`;
}

/**
 * Runs a basket trial: one backtest per symbol, then the summed account's metrics with every
 * symbol's metrics added under `symbolKey` keys.
 */
export function runBasket(
  datas: readonly PriceData[],
  clock: BasketClock,
  strategy: string | StrategyDefinition,
  params: Record<string, number | string | boolean>,
  config: BacktestConfig,
  options: Pick<BacktestOptions, 'cache'> = {},
): Metrics {
  const { metrics, results } = runBasketRecorded(datas, clock, strategy, params, config, options);
  const out: Metrics = { ...metrics };
  results.forEach((r, i) => {
    for (const [k, v] of Object.entries(r.metrics)) out[symbolKey(i, k)] = v;
  });
  return out;
}

/** A basket trial with its records: each symbol's backtest (equity, cash, trades), the summed account and its metrics. */
export function runBasketRecorded(
  datas: readonly PriceData[],
  clock: BasketClock,
  strategy: string | StrategyDefinition,
  params: Record<string, number | string | boolean>,
  config: BacktestConfig,
  options: Pick<BacktestOptions, 'cache'> = {},
): { metrics: Metrics; record: RunRecord; results: BacktestResult[] } {
  const results = datas.map((d) => runBacktest(d, strategy, params, config, { ...options, equity: true, trades: true }));
  const record = basketRecord(results, clock, datas, config);
  return { metrics: computeMetrics(record), record, results };
}

/**
 * A basket trial's metrics split into the basket's own and the per-symbol list (`names` in
 * symbol order). Metrics of a study that is not a basket come back as they are.
 */
export function splitSymbolMetrics(metrics: Metrics, names: readonly string[] | undefined): { metrics: Metrics; symbols?: TrialSymbol[] } {
  if (!names) return { metrics };
  const own: Metrics = {};
  const symbols: TrialSymbol[] = names.map((symbol) => ({ symbol, metrics: {} }));
  for (const [k, v] of Object.entries(metrics)) {
    const bar = k.indexOf('|');
    const i = bar > 0 ? Number(k.slice(0, bar)) : NaN;
    if (Number.isInteger(i) && symbols[i]) symbols[i]!.metrics[k.slice(bar + 1)] = v;
    else own[k] = v;
  }
  return { metrics: own, symbols };
}
