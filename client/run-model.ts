/**
 * The run model: folds run events (protocol/run-events.ts) into what the status bar, the
 * progress notification and the results panel show, and hands the panel snapshots and deltas.
 * Pure — no vscode, no timers — so it is tested with recorded event streams.
 */
import type { AnalysisSnapshot } from '../protocol/analysis';
import type { RunDelta, RunHeader, RunPhase, RunSnapshot, RunTables, StageSummary, TrialRow } from '../protocol/messages';
import type { EndEvent, LogEvent, ParamValues, RunEvent, Score, StartEvent, TrialEvent, TrialSummary } from '../protocol/run-events';

/**
 * Raw backtrader-named metrics that duplicate a study metric (`trades_closed` = `trades`,
 * `sharpe_days_ann_rf0` = `sharpe`, …) or are bookkeeping. The panel's rows leave them out:
 * they would double what every delta carries to the webview, and Open Trial shows the full set.
 * One the study's objectives name stays in (the panel evaluates them: see `objectiveNames`).
 */
export const PANEL_SKIPPED_METRICS: ReadonlySet<string> = new Set([
  'final_cash', 'end_position_size', 'end_position_price', 'trades_total', 'trades_closed', 'trades_open',
  'pnl_gross_total', 'gross_profit_pre_comm', 'gross_loss_pre_comm', 'profit_factor_pre_comm',
  'max_drawdown_money', 'max_drawdown_len', 'sharpe_days_ann_rf0', 'sharpe_default', 'sharpe_a',
  'returns_rtot', 'returns_ravg', 'returns_rnorm', 'returns_rnorm100', 'sqn_trades', 'rejected_orders', 'bars',
]);

/** Keeps at most this many log events (a chatty strategy must not grow the model without bound). */
const MAX_LOGS = 200;

/** True when `a` is a better single-objective score than `b` for this direction. */
export function isBetter(a: number, b: number, direction: 'maximize' | 'minimize' = 'maximize'): boolean {
  return direction === 'minimize' ? a < b : a > b;
}

/** The first objective's value of a score (the one the status bar and history chart follow). */
export function primaryScore(score: Score | null | undefined): number | null {
  if (score === null || score === undefined) return null;
  const v = Array.isArray(score) ? score[0] : score;
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export class RunModel {
  readonly header: RunHeader;
  readonly tables: RunTables = { params: [], metrics: [] };
  readonly trials: TrialRow[] = [];
  analysis: AnalysisSnapshot | null = null;
  /** The end event's best when the run ended, else the best complete trial so far (first objective). */
  best: TrialSummary | null = null;
  pareto: TrialSummary[] | undefined;
  readonly logs: LogEvent[] = [];
  start: StartEvent | undefined;
  ended: EndEvent | undefined;

  /** Trials shown from the journal of a resumed run (stage NUL number): the host replays them, once. */
  private readonly replayed = new Set<string>();
  private readonly paramIndex = new Map<string, number>();
  private readonly metricIndex = new Map<string, number>();
  private readonly stageIndex = new Map<string, number>();
  /** Every name the objectives mention: skipped metrics among them stay in the rows (the panel places infeasible trials by evaluating the first objective). */
  private objectiveNames: ReadonlySet<string> = new Set();
  // Delta bookkeeping: what the panel has already been sent.
  private sentRows = 0;
  private sentParams = 0;
  private sentMetrics = 0;
  private sentLogs = 0;
  private analysisDirty = false;
  private bestDirty = false;
  private headerDirty = false;

  constructor(id: string, study = '') {
    this.header = {
      id,
      study,
      status: 'starting',
      stages: [],
      directions: ['maximize'],
      objectives: [],
      done: 0,
      total: 0,
      rate: 0,
      etaMs: null,
      counts: { complete: 0, failed: 0, infeasible: 0 },
    };
  }

  /** Folds one event into the model. Unknown event types are ignored (newer hosts may add some). */
  apply(event: RunEvent): void {
    this.headerDirty = true;
    switch (event.type) {
      case 'start':
        return this.onStart(event);
      case 'trial':
        return this.onTrial(event);
      case 'stage': {
        const st = this.stage(event.name);
        st.best = event.best;
        st.finished = true;
        if (event.elapsedMs !== undefined) st.elapsedMs = event.elapsedMs;
        if (event.stoppedBy !== undefined) st.stoppedBy = event.stoppedBy;
        if (event.trials !== undefined) st.done = Math.max(st.done, event.trials);
        return;
      }
      case 'progress': {
        const h = this.header;
        // Walk-forward folds and the holdout re-optimize under names that are not stages
        // ("walk-forward fold 2/5 grid"): a phase, not a stage (#19-11: "stage 0/1").
        if (this.stageIndex.has(event.stage)) {
          h.stage = event.stage;
          delete h.phase;
        } else {
          h.phase = phaseOf(event.stage);
          return;
        }
        h.rate = event.rate;
        h.etaMs = event.etaMs;
        // The host's done/total may count the stage or the run; keep the run-level figures monotone.
        if (event.total >= h.total) {
          h.total = event.total;
          h.done = Math.max(h.done, event.done);
        }
        if (h.status === 'starting') h.status = 'running';
        return;
      }
      case 'log':
        this.logs.push(event);
        if (this.logs.length > MAX_LOGS) {
          const drop = this.logs.length - MAX_LOGS;
          this.logs.splice(0, drop);
          this.sentLogs = Math.max(0, this.sentLogs - drop);
        }
        return;
      case 'analysis':
        this.analysis = event.snapshot;
        this.analysisDirty = true;
        return;
      case 'end':
        return this.onEnd(event);
      default:
        return;
    }
  }

  private onStart(e: StartEvent): void {
    this.start = e;
    const h = this.header;
    h.study = e.study;
    h.file = e.file;
    h.runDir = e.runDir ?? h.runDir;
    h.total = e.total;
    h.resumed = e.resumed;
    h.status = 'running';
    h.startedAt = h.startedAt ?? Date.now();
    if (e.directions?.length) h.directions = e.directions;
    if (e.objectives) {
      h.objectives = e.objectives;
      this.objectiveNames = new Set(e.objectives.flatMap((o) => o.match(/[A-Za-z_][\w.]*/g) ?? []));
    }
    for (const s of e.stages) {
      const st = this.stage(s.name);
      st.method = s.method;
      st.size = s.size;
    }
    if (!h.stage && e.stages.length) h.stage = e.stages[0]!.name;
    for (const p of e.params ?? []) this.paramSlot(p);
  }

  /**
   * A resumed run starts from its journal: the trials done so far are shown at once (#19-5:
   * the panel no longer blanks to "0 / N" while the host replays them), and the host's replay
   * of those same trials is then not counted again.
   */
  seed(journal: readonly RunEvent[]): void {
    for (const e of journal) if (e.type !== 'end') this.apply(e);
    for (const t of this.trials) this.replayed.add(`${this.header.stages[t.s]?.name}\u0000${t.n}`);
    const h = this.header;
    h.status = 'starting';
    h.resumed = true;
    delete h.error;
  }

  /** Metric values by their slot in the name table (the panel's skipped ones left out). */
  private metricRow(metrics: TrialEvent['metrics'] | undefined): TrialRow['m'] {
    const m: TrialRow['m'] = [];
    for (const [k, v] of Object.entries(metrics ?? {})) {
      if (PANEL_SKIPPED_METRICS.has(k) && !this.objectiveNames.has(k)) continue;
      m[this.metricSlot(k)] = typeof v === 'number' && Number.isFinite(v) ? v : null;
    }
    for (let i = 0; i < m.length; i++) if (m[i] === undefined) m[i] = null;
    return m;
  }

  private onTrial(e: TrialEvent): void {
    if (this.replayed.size && this.replayed.delete(`${e.stage}\u0000${e.number}`)) return;
    const stageIdx = this.stageSlot(e.stage);
    const st = this.header.stages[stageIdx]!;
    st.done++;
    const h = this.header;
    h.stage = e.stage;
    if (h.status === 'starting') h.status = 'running';
    h.counts[e.state] = (h.counts[e.state] ?? 0) + 1;
    const p: TrialRow['p'] = [];
    for (const [k, v] of Object.entries(e.params ?? {})) p[this.paramSlot(k)] = v;
    for (let i = 0; i < p.length; i++) if (p[i] === undefined) p[i] = null;
    const row: TrialRow = { n: e.number, s: stageIdx, st: e.state, sc: e.score ?? null, p, m: this.metricRow(e.metrics) };
    if (e.error) row.e = e.error;
    if (e.state === 'infeasible' && e.symbols?.length) row.y = e.symbols.map((sym) => this.metricRow(sym.metrics));
    this.trials.push(row);
    // Counted here too: a host that sends no progress events still moves the bar.
    const seen = h.counts.complete + h.counts.failed + h.counts.infeasible;
    if (seen > h.done) h.done = seen;
    if (h.total < h.done) h.total = h.done;
    if (e.state === 'complete' && !this.ended) {
      const v = primaryScore(e.score);
      const cur = primaryScore(this.best?.score);
      if (v !== null && (cur === null || isBetter(v, cur, h.directions[0]))) {
        this.best = { params: e.params, score: e.score, metrics: e.metrics, number: e.number, stage: e.stage };
        this.bestDirty = true;
      }
    }
  }

  private onEnd(e: EndEvent): void {
    this.ended = e;
    const h = this.header;
    h.status = e.status ?? (e.error ? 'failed' : 'finished');
    if (e.error) h.error = e.error;
    h.elapsedMs = e.elapsedMs;
    h.etaMs = null;
    delete h.phase;
    if (e.runDir) h.runDir = e.runDir;
    if (e.best !== undefined) {
      this.best = e.best;
      this.bestDirty = true;
    }
    if (e.pareto) {
      this.pareto = e.pareto;
      this.bestDirty = true;
    }
    // Sent with the best (validation arrives once, in the end event).
    if (e.validation) this.bestDirty = true;
    if (h.status === 'finished') h.done = Math.max(h.done, e.trials);
  }

  private stage(name: string): StageSummary {
    return this.header.stages[this.stageSlot(name)]!;
  }

  private stageSlot(name: string): number {
    let i = this.stageIndex.get(name);
    if (i === undefined) {
      i = this.header.stages.length;
      this.header.stages.push({ name, method: 'grid', size: 0, done: 0, best: null, finished: false });
      this.stageIndex.set(name, i);
    }
    return i;
  }

  private paramSlot(name: string): number {
    let i = this.paramIndex.get(name);
    if (i === undefined) {
      i = this.tables.params.length;
      this.tables.params.push(name);
      this.paramIndex.set(name, i);
    }
    return i;
  }

  private metricSlot(name: string): number {
    let i = this.metricIndex.get(name);
    if (i === undefined) {
      i = this.tables.metrics.length;
      this.tables.metrics.push(name);
      this.metricIndex.set(name, i);
    }
    return i;
  }

  /** True while the run host is still working. */
  get running(): boolean {
    return this.header.status === 'starting' || this.header.status === 'running';
  }

  /** The parameters of a trial by number, as an object (for Open Trial and Apply). */
  trialParams(n: number): ParamValues | undefined {
    const row = this.trials.find((t) => t.n === n);
    if (!row) return undefined;
    const out: ParamValues = {};
    row.p.forEach((v, i) => {
      if (v !== null && v !== undefined) out[this.tables.params[i]!] = v;
    });
    return out;
  }

  /**
   * The parameters a trial of `stage` ran with beyond its own: the bests of the stages before
   * it (each stage starts from the best of the previous ones).
   */
  fixedBefore(stage: string | undefined): ParamValues {
    const out: ParamValues = {};
    for (const st of this.header.stages) {
      if (st.name === stage) break;
      if (st.best) Object.assign(out, st.best.params);
    }
    return out;
  }

  /** What Apply Best Parameters writes: every stage's best, then the run's best (later wins). */
  bestParams(): ParamValues {
    const out: ParamValues = {};
    for (const st of this.header.stages) if (st.best) Object.assign(out, st.best.params);
    if (this.best) Object.assign(out, this.best.params);
    return out;
  }

  /** The whole run for a panel that (re)loads. Marks everything as sent. */
  snapshot(): RunSnapshot {
    this.sentRows = this.trials.length;
    this.sentParams = this.tables.params.length;
    this.sentMetrics = this.tables.metrics.length;
    this.sentLogs = this.logs.length;
    this.analysisDirty = this.bestDirty = this.headerDirty = false;
    return {
      header: structuredClone(this.header),
      tables: { params: [...this.tables.params], metrics: [...this.tables.metrics] },
      trials: this.trials.slice(),
      analysis: this.analysis,
      best: this.best,
      pareto: this.pareto,
      logs: this.logs.slice(),
      start: this.start,
      ...(this.ended?.validation ? { validation: this.ended.validation } : {}),
    };
  }

  /** What changed since the last snapshot or delta; `null` when nothing did. */
  takeDelta(): RunDelta | null {
    const nothing =
      !this.headerDirty && !this.analysisDirty && !this.bestDirty && this.sentRows === this.trials.length && this.sentLogs === this.logs.length;
    if (nothing) return null;
    const d: RunDelta = {
      id: this.header.id,
      header: structuredClone(this.header),
      newParams: this.tables.params.slice(this.sentParams),
      newMetrics: this.tables.metrics.slice(this.sentMetrics),
      trials: this.trials.slice(this.sentRows),
    };
    if (this.analysisDirty && this.analysis) d.analysis = this.analysis;
    if (this.bestDirty) {
      d.best = this.best;
      if (this.pareto) d.pareto = this.pareto;
      if (this.ended?.validation) d.validation = this.ended.validation;
    }
    if (this.sentLogs < this.logs.length) d.logs = this.logs.slice(this.sentLogs);
    this.sentRows = this.trials.length;
    this.sentParams = this.tables.params.length;
    this.sentMetrics = this.tables.metrics.length;
    this.sentLogs = this.logs.length;
    this.analysisDirty = this.bestDirty = this.headerDirty = false;
    return d;
  }
}

/** "walk-forward fold 2/5 grid" → a validation phase 2 of 5; other unknown names → a search phase. */
export function phaseOf(name: string): RunPhase {
  const m = /^(walk-forward fold|holdout)\s*(?:(\d+)\s*\/\s*(\d+))?/i.exec(name);
  if (!m) return { kind: 'search', label: name };
  return { kind: 'validation', label: m[2] ? `${m[1]} ${m[2]}/${m[3]}` : m[1]!, ...(m[2] ? { index: Number(m[2]), count: Number(m[3]) } : {}) };
}

/** Folds a whole event list (a recorded run or a journal) into a model. */
export function modelFromEvents(id: string, events: Iterable<RunEvent>): RunModel {
  const m = new RunModel(id);
  for (const e of events) m.apply(e);
  return m;
}

/** `1:05:03`, `4:07`, `12 s`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * A number as the status bar, notifications and pickers show it: four significant digits,
 * thousands grouped, never an exponent for everyday magnitudes (#19-12: "1.42e+6").
 */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e15)) return v.toExponential(2);
  if (a >= 1000) return Math.round(v).toLocaleString('en-US');
  return Number(v.toPrecision(4)).toString();
}

/** A score: one number, or one per objective joined with " · " (#19-12: "[0.5226, 51.5]"). */
export function formatScore(score: Score | null | undefined): string {
  if (score === null || score === undefined) return '–';
  return Array.isArray(score) ? score.map(formatNumber).join(' · ') : formatNumber(score);
}

/** The status-bar line for a run: `120/990 · 35/s · ETA 0:25 · best 1.23`. */
export function statusText(h: RunHeader, best: TrialSummary | null): string {
  const parts = [`${h.done}/${h.total || '?'}`];
  if (h.status === 'running' || h.status === 'starting') {
    if (h.rate > 0) parts.push(`${h.rate >= 10 ? Math.round(h.rate) : h.rate.toFixed(1)}/s`);
    if (h.etaMs !== null) parts.push(`ETA ${formatDuration(h.etaMs)}`);
  } else {
    parts.push(h.status);
  }
  if (best) parts.push(`best ${formatScore(best.score)}`);
  return parts.join(' · ');
}
