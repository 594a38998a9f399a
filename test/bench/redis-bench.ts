/**
 * Distributed-run figures (`npm run bench -- redis`): a real redis-server and real
 * `optstudy worker` processes (one pool thread each) running an SMA grid through `runStudy`.
 * Reports trials/s with 1, 2 and 4 worker processes, the same grid on the local pool with 1 and
 * 2 threads (warm pools on both paths), the per-trial overhead of the Redis path over the local pool (one thread each:
 * (elapsed_redis − elapsed_local) / trials), and the round trip of a one-trial job (enqueue →
 * worker → result back). The machine has 2 cores shared with other work, so 4 processes show
 * the contention, not more speed; the load average is printed beside the figures.
 * Prints one JSON object on its last line.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createDistributedExecutor } from '../../server/distributed/distributed-executor';
import { runStudy } from '../../server/run/run-study';
import type { ExecutorSettings, TaskPayload, TrialExecutor } from '../../server/executor/executor';
import { LocalExecutor } from '../../server/executor/local-pool';
import type { PriceData } from '../../server/engine';
import { redisServerAvailable, startRedis } from '../support/redis-server';
import { ROOT, startWorker, type TestWorker } from '../support/redis-workers';

const DATA = path.join(ROOT, 'samples', 'data', 'orcl-1995-2014.txt');
const STUDY = `
study "bench" {
  data "${DATA}"
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize sharpe
  stage "grid" {
    search grid
    param fast in 2 .. 41 step 1
    param slow in 20 .. 220 step 5
    where fast < slow
  }
  seed 1
}
`;

async function main(): Promise<void> {
  if (!redisServerAvailable()) {
    console.log(JSON.stringify({ skipped: 'redis-server is not installed' }));
    return;
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-redis-bench-'));
  const file = path.join(dir, 'bench.optstudy');
  writeFileSync(file, STUDY);
  const redis = await startRedis();
  const workers: TestWorker[] = [];
  let runs = 0;
  let lastStats: { batches: number; workerMs: number } | null = null;
  // Local pools kept warm across runs (runStudy would start a fresh pool each time), so both
  // paths are timed with their threads up and the prices and strategy loaded.
  const pools = new Map<number, LocalExecutor>();
  const local = (n: number) => (payload: TaskPayload, settings: ExecutorSettings, prices: PriceData): TrialExecutor => {
    let pool = pools.get(n);
    if (!pool) pools.set(n, (pool = new LocalExecutor(payload, { ...settings, workers: n }, prices)));
    const p = pool;
    return { workers: n, run: (b, s, o) => p.run(b, s, o), close: async () => {} };
  };
  const run = async (opts: { workers?: number; redis?: boolean }): Promise<{ trials: number; ms: number }> => {
    const t0 = performance.now();
    const end = await runStudy(
      {
        file,
        workers: opts.workers ?? 1,
        out: path.join(dir, `run-${++runs}`),
        createExecutor: opts.redis
          ? async (payload, settings) => {
              const ex = await createDistributedExecutor(payload, settings, { url: redis.url });
              lastStats = ex.stats;
              return ex;
            }
          : local(opts.workers ?? 1),
      },
      () => {},
      new AbortController().signal,
    );
    if (end.status !== 'finished') throw new Error(`bench run ${end.status}: ${end.error}`);
    return { trials: end.trials, ms: performance.now() - t0 };
  };
  const rate = (r: { trials: number; ms: number }) => Math.round((r.trials / r.ms) * 1000);
  try {
    await run({ workers: 1 });
    const local1 = await run({ workers: 1 });
    await run({ workers: 2 });
    const local2 = await run({ workers: 2 });
    for (const p of pools.values()) await p.close();
    const out: Record<string, unknown> = {
      trials: local1.trials,
      local_1_thread_per_s: rate(local1),
      local_2_threads_per_s: rate(local2),
    };
    let redis1: { trials: number; ms: number } | null = null;
    for (const n of [1, 2, 4]) {
      while (workers.length < n) workers.push(await startWorker(redis.url, { concurrency: 1 }));
      await run({ redis: true }); // warm: every worker's pool loads the prices and strategy once
      const r = await run({ redis: true });
      if (n === 1) {
        redis1 = r;
        // Where the time goes with one worker: inside the worker (files + trials) vs everything.
        out.redis_1_worker_jobs = lastStats!.batches;
        out.redis_1_worker_busy_pct = Math.round((100 * lastStats!.workerMs) / r.ms);
      }
      out[`redis_${n}_worker${n === 1 ? '' : 's'}_per_s`] = rate(r);
    }
    out.redis_overhead_ms_per_trial = +(((redis1!.ms - local1.ms) / local1.trials).toFixed(3));

    // Round trip of a one-trial job, one at a time, on warm workers.
    const payload: TaskPayload = { data: { file: DATA }, strategy: { kind: 'builtin', name: 'sma_cross' }, config: { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } } };
    const ex = await createDistributedExecutor(payload, { workers: 1, retries: 0 }, { url: redis.url });
    const signal = new AbortController().signal;
    const lat: number[] = [];
    for (let i = 0; i < 60; i++) {
      const t0 = performance.now();
      await ex.run([{ number: i, params: { fast: 10 + (i % 20), slow: 50 } }], signal);
      if (i >= 10) lat.push(performance.now() - t0);
    }
    await ex.close();
    lat.sort((a, b) => a - b);
    out.one_trial_job_round_trip_ms = { median: +lat[lat.length >> 1]!.toFixed(2), p90: +lat[Math.floor(lat.length * 0.9)]!.toFixed(2) };
    out.load_average = os.loadavg().map((x) => +x.toFixed(2));
    out.cpus = os.cpus().length;
    console.log(JSON.stringify(out));
  } finally {
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
