/**
 * Messages between the extension (client/) and the results panel (webview/), declared once.
 * The extension owns the run model (client/run-model.ts); the panel asks for a snapshot when it
 * loads or becomes visible and then receives throttled deltas (at most 10 per second), so a run
 * of 100,000 trials never floods the webview. Trials travel as compact rows against append-only
 * name tables (parameters and metrics), because repeating keys per trial would multiply the
 * payload several times over. Types only.
 */
import type { AnalysisSnapshot } from './analysis';
import type { EndEvent, LogEvent, ParamValues, Score, StageEvent, StartEvent, TrialState } from './run-events';

/** One trial as the panel holds it. Indexes point into {@link RunTables}. */
export interface TrialRow {
  /** Trial number (as in the `trial` event). */
  n: number;
  /** Index into {@link RunHeader.stages}. */
  s: number;
  st: TrialState;
  sc: Score | null;
  /** Parameter values, by index into {@link RunTables.params}; `null` where a trial lacks one. */
  p: (number | string | boolean | null)[];
  /** Metric values, by index into {@link RunTables.metrics}; shorter arrays mean missing. */
  m: (number | null)[];
  /** Why (failed / infeasible). */
  e?: string;
  /**
   * An infeasible basket trial's per-symbol metrics (by index into {@link RunTables.metrics}, in
   * the basket's order): what one-argument `mean`/`median`/`min`/`max` in its objective read when
   * "Best so far" places it. Other rows leave it out (a basket's rows would otherwise carry
   * every symbol's metrics).
   */
  y?: (number | null)[][];
}

/** Append-only name tables: a name keeps its index for the whole run. */
export interface RunTables {
  params: string[];
  metrics: string[];
}

/** What the panel's header and stage summary show. */
export interface StageSummary {
  name: string;
  method: string;
  size: number;
  done: number;
  best: StageEvent['best'];
  elapsedMs?: number;
  stoppedBy?: string;
  finished: boolean;
}

export type RunStatus = 'starting' | 'running' | 'finished' | 'cancelled' | 'failed';

export interface RunHeader {
  /** Stable id of the run (its folder when known). */
  id: string;
  study: string;
  file?: string;
  runDir?: string;
  status: RunStatus;
  stages: StageSummary[];
  /** Name of the stage now running (or last run). */
  stage?: string;
  directions: ('maximize' | 'minimize')[];
  objectives: string[];
  done: number;
  total: number;
  rate: number;
  etaMs: number | null;
  elapsedMs?: number;
  startedAt?: number;
  resumed?: boolean;
  error?: string;
  counts: { complete: number; failed: number; infeasible: number };
  /**
   * What the run is doing beyond its stages: `validation` while walk-forward folds or a holdout
   * re-optimize (then `stage` stays the last real stage and `label` says e.g. "walk-forward fold 2/5").
   */
  phase?: RunPhase;
}

/** A part of a run that is not one of its stages (walk-forward folds, the holdout re-run). */
export interface RunPhase {
  kind: 'search' | 'validation';
  label: string;
  /** 1-based, with `count`, when the phase is one of several (fold 2 of 5). */
  index?: number;
  count?: number;
}

/** Everything the panel needs to draw a run from scratch. */
export interface RunSnapshot {
  header: RunHeader;
  tables: RunTables;
  trials: TrialRow[];
  analysis: AnalysisSnapshot | null;
  best: EndEvent['best'];
  pareto?: EndEvent['pareto'];
  logs: LogEvent[];
  start?: StartEvent;
  /** The run's `validate holdout|walkforward` results (from the end event). */
  validation?: EndEvent['validation'];
}

/** What changed since the last message: new rows, names and the latest header. */
export interface RunDelta {
  id: string;
  header: RunHeader;
  /** Names appended to the tables since the last delta (their indexes continue the old ones). */
  newParams: string[];
  newMetrics: string[];
  trials: TrialRow[];
  analysis?: AnalysisSnapshot;
  best?: EndEvent['best'];
  pareto?: EndEvent['pareto'];
  logs?: LogEvent[];
  validation?: EndEvent['validation'];
}

/** One re-run trial: its equity curve and trades (from `optstudy trial --json`, the study's own strategy). */
export interface TrialDetail {
  n: number;
  stage?: string;
  params: ParamValues;
  metrics?: Record<string, number | null>;
  /** Date (YYYY-MM-DD, or YYYY-MM-DDTHH:MM:SS intraday) → portfolio value, one point per bar when the re-run reports it, else rebuilt from closed trades. */
  equity: { date: string; value: number }[];
  /** True when `equity` was rebuilt from closed trades (the backtest reported no per-bar value). */
  equityFromTrades?: boolean;
  trades: { entry_date: string; exit_date: string; entry_price: number; exit_price: number; size: number; pnl: number; pnlcomm: number }[];
  error?: string;
  /** The run the trial belongs to ({@link RunHeader.id}); the panel drops a detail of another run (a late answer after a new run started). */
  runId?: string;
  /** Buy-and-hold of data 0 over the same bars with the same starting cash (per bar), drawn for reference. */
  benchmark?: { date: string; value: number }[];
  /** Basket runs: one entry per symbol (feed), in feed order. */
  symbols?: SymbolMetrics[];
  /** Something the panel should say about the re-run (e.g. an external strategy reports metrics only). */
  note?: string;
  /** Echoed from the `openTrial` request: open it in the Trial card, or add it to the overlay. */
  intent?: TrialIntent;
}

export type TrialIntent = 'open' | 'overlay';

/** One symbol of a basket trial: its own metrics (same names as the study's metrics), optionally its equity. */
export interface SymbolMetrics {
  symbol: string;
  metrics: Record<string, number | null>;
  equity?: { date: string; value: number }[];
}

/** Extension → panel. */
export type ToWebview =
  | { type: 'snapshot'; run: RunSnapshot | null }
  | { type: 'delta'; delta: RunDelta }
  | { type: 'trialDetail'; detail: TrialDetail }
  | { type: 'trialDetailPending'; n: number }
  /** A second run to overlay (the answer to `pickCompareRun`); `null` when none was picked. */
  | { type: 'compareRun'; run: RunSnapshot | null };

/** Panel → extension. */
export type FromWebview =
  | { type: 'ready' }
  /** Runs that single trial again (per-bar equity, trades) and answers with `trialDetail`; `runId` = the run the panel shows. */
  | { type: 'openTrial'; n: number; stage?: string; params: ParamValues; runId?: string; intent?: TrialIntent }
  /** `which`: the button that asked (Apply best, Apply most robust, or a trial's own Apply). */
  | { type: 'applyParams'; params: ParamValues; n?: number; which?: 'best' | 'robust' | 'trial' }
  | { type: 'cancel' }
  | { type: 'resume' }
  | { type: 'exportReport' }
  | { type: 'listRuns' }
  /** Save a chart: `data` is base64 PNG bytes (no `data:` prefix) or SVG text; the host asks where. */
  | { type: 'saveImage'; name: string; format: 'png' | 'svg'; data: string }
  /** Pick a saved run to compare with; the host answers with `compareRun`. */
  | { type: 'pickCompareRun' };

/** What the panel keeps with `setState`, so a reload restores the view (not the data: the extension owns that). */
export interface PanelViewState {
  runId?: string;
  runDir?: string;
  sortKey?: string;
  sortDesc?: boolean;
  heatX?: string;
  heatY?: string;
  heatAgg?: 'mean' | 'max';
  /** True once the user chose the surface's parameters (else the two most important are shown). */
  heatPicked?: boolean;
  paretoX?: number;
  paretoY?: number;
  selected?: number;
}
