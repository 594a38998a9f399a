/**
 * How long a stage or a study will take, for the code lenses and hovers. Two costs:
 *
 * - backtests: from the throughput of the last run (backtests per second, all workers busy).
 *   A grid or random stage keeps every worker busy; a model-based search asks for a batch of
 *   points (`bayes` 1, `tpe` 4, `genetic` and `cmaes` a population) and waits for its results
 *   before the next, so at most a batch runs side by side: a backtest then takes `workers`
 *   times its share of the throughput.
 * - proposals: the sampler's own work on the run's main thread, which grows with the number
 *   of trials told — for `bayes` (a Gaussian process) roughly with their square. The model
 *   below was measured on the real samplers (test/bench/estimate-bench.ts prints it beside a
 *   fresh measurement) and is an estimate of one machine: the figures are approximate, the
 *   lens says "≈".
 */
import * as os from 'node:os';
import type { StageModel, StudyModel } from '../../grammar/index';

/**
 * Main-thread CPU of one proposal (ms) of `method` with `told` trials told, on `dims` searched
 * parameters. Measured with test/bench/estimate-bench.ts (1 proposal per trial, the default).
 */
export function proposalMs(method: string, told: number, dims: number): number {
  const n = Math.max(0, told);
  const d = Math.max(1, dims);
  switch (method) {
    case 'bayes':
      // Below `init` (10 by default) points come from a Latin hypercube: nearly free.
      if (n < 10) return 0.05;
      // The Gaussian process's fit grows with the trials told; the dimensions barely count.
      return BAYES.a + BAYES.b * n + BAYES.c * n * n;
    case 'tpe':
      return TPE.a + TPE.b * d * n;
    case 'cmaes':
    case 'genetic':
      return 0.05;
    default:
      return 0;
  }
}

/**
 * Fitted on the measurement (ms): a + b·n + c·n². `npm run bench -- estimate` (load 15.8, thread
 * CPU): 10 ms at 50 trials, 18 at 100, 33–39 at 200, 59–65 at 300, for 2, 4 and 6 parameters.
 */
const BAYES = { a: 3, b: 0.14, c: 0.0002 };
/** Fitted on the measurement (ms): a + b·d·n. */
const TPE = { a: 0.2, b: 0.002 };

/** What is known of the machine's speed: the last run's throughput, and its worker count. */
export interface Throughput {
  backtestsPerSecond: number;
  /** Workers of the run the throughput was measured on (default: the study's, else the cores). */
  workers?: number;
}

/**
 * Trials a search asks for at once, as server/search's samplers do: the run waits for a batch's
 * results before the next ask, so at most this many backtests run side by side.
 */
export function batchOf(stage: StageModel): number {
  const o = stage.search.options;
  const num = (k: string, d: number) => (typeof o[k] === 'number' && Number.isFinite(o[k]) ? (o[k] as number) : d);
  switch (stage.search.method) {
    case 'bayes':
      return Math.max(1, num('batch', 1));
    case 'tpe':
      return Math.max(1, num('batch', 4));
    case 'genetic':
      return Math.max(2, Math.floor(num('population', 20)));
    case 'cmaes':
      return Math.max(2, Math.floor(num('population', 4 + Math.floor(3 * Math.log(Math.max(1, stage.params.length))))));
    default:
      return Infinity;
  }
}

/** Seconds a stage will take, or undefined when nothing is known of the machine's speed. */
export function stageSeconds(stage: StageModel, study: StudyModel, t: Throughput | undefined): number | undefined {
  if (!t || !(t.backtestsPerSecond > 0) || !Number.isFinite(stage.size)) return undefined;
  const n = stage.size;
  const batch = batchOf(stage);
  if (!Number.isFinite(batch)) return n / t.backtestsPerSecond;
  const workers = Math.max(1, t.workers ?? study.workers ?? cores());
  // One batch at a time: a batch of b backtests over w workers takes ⌈b / w⌉ backtest times,
  // each `workers / backtestsPerSecond` (the throughput had every worker busy).
  const perBacktest = workers / t.backtestsPerSecond;
  const backtests = Math.ceil(n / batch) * Math.ceil(Math.min(batch, n) / workers) * perBacktest;
  let proposals = 0;
  const dims = stage.params.length;
  for (let i = 0; i < n; i++) proposals += proposalMs(stage.search.method, i, dims);
  return backtests + proposals / 1000;
}

/** Seconds a study will take (its stages in order), or undefined when unknown. */
export function studySeconds(study: StudyModel, t: Throughput | undefined): number | undefined {
  let total = 0;
  for (const s of study.stages) {
    const x = stageSeconds(s, study, t);
    if (x === undefined) return undefined;
    total += x;
  }
  return total;
}

function cores(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}
