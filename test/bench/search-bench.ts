/**
 * Sampler benchmarks (no backtests): overhead per trial at 1,000 trials (CPU time, so a busy
 * machine does not inflate it), and search quality — the median [Q1, Q3] of the best value
 * over seeds at 50 and 200 trials on Branin, Hartmann-6, Rosenbrock-5 (real and integer) and
 * Ackley-5, per sampler, next to the best baseline of ../shared/baselines/optuna.md.
 * `BENCH_SEEDS=20` (default) sets the seeds; the GP sampler uses fewer (BENCH_BAYES_SEEDS,
 * default 3) because each 200-trial run refits a GP 150 times.
 */
import { minimize } from '../../server/search/minimize';
import { ALL_FUNCTIONS, branin, hartmann6, type TestFunction } from '../support/test-functions';

const SEEDS = Number(process.env.BENCH_SEEDS ?? 20);
const BAYES_SEEDS = Number(process.env.BENCH_BAYES_SEEDS ?? 3);
const ONLY = process.env.BENCH_SAMPLERS?.split(',');

/** Best baseline medians (Optuna 3.1 samplers and a GP), from ../shared/baselines/optuna.md. */
const BASELINE: Record<string, { 50: number; 200: number }> = {
  branin: { 50: 0.4015, 200: 0.39792 },
  hartmann6: { 50: -3.23, 200: -3.321 },
  rosenbrock5: { 50: 380, 200: 5.66 },
  ackley5: { 50: 9.42, 200: 2.67 },
  rosenbrock5_int: { 50: 552, 200: 4.0 },
};

const ALL_SAMPLERS: { name: string; method: string; options: Record<string, number | string | boolean> }[] = [
  { name: 'random', method: 'random', options: {} },
  { name: 'tpe', method: 'tpe', options: { batch: 1 } },
  { name: 'tpe_multivariate', method: 'tpe', options: { batch: 1, multivariate: true } },
  { name: 'cmaes', method: 'cmaes', options: {} },
  { name: 'genetic', method: 'genetic', options: {} },
  { name: 'bayes', method: 'bayes', options: { batch: 1 } },
];
const SAMPLERS = ONLY ? ALL_SAMPLERS.filter((s) => ONLY.includes(s.name)) : ALL_SAMPLERS;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function quantile(sorted: number[], q: number): number {
  const i = (sorted.length - 1) * q;
  const lo = Math.floor(i);
  const hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
}

function round(v: number): number {
  return Number(v.toPrecision(5));
}

/** Overhead per trial: total CPU of the ask/tell loop over an instant objective. */
function overhead(method: string, options: Record<string, number | string | boolean>, fn: TestFunction, n: number): { meanMs: number; last100Ms: number } {
  const marks: number[] = [];
  const t0 = cpuMs();
  let count = 0;
  minimize({
    method,
    dims: fn.dims,
    f: (p) => {
      count++;
      if (count === n - 100) marks.push(cpuMs());
      return fn.f(p);
    },
    budget: n,
    seed: 1,
    options,
  });
  const t1 = cpuMs();
  return { meanMs: round((t1 - t0) / n), last100Ms: round((t1 - (marks[0] ?? t0)) / 100) };
}

function quality(method: string, options: Record<string, number | string | boolean>, fn: TestFunction, seeds: number): { 50: number[]; 200: number[] } {
  const at50: number[] = [];
  const at200: number[] = [];
  for (let s = 0; s < seeds; s++) {
    const trials = minimize({ method, dims: fn.dims, f: fn.f, budget: 200, seed: 1000 + s, options });
    const best = (k: number): number => Math.min(...trials.slice(0, k).map((t) => (t.loss ? t.loss[0]! : Infinity)));
    at50.push(best(50));
    at200.push(best(200));
  }
  return { 50: at50.sort((a, b) => a - b), 200: at200.sort((a, b) => a - b) };
}

const out: Record<string, unknown> = { seeds: SEEDS, bayesSeeds: BAYES_SEEDS, note: 'overhead = CPU ms per trial (ask + tell) with an instant objective' };
const over: Record<string, unknown> = {};
for (const s of SAMPLERS) {
  const n = s.method === 'bayes' ? 200 : 1000;
  over[s.name] = {
    trials: n,
    '2d': overhead(s.method, s.options, branin, n),
    '6d': overhead(s.method, s.options, hartmann6, n),
  };
  process.stderr.write(`overhead ${s.name} done\n`);
}
out.overheadPerTrial = over;
out.optunaTpeOverhead = { '2d': 13.1, '6d': 47, goal: '≤ 1/10' };

const table: Record<string, Record<string, unknown>> = {};
const verdict: Record<string, unknown> = {};
for (const fn of ALL_FUNCTIONS) {
  table[fn.name] = {};
  const bestMedian = { 50: Infinity, 200: Infinity } as Record<50 | 200, number>;
  for (const s of SAMPLERS) {
    const seeds = s.method === 'bayes' ? BAYES_SEEDS : SEEDS;
    const q = quality(s.method, s.options, fn, seeds);
    const row: Record<string, unknown> = {};
    for (const k of [50, 200] as const) {
      const med = quantile(q[k], 0.5);
      row[k] = { median: round(med), q1: round(quantile(q[k], 0.25)), q3: round(quantile(q[k], 0.75)) };
      bestMedian[k] = Math.min(bestMedian[k], med);
    }
    table[fn.name]![s.name] = row;
    process.stderr.write(`quality ${fn.name} ${s.name} done\n`);
  }
  verdict[fn.name] = {
    50: { ours: round(bestMedian[50]), baseline: BASELINE[fn.name]![50], asGood: bestMedian[50] <= BASELINE[fn.name]![50] },
    200: { ours: round(bestMedian[200]), baseline: BASELINE[fn.name]![200], asGood: bestMedian[200] <= BASELINE[fn.name]![200] },
  };
}
out.quality = table;
out.bestVsBaseline = verdict;
process.stdout.write(JSON.stringify(out) + '\n');
