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

/** How a metric is shown: a readable label and its unit (from the metric catalogue). */
export interface MetricLabel {
  label: string;
  unit: 'money' | 'percent' | 'ratio' | 'count' | 'bars' | 'fraction';
  better: 'higher' | 'lower' | 'neither';
}

/** A parameter of the best trial sitting at an end of the range its stage declared. */
export interface ParamEdge {
  param: string;
  value: number;
  side: 'low' | 'high';
}

/** Probability of backtest overfitting by CSCV (Bailey, Borwein, López de Prado & Zhu). */
export interface PboSummary {
  pbo: number;
  combinations: number;
  partitions: number;
  strategies: number;
  observations: number;
  degradationSlope: number | null;
  /** Share of splits whose chosen trial lost money out of sample. */
  probabilityOfLoss: number;
}

/** One line of the overfitting verdict. */
export interface EvidenceItem {
  key: 'pbo' | 'dsr' | 'wfe' | 'holdout' | 'oos' | 'edge' | 'isolated-peak' | 'plateau';
  /** Short name ("PBO", "Deflated Sharpe", "Walk-forward efficiency", …). */
  label: string;
  /** The figure itself, when there is one (a probability, an efficiency, a percent). */
  value: number | null;
  /** The figure and what it means, formatted for people ("0.80 — 80 % of splits pick an overfit trial"). */
  text: string;
  level: 'ok' | 'warn' | 'bad' | 'info';
}

/**
 * Will the best parameters hold up? Everything the run and the report know about it, with one
 * verdict: the panel's header shows it, the CLI report prints the same object.
 */
export interface OverfittingEvidence {
  verdict: 'robust' | 'caution' | 'overfit' | 'unknown';
  /** One sentence for the header, e.g. "Out of sample the best parameters lost 17 % (walk-forward, 5 folds)". */
  headline: string;
  items: EvidenceItem[];
  pbo?: PboSummary | null;
  deflatedSharpe?: DeflatedSharpeSummary | null;
  walkForward?: { efficiency: number | null; stitchedReturnPct: number | null; profitableFolds: number; folds: number } | null;
  holdout?: { retention: number | null; rankCorrelation: number | null; bestOosReturnPct: number | null } | null;
  /** Evidence that could not be computed, and why ("PBO needs re-runs: strategy 'x' is not a built-in"). */
  missing?: string[];
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
  /** The overfitting verdict and its evidence (PBO, Deflated Sharpe, walk-forward, edges, isolated peaks). */
  overfitting?: OverfittingEvidence;
  /** PBO by CSCV over re-run return series (from `optstudy report`; needs a built-in strategy). */
  pbo?: PboSummary | null;
  /** Parameters of the best trial at the edge of their declared range. */
  edges?: ParamEdge[];
  /**
   * Robust score per feasible trial, for the table's sort: mean − λ·std (λ = 1) of the score over
   * the trial's neighbourhood — its ±1-step grid neighbours, or, for continuous searches, the
   * trials within a tenth of every parameter's range. Trials without a neighbour are left out.
   */
  robustScores?: { number: number; robust: number }[];
  /** The trial with the best robust score: what "Apply most robust" applies. */
  mostRobust?: PlateauScore | null;
  /** Labels and units of the run's metrics, by metric name. */
  metricInfo?: Record<string, MetricLabel>;
}
