/**
 * From the language's `StudyModel` to what the engine runs: search spaces, compiled
 * objectives, constraints and `where` relations, the strategy reference and the task payload.
 */
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import {
  COMMON_PARAMS,
  compileExpr,
  DEFAULT_TRIALS,
  domainValues,
  exprNames,
  findBuiltinStrategy,
  type BasketLookup,
  type EarlyStop,
  type Lookup,
  type ParamValue,
  type StageModel,
  type StudyModel,
} from '../../grammar';
import type { Metrics, ParamValues, Score, TrialState, TrialSymbol } from '../../protocol/run-events';
import type { Dim } from '../search/space';
import { studyConfig } from '../engine/study-config';
import type { StrategyRef, TaskPayload } from '../executor/executor';
import { symbolNames } from '../data/basket';
import type { FeedRef } from '../data/feeds';
import { loadOptions } from '../data/types';

export interface ObjectivePlan {
  direction: 'maximize' | 'minimize';
  text: string;
  names: string[];
  fn: (l: Lookup) => number | boolean | null;
}

export interface StagePlan {
  name: string;
  method: string;
  options: Record<string, number | string | boolean>;
  /** Trial budget (Infinity for a grid: every feasible combination). */
  budget: number;
  /** Size as the language counted it (for progress). */
  size: number;
  dims: Dim[];
  where: ((full: ParamValues) => boolean) | undefined;
  earlyStop?: EarlyStop;
}

export interface StudyPlan {
  name: string;
  file: string;
  payload: TaskPayload;
  /** Strategy defaults with the study's overrides. */
  defaults: ParamValues;
  objectives: ObjectivePlan[];
  constraints: { text: string; names: string[]; fn: (l: Lookup) => number | boolean | null }[];
  stages: StagePlan[];
  hash: string;
}

/** Resolves a study model (without errors) into a plan. Paths are relative to the study file. */
export function buildPlan(model: StudyModel, file: string): StudyPlan {
  const dir = path.dirname(file);
  if (!model.data) throw new Error(`study '${model.name}' has no data statement`);
  if (!model.strategy) throw new Error(`study '${model.name}' has no strategy`);
  const s = model.strategy;
  let strategy: StrategyRef;
  if (s.kind === 'module') strategy = { kind: 'module', file: path.resolve(dir, s.module ?? s.name), name: s.name };
  else if (s.kind === 'command') strategy = { kind: 'command', command: s.command ?? '', cwd: dir, name: s.name };
  else strategy = { kind: 'builtin', name: s.name };
  const defaults: ParamValues = {};
  const schema = s.schema.length ? s.schema : (findBuiltinStrategy(s.name)?.params ?? []);
  // The common parameters (direction, stop_loss_pct, …) are left to the engine's defaults unless
  // the study sets them: trials then list only what the strategy itself declares.
  for (const p of schema) if (!COMMON_PARAMS.some((c) => c.name === p.name)) defaults[p.name] = p.default;
  for (const [k, v] of Object.entries(s.overrides)) defaults[k] = v;
  const payload: TaskPayload = {
    ...feedRefs(model, dir),
    strategy,
    config: studyConfig(model),
  };
  const objectives = model.objectives.map((o) => ({ direction: o.direction, text: o.text, names: exprNames(o.expr), fn: compileExpr(o.expr) }));
  const constraints = model.constraints.map((c) => ({ text: c.text, names: exprNames(c.expr), fn: compileExpr(c.expr) }));
  const stages = model.stages.map((st) => stagePlan(st, model));
  return { name: model.name, file, payload, defaults, objectives, constraints, stages, hash: studyHash(model) };
}

/** The study's data feeds as the payload carries them (absolute paths, loader options). */
function feedRefs(model: StudyModel, dir: string): Pick<TaskPayload, 'data' | 'datas' | 'basket'> {
  const feeds = (model.datas?.length ? model.datas : [model.data!]).map((d): FeedRef => {
    const options = loadOptions(d);
    return { file: path.resolve(dir, d.path), from: d.from, to: d.to, ...(Object.keys(options).length ? { options } : {}) };
  });
  return {
    data: feeds[0]!,
    ...(feeds.length > 1 ? { datas: feeds } : {}),
    ...(model.basket ? { basket: { symbols: symbolNames(feeds.map((f) => f.file)) } } : {}),
  };
}

function stagePlan(st: StageModel, model: StudyModel): StagePlan {
  const dims: Dim[] = st.params.map((p) => {
    const values = domainValues(p.domain, p.type);
    if (values) return { name: p.name, values: values as ParamValue[], categorical: p.type === 'string' || p.type === 'bool' || values.some((v) => typeof v !== 'number') };
    const d = p.domain as { lo: number; hi: number };
    return { name: p.name, low: d.lo, high: d.hi, int: p.type === 'int' };
  });
  const fns = st.where.map((e) => compileExpr(e));
  const where = fns.length
    ? (full: ParamValues): boolean => {
        const l: Lookup = (n) => full[n];
        for (const f of fns) if (f(l) !== true) return false;
        return true;
      }
    : undefined;
  const method = st.search.method;
  const budget = method === 'grid' ? Infinity : (st.search.trials ?? (typeof st.search.options.trials === 'number' ? st.search.options.trials : DEFAULT_TRIALS));
  return { name: st.name, method, options: st.search.options, budget, size: st.size, dims, where, earlyStop: st.earlyStop ?? model.earlyStop };
}

/** A hash of what a study runs: its model without source positions. */
export function studyHash(model: StudyModel): string {
  const json = JSON.stringify(model, (k, v: unknown) =>
    k === 'range' || k === 'ranges' || k === 'headRange' || k === 'opRange' || k === 'fnRange' ? undefined
    : // One feed and no basket hash as before feeds were a list (runs started then still resume).
      (k === 'datas' && Array.isArray(v) && v.length <= 1) || (k === 'basket' && v === false) ? undefined
    : v,
  );
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

/** The scored result of one trial's metrics. */
export interface Scored {
  state: TrialState;
  score: Score | null;
  error?: string;
  /** Minimized losses for the samplers (null unless complete). */
  loss: number[] | null;
}

/**
 * Scores a trial: constraints first (a trial that breaks one is infeasible, with the reason
 * and the values involved), then the objectives. An objective that cannot be computed (an
 * undefined metric such as profit_factor without a losing trade, a division by zero) makes
 * the trial infeasible with the names that were undefined — never a NaN score.
 */
export function scoreTrial(plan: Pick<StudyPlan, 'objectives' | 'constraints'>, params: ParamValues, metrics: Metrics, symbols?: readonly TrialSymbol[]): Scored {
  const lookup: BasketLookup = (n) => (n in metrics ? metrics[n] : params[n]);
  // A basket trial: one-argument mean/median/min/max read each symbol's metrics.
  if (symbols) lookup.symbols = symbols.map((s): Lookup => (n) => (n in s.metrics ? s.metrics[n] : params[n]));
  const describe = (names: string[]): string =>
    names
      .map((n) => {
        const v = lookup(n) ?? (METRIC_KEYS[n] !== undefined ? lookup(METRIC_KEYS[n]!) : undefined);
        return `${n} = ${v === null || v === undefined ? 'undefined' : typeof v === 'number' ? fmt(v) : String(v)}`;
      })
      .join(', ');
  for (const c of plan.constraints) {
    const v = c.fn(lookup);
    if (v === true || (typeof v === 'number' && v !== 0)) continue;
    const why = v === null ? 'cannot be evaluated' : 'does not hold';
    return { state: 'infeasible', score: null, loss: null, error: `constraint '${c.text}' ${why} (${describe(c.names)})` };
  }
  const values: number[] = [];
  for (const o of plan.objectives) {
    const v = o.fn(lookup);
    if (typeof v !== 'number' || !Number.isFinite(v))
      return { state: 'infeasible', score: null, loss: null, error: `objective '${o.text}' is undefined for this trial (${describe(o.names)})` };
    values.push(v);
  }
  const loss = values.map((v, i) => (plan.objectives[i]!.direction === 'maximize' ? -v : v));
  return { state: 'complete', score: values.length === 1 ? values[0]! : values, loss };
}

const METRIC_KEYS: Record<string, string> = { trades: 'trades_closed', max_drawdown: 'max_drawdown_money', sharpe: 'sharpe_days_ann_rf0' };

function fmt(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toPrecision(4);
}
