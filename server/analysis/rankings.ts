/**
 * Rankings: top or bottom N trials by the score, one objective or any metric, feasible only or
 * not, per stage or overall; and the best trial for every metric.
 */
import type { TrialSummary } from '../../protocol/run-events';
import { directionsOf, isFeasible, keyValue, metricNames, type Direction, type RankKey, type StartLike, type TrialLike } from './trial-data';
import { DEFAULT_METRIC_DIRECTIONS } from './metric-directions';

export interface RankOptions {
  /** What to rank by (default: the score). */
  by?: RankKey;
  /** Default: the objective's direction for the score, the metric's natural direction for metrics. */
  direction?: Direction;
  /** How many rows (default 10; `Infinity` for all). */
  n?: number;
  /** The worst first instead of the best. */
  bottom?: boolean;
  /** Only complete trials with a score (default true). Unfeasible rows rank after feasible ones. */
  feasibleOnly?: boolean;
  /** Only this stage's trials. */
  stage?: string;
}

export interface RankedTrial extends TrialSummary {
  rank: number;
  /** The value ranked by. */
  value: number | null;
  state: TrialLike['state'];
}

/** The natural direction of `key` for this run. */
export function directionFor(key: RankKey, start?: StartLike, trials?: readonly TrialLike[]): Direction {
  if (key === 'score') return directionsOf(start, trials)[0] ?? 'maximize';
  if ('objective' in key) return directionsOf(start, trials)[key.objective] ?? 'maximize';
  return DEFAULT_METRIC_DIRECTIONS[key.metric] ?? 'maximize';
}

/** Ranks trials; ties keep trial order so a ranking is deterministic. */
export function rankTrials(trials: readonly TrialLike[], start?: StartLike, opts: RankOptions = {}): RankedTrial[] {
  const by = opts.by ?? 'score';
  const dir = opts.direction ?? directionFor(by, start, trials);
  const feasibleOnly = opts.feasibleOnly ?? true;
  const rows: { t: TrialLike; v: number | null; ok: boolean; i: number }[] = [];
  trials.forEach((t, i) => {
    if (opts.stage !== undefined && t.stage !== opts.stage) return;
    const ok = isFeasible(t);
    if (feasibleOnly && !ok) return;
    const v = keyValue(t, by);
    if (feasibleOnly && v === null) return;
    rows.push({ t, v, ok, i });
  });
  const sign = (dir === 'maximize' ? -1 : 1) * (opts.bottom ? -1 : 1);
  rows.sort((a, b) => {
    // Rows without a value (or not feasible) always come last, in both directions.
    const ax = a.v === null || !a.ok ? 1 : 0;
    const bx = b.v === null || !b.ok ? 1 : 0;
    if (ax !== bx) return ax - bx;
    if (a.v !== null && b.v !== null && a.v !== b.v) return sign * (a.v - b.v);
    return a.i - b.i;
  });
  const n = opts.n ?? 10;
  return rows.slice(0, n).map((r, k) => ({
    rank: k + 1,
    value: r.v,
    state: r.t.state,
    params: r.t.params,
    score: r.t.score,
    metrics: r.t.metrics,
    ...(r.t.number !== undefined ? { number: r.t.number } : {}),
    ...(r.t.stage !== undefined ? { stage: r.t.stage } : {}),
  }));
}

export interface BestByMetric {
  metric: string;
  direction: Direction;
  value: number;
  number?: number;
  stage?: string;
  params: TrialLike['params'];
}

/** For every metric seen, the feasible trial with its best value (natural direction). */
export function bestByMetric(trials: readonly TrialLike[], metrics?: readonly string[]): BestByMetric[] {
  const names = metrics ?? metricNames(trials);
  const out: BestByMetric[] = [];
  for (const metric of names) {
    const direction = DEFAULT_METRIC_DIRECTIONS[metric] ?? 'maximize';
    let best: TrialLike | null = null;
    let bv = 0;
    for (const t of trials) {
      if (!isFeasible(t)) continue;
      const v = keyValue(t, { metric });
      if (v === null) continue;
      if (best === null || (direction === 'maximize' ? v > bv : v < bv)) {
        best = t;
        bv = v;
      }
    }
    if (best)
      out.push({
        metric,
        direction,
        value: bv,
        params: best.params,
        ...(best.number !== undefined ? { number: best.number } : {}),
        ...(best.stage !== undefined ? { stage: best.stage } : {}),
      });
  }
  return out;
}

/** Stage names in first-seen order (the start event's order first). */
export function stageNames(trials: readonly TrialLike[], start?: StartLike): string[] {
  const seen = new Set<string>((start?.stages ?? []).map((s) => s.name));
  for (const t of trials) if (t.stage !== undefined) seen.add(t.stage);
  return [...seen];
}
