/**
 * The analysis snapshot the run host sends to the panel while a run streams and after it ends
 * (importance, correlations, Pareto, robustness). Computed in server/analysis; types only here
 * so the webview can render it without importing the engine.
 * `trials`, `importance` and `pareto` are the original fields; everything after them was added
 * by server/analysis and is optional, so older snapshots (recorded runs) still type-check.
 */
import type { ParamValues, Score, TrialSummary } from './run-events';

export interface ParamImportance {
  param: string;
  /** Share of explained variance, 0..1 (functional-ANOVA style estimate). */
  importance: number;
  /** One-way ANOVA of the score across the parameter's values. */
  fStat?: number | null;
  pValue?: number | null;
  negLog10P?: number | null;
  /** ANOVA groups (distinct values, or equal-count bins for continuous parameters). */
  groups?: number;
}

/** Trial counts by state. */
export interface TrialCounts {
  complete: number;
  failed: number;
  infeasible: number;
  /** Complete trials with a finite score (the ones ranked and fitted). */
  feasible: number;
}

/** One point of the score history: a trial's score (first objective) and the running best. */
export interface HistoryPoint {
  number: number;
  stage?: string;
  score: number | null;
  best: number | null;
}

/** A row of a ranking. */
export interface RankedTrialSummary extends TrialSummary {
  rank: number;
  /** The value ranked by. */
  value: number | null;
}

export interface StageSummary {
  name: string;
  trials: number;
  feasible: number;
  best: TrialSummary | null;
  /** Importance of the parameters this stage searched (stage-local fit). */
  importance?: ParamImportance[];
}

export interface Correlation {
  param: string;
  /** `score`, `score[i]` for one objective of several, or a metric name. */
  target: string;
  pearson: number | null;
  spearman: number | null;
  /** Pairs used (feasible trials having both values). */
  n: number;
}

/** One bucket of a distribution or slice. */
export interface SliceBucket {
  /** The value (grids, categoricals) or the bucket's centre (continuous). */
  value: number | string | boolean;
  /** Bucket bounds for binned continuous params. */
  lo?: number;
  hi?: number;
  /** Trials in the bucket, all states (the parameter's distribution). */
  count: number;
  /** Feasible trials with a score in the bucket. */
  feasible: number;
  mean: number | null;
  max: number | null;
  min: number | null;
}

/** Score versus one parameter. */
export interface ParamSlice {
  param: string;
  numeric: boolean;
  buckets: SliceBucket[];
  /** Raw (value, score) points of feasible trials, evenly thinned across the run. */
  points: { x: number | string | boolean; y: number; number?: number }[];
}

/** Score over two parameters (mean/max/min over all others); null marks an empty cell. */
export interface Surface {
  x: string;
  y: string;
  xs: (number | string | boolean)[];
  ys: (number | string | boolean)[];
  /** [row = y index][column = x index]. */
  mean: (number | null)[][];
  max: (number | null)[][];
  min: (number | null)[][];
  count: number[][];
}

export interface HypervolumeHistory {
  /** `exact` (sweep / slicing) or `monte-carlo` (an estimate, for large fronts in 3+ objectives). */
  method: 'exact' | 'monte-carlo';
  /** The reference point, in each objective's own units and direction. */
  reference: number[];
  points: { trials: number; number?: number; hypervolume: number }[];
}

/** Neighbourhood ("plateau") robustness of one grid point. */
export interface PlateauScore {
  number?: number;
  stage?: string;
  params: ParamValues;
  score: number;
  /** mean − λ·std over the ±k-step neighbourhood including the point (mean + λ·std when minimizing). */
  robust: number;
  neighbourhoodMean: number;
  neighbourhoodStd: number;
  neighbours: number;
  cells: number;
  infeasibleNeighbours: number;
  /** True when the point beats its neighbours' mean by more than one standard deviation of all scores. */
  needle: boolean;
}

export interface DeflatedSharpeSummary {
  /** Best trial's Sharpe (annualized, as the `sharpe` metric). */
  sharpe: number;
  /** Expected maximum annualized Sharpe of this many zero-skill trials. */
  expectedMaxSharpe: number;
  dsr: number;
  psr: number;
  trials: number;
  observations: number;
  /** True when skewness/kurtosis were measured from the returns; false = assumed normal. */
  momentsMeasured: boolean;
}

export interface AnalysisSnapshot {
  /** Trials the snapshot was computed from. */
  trials: number;
  importance: ParamImportance[];
  /** Several objectives: the current non-dominated feasible set. */
  pareto?: TrialSummary[];

  counts?: TrialCounts;
  directions?: ('maximize' | 'minimize')[];
  objectives?: string[];
  /** Parameters analysed, in stage order. */
  params?: string[];
  best?: (TrialSummary & { score: Score | null }) | null;
  /** Best first by the score (first objective), feasible only. */
  top?: RankedTrialSummary[];
  stages?: StageSummary[];
  /** Score per trial and the running best, thinned to at most ~500 points (improvements kept). */
  history?: HistoryPoint[];
  correlations?: Correlation[];
  slices?: ParamSlice[];
  /** Surface over the two most important parameters. */
  surface?: Surface | null;
  hypervolume?: HypervolumeHistory | null;
  /** Plateau scores of the finalists, when the trials form a grid. */
  plateau?: PlateauScore[];
  /** From the trials' `sharpe` metric; moments assumed normal unless measured. */
  deflatedSharpe?: DeflatedSharpeSummary | null;
  /** Time spent computing this snapshot. */
  computeMs?: number;
}
