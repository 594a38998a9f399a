/**
 * `validate holdout P%` / `validate walkforward { … }` for a saved run, when the run itself did
 * not record them: the procedures of server/analysis/robustness driven by engine backtests of
 * built-in strategies. "Re-optimizing" on a window ranks the parameter sets the run actually
 * tried (the whole grid for grid studies; the visited points for adaptive searches) by the
 * study's own objective and constraints (server/run/plan.ts `scoreTrial`), so each window
 * picks its best with the study's rules but without re-running the search.
 */
import type { StudyModel } from '../../grammar';
import type { Metrics, ParamValues, RunValidation, TrialEvent } from '../../protocol/run-events';
import {
  runHoldout, runWalkForward, type BacktestResultLike, type BarRange,
} from '../analysis/robustness';
import type { BacktestConfig } from '../engine';
import { loadFeeds, runWithEquity } from '../data/feeds';
import { cutFeeds, windowClock } from '../data/windows';
import { buildPlan, scoreTrial } from '../run/plan';
import { windowDates } from '../run/validate-run';

/** One shape with the run's own `end.validation` (protocol/run-events.ts). */
export type ValidationResult = RunValidation;

export interface ValidationOutcome {
  result: ValidationResult | null;
  /** Why it was not run, when it was not. */
  reason?: string;
}

/**
 * Runs the study's `validate` statement over the run's candidates. Several feeds and baskets are
 * cut on one calendar, as the run cuts them (server/data/windows.ts). Never throws.
 */
export async function validateRun(studyFile: string, study: StudyModel | null, trials: readonly TrialEvent[], opts: { maxCandidates?: number } = {}): Promise<ValidationOutcome> {
  const v = study?.validate;
  if (!study || !v) return { result: null, reason: 'the study has no validate statement' };
  if (study.strategy?.kind !== 'builtin') return { result: null, reason: 'validation re-runs need a built-in strategy' };
  if (study.objectives.length !== 1) return { result: null, reason: 'validation ranks by one objective; this study has several' };
  try {
    const plan = buildPlan(study, studyFile);
    // Every feed read as the study says (its `columns`, `date_format`, `prices`), as the run read it.
    const feeds = loadFeeds(plan.payload.datas ?? [plan.payload.data]);
    const symbols = plan.payload.basket?.symbols;
    const clock = windowClock(feeds);
    const config = plan.payload.config as BacktestConfig;
    const strategy = study.strategy.name;
    const dates = windowDates(clock);
    const candidates = pickCandidates(trials, opts.maxCandidates ?? 400);
    const dir = study.objectives[0]!.direction === 'maximize' ? -1 : 1;
    const run = (params: ParamValues, range: BarRange) => {
      const r = runWithEquity(cutFeeds(feeds, clock, range.start, range.end, symbols), symbols, strategy, params, config);
      const s = scoreTrial(plan, params, r.metrics, r.symbols);
      return { ...r, score: s.state === 'complete' && typeof s.score === 'number' ? s.score : null };
    };
    const optimize = async (range: BarRange) => {
      const rows: { params: ParamValues; score: number; metrics: Metrics }[] = [];
      for (const params of candidates) {
        const r = run(params, range);
        if (r.score !== null) rows.push({ params, score: r.score, metrics: r.metrics });
      }
      return rows.sort((a, b) => dir * (a.score - b.score));
    };
    const backtest = async (params: ParamValues, range: BarRange): Promise<BacktestResultLike> => run(params, range);
    if (v.kind === 'holdout') {
      const report = await runHoldout({ dates, fraction: v.fraction, topK: 5, optimize, backtest });
      return { result: { kind: 'holdout', fraction: v.fraction, candidates: candidates.length, report, source: 'report' } };
    }
    const report = await runWalkForward({ dates, folds: v.folds, train: v.train, anchored: v.anchored, optimize, backtest });
    return { result: { kind: 'walkforward', folds: v.folds, train: v.train, anchored: v.anchored, candidates: candidates.length, report, source: 'report' } };
  } catch (e) {
    return { result: null, reason: `validation failed: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** Distinct parameter sets the run backtested (not failed ones), evenly thinned to `max`. */
function pickCandidates(trials: readonly TrialEvent[], max: number): ParamValues[] {
  const seen = new Map<string, ParamValues>();
  for (const t of trials) {
    if (t.state === 'failed') continue;
    const key = JSON.stringify(Object.keys(t.params).sort().map((k) => [k, t.params[k]]));
    if (!seen.has(key)) seen.set(key, t.params);
  }
  const all = [...seen.values()];
  if (all.length <= max) return all;
  const step = all.length / max;
  return Array.from({ length: max }, (_, k) => all[Math.floor(k * step)]!);
}
