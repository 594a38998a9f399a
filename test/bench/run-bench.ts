/**
 * Run-engine benchmark on real data: backtests per second through the whole optimizer
 * (sampler, pool, scoring, journal) on a ~7,000-combination SMA-cross grid over ORCL
 * 1995–2014, on 1 and 2 workers; and the share of that grid's optimum each sampler reaches
 * with 5% of its backtests (median over seeds). backtrader's plain optstrategy does 2.61
 * backtests/s on this machine kind (../shared/baselines).
 */
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostMessage, HostRequest } from '../../protocol/run-host';
import type { TrialEvent } from '../../protocol/run-events';
import { runStudy } from '../../server/run/run-study';
import { packOutcomes, unpackOutcomes } from '../../server/executor/backtest-task';
import type { TrialExecutor, TrialOutcome, TrialRequest } from '../../server/executor/executor';
import { loadPrices, runBacktest } from '../../server/engine';
import { LocalExecutor } from '../../server/executor/local-pool';
import { repoRoot, sampleData, tempStudy } from '../support/run-fixtures';

const DATA = sampleData('orcl-1995-2014.txt');
const SEEDS = Number(process.env.BENCH_RUN_SEEDS ?? 5);

const study = (stage: string, seed: number): string => `
study "sma grid" {
  data "${DATA}"
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize sharpe
  stage "s" {
${stage}
    param fast in 2 .. 80 step 1
    param slow in 10 .. 300 step 3
    where fast < slow
  }
  seed ${seed}
}`;

async function run(text: string, workers: number): Promise<{ trials: TrialEvent[]; seconds: number; wall: number; cpuMs: number; mainMs: number }> {
  const dir = tempStudy({ 's.optstudy': text });
  const trials: TrialEvent[] = [];
  let first = 0;
  const t0 = Date.now();
  // CPU of every thread of this process (main + workers): the measure that holds on a loaded machine.
  const cpu0 = process.cpuUsage();
  // Time the main thread's event loop was busy (sampler, scoring, events, journal): with the
  // workers on other cores, it bounds the run's rate on its own.
  const elu0 = performance.eventLoopUtilization();
  await runStudy(
    { file: path.join(dir, 's.optstudy'), workers, out: path.join(dir, 'run') },
    (e) => {
      if (e.type === 'trial') {
        if (!first) first = performance.now();
        trials.push(e);
      }
    },
    new AbortController().signal,
  );
  const cpu = process.cpuUsage(cpu0);
  const elu = performance.eventLoopUtilization(elu0);
  return { trials, seconds: (performance.now() - first) / 1000, wall: (Date.now() - t0) / 1000, cpuMs: (cpu.user + cpu.system) / 1000, mainMs: elu.active };
}

/**
 * Cancel latency through the real run host (the extension's path): a ~100,000-trial grid on 2
 * workers, cancelled after `runMs`; milliseconds from the cancel to the `end` event and to the
 * host's exit, the trials that reached the parent, and the IPC messages they took.
 */
async function cancelLatency(runMs: number): Promise<Record<string, number>> {
  const dir = tempStudy({ 'b.optstudy': study('    search grid', 1).replace('param fast in 2 .. 80 step 1', 'param fast in 2 .. 201 step 1').replace('param slow in 10 .. 300 step 3', 'param slow in 10 .. 5009 step 10').replace('where fast < slow', '') });
  const child = fork(process.env.RUN_HOST ?? path.join(repoRoot(), 'dist', 'run-host.js'), [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'advanced' });
  let trials = 0;
  let messages = 0;
  let cancelAt = 0;
  let endAt = 0;
  child.on('message', (m: HostMessage) => {
    messages++;
    for (const e of m.type === 'events' ? m.events : [m.event]) {
      if (e.type === 'trial') trials++;
      if (e.type === 'end') endAt = performance.now();
    }
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  child.send({ type: 'run', file: path.join(dir, 'b.optstudy'), workers: 2, out: path.join(dir, 'run'), trusted: true } satisfies HostRequest);
  let hostRssMb = 0;
  setTimeout(() => {
    // The host's resident memory just before the cancel (Linux), workers included.
    try {
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) hostRssMb = Math.round(Number(m[1]) / 1024);
    } catch {
      hostRssMb = -1;
    }
    cancelAt = performance.now();
    // A run that already ended (a fast machine) has nothing left to cancel: reported below.
    if (child.connected) child.send({ type: 'cancel' } satisfies HostRequest);
  }, runMs);
  await exited;
  const exitAt = performance.now();
  if (endAt < cancelAt) return { runMs, hostRssMb, trialsReceived: trials, ipcMessages: messages, finishedBeforeCancel: 1 };
  return { runMs, hostRssMb, trialsReceived: trials, ipcMessages: messages, cancelToEndMs: Math.round(endAt - cancelAt), cancelToExitMs: Math.round(exitAt - cancelAt) };
}

/**
 * The main thread's own cost per trial: the same grid through runStudy (sampler, scoring,
 * events, journal) with an executor that answers at once with real metrics of one backtest,
 * packed and unpacked as the pool does. CPU µs per trial, best of `passes` runs.
 */
async function mainThreadCost(passes: number): Promise<Record<string, number>> {
  const text = study('    search grid', 1);
  const dir = tempStudy({ 's.optstudy': text });
  let metrics: TrialOutcome['metrics'] = null;
  const instant = (): TrialExecutor => ({
    workers: 1,
    async run(batch: TrialRequest[]): Promise<TrialOutcome[]> {
      const out = batch.map((t) => ({ number: t.number, metrics: metrics!, durationMs: 0.1 }));
      // Through the pool's transfer form, as a real batch travels (structured clone included).
      return unpackOutcomes(structuredClone(packOutcomes(out)));
    },
    async close(): Promise<void> {},
  });
  let best = Infinity;
  let trials = 0;
  for (let i = 0; i < passes; i++) {
    let n = 0;
    const cpu0 = process.cpuUsage();
    await runStudy(
      {
        file: path.join(dir, 's.optstudy'),
        out: path.join(dir, `main${i}`),
        createExecutor: (_payload, _settings, prices) => {
          metrics = runBacktest(prices, 'sma_cross', { fast: 10, slow: 30 }, { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } }, { trades: false }).metrics;
          return instant();
        },
      },
      (e) => {
        if (e.type === 'trial') n++;
      },
      new AbortController().signal,
    );
    const cpu = process.cpuUsage(cpu0);
    best = Math.min(best, (cpu.user + cpu.system) / n);
    trials = n;
  }
  return { trials, passes, cpuMicrosecondsPerTrial: Math.round(best) };
}

/**
 * The pool alone: the grid's 6,787 trials handed straight to the piscina pool (no sampler,
 * scoring, events or journal), on 1 and 2 workers — how the workers scale when the main thread
 * has next to nothing to do. Best of `passes`.
 */
async function poolOnly(passes: number): Promise<Record<string, number>> {
  const prices = loadPrices(DATA);
  const requests: TrialRequest[] = [];
  for (let fast = 2; fast <= 80; fast++) for (let slow = 10; slow <= 300; slow += 3) if (fast < slow) requests.push({ number: requests.length, params: { fast, slow } });
  const out: Record<string, number> = { trials: requests.length };
  for (const workers of [1, 2]) {
    const ex = new LocalExecutor(
      { data: { file: DATA }, strategy: { kind: 'builtin', name: 'sma_cross' }, config: { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } } },
      { workers, retries: 0 },
      prices,
    );
    // Warm-up: workers started, indicator caches filled.
    await ex.run(requests, new AbortController().signal);
    let best = Infinity;
    for (let i = 0; i < passes; i++) {
      const t0 = performance.now();
      await ex.run(requests, new AbortController().signal);
      best = Math.min(best, performance.now() - t0);
    }
    await ex.close();
    out[`workers${workers}PerSecond`] = Math.round(requests.length / (best / 1000));
  }
  out.speedup2Workers = Number((out.workers2PerSecond! / out.workers1PerSecond!).toFixed(2));
  return out;
}

async function main(): Promise<void> {
  const out: Record<string, unknown> = { loadAverage: os.loadavg().map((v) => Number(v.toFixed(2))), cpus: os.cpus().length };
  if (!process.env.BENCH_RUN_ONLY || process.env.BENCH_RUN_ONLY === 'cancel') out.cancelThroughRunHost = await cancelLatency(Number(process.env.BENCH_CANCEL_AFTER_MS ?? 3000));
  if (out.cancelThroughRunHost) process.stderr.write(`cancel: ${JSON.stringify(out.cancelThroughRunHost)}\n`);
  if (process.env.BENCH_RUN_ONLY === 'cancel') {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  out.poolOnly = await poolOnly(Number(process.env.BENCH_POOL_PASSES ?? 3));
  process.stderr.write(`pool only: ${JSON.stringify(out.poolOnly)}\n`);
  out.mainThreadOnly = await mainThreadCost(Number(process.env.BENCH_MAIN_PASSES ?? 5));
  process.stderr.write(`main thread only: ${JSON.stringify(out.mainThreadOnly)}\n`);
  if (process.env.BENCH_RUN_ONLY === 'main') {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const grid = study('    search grid', 1);
  const rates: Record<string, number> = {};
  let gridBest = -Infinity;
  let size = 0;
  // Each a fresh run (new pool, cold workers), as a user starts one; best and median of
  // BENCH_GRID_REPEATS runs, since a shared machine's noise only ever slows a run down.
  const repeats = Number(process.env.BENCH_GRID_REPEATS ?? 3);
  for (const workers of [1, 2]) {
    const all: { rate: number; cpu: number; main: number; seconds: number; wall: number }[] = [];
    for (let k = 0; k < repeats; k++) {
      const r = await run(grid, workers);
      size = r.trials.length;
      all.push({ rate: r.trials.length / r.seconds, cpu: r.cpuMs / r.trials.length, main: r.mainMs / r.trials.length, seconds: r.seconds, wall: r.wall });
      for (const t of r.trials) if (t.state === 'complete' && (t.score as number) > gridBest) gridBest = t.score as number;
    }
    all.sort((a, b) => b.rate - a.rate);
    const best = all[0]!;
    rates[workers] = Math.round(best.rate);
    out[`workers${workers}`] = {
      trials: size,
      runs: repeats,
      backtestsPerSecond: rates[workers],
      medianBacktestsPerSecond: Math.round(all[Math.floor(all.length / 2)]!.rate),
      cpuMsPerBacktest: Number(best.cpu.toFixed(3)),
      mainThreadMsPerTrial: Number(best.main.toFixed(3)),
      seconds: Number(best.seconds.toFixed(2)),
      wallWithStartup: Number(best.wall.toFixed(2)),
    };
    process.stderr.write(`grid on ${workers} worker(s): ${JSON.stringify(out[`workers${workers}`])}\n`);
  }
  out.gridSize = size;
  out.speedup2Workers = Number((rates[2]! / rates[1]!).toFixed(2));
  out.vsBacktrader = Math.round(rates[1]! / 2.61);
  out.gridOptimum = gridBest;
  if (process.env.BENCH_RUN_ONLY === 'grid') {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const budget = Math.round(size * 0.05);
  const share: Record<string, unknown> = {};
  for (const [name, search] of [
    ['random', `search random { trials ${budget} }`],
    ['tpe', `search tpe { trials ${budget} }`],
    ['cmaes', `search cmaes { trials ${budget} }`],
    ['genetic', `search genetic { trials ${budget} }`],
    ['bayes', `search bayes { trials ${budget} }`],
  ] as const) {
    const seeds = name === 'bayes' ? Math.min(2, SEEDS) : SEEDS;
    const shares: number[] = [];
    let found = 0;
    for (let s = 0; s < seeds; s++) {
      const r = await run(study(`    ${search}`, 100 + s), 2);
      const best = Math.max(...r.trials.filter((t) => t.state === 'complete').map((t) => t.score as number));
      shares.push(best / gridBest);
      if (best >= gridBest) found++;
    }
    shares.sort((a, b) => a - b);
    share[name] = { budget, seeds, medianShare: Number(shares[Math.floor(shares.length / 2)]!.toFixed(4)), minShare: Number(shares[0]!.toFixed(4)), foundOptimum: `${found}/${seeds}` };
    process.stderr.write(`5% budget ${name}: ${JSON.stringify(share[name])}\n`);
  }
  out.shareOfOptimumWith5pct = share;
  process.stdout.write(JSON.stringify(out) + '\n');
}

void main();
