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
import { nextOffset, plateauScores } from './robustness';
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
    // A declared grid has its ±1-step neighbours whatever its size; otherwise a stage with few
    // values per axis is treated as one.
    const grid = opts.gridStages ? opts.gridStages.has(stage) : encs.every((e) => e.values.length <= MAX_GRID_VALUES);
    const budget = opts.budget ?? 4e6;
    if (grid) {
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

/**
 * Continuous neighbourhoods: trials within `radius` of each parameter's range. Positions are
 * scaled to [0, 1] and bucketed in cells of width `radius` (one integer id per cell), so each
 * trial looks at the 3^d cells around its own instead of at every other trial.
 */
function nearestScores(rows: readonly TrialLike[], params: string[], opts: RobustOptions, budget: number): { scores: PlateauScore[]; complete: boolean } {
  const radius = opts.radius ?? 0.1;
  const lambda = opts.lambda ?? 1;
  const sign = (opts.direction ?? 'maximize') === 'maximize' ? 1 : -1;
  const grid = new NearGrid(rows, params, radius);
  const feasibleIdx = rows.map((t, i) => (isFeasible(t) ? i : -1)).filter((i) => i >= 0);
  const all = feasibleIdx.map((i) => grid.value[i]!);
  const globalStd = all.length > 1 ? std(all) : 0;
  const perTrial = 3 ** params.length;
  let targets = feasibleIdx;
  if (feasibleIdx.length * perTrial > budget) {
    const keep = new Set(leading(feasibleIdx.map((i) => rows[i]!), Math.max(1, Math.floor(budget / perTrial)), opts.direction));
    targets = feasibleIdx.filter((i) => keep.has(rows[i]!));
  }
  const scores: PlateauScore[] = [];
  for (const i of targets) {
    const self = grid.value[i]!;
    const { neigh, infeasible, cellsSeen } = grid.around(i);
    const t = rows[i]!;
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
  return { scores, complete: targets === feasibleIdx };
}

/** The trials' positions scaled to [0, 1] per parameter, bucketed in cells of width `radius` (one integer id per cell). */
class NearGrid {
  /** Each trial's score; NaN when it failed or was infeasible. */
  readonly value: Float64Array;
  private readonly d: number;
  private readonly side: number;
  private readonly pos: Float64Array;
  private readonly cellOf: Int32Array;
  private readonly cells = new Map<number, number[]>();

  constructor(
    rows: readonly TrialLike[],
    params: string[],
    private readonly radius: number,
  ) {
    const d = (this.d = params.length);
    const n = rows.length;
    const { lo, hi } = bounds(rows, params);
    this.side = Math.floor(1 / radius) + 1;
    this.pos = new Float64Array(n * d);
    this.cellOf = new Int32Array(n * d);
    this.value = new Float64Array(n).fill(NaN);
    rows.forEach((t, i) => {
      let id = 0;
      for (let k = 0; k < d; k++) {
        const x = ((t.params[params[k]!] as number) - lo[k]!) / (hi[k]! - lo[k]! || 1);
        this.pos[i * d + k] = x;
        const c = Math.min(this.side - 1, Math.floor(x / radius));
        this.cellOf[i * d + k] = c;
        id = id * this.side + c;
      }
      if (isFeasible(t)) this.value[i] = keyValue(t, 'score')!;
      const list = this.cells.get(id);
      if (list) list.push(i);
      else this.cells.set(id, [i]);
    });
  }

  /** Trial i's neighbours within the radius on every parameter, from the 3^d cells around its own. */
  around(i: number): { neigh: number[]; infeasible: number; cellsSeen: number } {
    const neigh: number[] = [];
    let infeasible = 0;
    let cellsSeen = 0;
    const off = new Array<number>(this.d).fill(-1);
    for (let step = 0; step < 3 ** this.d; step++) {
      const list = this.cells.get(this.cellId(i, off));
      if (list) {
        cellsSeen++;
        for (const j of list) {
          if (!this.near(i, j)) continue;
          if (Number.isNaN(this.value[j]!)) infeasible++;
          else neigh.push(this.value[j]!);
        }
      }
      nextOffset(off, 1);
    }
    return { neigh, infeasible, cellsSeen };
  }

  /** The id of trial i's cell moved by `off`; -1 outside the grid. */
  private cellId(i: number, off: readonly number[]): number {
    let id = 0;
    for (let k = 0; k < this.d; k++) {
      const c = this.cellOf[i * this.d + k]! + off[k]!;
      if (c < 0 || c >= this.side) return -1;
      id = id * this.side + c;
    }
    return id;
  }

  /** Within the box around trial i, and not a repeat of it (nor i itself). */
  private near(i: number, j: number): boolean {
    if (j === i) return false;
    let same = true;
    for (let k = 0; k < this.d; k++) {
      const dx = Math.abs(this.pos[j * this.d + k]! - this.pos[i * this.d + k]!);
      if (dx > this.radius) return false;
      if (dx !== 0) same = false;
    }
    return !same;
  }
}

function bounds(rows: readonly TrialLike[], params: string[]): { lo: Float64Array; hi: Float64Array } {
  const lo = new Float64Array(params.length).fill(Infinity);
  const hi = new Float64Array(params.length).fill(-Infinity);
  for (const t of rows) {
    for (let k = 0; k < params.length; k++) {
      const v = t.params[params[k]!] as number;
      if (v < lo[k]!) lo[k] = v;
      if (v > hi[k]!) hi[k] = v;
    }
  }
  return { lo, hi };
}

/** The scored trial with the best robust score (first in trial order among equals). */
export function mostRobust(scores: readonly PlateauScore[], direction: Direction = 'maximize'): PlateauScore | null {
  let best: PlateauScore | null = null;
  for (const s of scores) if (!best || (direction === 'minimize' ? s.robust < best.robust : s.robust > best.robust)) best = s;
  return best;
}
