/**
 * A chunk's trial requests as columns, for the trip to a pool worker: the structured clone of
 * 128 `{number, params: {…}}` objects was the main thread's largest cost on a grid of short
 * backtests (a third of its time); a few typed arrays clone as one copy each. Trials whose
 * parameters do not share one key order travel as they are (the journal keeps each trial's
 * key order).
 */
import type { ParamValues } from '../../protocol/run-events';
import type { TrialRequest } from './executor';

type Value = ParamValues[string];

export interface PackedTrials {
  numbers: Float64Array;
  /** Parameter names, in every trial's key order. */
  keys: string[];
  /** One column per key: numbers as a Float64Array, other values (strings, booleans) as they are. */
  columns: (Float64Array | Value[])[];
}

/** Columns when every trial has the same keys in the same order; otherwise the trials as they are. */
export function packTrials(trials: readonly TrialRequest[]): PackedTrials | TrialRequest[] {
  const n = trials.length;
  if (n === 0) return [];
  const keys = Object.keys(trials[0]!.params);
  for (let i = 1; i < n; i++) if (!sameKeys(trials[i]!.params, keys)) return trials as TrialRequest[];
  const numbers = new Float64Array(n);
  for (let i = 0; i < n; i++) numbers[i] = trials[i]!.number;
  const columns = keys.map((k) => {
    let numeric = true;
    for (let i = 0; i < n && numeric; i++) numeric = typeof trials[i]!.params[k] === 'number';
    if (!numeric) return trials.map((t) => t.params[k]!);
    const col = new Float64Array(n);
    for (let i = 0; i < n; i++) col[i] = trials[i]!.params[k] as number;
    return col;
  });
  return { numbers, keys, columns };
}

/** The trial requests back, each with its parameters in the packed key order. */
export function unpackTrials(p: PackedTrials | TrialRequest[]): TrialRequest[] {
  if (Array.isArray(p)) return p;
  const out: TrialRequest[] = new Array(p.numbers.length);
  for (let i = 0; i < p.numbers.length; i++) {
    const params: ParamValues = {};
    for (let j = 0; j < p.keys.length; j++) params[p.keys[j]!] = p.columns[j]![i]!;
    out[i] = { number: p.numbers[i]!, params };
  }
  return out;
}

function sameKeys(params: ParamValues, keys: readonly string[]): boolean {
  let j = 0;
  for (const k in params) if (keys[j++] !== k) return false;
  return j === keys.length;
}
