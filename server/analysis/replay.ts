/**
 * One trial of a study, run again on its own: what the panel's Trial card shows (a double-click
 * on a row) and `optstudy trial` prints. The study file is resolved as a run resolves it (the
 * same data window, broker settings, strategy defaults and overrides), so the metrics equal the
 * journal's; built-in and module strategies also give the per-bar equity, the closed trades and
 * a buy-and-hold reference. An external command answers metrics only (its protocol has no
 * equity), which the result says.
 */
import * as path from 'node:path';
import type { Metrics, ParamValues, Score, TrialState } from '../../protocol/run-events';
import { asStrategyDefinition, type PriceData, type Trade } from '../engine';
import { loadFeeds, runRecorded, type FeedRef, type RecordedRun } from '../data/feeds';
import type { TaskPayload } from '../executor/executor';
import { scoreTrial } from '../run/plan';
import { loadStudy } from '../run/run-study';
import { holdoutWindow } from '../run/validate-run';
import { cutFeeds, windowClock } from '../data/windows';
import { CommandExecutor } from '../strategies/command-executor';
import { runBacktraderOnce } from '../strategies/backtrader/backtrader-executor';
import { compileStrategyModule } from '../strategies/compile-module';

export interface ReplayRequest {
  /** The study file (absolute, or relative to the working folder). */
  file: string;
  /** The study's name; the file's first study when absent. */
  study?: string;
  /** The trial's parameters (on top of the strategy's defaults and the study's overrides). */
  params: ParamValues;
  /** Per-trial timeout for an external command (ms). */
  timeoutMs?: number;
}

export interface ReplayResult {
  study: string;
  /** Every parameter the backtest ran with (defaults, overrides, the trial's). */
  params: ParamValues;
  metrics: Metrics;
  score: Score | null;
  state: TrialState;
  /** Why the trial is infeasible (a constraint), when it is. */
  error?: string;
  trades: Pick<Trade, 'entry_date' | 'exit_date' | 'entry_price' | 'exit_price' | 'size' | 'pnl' | 'pnlcomm'>[];
  /** Per bar: the bar's date and the portfolio value (empty for external commands). */
  equity: { dates: string[]; values: number[] };
  /** Per bar, aligned with `equity`: the starting cash bought into the data at the first bar's close and held. */
  benchmark: number[];
  /** A basket (`data basket [...]`): each symbol's metrics and equity; `metrics` are the summed account's. */
  symbols?: RecordedRun['symbols'];
  note?: string;
}

/** Thrown for a study that cannot be replayed (errors, missing data, a strategy kind without a runner). */
export class ReplayError extends Error {}

/**
 * The buy-and-hold reference: `cash` buys the data at the first bar's close (fractional shares,
 * no commission) and holds to the end.
 */
export function buyAndHold(close: ArrayLike<number>, cash: number): number[] {
  const first = close[0];
  if (!close.length || !(first! > 0)) return [];
  const shares = cash / first!;
  return Array.from(close, (c) => shares * c);
}

/** Percent below the running peak per point (0 at a new high, negative below it). */
export function drawdownPct(values: ArrayLike<number>): number[] {
  let peak = -Infinity;
  return Array.from(values, (v) => {
    if (v > peak) peak = v;
    return peak > 0 ? (100 * (v - peak)) / peak : 0;
  });
}

/**
 * The bars a run of this study optimizes on: every feed (read as the study says), under
 * `validate holdout` the in-sample head only (every feed cut on the same dates, as the run does),
 * and that window's first and last stamps (for strategies that read the files themselves).
 */
function studyBars(model: Parameters<typeof holdoutWindow>[0], file: string, refs: readonly FeedRef[], symbols?: readonly string[]): { feeds: PriceData[]; window: { from: string; to: string } } {
  try {
    const all = loadFeeds(refs);
    const clock = windowClock(all);
    const w = holdoutWindow(model, clock) ?? { start: 0, end: clock.ticks };
    return { feeds: cutFeeds(all, clock, w.start, w.end, symbols), window: { from: clock.stamp(w.start), to: clock.stamp(w.end - 1) } };
  } catch (e) {
    throw new ReplayError(`${path.basename(file)}: ${(e as Error).message}`);
  }
}

/** Runs the trial again. @throws ReplayError (or the study's StudyError) when it cannot. */
export async function replayTrial(req: ReplayRequest): Promise<ReplayResult> {
  const file = path.resolve(req.file);
  const { model, plan } = loadStudy(file, req.study);
  const params: ParamValues = { ...plan.defaults, ...req.params };
  const ref = plan.payload.strategy;
  const config = plan.payload.config;
  const basket = plan.payload.basket?.symbols;
  const { feeds, window } = studyBars(model, file, plan.payload.datas ?? [plan.payload.data], basket);
  const prices = feeds[0]!;
  let symbols: ReplayResult['symbols'];
  let metrics: Metrics;
  let trades: ReplayResult['trades'] = [];
  let equity: ReplayResult['equity'] = { dates: [], values: [] };
  let note: string | undefined;
  if (ref.kind === 'builtin' || ref.kind === 'module') {
    const strategy = ref.kind === 'builtin' ? ref.name : await loadModule(ref.file);
    const r = runRecorded(feeds, basket, strategy, params, config);
    metrics = r.metrics;
    trades = r.trades.map((t) => ({ entry_date: t.entry_date, exit_date: t.exit_date, entry_price: t.entry_price, exit_price: t.exit_price, size: t.size, pnl: t.pnl, pnlcomm: t.pnlcomm }));
    equity = r.equity;
    symbols = r.symbols;
  } else if (ref.kind === 'backtrader') {
    // The bridge reports the per-bar value and the round trips too (server/strategies/backtrader).
    // The run's window on every feed, as its stages got it (a bar's time on intraday bars).
    const r = await runBacktraderOnce(plan.payload, params, window, req.timeoutMs ?? 120_000).catch((e: Error) => {
      throw new ReplayError(`the strategy failed: ${e.message}`);
    });
    metrics = r.metrics;
    trades = r.trades.map((t) => ({ entry_date: t.entry_date, exit_date: t.exit_date, entry_price: t.entry_price, exit_price: t.exit_price, size: t.size, pnl: t.pnl, pnlcomm: t.pnlcomm }));
    equity = r.equity;
  } else {
    metrics = await runCommand(plan.payload, params, req.timeoutMs);
    note = 'an external strategy reports metrics only: no equity curve or trade list';
  }
  const scored = scoreTrial(plan, params, metrics, symbols);
  return {
    study: model.name,
    params,
    metrics,
    score: scored.score,
    state: scored.state,
    ...(scored.error ? { error: scored.error } : {}),
    trades,
    equity,
    // Data 0 held, where the equity is per bar of data 0 (one feed, or feeds on one calendar).
    benchmark: equity.values.length === prices.bars ? buyAndHold(prices.close, config.cash) : [],
    ...(symbols ? { symbols } : {}),
    ...(note ? { note } : {}),
  };
}

async function loadModule(file: string) {
  const compiled = await compileStrategyModule(file);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(compiled.file) as Record<string, unknown>;
  return asStrategyDefinition(mod.default !== undefined ? mod : (mod.strategy ?? mod), file);
}

/** One trial on the study's external command, through the run's own executor (one process, no retry). */
async function runCommand(payload: TaskPayload, params: ParamValues, timeoutMs = 120_000): Promise<Metrics> {
  const exec = new CommandExecutor(payload, { workers: 1, retries: 0, timeoutMs });
  try {
    const [o] = await exec.run([{ number: 0, params }], new AbortController().signal);
    if (!o?.metrics) throw new ReplayError(`the strategy failed: ${o?.error ?? 'no answer'}`);
    return o.metrics;
  } finally {
    await exec.close();
  }
}
