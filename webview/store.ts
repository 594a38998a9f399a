/**
 * The panel's copy of the run: the snapshot it asked for plus the deltas since, and the derived
 * series the charts draw, kept up to date incrementally so a delta costs O(new trials), not
 * O(all trials) — what keeps a 100,000-trial run smooth.
 */
import type { AnalysisSnapshot } from '../protocol/analysis';
import type { RunDelta, RunHeader, RunSnapshot, RunTables, TrialRow } from '../protocol/messages';
import type { LogEvent, RunValidation, Score, TrialSummary } from '../protocol/run-events';
import { setMetricCatalogue } from './metric-info';
import { compileObjective, type Compiled } from './objective';

export interface XY {
  x: number;
  y: number;
  /** Index of the trial in {@link PanelStore.rows} (tooltips, clicks). */
  i?: number;
}

/** First objective's value, or null. */
export function firstScore(sc: Score | null | undefined): number | null {
  if (sc === null || sc === undefined) return null;
  const v = Array.isArray(sc) ? sc[0] : sc;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Objective `i`'s value of a score. */
export function scoreAt(sc: Score | null | undefined, i: number): number | null {
  if (sc === null || sc === undefined) return null;
  const v = Array.isArray(sc) ? sc[i] : i === 0 ? sc : undefined;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export class PanelStore {
  header: RunHeader | null = null;
  tables: RunTables = { params: [], metrics: [] };
  rows: TrialRow[] = [];
  analysis: AnalysisSnapshot | null = null;
  best: TrialSummary | null = null;
  pareto: TrialSummary[] | undefined;
  /** The run's holdout / walk-forward results, once it has ended. */
  validation: RunValidation | undefined;
  logs: LogEvent[] = [];
  /** Bumped on every change; charts compare it with what they drew. */
  version = 0;
  /** Bumped when the run is replaced (a new snapshot): charts rebuild from scratch. */
  epoch = 0;

  /** Every complete trial's first-objective score, by arrival order (the history scatter). */
  readonly history: XY[] = [];
  /** Infeasible trials, at their score or (when the run gave none) their objective evaluated on their metrics. */
  readonly infeasible: XY[] = [];
  /** Failed trials (no metrics): their arrival positions, drawn as ticks along the axis. */
  readonly failed: number[] = [];
  /** Trial number → index into {@link rows}. */
  private readonly byNumber = new Map<number, number>();
  private objective: { expr: string; fn: Compiled | null } | null = null;
  /** The running best, one point per improvement plus the latest arrival. */
  readonly runningBest: XY[] = [];
  private bestSoFar: number | null = null;
  private arrivals = 0;

  get directions(): ('maximize' | 'minimize')[] {
    return this.header?.directions?.length ? this.header.directions : ['maximize'];
  }

  /** True when `a` beats `b` on objective `i`. */
  better(a: number, b: number, i = 0): boolean {
    return this.directions[i] === 'minimize' ? a < b : a > b;
  }

  loadSnapshot(s: RunSnapshot | null): void {
    this.epoch++;
    this.version++;
    this.history.length = 0;
    this.infeasible.length = 0;
    this.failed.length = 0;
    this.byNumber.clear();
    this.runningBest.length = 0;
    this.bestSoFar = null;
    this.arrivals = 0;
    this.rows = [];
    if (!s) {
      this.header = null;
      this.tables = { params: [], metrics: [] };
      this.analysis = null;
      this.best = null;
      this.pareto = undefined;
      this.validation = undefined;
      this.logs = [];
      return;
    }
    this.header = s.header;
    this.tables = { params: [...s.tables.params], metrics: [...s.tables.metrics] };
    this.analysis = s.analysis;
    setMetricCatalogue(s.analysis?.metricInfo);
    this.best = s.best;
    this.pareto = s.pareto;
    this.validation = s.validation;
    this.logs = s.logs;
    this.addRows(s.trials);
  }

  /** Applies a delta; returns false when it belongs to another run (the panel then asks for a snapshot). */
  applyDelta(d: RunDelta): boolean {
    if (!this.header || d.id !== this.header.id) return false;
    this.version++;
    this.header = d.header;
    this.tables.params.push(...d.newParams);
    this.tables.metrics.push(...d.newMetrics);
    if (d.analysis) {
      this.analysis = d.analysis;
      setMetricCatalogue(d.analysis.metricInfo);
    }
    if (d.best !== undefined) this.best = d.best;
    if (d.pareto) this.pareto = d.pareto;
    if (d.validation) this.validation = d.validation;
    if (d.logs) this.logs.push(...d.logs);
    this.addRows(d.trials);
    return true;
  }

  /** The row of a trial number. */
  row(n: number): TrialRow | undefined {
    const i = this.byNumber.get(n);
    return i === undefined ? undefined : this.rows[i];
  }

  /** The index of a trial number in {@link rows}, or -1. */
  indexOf(n: number): number {
    return this.byNumber.get(n) ?? -1;
  }

  /** The first objective evaluated on a trial's metrics and parameters (for trials the run left unscored). */
  unconstrainedScore(r: TrialRow): number | null {
    const expr = this.header?.objectives?.[0];
    if (!expr) return null;
    if (this.objective?.expr !== expr) this.objective = { expr, fn: compileObjective(expr) };
    const fn = this.objective.fn;
    if (!fn) return null;
    return fn(
      (name) => this.lookup(r, r.m, name),
      r.y?.map((m) => (name: string) => this.lookup(r, m, name)),
    );
  }

  /** A name as objectives read it: a metric of `m` (the trial's or one symbol's), else a parameter. */
  private lookup(r: TrialRow, m: TrialRow['m'], name: string): number | null {
    const i = this.metricIndex(name);
    const v = i < 0 ? undefined : m[i];
    if (typeof v === 'number') return v;
    const p = r.p[this.paramIndex(name)];
    return typeof p === 'number' ? p : typeof p === 'boolean' ? +p : null;
  }

  private addRows(rows: TrialRow[]): void {
    for (const r of rows) {
      const index = this.rows.length;
      this.rows.push(r);
      this.byNumber.set(r.n, index);
      const x = ++this.arrivals;
      if (r.st === 'failed') {
        this.failed.push(x);
        continue;
      }
      const y = r.st === 'infeasible' ? (firstScore(r.sc) ?? this.unconstrainedScore(r)) : firstScore(r.sc);
      if (y === null) continue;
      if (r.st === 'complete') {
        this.history.push({ x, y, i: index });
        if (this.bestSoFar === null || this.better(y, this.bestSoFar)) {
          this.bestSoFar = y;
          this.runningBest.push({ x, y });
        }
      } else if (r.st === 'infeasible') {
        this.infeasible.push({ x, y, i: index });
      }
    }
    // The running best is a step line: extend its last value to the latest arrival.
    const rb = this.runningBest;
    if (rb.length && this.bestSoFar !== null) {
      const last = rb[rb.length - 1]!;
      if (last.x !== this.arrivals) {
        if (rb.length >= 2 && rb[rb.length - 2]!.y === last.y) last.x = this.arrivals;
        else rb.push({ x: this.arrivals, y: this.bestSoFar });
      }
    }
  }

  /** Index of a parameter / metric name, or -1. */
  paramIndex(name: string): number {
    return this.tables.params.indexOf(name);
  }
  metricIndex(name: string): number {
    return this.tables.metrics.indexOf(name);
  }

  /** The parameters of a row as an object. */
  paramsOf(r: TrialRow): Record<string, number | string | boolean> {
    const out: Record<string, number | string | boolean> = {};
    r.p.forEach((v, i) => {
      if (v !== null && v !== undefined) out[this.tables.params[i]!] = v;
    });
    return out;
  }

  /** Metric value of a row by name. */
  metric(r: TrialRow, name: string): number | null {
    const i = this.metricIndex(name);
    const v = i < 0 ? undefined : r.m[i];
    return typeof v === 'number' ? v : null;
  }

  /** Total arrivals (trials the panel holds). */
  get count(): number {
    return this.arrivals;
  }
}
