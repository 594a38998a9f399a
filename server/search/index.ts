/**
 * The search methods behind one ask/tell interface, and the spaces they search.
 */
import { BayesSampler } from './bayes';
import { CmaesSampler } from './cmaes';
import { GeneticSampler } from './genetic';
import { GridSampler } from './grid';
import { RandomSampler } from './random';
import type { Sampler, SamplerContext } from './sampler';
import { TpeSampler } from './tpe';

export * from './space';
export * from './sampler';
export * from './pareto';
export { Rng } from './rng';
export { GridSampler, RandomSampler, TpeSampler, BayesSampler, GeneticSampler, CmaesSampler };

export type MethodName = 'grid' | 'random' | 'bayes' | 'tpe' | 'genetic' | 'cmaes';

/** Builds the sampler of a search method. */
export function createSampler(method: MethodName | string, ctx: SamplerContext): Sampler {
  switch (method) {
    case 'grid':
      return new GridSampler(ctx);
    case 'random':
      return new RandomSampler(ctx);
    case 'bayes':
      return new BayesSampler(ctx);
    case 'tpe':
      return new TpeSampler(ctx);
    case 'genetic':
      return new GeneticSampler(ctx);
    case 'cmaes':
      return new CmaesSampler(ctx);
    default:
      throw new Error(`unknown search method '${method}' (grid, random, bayes, tpe, genetic or cmaes)`);
  }
}
