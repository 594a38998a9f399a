/**
 * A plain ask/tell loop over an in-process function: the same protocol the run engine uses
 * (batches asked, told in order), for tests, benchmarks and quick experiments.
 */
import { createSampler } from './index';
import { Rng } from './rng';
import type { Told } from './sampler';
import { Space, type Dim, type Params } from './space';

export interface MinimizeOptions {
  method: string;
  dims: Dim[];
  /** Loss to minimize; `null` for a failed evaluation; an array for several objectives. */
  f: (p: Params) => number | number[] | null;
  budget: number;
  seed: number;
  options?: Record<string, number | string | boolean>;
  where?: (p: Params) => boolean;
  objectives?: number;
}

/** Runs a sampler for `budget` evaluations; returns every trial in order. */
export function minimize(o: MinimizeOptions): { params: Params; loss: number[] | null }[] {
  const space = new Space(o.dims, { where: o.where });
  const sampler = createSampler(o.method, {
    space,
    rng: new Rng(o.seed),
    objectives: o.objectives ?? 1,
    budget: o.budget,
    options: o.options ?? {},
  });
  const out: Told[] = [];
  while (out.length < o.budget) {
    const asked = sampler.ask(Math.min(sampler.batch, o.budget - out.length));
    if (asked.length === 0) break;
    const told = asked.map((params) => {
      const v = o.f(params);
      return { params, loss: v === null ? null : Array.isArray(v) ? v : [v] };
    });
    sampler.tell(told);
    out.push(...told);
  }
  return out;
}
