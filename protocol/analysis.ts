/**
 * The analysis snapshot the run host sends to the panel while a run streams and after it ends
 * (importance, correlations, Pareto, robustness). Computed in server/analysis; types only here
 * so the webview can render it without importing the engine.
 */
import type { TrialSummary } from './run-events';

export interface ParamImportance {
  param: string;
  /** Share of explained variance, 0..1 (functional-ANOVA style estimate). */
  importance: number;
  /** One-way ANOVA of the score across the parameter's values. */
  fStat?: number | null;
  pValue?: number | null;
  negLog10P?: number | null;
}

export interface AnalysisSnapshot {
  /** Trials the snapshot was computed from. */
  trials: number;
  importance: ParamImportance[];
  /** Several objectives: the current non-dominated feasible set. */
  pareto?: TrialSummary[];
}
