/**
 * Analysis speed (`npm run bench -- analysis`): one snapshot of 10,000 trials from cold, the
 * incremental snapshots a run host takes while those trials stream in (every 100 trials), the
 * same with two objectives, and CSCV on a 2,500 × 64 return matrix. The trials are synthetic
 * (a smooth score over four grid parameters plus seeded noise): this times the analysis, not
 * a strategy. Prints one JSON object on its last line.
 */
import { analyzeTrials, probabilityOfBacktestOverfitting, seededRandom, type TrialLike } from '../../server/analysis';

function trials(n: number, objectives: number, seed: number): TrialLike[] {
  const r = seededRandom(seed);
  const out: TrialLike[] = [];
  for (let i = 0; i < n; i++) {
    const p = { fast: 2 + Math.floor(r() * 40), slow: 20 + 5 * Math.floor(r() * 40), atr: 1 + 0.25 * Math.floor(r() * 12), mode: r() < 0.5 ? 'a' : 'b' };
    const s = Math.sin(p.fast / 7) + Math.cos(p.slow / 60) - 0.1 * (p.atr - 2) ** 2 + (p.mode === 'a' ? 0.2 : 0) + 0.3 * (r() - 0.5);
    const dd = 10 + 5 * Math.abs(Math.sin(p.slow / 30)) + r();
    const failed = r() < 0.02;
    out.push({
      number: i, stage: i < n / 2 ? 's1' : 's2', params: p,
      metrics: { sharpe: s, max_drawdown_pct: dd, trades: 10 + (i % 50), total_return_pct: 50 * s },
      score: failed ? null : objectives > 1 ? [s, dd] : s,
      state: failed ? 'failed' : 'complete',
    });
  }
  return out;
}

/** CPU milliseconds of this thread's process: on a shared, loaded machine wall time mostly measures the neighbours. */
let wallTotal = 0;
function time(f: () => void): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  f();
  wallTotal += performance.now() - t0;
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const N = 10_000;
const single = trials(N, 1, 1);
const multi = trials(N, 2, 2);
const start1 = { directions: ['maximize' as const], stages: [{ name: 's1', size: N / 2, method: 'grid' }, { name: 's2', size: N / 2, method: 'random' }] };
const start0 = { directions: ['maximize' as const], stages: [{ name: 's1', size: N / 2, method: 'grid' }, { name: 's2', size: N / 2, method: 'random' }] };
analyzeTrials(single.slice(0, 500)); // warm the JIT
// A fresh analyzer each time (no reuse); the first call also pays for JIT compilation.
const coldRuns = [0, 1, 2].map(() => time(() => analyzeTrials(single, { ...start0 })));
const coldMultiRuns = [0, 1, 2].map(() => time(() => analyzeTrials(multi, { directions: ['maximize', 'minimize'] })));
const cold = Math.min(...coldRuns);
const coldMulti = Math.min(...coldMultiRuns);

function streaming(all: TrialLike[], start: object): { mean: number; max: number; p95: number; calls: number } {
  const list: TrialLike[] = [];
  const times: number[] = [];
  for (let i = 0; i < all.length; i += 100) {
    list.push(...all.slice(i, i + 100));
    times.push(time(() => analyzeTrials(list, start)));
  }
  times.sort((a, b) => a - b);
  return { mean: times.reduce((a, b) => a + b, 0) / times.length, max: times[times.length - 1]!, p95: times[Math.floor(times.length * 0.95)]!, calls: times.length };
}
const inc = streaming(single, start1);
const incMulti = streaming(multi, { directions: ['maximize', 'minimize'] });

const r = seededRandom(3);
const matrix = Array.from({ length: 2500 }, () => Float64Array.from({ length: 64 }, () => 0.01 * (r() - 0.5)));
const pbo = time(() => probabilityOfBacktestOverfitting(matrix, 16));

const round = (x: number) => Math.round(x * 10) / 10;
void (async () => console.log(JSON.stringify({
  trials: N,
  coldSnapshotMs: round(cold),
  coldSnapshotFirstCallMs: round(coldRuns[0]!),
  coldSnapshotTwoObjectivesMs: round(coldMulti),
  streamingSnapshotMs: { mean: round(inc.mean), p95: round(inc.p95), max: round(inc.max), calls: inc.calls },
  streamingTwoObjectivesMs: { mean: round(incMulti.mean), p95: round(incMulti.p95), max: round(incMulti.max), calls: incMulti.calls },
  cscv2500x64S16Ms: round(pbo),
  note: 'CPU ms (process.cpuUsage) per call; cold = fresh analyzer over all 10,000 trials, min of 3; streaming = the same analyzer called every 100 new trials; wallMsTotal is the wall time of all timed calls',
  wallMsTotal: round(wallTotal),
  loadAverage: (await import('node:os')).loadavg()[0],
})))();
