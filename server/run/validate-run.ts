/**
 * `validate holdout P%` / `validate walkforward { folds F, train P%, anchored }` as part of a
 * run (`runStudy`), so the out-of-sample numbers come from the run itself:
 *
 * - holdout: the run's stages optimize on the first 1 − P of the bars only (`holdoutWindow`
 *   gives runStudy that window before its first trial); afterwards the top K feasible trials
 *   of the journal are re-run on the held-out tail.
 * - walk-forward: the stages run on all the bars (the parameters to use from now on); then,
 *   per fold, the study's stages run again on the fold's training window — a nested run with
 *   the same samplers, a seed derived from the run's seed and the fold number, and its own
 *   journal under `RUN_DIR/walkforward/fold-N/` (so `--resume` continues an unfinished fold
 *   and reuses finished ones) — and the fold's best is backtested on the test window.
 *
 * Out-of-sample windows start cold: the engine's backtest has no "warm up on earlier bars,
 * trade from bar X" option (BacktestOptions: equity, trades, cache), so indicators warm up
 * inside the test window and a long average loses the trades of its first bars. The result
 * says so in `note`.
 *
 * The procedures themselves (splits, ranking, stitching, efficiency) are server/analysis
 * robustness's `runHoldout` / `runWalkForward`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { StudyModel } from '../../grammar';
import type { EndEvent, Metrics, ParamValues, RunEvent, RunValidation, TrialEvent, TrialSymbol } from '../../protocol/run-events';
import { holdoutSplit, runHoldout, runWalkForward, walkForwardSplits, type BacktestResultLike, type BarRange } from '../analysis/robustness';
import type { PriceData, StrategyDefinition } from '../engine';
import { runWithEquity } from '../data/feeds';
import { cutFeeds, windowClock, type WindowClock } from '../data/windows';
import { hash32 } from '../search/rng';
import type { TaskPayload } from '../executor/executor';
import { readJournal } from '../../protocol/journal-reader';
import { scoreTrial, type StudyPlan } from './plan';
import type { RunListener } from './announcer';
import { fmtNum, fmtParams } from './render';

/** How many in-sample finalists a holdout re-runs out of sample. */
export const HOLDOUT_TOP_K = 5;
/** The stitched equity kept in the end event is thinned to about this many points. */
const MAX_EQUITY_POINTS = 1000;
const COLD_NOTE = 'out-of-sample windows start cold: the engine has no warm-up prefix, so indicators warm up inside each window';

/**
 * The stamps of the clock windows are cut on (server/data/windows.ts: one feed's bars, or the
 * union of several feeds' stamps — one calendar for every feed): `YYYY-MM-DD`, with the time
 * (`THH:MM:SS`) on intraday bars — the windows' `from`/`to`.
 */
export function windowDates(clock: WindowClock): string[] {
  let dates = stampsOf.get(clock);
  if (!dates) stampsOf.set(clock, (dates = Array.from({ length: clock.ticks }, (_, t) => clock.stamp(t))));
  return dates;
}

/** A clock's stamps, made once: a run asks for them for its holdout head, its windows' check and its validation. */
const stampsOf = new WeakMap<WindowClock, string[]>();

/**
 * The window the stages optimize on: the in-sample head for `validate holdout`, else null (all
 * the bars), as ticks of `clock`. @throws Error when the holdout leaves too few bars on a side.
 */
export function holdoutWindow(model: StudyModel, clock: WindowClock): BarRange | null {
  const v = model.validate;
  if (!v || v.kind !== 'holdout') return null;
  return holdoutSplit(windowDates(clock), v.fraction).inSample;
}

/**
 * Every window the study's `validate` statement will cut (holdout: both sides; walk-forward:
 * each fold's training and test windows), as ticks of `clock`; none when the bars are too few
 * to split (the validation says so after the run, as it does for one feed).
 */
export function validationWindows(model: StudyModel, clock: WindowClock): BarRange[] {
  const v = model.validate;
  if (!v) return [];
  const dates = windowDates(clock);
  try {
    if (v.kind === 'holdout') {
      const h = holdoutSplit(dates, v.fraction);
      return [h.inSample, h.outOfSample];
    }
    return walkForwardSplits(dates, v).flatMap((f) => [f.train, f.test]);
  } catch {
    return [];
  }
}

/** Options a fold's nested run needs (a subset of runStudy's RunOptions). */
export interface FoldRunOptions {
  file: string;
  study?: string;
  seed?: number;
  out?: string;
  resume?: string;
  window: { start: number; end: number };
  validate: false;
}

export interface ValidateRunInput {
  model: StudyModel;
  plan: StudyPlan;
  /** The run's payload (a module strategy already compiled). */
  payload: TaskPayload;
  /** Every feed with all the study's bars (not the holdout's in-sample slice), data 0 first. */
  feeds: readonly PriceData[];
  /** The calendar of `feeds` the run cut its window on (made from `feeds` when not given). */
  clock?: WindowClock;
  runDir: string;
  seed: number;
  onEvent: (e: RunEvent) => void;
  signal: AbortSignal;
  /**
   * Out-of-sample backtests of a strategy that does not run in this process (command and
   * backtrader strategies): its executor's `backtestWindow`. Without it such strategies skip validation.
   */
  externalBacktest?: (params: ParamValues, window: { from: string; to: string }) => Promise<{ metrics: Metrics; equity?: ArrayLike<number> }>;
  /** Runs a fold's stages: runStudy with the run's other options (workers, executor, …). */
  runFold: (options: FoldRunOptions, onEvent: RunListener, signal: AbortSignal) => Promise<EndEvent>;
}

export interface ValidateRunOutcome {
  validation?: RunValidation;
  /** The user cancelled during a fold. */
  cancelled?: boolean;
  /** Why there is no validation (also logged as a warning). */
  reason?: string;
}

class FoldCancelled extends Error {}

/** Runs the study's `validate` statement after its stages. Never throws. */
export async function validateStudyRun(input: ValidateRunInput): Promise<ValidateRunOutcome> {
  const { model, plan, feeds, onEvent } = input;
  const v = model.validate;
  const skip = (reason: string): ValidateRunOutcome => {
    onEvent({ type: 'log', level: 'warning', message: `validation not run: ${reason}` });
    return { reason };
  };
  if (!v) return { reason: 'the study has no validate statement' };
  if (plan.objectives.length !== 1) return skip('validation ranks by one objective; this study has several');
  const def = strategyFor(input.payload);
  const external = typeof def === 'object' && 'error' in def ? input.externalBacktest : undefined;
  if (typeof def === 'object' && 'error' in def && !external) return skip(def.error);
  const config = input.payload.config;
  const symbols = input.payload.basket?.symbols;
  const dir = plan.objectives[0]!.direction === 'maximize' ? -1 : 1;
  // Out of sample the objective is what matters; a constraint such as `trades >= 5` may not hold
  // on a short window, and the number is still the honest answer. A basket's objective
  // aggregates over its symbols (`mean(sharpe)`), as in the run.
  const objectiveOf = (params: ParamValues, metrics: Metrics, each?: readonly TrialSymbol[]): number | null => {
    const s = scoreTrial({ objectives: plan.objectives, constraints: [] }, params, metrics, each);
    return typeof s.score === 'number' ? s.score : null;
  };
  try {
    // Windows are ticks of one clock for every feed (server/data/windows.ts).
    const clock = input.clock ?? windowClock(feeds);
    const dates = windowDates(clock);
    const backtest = async (params: ParamValues, range: BarRange): Promise<BacktestResultLike> => {
      if (external) {
        // The window's own stamps, as the stages got them: a day on daily bars, a bar's time on
        // intraday bars (whole days would give the out-of-sample run the head's last bars too).
        const r = await external(params, { from: range.from, to: range.to });
        return { metrics: r.metrics, score: objectiveOf(params, r.metrics), equity: r.equity };
      }
      const r = runWithEquity(cutFeeds(feeds, clock, range.start, range.end, symbols), symbols, def as string | StrategyDefinition, params, config);
      return { metrics: r.metrics, score: objectiveOf(params, r.metrics, r.symbols), equity: r.equity, ...(r.symbols ? { symbols: r.symbols } : {}) };
    };
    if (v.kind === 'holdout') {
      const trials = readJournal(input.runDir).trials;
      const ranked = rankFeasible(trials, dir);
      const split = holdoutSplit(dates, v.fraction);
      onEvent({
        type: 'log',
        level: 'info',
        message: `holdout: re-running the in-sample top ${Math.min(HOLDOUT_TOP_K, ranked.length)} on ${split.outOfSample.from} … ${split.outOfSample.to} (${split.outOfSample.end - split.outOfSample.start} bars)`,
      });
      const report = await runHoldout({ dates, fraction: v.fraction, topK: HOLDOUT_TOP_K, optimize: async () => ranked, backtest });
      const distinct = new Set(trials.filter((t) => t.state !== 'failed').map((t) => JSON.stringify(t.params))).size;
      return { validation: { kind: 'holdout', fraction: v.fraction, candidates: distinct, report, source: 'run', note: COLD_NOTE } };
    }
    const splits = walkForwardSplits(dates, v);
    let candidates = 0;
    const optimize = async (range: BarRange) => {
      const sp = splits.find((s) => s.train.start === range.start && s.train.end === range.end)!;
      const end = await runFoldStages(input, sp.fold, splits.length, range);
      candidates += end.trials;
      const best = end.best;
      if (!best || typeof best.score !== 'number') return [];
      onEvent({
        type: 'log',
        level: 'info',
        message: `walk-forward fold ${sp.fold}/${splits.length}: best ${fmtParams(best.params, searchedNames(model).filter((k) => k in best.params))} (in sample ${fmtNum(best.score)}); testing on ${sp.test.from} … ${sp.test.to}`,
      });
      return [{ params: best.params, score: best.score, metrics: best.metrics }];
    };
    const report = await runWalkForward({ dates, folds: v.folds, train: v.train, anchored: v.anchored, optimize, backtest });
    for (const f of report.folds)
      onEvent({ type: 'log', level: 'info', message: `walk-forward fold ${f.fold}/${splits.length}: out of sample ${fmtNum(f.outOfSample.score)}, efficiency ${fmtNum(f.efficiency)}` });
    report.stitchedEquity = thin(report.stitchedEquity, MAX_EQUITY_POINTS);
    return { validation: { kind: 'walkforward', folds: v.folds, train: v.train, anchored: v.anchored, candidates, report, source: 'run', note: COLD_NOTE } };
  } catch (e) {
    if (e instanceof FoldCancelled || input.signal.aborted) return { cancelled: true, reason: 'cancelled' };
    return skip(e instanceof Error ? e.message : String(e));
  }
}

/** A fold's stages on its training window: a nested run with its own journal, resumed or reused when there is one. */
async function runFoldStages(input: ValidateRunInput, fold: number, folds: number, range: BarRange): Promise<EndEvent> {
  const dir = path.join(input.runDir, 'walkforward', `fold-${fold}`);
  const journal = path.join(dir, 'journal.jsonl');
  let resume = false;
  if (fs.existsSync(journal) && fs.statSync(journal).size > 0) {
    const c = readJournal(dir);
    // A finished fold is not run again (its seed and window make it the same run).
    if (c.end && c.end.status === 'finished') {
      input.onEvent({ type: 'log', level: 'info', message: `walk-forward fold ${fold}/${folds}: reusing the finished fold in ${dir}` });
      return c.end;
    }
    resume = true;
  }
  input.onEvent({
    type: 'log',
    level: 'info',
    message: `walk-forward fold ${fold}/${folds}: ${resume ? 'resuming' : 'optimizing'} on ${range.from} … ${range.to} (${range.end - range.start} bars)`,
  });
  const label = `walk-forward fold ${fold}/${folds}`;
  const end = await input.runFold(
    {
      file: input.plan.file,
      study: input.model.name,
      ...(resume ? { resume: dir } : { out: dir, seed: hash32(input.seed >>> 0, 0x57460000 + fold) }),
      window: { start: range.start, end: range.end },
      validate: false,
    },
    Object.assign(
      (e: RunEvent) => {
        // The fold's own start/trial/stage/end events stay in its journal; the run shows progress and problems.
        if (e.type === 'progress') input.onEvent({ ...e, stage: `${label} ${e.stage}` });
        else if (e.type === 'log' && e.level !== 'info') input.onEvent({ ...e, message: `${label}: ${e.message}` });
      },
      { trials: () => {} },
    ),
    input.signal,
  );
  if (end.status === 'cancelled') throw new FoldCancelled();
  if (end.status === 'failed') throw new Error(`${label} failed: ${end.error ?? 'unknown error'}`);
  return end;
}

/** Feasible trials, best first (distinct parameter sets, the earliest trial of each). */
function rankFeasible(trials: TrialEvent[], dir: number): { params: ParamValues; score: number; metrics: Metrics }[] {
  const seen = new Set<string>();
  const out: { params: ParamValues; score: number; metrics: Metrics; number: number }[] = [];
  for (const t of [...trials].sort((a, b) => a.number - b.number)) {
    if (t.state !== 'complete' || typeof t.score !== 'number') continue;
    const key = JSON.stringify(Object.keys(t.params).sort().map((k) => [k, t.params[k]]));
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ params: t.params, score: t.score, metrics: t.metrics, number: t.number });
  }
  // Ties keep trial order, so the finalists are the same on every run.
  return out.sort((a, b) => dir * (a.score - b.score) || a.number - b.number).map(({ params, score, metrics }) => ({ params, score, metrics }));
}

/** The strategy to re-run in this process: a built-in name or the compiled module's definition. */
function strategyFor(payload: TaskPayload): string | StrategyDefinition | { error: string } {
  const ref = payload.strategy;
  if (ref.kind === 'builtin') return ref.name;
  if (ref.kind === 'module') {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(ref.file) as Record<string, unknown>;
      const def = (mod.default ?? mod.strategy ?? mod) as StrategyDefinition;
      if (def && typeof (def as { setup?: unknown }).setup === 'function') return def;
      return { error: `${ref.file}: the module exports no strategy definition` };
    } catch (e) {
      return { error: `${ref.file}: cannot load the strategy module (${e instanceof Error ? e.message : String(e)})` };
    }
  }
  return { error: `out-of-sample re-runs of ${ref.kind} strategies need their executor (strategy '${ref.name ?? ref.kind}')` };
}

function searchedNames(model: StudyModel): string[] {
  return model.stages.flatMap((s) => s.params.map((p) => p.name));
}

/** Every k-th point and the last. */
function thin<T>(xs: T[], max: number): T[] {
  if (xs.length <= max) return xs;
  const step = Math.ceil(xs.length / max);
  const out = xs.filter((_, i) => i % step === 0);
  if ((xs.length - 1) % step !== 0) out.push(xs[xs.length - 1]!);
  return out;
}

/** A short table of a run's validation, for the terminal. */
export function validationTable(v: RunValidation, objective = 'score'): string {
  const out: string[] = [];
  // Numbers right-aligned, the parameters (last column) left-aligned.
  const row = (cells: string[], widths: number[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padStart(widths[i]!))).join('  ');
  const pct = (x: number | null | undefined): string => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`);
  if (v.kind === 'holdout') {
    const h = v.report;
    out.push(
      `Holdout: optimized on ${h.inSample.from} … ${h.inSample.to} (${h.inSample.end - h.inSample.start} bars); top ${h.rows.length} re-run on ${h.outOfSample.from} … ${h.outOfSample.to} (${h.outOfSample.end - h.outOfSample.start} bars)`,
    );
    const head = ['rank', `IS ${objective}`, `OOS ${objective}`, 'OOS return', 'OOS trades', 'params'];
    const rows = h.rows.map((r) => [
      String(r.rank),
      fmtNum(r.inSample.score),
      fmtNum(r.outOfSample.score),
      r.outOfSample.metrics.total_return_pct == null ? '—' : `${r.outOfSample.metrics.total_return_pct.toFixed(2)}%`,
      fmtNum(r.outOfSample.metrics.trades_closed ?? null),
      fmtParams(r.params),
    ]);
    const widths = head.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i]!.length)));
    out.push(row(head, widths), ...rows.map((r) => row(r, widths)));
    out.push(`rank correlation IS→OOS ${fmtNum(h.rankCorrelation)}, OOS/IS score retention ${fmtNum(h.retention)}`);
  } else {
    const w = v.report;
    out.push(`Walk-forward: ${v.folds} folds, ${Math.round(v.train * 100)}% train, ${v.anchored ? 'anchored' : 'rolling'}; ${v.candidates} trials re-optimizing the folds`);
    const head = ['fold', 'test window', `IS ${objective}`, `OOS ${objective}`, 'IS ann.', 'OOS ann.', 'WFE', 'params'];
    const rows = w.folds.map((f) => [
      String(f.fold),
      `${f.test.from} … ${f.test.to}`,
      fmtNum(f.inSample.score),
      fmtNum(f.outOfSample.score),
      pct(f.inSample.annualizedReturn),
      pct(f.outOfSample.annualizedReturn),
      fmtNum(f.efficiency),
      fmtParams(f.params),
    ]);
    const widths = head.map((hd, i) => Math.max(hd.length, ...rows.map((r) => r[i]!.length)));
    out.push(row(head, widths), ...rows.map((r) => row(r, widths)));
    out.push(
      `walk-forward efficiency ${fmtNum(w.efficiency)}, stitched OOS return ${w.stitchedReturnPct === null ? '—' : `${w.stitchedReturnPct.toFixed(2)}%`}, ${w.profitableFolds}/${w.folds.length} folds profitable`,
    );
  }
  if (v.note) out.push(`(${v.note})`);
  return out.join('\n') + '\n';
}
