/**
 * How the analyses see trials: which ones count (feasible = complete with a finite score),
 * which number ranks them (the score, its first objective, or a named metric) and in which
 * direction, and how parameter values become numbers (categoricals by their first-seen order).
 */
import type { ParamValues, Score, StartEvent, TrialEvent, TrialState, Metrics } from '../../protocol/run-events';

/** The fields of a trial the analyses read; a `TrialEvent` or a journal line fits. */
export interface TrialLike {
  stage?: string;
  number?: number;
  params: ParamValues;
  metrics: Metrics;
  score: Score | null;
  state: TrialState;
}

/** The fields of the run's start the analyses read. */
export type StartLike = Partial<Pick<StartEvent, 'directions' | 'objectives' | 'params' | 'stages' | 'study' | 'file' | 'tradingDays'>>;

export type Direction = 'maximize' | 'minimize';

/** What to rank by: the score (its first objective), one objective by index, or a metric. */
export type RankKey = 'score' | { objective: number } | { metric: string };

/** The directions per objective, defaulting to one maximized objective. */
export function directionsOf(start: StartLike | undefined, trials?: readonly TrialLike[]): Direction[] {
  if (start?.directions && start.directions.length) return start.directions;
  const first = trials?.find((t) => Array.isArray(t.score));
  const k = first && Array.isArray(first.score) ? first.score.length : 1;
  return Array.from({ length: k }, () => 'maximize' as const);
}

/** Score as a vector (one entry per objective) or null when absent/non-finite. */
export function scoreVector(t: TrialLike): number[] | null {
  const s = t.score;
  if (s === null || s === undefined) return null;
  const v = Array.isArray(s) ? s : [s];
  for (const x of v) if (typeof x !== 'number' || !Number.isFinite(x)) return null;
  return v;
}

/** True for trials that count in rankings and fits: complete, with a finite score. */
export function isFeasible(t: TrialLike): boolean {
  return t.state === 'complete' && scoreVector(t) !== null;
}

/** The value a trial is ranked by under `key`, or null when it has none. */
export function keyValue(t: TrialLike, key: RankKey): number | null {
  if (key === 'score' || 'objective' in key) {
    const v = scoreVector(t);
    const i = key === 'score' ? 0 : key.objective;
    return v && i < v.length ? v[i]! : null;
  }
  const m = t.metrics?.[key.metric];
  return typeof m === 'number' && Number.isFinite(m) ? m : null;
}

/** Metric names seen across trials, in first-seen order. */
export function metricNames(trials: readonly TrialLike[]): string[] {
  const seen = new Set<string>();
  for (const t of trials) for (const k of Object.keys(t.metrics ?? {})) seen.add(k);
  return [...seen];
}

/** Parameter names: the start event's list first, then any others seen, in first-seen order. */
export function paramNames(trials: readonly TrialLike[], start?: StartLike): string[] {
  const seen = new Set<string>(start?.params ?? []);
  for (const t of trials) for (const k of Object.keys(t.params ?? {})) seen.add(k);
  return [...seen];
}

/** How one parameter's values map to numbers. */
export interface ParamEncoding {
  name: string;
  /** True when every value seen is a number. */
  numeric: boolean;
  /** Distinct values, sorted for numeric params, first-seen order for categoricals. */
  values: (number | string | boolean)[];
}

/** Encodes each parameter: numbers stay numbers; others become their index in `values`. */
export function encodeParams(trials: readonly TrialLike[], names: readonly string[]): ParamEncoding[] {
  return names.map((name) => {
    // Raw values as Map keys: SameValueZero keeps 1, '1' and true apart without building strings.
    const seen = new Set<number | string | boolean>();
    let numeric = true;
    for (const t of trials) {
      const v = t.params?.[name];
      if (v === undefined) continue;
      if (numeric && typeof v !== 'number') numeric = false;
      seen.add(v);
    }
    const values = [...seen];
    if (numeric) (values as number[]).sort((a, b) => a - b);
    return { name, numeric, values };
  });
}

/** The number a parameter value stands for under its encoding (NaN when missing). */
export function encodeValue(enc: ParamEncoding, v: number | string | boolean | undefined): number {
  if (v === undefined) return NaN;
  if (enc.numeric) return typeof v === 'number' ? v : NaN;
  const i = enc.values.findIndex((x) => x === v);
  return i < 0 ? NaN : i;
}

/** Sorts feasible trials best first under `key` and `direction`; stable by trial order. */
export function sortByKey<T extends TrialLike>(trials: readonly T[], key: RankKey, direction: Direction): T[] {
  const rows: { t: T; v: number; i: number }[] = [];
  trials.forEach((t, i) => {
    if (!isFeasible(t)) return;
    const v = keyValue(t, key);
    if (v !== null) rows.push({ t, v, i });
  });
  const sign = direction === 'maximize' ? -1 : 1;
  rows.sort((a, b) => sign * (a.v - b.v) || a.i - b.i);
  return rows.map((r) => r.t);
}

export type { TrialEvent };
