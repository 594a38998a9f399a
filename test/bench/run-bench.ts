/**
 * Run-engine benchmark on real data (#20's figures), each ratio measured side by side in one
 * run: the whole optimizer end to end (sampler, pool, worker-side scoring and encoding,
 * journal on disk, events) on the 6,947-combination SMA-cross grid over ORCL 1995–2014 and on
 * a 79,875-combination EMA/ATR grid, on 1 and 2 workers — wall time, backtests/s, CPU per
 * backtest and the main thread's own CPU per trial; a 10-million-combination grid's resident
 * memory over a minute (child process, journal on disk); cancel latency through the run host;
 * the pool alone; and the share of the SMA grid's optimum each sampler reaches with 5% of its
 * backtests. backtrader's plain optstrategy does 2.61 backtests/s on this machine kind
 * (../shared/baselines). Env: BENCH_GRID_REPEATS (3), BENCH_RUN_ONLY=cancel|ceiling|grid|sma|10m,
 * BENCH_RUN_10M=0 to skip the 10M grid, BENCH_10M_SECONDS (60). `cpuCeiling` (cpu-ceiling.ts, also
 * BENCH_RUN_ONLY=ceiling): how many cores' worth two threads get here — of float work (the
 * hardware), of allocating work (less: two isolates' GC helper threads compete for the cores),
 * and of the latter under --single-threaded-gc; the `alloc` figure bounds every speedup2Workers.
 */
import { fork } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { performance, PerformanceObserver } from 'node:perf_hooks';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostMessage, HostRequest } from '../../protocol/run-host';
import { runStudy, type TrialBatch } from '../../server/run/run-study';
import type { TrialRequest } from '../../server/executor/executor';
import { loadPrices, runBacktest } from '../../server/engine';
import { LocalExecutor } from '../../server/executor/local-pool';
import { repoRoot, sampleData, tempStudy } from '../support/run-fixtures';
import { cpuCeiling } from './cpu-ceiling';

const DATA = sampleData('orcl-1995-2014.txt');
const SEEDS = Number(process.env.BENCH_RUN_SEEDS ?? 5);


/** The SMA-cross grid of #20's figures: 6,947 combinations over ORCL 1995–2014. */
const SMA_GRID_PARAMS = `    param fast in 2 .. 100 step 1
    param slow in 10 .. 400 step 5`;

const study = (stage: string, seed: number, params = SMA_GRID_PARAMS): string => `
study "sma grid" {
  data "${DATA}"
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize sharpe
  stage "s" {
${stage}
${params}
    where fast < slow
  }
  seed ${seed}
}`;

const SMA_GRID = study('    search grid', 1);

/**
 * CPU time of this process's main thread so far (ms): /proc/self/task/PID/schedstat (ns; Linux),
 * else its stat's utime + stime (10 ms ticks).
 */
function mainThreadCpuMs(): number {
  try {
    return Number(readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
  } catch {
    try {
      const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) * 10;
    } catch {
      return NaN;
    }
  }
}

/** Every thread of this process and its CPU so far (ms), by OS thread id (Linux; empty elsewhere). */
function threadCpuMs(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const t of readdirSync('/proc/self/task')) {
      try {
        out.set(Number(t), Number(readFileSync(`/proc/self/task/${t}/schedstat`, 'utf8').split(' ')[0]) / 1e6);
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    // Not Linux.
  }
  return out;
}

/**
 * Where a run's CPU went, by thread: the pool's worker threads (threads born during the run,
 * read while they still run: at the last stage event), the main thread, and the threads that
 * were there before (V8's platform threads: concurrent compilation and GC — each fresh worker
 * compiles the engine anew).
 */
function cpuByThread(before: Map<number, number>, atStage: Map<number, number>, after: Map<number, number>): { workersMs: number; backgroundMs: number } {
  let workersMs = 0;
  let backgroundMs = 0;
  for (const [tid, ms] of atStage) if (!before.has(tid)) workersMs += ms;
  for (const [tid, ms] of after) if (tid !== process.pid && before.has(tid)) backgroundMs += ms - before.get(tid)!;
  return { workersMs, backgroundMs };
}

interface RunFigures {
  trials: number;
  /** The best first-objective score (maximized studies). */
  best: number;
  /** From the call to the end event. */
  wall: number;
  /** From the first trial to the end. */
  seconds: number;
  /** CPU of every thread (main + workers). */
  cpuMs: number;
  /** CPU of the main thread alone: sampler, bookkeeping, journal, events. */
  mainCpuMs: number;
  /** The main thread's CPU before the `start` event: the study, its data, the pool's threads, the run folder. */
  setupCpuMs: number;
  /** Milliseconds from the call to the `start` event, to the first trial back, to the last. */
  toStartMs: number;
  toFirstTrialMs: number;
  toLastTrialMs: number;
  /** CPU of the pool's worker threads (startup included) and of V8's background threads. */
  workersCpuMs: number;
  backgroundCpuMs: number;
  /** The main thread's GC pauses. */
  mainGcMs: number;
}

/** One run through runStudy, its listener on the batch path (no event objects), as the CLI's terminal output is. */
async function run(text: string, workers: number): Promise<RunFigures> {
  const dir = tempStudy({ 's.optstudy': text });
  let trials = 0;
  let best = -Infinity;
  let first = 0;
  let last = 0;
  let setupCpuMs = NaN;
  let started = 0;
  let atStage = new Map<number, number>();
  // The main thread's GC pauses during the run (its scavenges wait for V8's helper threads,
  // which the workers' compilations keep busy on a 2-core machine).
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcMs += e.duration;
  });
  gc.observe({ entryTypes: ['gc'] });
  const threads0 = threadCpuMs();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const onEvent = (e: { type: string }): void => {
    if (e.type === 'start') {
      setupCpuMs = mainThreadCpuMs() - main0;
      started = performance.now();
    }
    // The last stage's event comes before the pool closes: its workers are still there.
    if (e.type === 'stage') atStage = threadCpuMs();
  };
  const listener = Object.assign(onEvent, {
    trials: (b: TrialBatch) => {
      last = performance.now();
      if (!first) first = last;
      trials += b.count;
      for (let i = 0; i < b.count; i++) {
        const l = b.loss0(i, true);
        if (-l > best) best = -l;
      }
    },
  });
  await runStudy({ file: path.join(dir, 's.optstudy'), workers, out: path.join(dir, 'run') }, listener, new AbortController().signal);
  const end = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const mainCpuMs = mainThreadCpuMs() - main0;
  const byThread = cpuByThread(threads0, atStage, threadCpuMs());
  gc.disconnect();
  rmSync(dir, { recursive: true, force: true });
  return {
    trials,
    best,
    wall: (end - t0) / 1000,
    seconds: (end - first) / 1000,
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainCpuMs,
    setupCpuMs,
    toStartMs: started - t0,
    toFirstTrialMs: first - t0,
    toLastTrialMs: last - t0,
    workersCpuMs: byThread.workersMs,
    backgroundCpuMs: byThread.backgroundMs,
    mainGcMs: gcMs,
  };
}

/** A grid on 1 and 2 workers, each run fresh (new pool, cold workers) as a user starts one: best of `repeats`. */
async function scaling(name: string, text: string, repeats: number, ceiling?: number): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const wall: Record<number, number> = {};
  const cpuMs: Record<number, number> = {};
  for (const workers of [1, 2]) {
    const all: RunFigures[] = [];
    for (let k = 0; k < repeats; k++) all.push(await run(text, workers));
    all.sort((a, b) => a.wall - b.wall);
    const r = all[0]!;
    wall[workers] = r.wall;
    cpuMs[workers] = r.cpuMs;
    out[`workers${workers}`] = {
      trials: r.trials,
      runs: repeats,
      wallSeconds: Number(r.wall.toFixed(3)),
      medianWallSeconds: Number(all[Math.floor(all.length / 2)]!.wall.toFixed(3)),
      backtestsPerSecond: Math.round(r.trials / r.wall),
      cpuMicrosecondsPerBacktest: Math.round((1000 * r.cpuMs) / r.trials),
      mainThreadCpuMicrosecondsPerTrial: Number(((1000 * r.mainCpuMs) / r.trials).toFixed(2)),
      // The same without the fixed cost before `start` (reading the study and its data, starting the pool's threads).
      mainThreadSetupCpuMs: Number(r.setupCpuMs.toFixed(1)),
      mainThreadCpuMicrosecondsPerTrialAfterStart: Number(((1000 * (r.mainCpuMs - r.setupCpuMs)) / r.trials).toFixed(2)),
      // The cold run's steps (ms from the call) and where its CPU went (ms): the pool's threads
      // with their startup, V8's background threads (each fresh worker compiles the engine).
      timelineMs: { start: Math.round(r.toStartMs), firstTrial: Math.round(r.toFirstTrialMs), lastTrial: Math.round(r.toLastTrialMs), end: Math.round(r.wall * 1000) },
      cpuMs: { main: Math.round(r.mainCpuMs), mainGc: Math.round(r.mainGcMs), workers: Math.round(r.workersCpuMs), background: Math.round(r.backgroundCpuMs), total: Math.round(r.cpuMs) },
      best: r.best,
    };
    process.stderr.write(`${name} on ${workers} worker(s): ${JSON.stringify(out[`workers${workers}`])} (load ${os.loadavg()[0]!.toFixed(2)})\n`);
  }
  out.speedup2Workers = Number((wall[1]! / wall[2]!).toFixed(2));
  // With 1 worker the main thread and V8's background threads (compiles, GC helpers) run on the
  // other core beside it; with 2 workers all of the run's CPU shares the machine's cores, so
  // no scheduling beats the 1-worker wall over the 2-worker run's CPU spread on every core.
  out.speedup2WorkersCpuBound = Number((wall[1]! / (cpuMs[2]! / 1000 / os.cpus().length)).toFixed(2));
  // Even were a second worker free (no thread start, no second JIT warm-up, no slower backtests
  // beside another), the 2-worker run would still have the 1-worker run's CPU to do — the
  // main thread's and V8's background threads' included, which with one worker run beside it
  // on the other core — on the machine's cores: the 1-worker wall over that CPU spread on them.
  out.speedup2WorkersFreeWorkerBound = Number((wall[1]! / (cpuMs[1]! / 1000 / os.cpus().length)).toFixed(2));
  // What two threads of allocating work get on this machine (cpu-ceiling.ts): a worker that
  // makes garbage at that rate cannot pass it; one that makes less can (toward `float`'s).
  if (ceiling !== undefined) out.cpuCeiling2Threads = ceiling;
  return out;
}

const EMA_ATR_GRID = `
study "ema atr grid" {
  data "${DATA}" from 2005-01-01 to 2014-12-31
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy ema_atr
  objective maximize sharpe
  stage "grid" {
    param ema_fast in 2 .. 72 step 1
    param ema_slow in 80 .. 160 step 10
    param atr_period in 10 .. 18 step 2
    param atr_sl_multiplier in 1.0 .. 3.0 step 0.5
    param atr_tp_multiplier in 2.0 .. 10.0 step 2.0
  }
  seed 1
}`;

/**
 * A 10-million-combination grid (a short window, so backtests are quick) run in a child process
 * for `seconds` with its journal on disk, then cancelled: the child's resident memory sampled
 * every second and its peak (VmHWM), to show memory flat in grid size.
 */
async function tenMillion(seconds: number): Promise<Record<string, unknown>> {
  const dir = tempStudy({
    'g.optstudy': `
study "ten million" {
  data "${DATA}" from 2014-01-01 to 2014-06-30
  strategy sma_cross
  objective maximize sharpe
  stage "grid" {
    param fast in 1 .. 2000 step 1
    param slow in 1 .. 5000 step 1
  }
  seed 1
}`,
  });
  const child = fork(path.join(repoRoot(), 'dist', 'cli.js'), ['run', path.join(dir, 'g.optstudy'), '--workers', '2', '--json', '--out', path.join(dir, 'run')], { stdio: ['ignore', 'pipe', 'ignore', 'ipc'] });
  let trials = 0;
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    // The last progress event's count (a trial line is ~2 KB: the last 200 KB hold a progress line).
    buf = (buf + d.toString('latin1')).slice(-200_000);
    const at = buf.lastIndexOf('"done":');
    if (at >= 0) trials = Number(/^"done":(\d+)/.exec(buf.slice(at))?.[1] ?? trials);
  });
  const samples: { s: number; rssMb: number; trials: number }[] = [];
  const status = (): { rss: number; hwm: number } => {
    const t = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return { rss: Number(/VmRSS:\s+(\d+)/.exec(t)?.[1] ?? 0) / 1024, hwm: Number(/VmHWM:\s+(\d+)/.exec(t)?.[1] ?? 0) / 1024 };
  };
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let peak = 0;
  for (let s = 1; s <= seconds; s++) {
    await new Promise((r) => setTimeout(r, 1000));
    try {
      const st = status();
      peak = Math.max(peak, st.hwm);
      samples.push({ s, rssMb: Math.round(st.rss), trials });
    } catch {
      break;
    }
  }
  child.kill('SIGINT');
  await exited;
  rmSync(dir, { recursive: true, force: true });
  return { combinations: 10_000_000, seconds, trialsDone: trials, peakRssMb: Math.round(peak), rssEverySecond: samples };
}

/**
 * Cancel latency through the real run host (the extension's path): a ~100,000-trial grid on 2
 * workers, cancelled after `runMs`; milliseconds from the cancel to the `end` event and to the
 * host's exit, the trials that reached the parent, and the IPC messages they took.
 */
async function cancelLatency(runMs: number): Promise<Record<string, number>> {
  const dir = tempStudy({ 'b.optstudy': study('    search grid', 1, '    param fast in 2 .. 201 step 1\n    param slow in 210 .. 5209 step 10') });
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
 * The pool alone: the grid's 6,787 trials handed straight to the piscina pool (no sampler,
 * scoring, events or journal), on 1 and 2 workers — how the workers scale when the main thread
 * has next to nothing to do. Best of `passes`.
 */
async function poolOnly(passes: number): Promise<Record<string, number>> {
  const prices = loadPrices(DATA);
  const requests: TrialRequest[] = [];
  for (let fast = 2; fast <= 100; fast++) for (let slow = 10; slow <= 400; slow += 5) if (fast < slow) requests.push({ number: requests.length, params: { fast, slow } });
  const out: Record<string, number> = { trials: requests.length };
  for (const workers of [1, 2]) {
    const ex = new LocalExecutor(
      { data: { file: DATA }, strategy: { kind: 'builtin', name: 'sma_cross' }, config: { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } } },
      { workers, retries: 0 },
      prices,
    );
    // The blocks as the workers send them (no TrialOutcome objects made on this thread).
    const take = (): void => {};
    // Warm-up: workers started, indicator caches filled.
    await ex.run(requests, new AbortController().signal, take);
    let best = Infinity;
    for (let i = 0; i < passes; i++) {
      const t0 = performance.now();
      await ex.run(requests, new AbortController().signal, take);
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
  if (process.env.BENCH_RUN_ONLY === '10m') {
    out.tenMillionGrid = await tenMillion(Number(process.env.BENCH_10M_SECONDS ?? 60));
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  if (!process.env.BENCH_RUN_ONLY || process.env.BENCH_RUN_ONLY === 'cancel') out.cancelThroughRunHost = await cancelLatency(Number(process.env.BENCH_CANCEL_AFTER_MS ?? 3000));
  if (out.cancelThroughRunHost) process.stderr.write(`cancel: ${JSON.stringify(out.cancelThroughRunHost)}\n`);
  if (process.env.BENCH_RUN_ONLY === 'cancel') {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  if (!process.env.BENCH_RUN_ONLY || ['ceiling', 'grid'].includes(process.env.BENCH_RUN_ONLY)) {
    out.cpuCeiling = await cpuCeiling();
    process.stderr.write(`cpu ceiling: ${JSON.stringify(out.cpuCeiling)} (load ${os.loadavg()[0]!.toFixed(2)})\n`);
  }
  if (process.env.BENCH_RUN_ONLY === 'ceiling') {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  const ceiling = (out.cpuCeiling as { ceiling: number } | undefined)?.ceiling;
  if (process.env.BENCH_RUN_ONLY === 'sma') {
    // The SMA grid alone (e.g. under --cpu-prof): main-thread cost per trial.
    out.smaGrid = await scaling('sma grid (6,947)', SMA_GRID, Number(process.env.BENCH_GRID_REPEATS ?? 3));
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  out.poolOnly = await poolOnly(Number(process.env.BENCH_POOL_PASSES ?? 3));
  process.stderr.write(`pool only: ${JSON.stringify(out.poolOnly)}\n`);
  const repeats = Number(process.env.BENCH_GRID_REPEATS ?? 3);
  out.smaGrid = await scaling('sma grid (6,947)', SMA_GRID, repeats, ceiling);
  out.emaAtrGrid = await scaling('ema/atr grid (79,875)', EMA_ATR_GRID, Math.max(1, Math.min(repeats, 2)), ceiling);
  const sma = out.smaGrid as { workers1: { backtestsPerSecond: number; best: number; trials: number } };
  const gridBest = sma.workers1.best;
  const size = sma.workers1.trials;
  out.vsBacktrader = Math.round(sma.workers1.backtestsPerSecond / 2.61);
  if (process.env.BENCH_RUN_ONLY === 'grid') {
    process.stdout.write(JSON.stringify(out) + '\n');
    return;
  }
  if (process.env.BENCH_RUN_10M !== '0') {
    out.tenMillionGrid = await tenMillion(Number(process.env.BENCH_10M_SECONDS ?? 60));
    process.stderr.write(`10M grid: ${JSON.stringify(out.tenMillionGrid)}\n`);
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
      const best = (await run(study(`    ${search}`, 100 + s), 2)).best;
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
