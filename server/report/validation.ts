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
import { formatDate, loadPrices, runBacktest, sliceBars, type BacktestConfig, type PriceData } from '../engine';
import { buildPlan, scoreTrial } from '../run/plan';

/** One shape with the run's own `end.validation` (protocol/run-events.ts). */
export type ValidationResult = RunValidation;

export interface ValidationOutcome {
  result: ValidationResult | null;
  /** Why it was not run, when it was not. */
  reason?: string;
}

/** Runs the study's `validate` statement over the run's candidates. Never throws. */
export async function validateRun(studyFile: string, study: StudyModel | null, trials: readonly TrialEvent[], opts: { maxCandidates?: number } = {}): Promise<ValidationOutcome> {
  const v = study?.validate;
  if (!study || !v) return { result: null, reason: 'the study has no validate statement' };
  if (study.strategy?.kind !== 'builtin') return { result: null, reason: 'validation re-runs need a built-in strategy' };
  if (study.objectives.length !== 1) return { result: null, reason: 'validation ranks by one objective; this study has several' };
  try {
    const plan = buildPlan(study, studyFile);
    const feed = plan.payload.data;
    // Read as the study says (its `columns`, `date_format`, `prices`), as the run read it.
    const data: PriceData = loadPrices(feed.file, { ...(feed.from ? { from: feed.from } : {}), ...(feed.to ? { to: feed.to } : {}) }, feed.options);
    const config = plan.payload.config as BacktestConfig;
    const strategy = study.strategy.name;
    const dates = Array.from(data.date, (d) => formatDate(d));
    const candidates = pickCandidates(trials, opts.maxCandidates ?? 400);
    const dir = study.objectives[0]!.direction === 'maximize' ? -1 : 1;
    const scoreOf = (params: ParamValues, metrics: Metrics): number | null => {
      const s = scoreTrial(plan, params, metrics);
      return s.state === 'complete' && typeof s.score === 'number' ? s.score : null;
    };
    const optimize = async (range: BarRange) => {
      const slice = sliceBars(data, range.start, range.end);
      const rows: { params: ParamValues; score: number; metrics: Metrics }[] = [];
      for (const params of candidates) {
        const r = runBacktest(slice, strategy, params, config, { trades: false });
        const score = scoreOf(params, r.metrics);
        if (score !== null) rows.push({ params, score, metrics: r.metrics });
      }
      return rows.sort((a, b) => dir * (a.score - b.score));
    };
    const backtest = async (params: ParamValues, range: BarRange): Promise<BacktestResultLike> => {
      const r = runBacktest(sliceBars(data, range.start, range.end), strategy, params, config, { equity: true, trades: false });
      return { metrics: r.metrics, score: scoreOf(params, r.metrics), equity: r.equity! };
    };
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
