/**
 * The run events: one typed message protocol shared by the engine, the CLI's `--json` output
 * (one event per line), the run host, the client and the webview. The shapes of `start`,
 * `trial`, `stage` and `end` are contract (../shared/DESIGN.md): add fields, never rename.
 * Types only — importing this module pulls no code into any bundle.
 */

import type { AnalysisSnapshot } from './analysis';

export type ParamValues = Record<string, number | string | boolean>;
/** Metric name → value; `null` when a metric is undefined (e.g. profit factor with no loss). */
export type Metrics = Record<string, number | null>;
/** One number for one objective; one per objective, in order, for several. */
export type Score = number | number[];

export type TrialState = 'complete' | 'failed' | 'infeasible';

export interface StartEvent {
  type: 'start';
  study: string;
  /** The study file, absolute. */
  file?: string;
  runDir?: string;
  stages: { name: string; size: number; method: string }[];
  total: number;
  seed?: number;
  workers?: number;
  /** `maximize`/`minimize` per objective, in order. */
  directions?: ('maximize' | 'minimize')[];
  /** The objective expressions as written. */
  objectives?: string[];
  /** Names of the searched parameters, in stage order. */
  params?: string[];
  /** True when this run continues an earlier journal (`--resume`). */
  resumed?: boolean;
  /**
   * Calendar days with a bar in the window the stages optimize on: the number of daily returns
   * behind each trial's `sharpe` (intraday bars too), the Deflated Sharpe's T.
   */
  tradingDays?: number;
}

export interface TrialEvent {
  type: 'trial';
  stage: string;
  number: number;
  params: ParamValues;
  metrics: Metrics;
  score: Score | null;
  state: TrialState;
  /** Why, for failed and infeasible trials only. */
  error?: string;
  durationMs?: number;
  /** The worker's log for this trial (external strategies' stderr), when there is one. */
  log?: string;
  /**
   * Basket studies (`data basket [...]`) only: each symbol's own backtest, in the basket's
   * order. `metrics` above are then the basket's (the summed equity of the symbols' accounts).
   */
  symbols?: TrialSymbol[];
}

/** One symbol of a basket trial: its name (the file name without extension) and its metrics. */
export interface TrialSymbol {
  symbol: string;
  metrics: Metrics;
}

export interface TrialSummary {
  params: ParamValues;
  score: Score | null;
  metrics: Metrics;
  number?: number;
  stage?: string;
}

export interface StageEvent {
  type: 'stage';
  name: string;
  best: TrialSummary | null;
  trials?: number;
  elapsedMs?: number;
  /** Why the stage ended before its budget, e.g. `early_stop`. */
  stoppedBy?: string;
}

export interface ProgressEvent {
  type: 'progress';
  stage: string;
  done: number;
  total: number;
  /** Trials per second over the recent window. */
  rate: number;
  etaMs: number | null;
}

export interface LogEvent {
  type: 'log';
  level: 'info' | 'warning' | 'error';
  message: string;
}

export interface EndEvent {
  type: 'end';
  best: TrialSummary | null;
  trials: number;
  elapsedMs: number;
  /** Several objectives: the non-dominated feasible trials. */
  pareto?: TrialSummary[];
  /** `cancelled` when stopped by the user; `failed` when the run could not go on. */
  status?: 'finished' | 'cancelled' | 'failed';
  error?: string;
  runDir?: string;
  /** The study's `validate holdout|walkforward` results, computed by the run itself (server/run/validate-run.ts). */
  validation?: RunValidation;
  /** Trials by state (resumed trials included). */
  counts?: { complete: number; infeasible: number; failed: number };
  /** The failed trial with the lowest number and its error: what a run whose every trial failed reports. */
  firstFailure?: { number: number; error: string };
}

/** A window of the run's bars: indices [start, end) and its first and last dates. */
export interface BarWindow {
  start: number;
  end: number;
  from: string;
  to: string;
}

/** One finalist of `validate holdout`: its in-sample trial and its out-of-sample re-run. */
export interface HoldoutRow {
  rank: number;
  params: ParamValues;
  inSample: { score: number | null; metrics?: Metrics };
  /** `symbols`: a basket's per-symbol metrics on the window (its `metrics` are the summed account's). */
  outOfSample: { score: number | null; metrics: Metrics; symbols?: TrialSymbol[] };
}

export interface HoldoutReport {
  inSample: BarWindow;
  outOfSample: BarWindow;
  rows: HoldoutRow[];
  /** Spearman correlation of the finalists' IS and OOS scores. */
  rankCorrelation: number | null;
  /** Mean OOS score / mean IS score of the finalists. */
  retention: number | null;
}

/** One walk-forward fold: the train window's best, re-run on the train and test windows. */
export interface WalkForwardFoldResult {
  fold: number;
  train: BarWindow;
  test: BarWindow;
  params: ParamValues;
  /** `symbols`: a basket's per-symbol metrics on the window (its `metrics` are the summed account's). */
  inSample: { score: number | null; metrics: Metrics; annualizedReturn: number | null; symbols?: TrialSymbol[] };
  outOfSample: { score: number | null; metrics: Metrics; annualizedReturn: number | null; symbols?: TrialSymbol[] };
  /** OOS annualized return / IS annualized return for this fold. */
  efficiency: number | null;
}

export interface WalkForwardReport {
  anchored: boolean;
  folds: WalkForwardFoldResult[];
  /** Out-of-sample equity of every fold chained end to start. */
  stitchedEquity: { date: string; value: number }[];
  /** Mean OOS annualized return / mean IS annualized return. */
  efficiency: number | null;
  stitchedReturnPct: number | null;
  profitableFolds: number;
}

/**
 * `validate …` results: the one shape written by `optstudy run` (in `end.validation` and the
 * journal's end line) and by `optstudy report` when it re-runs the validation itself.
 * `candidates`: the parameter sets ranked in sample (trials of the in-sample run for holdout;
 * trials per fold, summed, for walk-forward).
 */
export type RunValidation = (
  | { kind: 'holdout'; fraction: number; candidates: number; report: HoldoutReport }
  | { kind: 'walkforward'; folds: number; train: number; anchored: boolean; candidates: number; report: WalkForwardReport }
) & {
  /** `run`: computed by the run (optimized on the window); `report`: re-ranked by `optstudy report`. */
  source?: 'run' | 'report';
  /** How out-of-sample windows were started (e.g. cold: indicators warm up inside the window). */
  note?: string;
};

/** Periodic analysis of the trials so far (throttled by the run host), and a last one at the end. */
export interface AnalysisEvent {
  type: 'analysis';
  snapshot: AnalysisSnapshot;
}

export type RunEvent = StartEvent | TrialEvent | StageEvent | ProgressEvent | LogEvent | AnalysisEvent | EndEvent;
