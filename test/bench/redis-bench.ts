/**
 * Distributed-run figures (`npm run bench -- redis`), #20: the 79,875-backtest EMA/ATR grid end
 * to end through `runStudy` (sampler, scoring, journal: the real run path), on
 *  - the local pool with 1 and 2 threads (a fresh pool per run, as `optstudy run` makes it);
 *  - a real redis-server and 1 and 2 real `optstudy worker` processes of one pool thread each,
 *    started once before (as a cluster's workers are), signed jobs (a shared secret).
 * Side by side in one process, interleaved (local 1, redis 1, redis 2, local 2; repeated
 * BENCH_REDIS_REPEATS times, default 2; the best run of each counts), so the ratios hold on a
 * loaded machine better than the rates: `redis_1_vs_local_1` is a remote worker process's
 * throughput against a local worker's (goal ≥ 0.8), `redis_2_vs_local_1` two remote processes
 * against one local worker (goal ≥ 1.6). Also the CPU per trial of each role (the run's main
 * thread, pool threads, the workers' main threads, redis-server; from /proc), which holds on a
 * loaded machine where rates do not, and the round trip of a one-trial job. `transport`: the
 * same run on 2 workers whose pool answers at once with real blocks (redis-echo-worker.ts) —
 * what distribution itself costs per trial, by role, and the trial rate it could carry. The
 * load average is printed beside the figures.
 * Prints one JSON object on its last line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createDistributedExecutor, type DistributedExecutor } from '../../server/distributed/distributed-executor';
import type { TaskPayload } from '../../server/executor/executor';
import { LocalExecutor } from '../../server/executor/local-pool';
import type { OutcomeBlock } from '../../server/executor/outcome-block';
import { serialize } from 'node:v8';
import { runStudy } from '../../server/run/run-study';
import { redisServerAvailable, startRedis } from '../support/redis-server';
import { ROOT, startWorker, type TestWorker } from '../support/redis-workers';

const DATA = path.join(ROOT, 'samples', 'data', 'orcl-1995-2014.txt');
const REPEATS = Math.max(1, Number(process.env.BENCH_REDIS_REPEATS ?? 2));
// BENCH_REDIS_ONLY=transport: the transport figure alone (after one real run for its payload).
/** 19 × 57 EMA pairs (fast < slow: 1,065) × 3 × 5 × 5 = 79,875 backtests. */
const STUDY = `
study "ema atr grid" {
  data "${DATA}"
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy ema_atr
  objective maximize sharpe
  stage "grid" {
    search grid
    param ema_fast in 2 .. 20 step 1
    param ema_slow in 10 .. 290 step 5
    param atr_period in [10, 14, 20]
    param atr_sl_multiplier in [1, 1.5, 2, 2.5, 3]
    param atr_tp_multiplier in 2 .. 10 step 2
    where ema_fast < ema_slow
  }
  seed 1
}
`;

interface Timing {
  trials: number;
  ms: number;
  /** CPU per trial (µs) by role: where a run's work goes, a figure that holds on a loaded machine. */
  cpu: Record<string, number>;
}

/** CPU time (ms) of a process: its main thread, and all its threads (exited ones included). Linux /proc. */
function processCpu(pid: number | undefined): { main: number; all: number } {
  if (pid === undefined || !existsSync(`/proc/${pid}/stat`)) return { main: 0, all: 0 };
  const ticks = (file: string): number => {
    try {
      // Fields after the command's closing parenthesis: utime and stime are the 12th and 13th.
      const text = readFileSync(file, 'utf8');
      const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
      return (Number(f[11]) + Number(f[12])) * 10; // USER_HZ is 100 on Linux
    } catch {
      return 0;
    }
  };
  return { main: ticks(`/proc/${pid}/task/${pid}/stat`), all: ticks(`/proc/${pid}/stat`) };
}

async function main(): Promise<void> {
  if (!redisServerAvailable()) {
    console.log(JSON.stringify({ skipped: 'redis-server is not installed' }));
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-redis-bench-'));
  const file = path.join(dir, 'bench.optstudy');
  writeFileSync(file, STUDY);
  const secret = randomBytes(32);
  writeFileSync(path.join(dir, 'secret'), secret.toString('hex'), { mode: 0o600 });
  const redis = await startRedis();
  const workers: TestWorker[] = [];
  let runs = 0;
  let last: DistributedExecutor | null = null;
  let lastPayload: TaskPayload | null = null;
  /** Echo workers (transport figure), counted as workers by `roles`. */
  const echoes: ChildProcess[] = [];

  /** CPU (ms) so far by role: this process's main thread (the run's), its pool threads, the workers' main and pool threads, redis-server. */
  const roles = (): Record<string, number> => {
    const self = processCpu(process.pid);
    const ws = [...workers.map((w) => w.pid), ...echoes.map((c) => c.pid)].map((pid) => processCpu(pid));
    return {
      run_main_thread: self.main,
      local_pool_threads: self.all - self.main,
      worker_main_threads: ws.reduce((a, c) => a + c.main, 0),
      worker_pool_threads: ws.reduce((a, c) => a + c.all - c.main, 0),
      redis_server: processCpu(redis.pid).all,
    };
  };
  const run = async (opts: { local?: number; redis?: boolean; queue?: string }): Promise<Timing> => {
    const cpu0 = roles();
    const t0 = performance.now();
    const end = await runStudy(
      {
        file,
        workers: opts.local ?? 1,
        // A Redis run says so: runStudy then starts no local pool threads ahead of it.
        ...(opts.redis ? { redis: redis.url } : {}),
        out: path.join(dir, `run-${++runs}`),
        createExecutor: opts.redis
          ? async (payload, settings) => {
              lastPayload = payload;
              return (last = await createDistributedExecutor(payload, settings, { url: redis.url, queue: opts.queue, secret: Buffer.from(secret.toString('hex')) }));
            }
          : undefined,
      },
      // The batch listener (as the CLI's): no event object per trial on the run's main thread.
      Object.assign(() => {}, { trials: () => {} }),
      new AbortController().signal,
    );
    const ms = performance.now() - t0;
    if (end.status !== 'finished') throw new Error(`bench run ${end.status}: ${end.error}`);
    const cpu1 = roles();
    rmSync(path.join(dir, `run-${runs}`), { recursive: true, force: true });
    const cpu = Object.fromEntries(Object.keys(cpu1).map((k) => [k, +((1000 * (cpu1[k]! - cpu0[k]!)) / end.trials).toFixed(1)]));
    return { trials: end.trials, ms, cpu };
  };
  const rate = (t: Timing) => Math.round((t.trials / t.ms) * 1000);
  const busy = (t: Timing, role: string, threads: number) => +(((t.cpu[role]! * t.trials) / 1000 / t.ms / threads).toFixed(3));
  const best = (ts: Timing[]) => ts.reduce((a, b) => (b.ms < a.ms ? b : a));
  const ensureWorkers = async (n: number) => {
    // The production lock (30 s): a short test lock can expire on a loaded machine and re-run a batch.
    while (workers.length < n) workers.push(await startWorker(redis.url, { concurrency: 1, lockMs: 30_000, extraArgs: ['--secret-file', path.join(dir, 'secret')] }));
    while (workers.length > n) await workers.pop()!.stop();
  };

  /** The grid on 2 echo workers (no backtests): distribution's own CPU per trial and rate. */
  const transport = async (): Promise<Record<string, unknown>> => {
    await ensureWorkers(0);
    const blockFile = path.join(dir, 'block.bin');
    const pool = new LocalExecutor(lastPayload!, { workers: 1, retries: 0 });
    const blocks: OutcomeBlock[] = [];
    const trials = Array.from({ length: 64 }, (_, i) => ({ number: i, params: { ema_fast: 2 + (i % 18), ema_slow: 100 + i, atr_period: 14, atr_sl_multiplier: 1.5, atr_tp_multiplier: 4 } }));
    await pool.run(trials, new AbortController().signal, (o) => void blocks.push(o as OutcomeBlock), { stage: 'grid' });
    await pool.close();
    writeFileSync(blockFile, serialize(blocks[0]));
    const script = path.join(__dirname, 'redis-echo-worker.js');
    for (let i = 0; i < 2; i++) {
      const c = spawn(process.execPath, [script, redis.url, path.join(dir, 'secret'), blockFile, 'optstudy-echo'], { stdio: ['ignore', 'ignore', 'pipe'] });
      await new Promise<void>((resolve, reject) => {
        let err = '';
        c.stderr!.on('data', (d) => (err += String(d)) && err.includes(' ready: ') && resolve());
        c.once('exit', (code) => reject(new Error(`echo worker exited ${code}: ${err}`)));
      });
      echoes.push(c);
    }
    try {
      const t = await run({ redis: true, queue: 'optstudy-echo' });
      const cpu = t.cpu;
      return {
        per_s: rate(t),
        bytes_per_trial: Math.round(blocks[0]!.json.length / blocks[0]!.numbers.length),
        cpu_us_per_trial: cpu,
        total_cpu_us_per_trial: +Object.values(cpu).reduce((a, b) => a + b, 0).toFixed(1),
      };
    } finally {
      await Promise.all(echoes.splice(0).map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : (c.once('exit', r), c.kill('SIGTERM'))))));
    }
  };

  try {
    if (process.env.BENCH_REDIS_ONLY === 'transport') {
      // One real run first: the echo workers answer with blocks of its payload.
      await ensureWorkers(1);
      await run({ redis: true });
      console.log(JSON.stringify({ transport: await transport(), load_average: os.loadavg().map((x) => +x.toFixed(2)) }));
      return;
    }
    const series: Record<string, Timing[]> = { local_1: [], redis_1: [], redis_2: [], local_2: [] };
    const stats: Record<string, unknown> = {};
    for (let r = 0; r < REPEATS; r++) {
      series.local_1!.push(await run({ local: 1 }));
      await ensureWorkers(1);
      series.redis_1!.push(await run({ redis: true }));
      stats.redis_1 = { ...last!.stats };
      await ensureWorkers(2);
      series.redis_2!.push(await run({ redis: true }));
      stats.redis_2 = { ...last!.stats };
      series.local_2!.push(await run({ local: 2 }));
    }
    const b = Object.fromEntries(Object.entries(series).map(([k, v]) => [k, best(v)])) as Record<string, Timing>;
    const out: Record<string, unknown> = {
      grid: 'ema_atr 79,875 backtests, ORCL 1995-2014',
      trials: b.local_1!.trials,
      repeats: REPEATS,
      per_s: Object.fromEntries(Object.entries(b).map(([k, t]) => [k, rate(t)])),
      seconds: Object.fromEntries(Object.entries(b).map(([k, t]) => [k, +(t.ms / 1000).toFixed(2)])),
      redis_1_vs_local_1: +(b.local_1!.ms / b.redis_1!.ms).toFixed(3),
      redis_2_vs_local_1: +(b.local_1!.ms / b.redis_2!.ms).toFixed(3),
      local_2_vs_local_1: +(b.local_1!.ms / b.local_2!.ms).toFixed(3),
      cpu_us_per_trial: Object.fromEntries(Object.entries(b).map(([k, t]) => [k, t.cpu])),
      // The pool threads' CPU over their wall time (1: never waiting, never sharing a core): on a
      // quiet machine what they lack is waiting for work; on a loaded one, the other processes.
      pool_busy: {
        local_1: busy(b.local_1!, 'local_pool_threads', 1),
        redis_1: busy(b.redis_1!, 'worker_pool_threads', 1),
        redis_2: busy(b.redis_2!, 'worker_pool_threads', 2),
        local_2: busy(b.local_2!, 'local_pool_threads', 2),
      },
      // From CPU alone (holds on a loaded machine): local_1 at its busiest thread's CPU per trial
      // against redis_2's CPU per trial spread over every core — what redis_2 would reach with
      // the cores busy with it all along. Below this, the rest is waiting (or other processes).
      redis_2_vs_local_1_cpu_bound: +(Math.max(b.local_1!.cpu.run_main_thread!, b.local_1!.cpu.local_pool_threads!) / (Object.values(b.redis_2!.cpu).reduce((x, y) => x + y, 0) / os.cpus().length)).toFixed(3),
      jobs: stats,
    };

    // Round trip of a one-trial job, one at a time, on warm workers.
    const payload: TaskPayload = { data: { file: DATA }, strategy: { kind: 'builtin', name: 'sma_cross' }, config: { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } } };
    const ex = await createDistributedExecutor(payload, { workers: 1, retries: 0 }, { url: redis.url, secret: Buffer.from(secret.toString('hex')) });
    const signal = new AbortController().signal;
    const lat: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      await ex.run([{ number: i, params: { fast: 10 + (i % 20), slow: 50 } }], signal);
      if (i >= 10) lat.push(performance.now() - t0);
    }
    await ex.close();
    lat.sort((x, y) => x - y);
    out.one_trial_job_round_trip_ms = { median: +lat[lat.length >> 1]!.toFixed(2), p90: +lat[Math.floor(lat.length * 0.9)]!.toFixed(2) };
    out.transport = await transport();
    out.load_average = os.loadavg().map((x) => +x.toFixed(2));
    out.cpus = os.cpus().length;
    console.log(JSON.stringify(out));
  } finally {
    for (const c of echoes) c.kill('SIGKILL');
    await Promise.all(workers.map((w) => w.stop()));
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    console.log(JSON.stringify({ error: String(e) }));
    process.exit(1);
  },
);
