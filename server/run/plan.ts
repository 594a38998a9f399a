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
  findBuiltinStrategy,
  type EarlyStop,
  type Lookup,
  type ParamValue,
  type StageModel,
  type StudyModel,
} from '../../grammar';
import type { ParamValues } from '../../protocol/run-events';
import type { Dim } from '../search/space';
import { studyConfig } from '../engine/study-config';
import type { StrategyRef, TaskPayload } from '../executor/executor';
import { compileScoring, type Scorer, type ScoringSpec } from '../executor/scoring';
import { symbolNames } from '../data/basket';
import type { FeedRef } from '../data/feeds';
import { loadOptions } from '../data/types';

export { scoreTrial, type Scored } from '../executor/scoring';

export type ObjectivePlan = Scorer['objectives'][number];

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
  constraints: Scorer['constraints'];
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
  else if (s.kind === 'backtrader') strategy = { kind: 'backtrader', spec: (s.backtrader ?? '').trim(), cwd: dir, name: s.name };
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
  // Plain data for the workers, which score their own trials (server/executor/scoring.ts).
  const scoring: ScoringSpec = {
    objectives: model.objectives.map((o) => ({ direction: o.direction, text: o.text, expr: o.expr })),
    constraints: model.constraints.map((c) => ({ text: c.text, expr: c.expr })),
  };
  payload.scoring = scoring;
  const { objectives, constraints } = compileScoring(scoring);
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
