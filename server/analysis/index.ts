/**
 * `analyzeTrials(trials, start)` → the `AnalysisSnapshot` the panel renders, the report prints
 * and the run host streams (≤ 1/s) during a run.
 *
 * Incremental: called again with the same `start` object and a list that grew by appending,
 * it only folds in the new trials for counts, history, bests and the Pareto front, and refits
 * the heavy parts (forest importance, correlations, plateau scores) only when the feasible
 * set grew by 10 % (or 20 trials) since their last fit — or when `final` asks for it.
 */
import type {
  AnalysisSnapshot, Correlation, DeflatedSharpeSummary, HistoryPoint, MetricLabel, ParamImportance, PboSummary, PlateauScore, RankedTrialSummary, StageSummary,
} from '../../protocol/analysis';
import type { RunValidation, TrialSummary } from '../../protocol/run-events';
import { declaredRanges, overfittingEvidence, paramEdges } from './evidence';
import { metricLabels } from './metric-labels';
import { mostRobust, robustScores, type RobustResult } from './robust-scores';
import { fanovaImportance, groupByParam, oneWayAnova } from './importance';
import { deflatedSharpe } from './overfitting';
import { hypervolumeHistory, paretoFront, referencePoint, toMin, dominates } from './pareto';
import { rankTrials, stageNames } from './rankings';
import { correlations, pickEncodings, slices, surface, thin } from './relations';
import { plateauScores } from './robustness';
import { variance } from './stats';
import {
  directionsOf, encodeParams, encodeValue, keyValue, metricNames, paramNames, scoreVector, type Direction, type ParamEncoding, type RankKey, type StartLike, type TrialLike,
} from './trial-data';

export * from './evidence';
export * from './importance';
export * from './metric-labels';
export * from './robust-scores';
export * from './overfitting';
export * from './pareto';
export * from './rankings';
export * from './relations';
export * from './robustness';
export * from './stats';
export * from './trial-data';

export interface AnalyzeOptions {
  /** Rows in `top` (default 10). */
  topN?: number;
  /** Refit everything now (the end of a run, a report). */
  final?: boolean;
  /** Returns behind each trial's `sharpe` (default: the start's tradingDays, else the best trial's bars): enables the Deflated Sharpe Ratio. */
  observations?: number;
  /** Seed for the forest (default 7). */
  seed?: number;
  /** History points kept (default 500). */
  maxHistory?: number;
  /** Metrics correlated with the parameters besides the score (default: a few headline ones present in the run). */
  correlationMetrics?: string[];
  /**
   * Evidence from outside the trials (the report's re-runs, the run's validation): folded into
   * the snapshot's `pbo`, `deflatedSharpe` and `overfitting` verdict.
   */
  evidence?: RunEvidence;
}

/** What `optstudy report` adds to the trials' own evidence. */
export interface RunEvidence {
  pbo?: PboSummary | null;
  /** With measured moments (replaces the normal-returns estimate). */
  deflatedSharpe?: DeflatedSharpeSummary | null;
  validation?: RunValidation | null;
  /** Evidence that could not be computed, and why. */
  missing?: string[];
}

/** Robust scores streamed while a run goes on (all of them at the end). */
const STREAMED_ROBUST = 2000;

const HEADLINE_METRICS = ['sharpe', 'total_return_pct', 'max_drawdown_pct', 'profit_factor', 'trades', 'win_rate_pct'];

/** Summary of one trial as the protocol carries it. */
function summary(t: TrialLike): TrialSummary {
  return {
    params: t.params,
    score: t.score,
    metrics: t.metrics,
    ...(t.number !== undefined ? { number: t.number } : {}),
    ...(t.stage !== undefined ? { stage: t.stage } : {}),
  };
}

interface StageState {
  trials: number;
  feasible: number;
  best: TrialLike | null;
  bestValue: number;
}

interface Heavy {
  atFeasible: number;
  atTrials: number;
  importance: ParamImportance[];
  stageImportance: Map<string, ParamImportance[]>;
  correlations: Correlation[];
  plateau: PlateauScore[];
  robust: RobustResult;
}

/** Keeps the state that makes repeated snapshots of a growing run cheap. */
export class TrialAnalyzer {
  private processed = 0;
  private last: TrialLike | undefined;
  private counts = { complete: 0, failed: 0, infeasible: 0, feasible: 0 };
  private history: HistoryPoint[] = [];
  private bestValue: number | null = null;
  private best: TrialLike | null = null;
  private stages = new Map<string, StageState>();
  private feasible: TrialLike[] = [];
  private front: { t: TrialLike; p: number[] }[] = [];
  private heavy: Heavy | null = null;
  /** Distinct values per parameter over feasible trials, kept as trials arrive. */
  private valueSets = new Map<string, { values: Set<number | string | boolean>; numeric: boolean }>();
  private stageFits = new Map<string, { n: number; imp: ParamImportance[] | null }>();
  private labels: Record<string, MetricLabel> | undefined;
  private readonly directions: Direction[];

  constructor(private readonly start: StartLike | undefined, private readonly opts: AnalyzeOptions = {}) {
    this.directions = directionsOf(start);
  }

  /** A snapshot of `trials` (the whole run so far, in run order). */
  update(trials: readonly TrialLike[], opts: AnalyzeOptions = {}): AnalysisSnapshot {
    const t0 = performance.now();
    const o = { ...this.opts, ...opts };
    // The list must have grown by appending; anything else starts over.
    if (trials.length < this.processed || (this.processed > 0 && trials[this.processed - 1] !== this.last)) this.reset();
    const dirs = this.directionsFor(trials);
    const sign = dirs[0] === 'minimize' ? -1 : 1;
    for (let i = this.processed; i < trials.length; i++) this.fold(trials[i]!, i, sign, dirs);
    this.processed = trials.length;
    this.last = trials[trials.length - 1];

    const params = paramNames(this.feasible.length ? this.feasible : trials, this.start).filter((p) => this.varies(p));
    const n = this.feasible.length;
    const h = this.heavy;
    const encs = this.encodings();
    // Heavy parts are refitted on 10 % growth, or at the end when anything changed since.
    if (!h || n - h.atFeasible >= Math.max(20, 0.1 * h.atFeasible) || (o.final && trials.length !== h.atTrials)) this.heavy = this.refit(trials, params, o, dirs, encs);
    const heavy = this.heavy!;

    const snap: AnalysisSnapshot = {
      trials: trials.length,
      importance: heavy.importance,
      counts: { ...this.counts },
      directions: dirs,
      ...(this.start?.objectives ? { objectives: this.start.objectives } : {}),
      params,
      best: this.best ? summary(this.best) : null,
      top: rankTrials(this.topCandidates(o.topN ?? 10, sign), { directions: dirs }, { n: o.topN ?? 10 }).map(
        (r): RankedTrialSummary => ({ rank: r.rank, value: r.value, params: r.params, score: r.score, metrics: r.metrics, ...(r.number !== undefined ? { number: r.number } : {}), ...(r.stage !== undefined ? { stage: r.stage } : {}) }),
      ),
      stages: stageNames(trials, this.start).map((name): StageSummary => {
        const s = this.stages.get(name);
        const imp = heavy.stageImportance.get(name);
        return { name, trials: s?.trials ?? 0, feasible: s?.feasible ?? 0, best: s?.best ? summary(s.best) : null, ...(imp ? { importance: imp } : {}) };
      }),
      history: this.thinHistory(o.maxHistory ?? 500),
      correlations: heavy.correlations,
      slices: slices(this.feasible, params, 'score', { maxPoints: 300, encodings: encs }),
      surface: this.surfaceFor(heavy.importance, params, encs),
      plateau: heavy.plateau,
    };
    if (dirs.length > 1) {
      snap.pareto = this.front.map((f) => summary(f.t)).sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
      const pts = this.feasible.map((t) => scoreVector(t)!);
      const ref = referencePoint(pts, dirs);
      if (ref) {
        const hh = hypervolumeHistory(pts, dirs, ref, { checkpoints: 60, numbers: this.feasible.map((t, i) => t.number ?? i) });
        snap.hypervolume = { method: hh.method, reference: ref.map((r, i) => (dirs[i] === 'maximize' ? -r : r)), points: hh.points };
      } else snap.hypervolume = null;
    }
    // The sharpe metric has one return per calendar day: T is the window's days (bars on daily data).
    const observations = o.observations ?? this.start?.tradingDays ?? barsOf(this.best);
    if (observations) snap.deflatedSharpe = this.dsr(observations);
    this.addEvidence(snap, trials, heavy, dirs, o);
    snap.computeMs = Math.round((performance.now() - t0) * 100) / 100;
    return snap;
  }

  /** Robust scores, edges, metric labels and the overfitting verdict (with the report's evidence when given). */
  private addEvidence(snap: AnalysisSnapshot, trials: readonly TrialLike[], heavy: Heavy, dirs: Direction[], o: AnalyzeOptions): void {
    const scores = heavy.robust.scores;
    const best = this.best;
    const top = mostRobust(scores, dirs[0]);
    const streamed = o.final || scores.length <= STREAMED_ROBUST ? scores : [...scores].sort((a, b) => (dirs[0] === 'minimize' ? a.robust - b.robust : b.robust - a.robust)).slice(0, STREAMED_ROBUST);
    snap.robustScores = streamed.filter((r) => r.number !== undefined).map((r) => ({ number: r.number!, robust: r.robust }));
    snap.mostRobust = top;
    const bestStage = best?.stage ?? '';
    const ranges = declaredRanges(this.start?.file, this.start?.study);
    snap.edges = paramEdges(best, trials.filter((t) => (t.stage ?? '') === bestStage), ranges?.get(bestStage));
    this.labels ??= {};
    for (const m of metricNames(this.feasible.slice(-1))) this.labels[m] ??= metricLabels([m])[m]!;
    snap.metricInfo = this.labels;
    const ev = o.evidence ?? {};
    if (ev.pbo !== undefined) snap.pbo = ev.pbo;
    if (ev.deflatedSharpe) snap.deflatedSharpe = ev.deflatedSharpe;
    const bestRobust = best ? (scores.find((r) => r.number === best.number && r.stage === best.stage) ?? heavy.plateau.find((r) => r.number === best.number && r.stage === best.stage) ?? null) : null;
    snap.overfitting = overfittingEvidence({
      directions: dirs,
      best,
      bestRobust,
      mostRobust: top,
      edges: snap.edges,
      deflatedSharpe: snap.deflatedSharpe ?? null,
      pbo: snap.pbo ?? null,
      validation: ev.validation ?? null,
      missing: ev.missing,
    });
  }

  private reset(): void {
    this.processed = 0;
    this.last = undefined;
    this.counts = { complete: 0, failed: 0, infeasible: 0, feasible: 0 };
    this.history = [];
    this.bestValue = null;
    this.best = null;
    this.stages.clear();
    this.feasible = [];
    this.front = [];
    this.heavy = null;
    this.valueSets.clear();
    this.stageFits.clear();
    this.labels = undefined;
  }

  /** Encodings of the feasible trials' parameters, from the incrementally kept value sets. */
  private encodings(): ParamEncoding[] {
    return [...this.valueSets].map(([name, v]) => {
      const values = [...v.values];
      if (v.numeric) (values as number[]).sort((a, b) => a - b);
      return { name, numeric: v.numeric, values };
    });
  }

  private dirsCache: Direction[] | null = null;
  private directionsFor(trials: readonly TrialLike[]): Direction[] {
    if (this.start?.directions?.length) return this.directions;
    this.dirsCache ??= trials.length ? directionsOf(undefined, trials) : null;
    return this.dirsCache ?? this.directions;
  }

  private fold(t: TrialLike, i: number, sign: number, dirs: Direction[]): void {
    if (t.state === 'complete') this.counts.complete++;
    else if (t.state === 'failed') this.counts.failed++;
    else if (t.state === 'infeasible') this.counts.infeasible++;
    const stageName = t.stage ?? '';
    const st = this.stages.get(stageName) ?? { trials: 0, feasible: 0, best: null, bestValue: 0 };
    st.trials++;
    this.stages.set(stageName, st);
    // One look at the score (isFeasible + keyValue would build its vector twice).
    const vec = t.state === 'complete' ? scoreVector(t) : null;
    const v = vec ? vec[0]! : null;
    if (v !== null) {
      this.counts.feasible++;
      st.feasible++;
      this.feasible.push(t);
      for (const k in t.params) {
        const v = t.params[k]!;
        let e = this.valueSets.get(k);
        if (!e) this.valueSets.set(k, (e = { values: new Set(), numeric: true }));
        e.values.add(v);
        if (typeof v !== 'number') e.numeric = false;
      }
      if (this.bestValue === null || sign * v > sign * this.bestValue) {
        this.bestValue = v;
        this.best = t;
      }
      if (st.best === null || sign * v > sign * st.bestValue) {
        st.best = t;
        st.bestValue = v;
      }
      if (dirs.length > 1) {
        const p = toMin(vec!, dirs);
        if (!this.front.some((f) => dominates(f.p, p))) {
          this.front = this.front.filter((f) => !dominates(p, f.p));
          this.front.push({ t, p });
        }
      }
    }
    this.history.push({ number: t.number ?? i, ...(t.stage !== undefined ? { stage: t.stage } : {}), score: v, best: this.bestValue });
  }

  /**
   * The best `k` feasible trials in run order, found in one pass without sorting everything
   * (ties keep the earlier trial, as rankTrials does).
   */
  private topCandidates(k: number, sign: number): TrialLike[] {
    const best: { t: TrialLike; v: number; i: number }[] = [];
    this.feasible.forEach((t, i) => {
      const v = sign * keyValue(t, 'score')!;
      if (best.length === k && v <= best[k - 1]!.v) return;
      let j = best.length;
      while (j > 0 && best[j - 1]!.v < v) j--;
      best.splice(j, 0, { t, v, i });
      if (best.length > k) best.pop();
    });
    return best.sort((a, b) => a.i - b.i).map((b) => b.t);
  }

  /** Keeps every improvement of the running best plus evenly spaced other points. */
  private thinHistory(max: number): HistoryPoint[] {
    const h = this.history;
    if (h.length <= max) return h.slice();
    const keep = new Set<number>();
    for (let i = 0; i < h.length; i++) if (i === 0 || h[i]!.best !== h[i - 1]!.best) keep.add(i);
    const rest = max - Math.min(keep.size, max / 2);
    const step = h.length / Math.max(1, rest);
    for (let k = 0; k < rest; k++) keep.add(Math.floor(k * step));
    keep.add(h.length - 1);
    return [...keep].sort((a, b) => a - b).map((i) => h[i]!);
  }

  private varies(p: string): boolean {
    return (this.valueSets.get(p)?.values.size ?? 0) > 1;
  }

  private refit(trials: readonly TrialLike[], params: string[], o: AnalyzeOptions, dirs: Direction[], encs: ParamEncoding[]): Heavy {
    // The forest's bootstrap draws rows by position: fitted in arrival order, the live run (trials
    // as workers finish them) and the journal (in trial order) gave different importances for
    // the same trials (#19-3). Trial order is the one order both have.
    const ordered = byNumber(this.feasible);
    const importance = importanceOf(ordered, params, o.seed ?? 7, encs);
    const stageImportance = new Map<string, ParamImportance[]>();
    const stageList = stageNames(trials, this.start);
    if (stageList.length > 1) {
      for (const name of stageList) {
        // A stage that got no new trials since the last fit keeps its result (stages run in order).
        const count = this.stages.get(name)?.feasible ?? 0;
        const cached = this.stageFits.get(name);
        if (cached && cached.n === count) {
          if (cached.imp) stageImportance.set(name, cached.imp);
          continue;
        }
        const rows = ordered.filter((t) => t.stage === name);
        const local = params.filter((p) => varies(rows, p));
        const imp = rows.length >= 4 && local.length ? importanceOf(rows, local, o.seed ?? 7) : null;
        this.stageFits.set(name, { n: count, imp });
        if (imp) stageImportance.set(name, imp);
      }
    }
    const metrics = metricNames(this.feasible);
    const wanted = (o.correlationMetrics ?? HEADLINE_METRICS).filter((m) => metrics.includes(m));
    const targets: { name: string; key: RankKey }[] =
      dirs.length > 1 ? dirs.map((_, i) => ({ name: `score[${i}]`, key: { objective: i } })) : [{ name: 'score', key: 'score' }];
    for (const m of wanted) targets.push({ name: m, key: { metric: m } });
    return {
      atFeasible: this.feasible.length,
      atTrials: trials.length,
      importance,
      stageImportance,
      correlations: correlations(this.feasible, params, targets, encs),
      plateau: this.plateauOfFinalists(trials, dirs),
      robust: robustScores(trials, { direction: dirs[0] ?? 'maximize', gridStages: this.gridStages() }),
    };
  }

  /** Stages the start event says are grids (all stages count as grids when it does not say). */
  private gridStages(): ReadonlySet<string> | undefined {
    const st = this.start?.stages;
    return st?.length ? new Set(st.filter((s) => s.method === 'grid').map((s) => s.name)) : undefined;
  }

  /** Plateau scores of the top 5, each within its own stage, for stages searched by grid. */
  private plateauOfFinalists(trials: readonly TrialLike[], dirs: Direction[]): PlateauScore[] {
    const methods = new Map((this.start?.stages ?? []).map((s) => [s.name, s.method]));
    const finalists = rankTrials(this.topCandidates(5, dirs[0] === 'minimize' ? -1 : 1), { directions: dirs }, { n: 5 });
    const out: PlateauScore[] = [];
    const byStage = new Map<string, TrialLike[]>();
    for (const t of trials) {
      const k = t.stage ?? '';
      const list = byStage.get(k) ?? [];
      list.push(t);
      byStage.set(k, list);
    }
    // One neighbourhood index per stage serves all of that stage's finalists.
    const perStage = new Map<string, TrialLike[]>();
    for (const f of finalists) {
      const stage = f.stage ?? '';
      const method = methods.get(stage);
      if (method !== undefined && method !== 'grid') continue;
      const target = this.feasible.find((t) => t.number === f.number && t.stage === f.stage);
      if (!target) continue;
      perStage.set(stage, [...(perStage.get(stage) ?? []), target]);
    }
    for (const [stage, targets] of perStage) {
      const rows = byStage.get(stage) ?? [];
      const local = Object.keys(targets[0]!.params).filter((p) => varies(rows, p));
      // Continuous searches put nearly every value on its own "grid line": no neighbourhood to speak of.
      if (!local.length || encodeParams(rows, local).some((e) => e.values.length > 64)) continue;
      out.push(...plateauScores(rows, { only: targets, params: local, direction: dirs[0] ?? 'maximize' }));
    }
    // Keep the finalists' rank order.
    const order = new Map(finalists.map((f, k) => [`${f.stage}\u0000${f.number}`, k]));
    out.sort((a, b) => order.get(`${a.stage}\u0000${a.number}`)! - order.get(`${b.stage}\u0000${b.number}`)!);
    return out;
  }

  private surfaceFor(importance: ParamImportance[], params: string[], encs: ParamEncoding[]) {
    const ranked = [...importance].sort((a, b) => b.importance - a.importance).map((i) => i.param);
    const pick = ranked.length >= 2 ? ranked.slice(0, 2) : params.slice(0, 2);
    return pick.length === 2 ? surface(this.feasible, pick[0]!, pick[1]!, 'score', { encodings: encs }) : null;
  }

  private dsr(observations: number): DeflatedSharpeSummary | null {
    const sharpes = this.feasible.map((t) => keyValue(t, { metric: 'sharpe' })).filter((x): x is number => x !== null);
    const bestSharpe = this.best ? keyValue(this.best, { metric: 'sharpe' }) : null;
    if (bestSharpe === null || sharpes.length < 2) return null;
    const ran = this.counts.complete + this.counts.infeasible;
    // The metric is annualized with √252; the DSR works per observation.
    const d = deflatedSharpe({ sharpe: bestSharpe / Math.sqrt(252), observations, trials: ran, sharpeVariance: variance(sharpes) / 252 });
    return { sharpe: bestSharpe, expectedMaxSharpe: d.sr0 * Math.sqrt(252), dsr: d.dsr, psr: d.psr, trials: ran, observations, momentsMeasured: false };
  }
}

/** Trials sorted by number (stable; trials without one keep their place among themselves). */
function byNumber(trials: readonly TrialLike[]): TrialLike[] {
  return trials
    .map((t, i) => ({ t, i }))
    .sort((a, b) => (a.t.number ?? a.i) - (b.t.number ?? b.i) || a.i - b.i)
    .map((x) => x.t);
}

/** Bars in the best trial's backtest (the `bars` metric): the DSR's observation count. */
function barsOf(t: TrialLike | null): number | undefined {
  const b = t?.metrics?.bars;
  return typeof b === 'number' && b > 2 ? b : undefined;
}

function varies(rows: readonly TrialLike[], p: string): boolean {
  const first = rows.find((t) => t.params?.[p] !== undefined)?.params[p];
  return rows.some((t) => t.params?.[p] !== undefined && t.params[p] !== first);
}

/** fANOVA shares and one-way ANOVA for each parameter, most important first. */
export function importanceOf(feasible: readonly TrialLike[], params: readonly string[], seed = 7, encodings?: readonly ParamEncoding[]): ParamImportance[] {
  if (!params.length || feasible.length < 2) return params.map((param) => ({ param, importance: 0, fStat: null, pValue: null, negLog10P: null }));
  const encs = pickEncodings(feasible, params, encodings);
  const y = feasible.map((t) => keyValue(t, 'score')!);
  const x = feasible.map((t) => encs.map((e) => encodeValue(e, t.params?.[e.name])));
  const shares = fanovaImportance(x, y, { seed });
  return encs
    .map((e, d) => {
      const col = x.map((r) => r[d]!);
      const a = oneWayAnova(groupByParam(col, y));
      return { param: e.name, importance: shares[d]!, fStat: a.f, pValue: a.pValue, negLog10P: a.negLog10P, groups: a.groups };
    })
    .sort((a, b) => b.importance - a.importance || (b.negLog10P ?? 0) - (a.negLog10P ?? 0));
}

const cache = new WeakMap<object, TrialAnalyzer>();

/**
 * The analysis snapshot of a run's trials so far. With the same `start` object across calls
 * (the run host's), state is reused and only new trials are folded in.
 */
export function analyzeTrials(trials: readonly TrialLike[], start?: StartLike, opts: AnalyzeOptions = {}): AnalysisSnapshot {
  if (!start) return new TrialAnalyzer(undefined, opts).update(trials, { ...opts, final: true });
  let a = cache.get(start);
  if (!a) {
    a = new TrialAnalyzer(start, opts);
    cache.set(start, a);
  }
  return a.update(trials, opts);
}

export { thin };
