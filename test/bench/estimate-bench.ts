/**
 * The cost of a model-based sampler's proposals, measured (`npm run bench -- estimate`): the
 * real samplers of server/search asked one point at a time, as a `bayes` stage runs, on spaces
 * of 2, 4 and 6 parameters, up to 300 trials. Prints the main-thread CPU time per proposal at
 * each size and the cost model the editor's time estimates use (server/lsp/time-estimate.ts)
 * beside it, so a change of the samplers that makes the model wrong shows here.
 * `BENCH_ESTIMATE_TRIALS` sets the largest size (default 300). Last stdout line: one JSON object.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { Rng, Space, createSampler, type Dim } from '../../server/search/index';
import { proposalMs } from '../../server/lsp/time-estimate';

/** CPU time (ms) of this thread: the work itself, whatever else the machine runs. */
function threadCpuMs(): number {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
  } catch {
    return performance.now();
  }
}

function space(d: number): Space {
  const dims: Dim[] = [];
  for (let i = 0; i < d; i++) dims.push(i % 2 ? { name: `p${i}`, low: 0.1, high: 10 } : { name: `p${i}`, values: Array.from({ length: 60 }, (_, k) => 5 + k) });
  return new Space(dims);
}

/** A smooth loss with one optimum and some noise: what a backtest's score looks like to the sampler. */
function loss(p: Record<string, unknown>, rng: Rng): number {
  let s = 0;
  for (const [k, v] of Object.entries(p)) s += ((Number(v) - (k === 'p0' ? 20 : 3)) / 10) ** 2;
  return s + 0.05 * rng.next();
}

/** CPU ms of each `ask(1)` (trials 0 … n−1) of one sampler, told as it goes. */
export function measureProposals(method: string, d: number, n: number, options: Record<string, number | string | boolean> = {}): number[] {
  const rng = new Rng(7);
  const sampler = createSampler(method, { space: space(d), rng: new Rng(11), objectives: 1, budget: n, options: { trials: n, ...options } });
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const c0 = threadCpuMs();
    const [p] = sampler.ask(1);
    out.push(threadCpuMs() - c0);
    if (!p) break;
    sampler.tell([{ params: p, loss: [loss(p, rng)] }]);
  }
  return out;
}

function main(): void {
  const n = Number(process.env['BENCH_ESTIMATE_TRIALS'] ?? 300);
  const sizes = [50, 100, 200, 300, 400, 500, 750, 1000].filter((s) => s <= n);
  const rows: Record<string, unknown>[] = [];
  for (const d of [2, 4, 6]) {
    const ms = measureProposals('bayes', d, n);
    // The mean over a window around each size (single proposals are noisy: refits come in steps).
    for (const s of sizes) {
      const w = ms.slice(Math.max(0, s - 25), Math.min(ms.length, s + 25));
      const measured = w.reduce((a, b) => a + b, 0) / w.length;
      rows.push({ method: 'bayes', dims: d, trials: s, measuredMs: Number(measured.toFixed(2)), modelMs: Number(proposalMs('bayes', s, d).toFixed(2)) });
    }
    const total = ms.reduce((a, b) => a + b, 0);
    let model = 0;
    for (let i = 0; i < ms.length; i++) model += proposalMs('bayes', i, d);
    rows.push({ method: 'bayes', dims: d, trials: `0..${n - 1}`, measuredTotalMs: Math.round(total), modelTotalMs: Math.round(model), ratio: Number((model / total).toFixed(2)) });
  }
  for (const method of ['tpe', 'cmaes', 'genetic']) {
    const ms = measureProposals(method, 4, Math.min(n, 300));
    const total = ms.reduce((a, b) => a + b, 0);
    let model = 0;
    for (let i = 0; i < ms.length; i++) model += proposalMs(method, i, 4);
    rows.push({ method, dims: 4, trials: `0..${ms.length - 1}`, measuredTotalMs: Math.round(total), modelTotalMs: Math.round(model) });
  }
  process.stdout.write(JSON.stringify({ rows, load: os.loadavg()[0], cpus: os.cpus().length }) + '\n');
}

if (require.main === module) main();
