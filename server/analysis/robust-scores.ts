/**
 * A robust score for every feasible trial — what the panel's "robust score" sort ranks by and
 * "Apply most robust" applies: mean − λ·std of the score over the trial's neighbourhood
 * (itself included; mean + λ·std when minimizing), within the trial's own stage.
 * - Grid stages (few distinct values per parameter): the ±1-step grid neighbours
 *   (`plateauScores`).
 * - Continuous searches (bayes, tpe, random, …, where nearly every value is its own grid line):
 *   the trials within a tenth of every parameter's tried range (an L∞ box), found through
 *   cells of that width, so the cost stays linear in the trials for a handful of parameters.
 * A trial with no neighbour gets no robust score: nothing says whether its edge is broad.
 */
import type { PlateauScore } from '../../protocol/analysis';
import { plateauScores } from './robustness';
import { mean, std } from './stats';
import { encodeParams, isFeasible, keyValue, type Direction, type TrialLike } from './trial-data';

export interface RobustResult {
  method: 'grid-neighbourhood' | 'nearest-trials';
  /** One entry per scored trial, in trial order. */
  scores: PlateauScore[];
  /** False when only the leading trials were scored (too many cells to look at all). */
  complete: boolean;
}

export interface RobustOptions {
  direction?: Direction;
  lambda?: number;
  /** Half-width of the continuous neighbourhood, as a share of each parameter's range (default 0.1). */
  radius?: number;
  /** Neighbourhood look-ups allowed per stage before only the best trials are scored (default 4e6). */
  budget?: number;
  /** Stages searched on a grid (by name); others are treated as continuous. */
  gridStages?: ReadonlySet<string>;
}

/** More distinct values than this on an axis: the stage is treated as continuous. */
const MAX_GRID_VALUES = 64;

/** Robust scores of the trials of one run, stage by stage. */
export function robustScores(trials: readonly TrialLike[], opts: RobustOptions = {}): RobustResult {
  const byStage = new Map<string, TrialLike[]>();
  for (const t of trials) {
    const k = t.stage ?? '';
    let list = byStage.get(k);
    if (!list) byStage.set(k, (list = []));
    list.push(t);
  }
  const out: PlateauScore[] = [];
  let complete = true;
  let method: RobustResult['method'] = 'grid-neighbourhood';
  for (const [stage, rows] of byStage) {
    const feasible = rows.filter(isFeasible);
    if (feasible.length < 2) continue;
    const params = Object.keys(feasible[0]!.params).filter((p) => feasible.some((t) => t.params[p] !== feasible[0]!.params[p]));
    if (!params.length) continue;
    const encs = encodeParams(rows, params);
    const grid = opts.gridStages ? opts.gridStages.has(stage) : encs.every((e) => e.values.length <= MAX_GRID_VALUES);
    const budget = opts.budget ?? 4e6;
    if (grid && encs.every((e) => e.values.length <= MAX_GRID_VALUES)) {
      const perTrial = 3 ** params.length;
      const only = feasible.length * perTrial > budget ? leading(feasible, Math.max(1, Math.floor(budget / perTrial)), opts.direction) : undefined;
      if (only) complete = false;
      out.push(...plateauScores(rows, { params, direction: opts.direction ?? 'maximize', lambda: opts.lambda, ...(only ? { only } : {}) }));
    } else if (encs.every((e) => e.numeric)) {
      method = 'nearest-trials';
      const r = nearestScores(rows, params, opts, budget);
      if (!r.complete) complete = false;
      out.push(...r.scores);
    }
  }
  return { method, scores: out.filter((s) => s.neighbours > 0), complete };
}

/** The best `k` feasible trials (run order among equals). */
function leading(feasible: readonly TrialLike[], k: number, direction: Direction = 'maximize'): TrialLike[] {
  const sign = direction === 'minimize' ? 1 : -1;
  return feasible
    .map((t, i) => ({ t, i, v: keyValue(t, 'score')! }))
    .sort((a, b) => sign * (a.v - b.v) || a.i - b.i)
    .slice(0, k)
    .map((x) => x.t);
}

/** Continuous neighbourhoods: trials within `radius` of each parameter's range, via cells of that width. */
function nearestScores(rows: readonly TrialLike[], params: string[], opts: RobustOptions, budget: number): { scores: PlateauScore[]; complete: boolean } {
  const radius = opts.radius ?? 0.1;
  const lambda = opts.lambda ?? 1;
  const sign = (opts.direction ?? 'maximize') === 'maximize' ? 1 : -1;
  const lo = params.map(() => Infinity);
  const hi = params.map(() => -Infinity);
  for (const t of rows) {
    params.forEach((p, d) => {
      const v = t.params[p] as number;
      if (v < lo[d]!) lo[d] = v;
      if (v > hi[d]!) hi[d] = v;
    });
  }
  const span = params.map((_, d) => hi[d]! - lo[d]! || 1);
  const pos = (t: TrialLike) => params.map((p, d) => ((t.params[p] as number) - lo[d]!) / span[d]!);
  const cellKey = (c: number[]) => c.join(',');
  const cells = new Map<string, { x: number[]; v: number | null }[]>();
  for (const t of rows) {
    const x = pos(t);
    const key = cellKey(x.map((v) => Math.floor(v / radius)));
    let list = cells.get(key);
    if (!list) cells.set(key, (list = []));
    list.push({ x, v: isFeasible(t) ? keyValue(t, 'score') : null });
  }
  const feasible = rows.filter(isFeasible);
  const all = feasible.map((t) => keyValue(t, 'score')!);
  const globalStd = all.length > 1 ? std(all) : 0;
  const perTrial = 3 ** params.length;
  const targets = feasible.length * perTrial > budget ? leading(feasible, Math.max(1, Math.floor(budget / perTrial)), opts.direction) : feasible;
  const scores: PlateauScore[] = [];
  for (const t of targets) {
    const x = pos(t);
    const self = keyValue(t, 'score')!;
    const home = x.map((v) => Math.floor(v / radius));
    const neigh: number[] = [];
    let infeasible = 0;
    let cellsSeen = 0;
    // Every cell within one step of the trial's own, on every axis.
    const off = new Array<number>(params.length).fill(-1);
    for (let step = 0; step < perTrial; step++) {
      const list = cells.get(cellKey(home.map((h, d) => h + off[d]!)));
      if (list) {
        cellsSeen++;
        for (const o of list) {
          if (o.x === x || o.x.some((v, d) => Math.abs(v - x[d]!) > radius)) continue;
          if (o.x.every((v, d) => v === x[d])) continue; // the trial itself (or a repeat of it)
          if (o.v === null) infeasible++;
          else neigh.push(o.v);
        }
      }
      for (let d = 0; d < off.length; d++) {
        if (off[d]! < 1) {
          off[d]!++;
          break;
        }
        off[d] = -1;
      }
    }
    const withSelf = [self, ...neigh];
    const m = mean(withSelf);
    const s = withSelf.length > 1 ? std(withSelf, 0) : 0;
    const others = neigh.length ? mean(neigh) : null;
    scores.push({
      ...(t.number !== undefined ? { number: t.number } : {}),
      ...(t.stage !== undefined ? { stage: t.stage } : {}),
      params: t.params,
      score: self,
      robust: m - sign * lambda * s,
      neighbourhoodMean: m,
      neighbourhoodStd: s,
      neighbours: neigh.length,
      cells: cellsSeen,
      infeasibleNeighbours: infeasible,
      needle: others !== null && globalStd > 0 && sign * (self - others) > globalStd,
    });
  }
  return { scores, complete: targets === feasible };
}

/** The scored trial with the best robust score (first in trial order among equals). */
export function mostRobust(scores: readonly PlateauScore[], direction: Direction = 'maximize'): PlateauScore | null {
  let best: PlateauScore | null = null;
  for (const s of scores) if (!best || (direction === 'minimize' ? s.robust < best.robust : s.robust > best.robust)) best = s;
  return best;
}
