/**
 * The search methods and their options: one table used by the checks, completion and hover,
 * so no other module repeats this knowledge.
 */

import type { SearchMethod } from './model';

export interface SearchOptionInfo {
  name: string;
  /** `int` and `number` are checked against min/max; `enum` against `values`; `flag` is a bare word or `true`/`false`. */
  type: 'int' | 'number' | 'enum' | 'flag';
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Exclusive lower bound (`sigma > 0`). */
  minExclusive?: boolean;
  default?: number | string | boolean;
  doc: string;
}

export interface SearchMethodInfo {
  name: SearchMethod;
  doc: string;
  options: readonly SearchOptionInfo[];
  /** Whether the method needs finite domains (grids cannot sample a continuous range). */
  finiteOnly: boolean;
}

/** Trials of a non-grid stage that gives no `trials` option. */
export const DEFAULT_TRIALS = 100;

const TRIALS: SearchOptionInfo = {
  name: 'trials',
  type: 'int',
  min: 1,
  default: DEFAULT_TRIALS,
  doc: 'How many backtests this stage runs (its budget).',
};

export const SEARCH_METHODS: readonly SearchMethodInfo[] = [
  {
    name: 'grid',
    finiteOnly: true,
    doc: 'Every combination of the parameters’ values that passes `where`. The default when a stage has no `search`.',
    options: [
      { name: 'shuffle', type: 'flag', default: false, doc: 'Run the combinations in a seeded random order, so a cancelled run has sampled the whole space.' },
      {
        name: 'zoom',
        type: 'int',
        min: 1,
        max: 10,
        default: 1,
        doc: 'Coarse-to-fine grid: `zoom N` first runs every N-th value of each parameter, then the full-resolution values within N steps of the best coarse point. `1` is a plain grid.',
      },
    ],
  },
  {
    name: 'random',
    finiteOnly: false,
    doc: 'Uniform random sampling of the domains (log-uniform for `log` ranges), seeded.',
    options: [TRIALS],
  },
  {
    name: 'bayes',
    finiteOnly: false,
    doc: 'Bayesian optimization with a Gaussian process: random `init` trials, then each trial maximizes the acquisition function.',
    options: [
      TRIALS,
      { name: 'init', type: 'int', min: 1, default: 10, doc: 'Random trials before the model is used.' },
      { name: 'acquisition', type: 'enum', values: ['ei', 'ucb', 'poi'], default: 'ei', doc: 'Acquisition function: expected improvement (`ei`), upper confidence bound (`ucb`) or probability of improvement (`poi`).' },
      { name: 'kappa', type: 'number', min: 0, default: 2.576, doc: 'Exploration weight of `ucb`.' },
      { name: 'xi', type: 'number', min: 0, default: 0, doc: 'Improvement margin of `ei` and `poi` (0: any improvement counts; a margin stalls refinement near the optimum).' },
    ],
  },
  {
    name: 'tpe',
    finiteOnly: false,
    doc: 'Tree-structured Parzen estimator: models good and bad trials separately and samples where good ones are likely.',
    options: [
      TRIALS,
      { name: 'init', type: 'int', min: 1, default: 10, doc: 'Random trials before the model is used.' },
      { name: 'multivariate', type: 'flag', default: true, doc: 'Model the parameters jointly (the default); `multivariate false` models them one by one, as classic TPE.' },
    ],
  },
  {
    name: 'genetic',
    finiteOnly: false,
    doc: 'A genetic algorithm; NSGA-II when the study has several objectives.',
    options: [
      TRIALS,
      { name: 'population', type: 'int', min: 2, default: 20, doc: 'Individuals per generation.' },
      { name: 'mutation', type: 'number', min: 0, max: 1, default: 0.1, doc: 'Probability that a gene mutates.' },
      { name: 'crossover', type: 'number', min: 0, max: 1, default: 0.9, doc: 'Probability that two parents cross over.' },
    ],
  },
  {
    name: 'cmaes',
    finiteOnly: false,
    doc: 'Covariance matrix adaptation evolution strategy, for continuous and integer parameters.',
    options: [
      TRIALS,
      { name: 'population', type: 'int', min: 2, doc: 'Samples per generation (default 4 + 3·ln(dimensions)).' },
      { name: 'sigma', type: 'number', min: 0, minExclusive: true, default: 0.1667, doc: 'Initial step size, as a fraction of each domain’s width (default one sixth, as Optuna).' },
    ],
  },
];

/** Finds a search method's entry. */
export function findSearchMethod(name: string): SearchMethodInfo | undefined {
  return SEARCH_METHODS.find((m) => m.name === name);
}
