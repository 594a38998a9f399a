/**
 * The worker's side of a distributed run (`optstudy worker`): a BullMQ worker on the shared
 * queue that checks each job against its operator's policy (worker-policy.ts), runs the batch
 * on this machine's pool and pushes the outcomes onto the run's results list.
 *
 * Order matters for at-least-once delivery: the result is pushed BEFORE BullMQ marks the job
 * done, so a crash in between re-runs the batch (the coordinator drops the duplicate) rather
 * than losing it. A worker that dies holds its job's lock until it expires (`lockMs`); then any
 * live worker's stalled check puts the job back in the queue.
 */
import { Worker, type Job } from 'bullmq';
import * as os from 'node:os';
import type { Redis } from 'ioredis';
import { BlobCache } from './content-store';
import { signResult, verifyLease } from './job-auth';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, encodeResult, keys, RESULT_VERSION, type BatchJobData, type BatchResult, type WorkerInfo } from './protocol';
import { checkRedis, closeRedis, openRedis, type TlsFiles } from './redis-connection';
import { admitJob, JobRefused, type WorkerPolicy } from './worker-policy';

/** Runs one batch of one run's trials on this machine (the optimizer's pool behind it). */
export interface BatchRunner {
  /** `payload` has its file paths already replaced by local ones. The outcomes as the pool reports them (blocks or single outcomes). */
  /** `stage`: the trials' stage, when the coordinator sent it (the pool writes whole journal lines). */
  run(payload: unknown, trials: unknown[], signal: AbortSignal, stage?: string): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface RedisWorkerOptions {
  url: string;
  /** Pool threads (default: the CPU count); the worker holds two batches per thread, so a thread never waits for the next. */
  concurrency?: number;
  /** Where fetched files are kept (default: `~/.cache/optstudy/blobs`). */
  cacheDir?: string;
  /** Files under this folder may be used in place when their bytes match (a shared disk). */
  dataRoot?: string;
  /** What the worker runs; default: unsigned built-ins only. */
  policy?: WorkerPolicy;
  queue?: string;
  prefix?: string;
  tls?: TlsFiles;
  /**
   * How long a job's lock lives without renewal: a worker that dies is noticed after about this
   * long and its batch re-delivered. Renewed every half of it while the batch runs.
   */
  lockMs?: number;
  /** How often a job may be found stalled before it fails for good (a batch that keeps killing workers). */
  maxStalled?: number;
  runner: BatchRunner;
  log?: (message: string) => void;
  connectTimeoutMs?: number;
}
export interface RedisWorkerStats {
  batches: number;
  trials: number;
  /** Jobs skipped because their run was cancelled. */
  skipped: number;
  blobsFetched: number;
  blobsShared: number;
  /** Time its pool had no batch to run between its first batch and its last (waiting for jobs), ms. */
  idleMs: number;
}

/** A running worker; `close()` finishes the batches in hand, `close(true)` abandons them to others. */
export interface RedisWorkerHandle {
  id: string;
  stats: RedisWorkerStats;
  close(force?: boolean): Promise<void>;
}

/** The default cache folder for fetched files. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME || `${os.homedir()}/.cache`;
  return `${base}/optstudy/blobs`;
}

/** The default policy: unsigned built-in strategies only. */
export const BUILTIN_ONLY: WorkerPolicy = { allow: new Set(['builtin']), secret: null };

/**
 * The state of a job's run, in one round trip: whether it was cancelled, and for a signed job
 * whether its lease (signed by its coordinator, renewed while it runs, deleted when it ends) is
 * valid now — read for every job, so a replay is refused as soon as the run is over.
 * @throws Error (retried by BullMQ) when a signed job's run has no valid lease.
 */
async function runState(redis: Redis, prefix: string, runId: string, secret: Buffer | null): Promise<{ cancelled: boolean }> {
  const [[, cancelled], [, raw]] = (await redis.multi().exists(keys.cancel(prefix, runId)).get(keys.lease(prefix, runId)).exec()) as [[unknown, number], [unknown, string | null]];
  if (secret) {
    let lease: unknown = null;
    try {
      lease = raw === null ? null : JSON.parse(raw);
    } catch {
      lease = null;
    }
    if (!verifyLease(secret, runId, lease)) {
      // Not JobRefused: a lease can be missing for a moment while its coordinator reconnects
      // after a Redis restart; BullMQ retries the job after a backoff.
      throw new Error(
        `refused: run ${runId} has no valid lease: its coordinator has ended (or its signed lease expired; are this machine's clock and the coordinator's in sync?)`,
      );
    }
  }
  return { cancelled: cancelled === 1 };
}

/**
 * Connects and starts taking jobs.
 * @throws RedisConnectionError when Redis cannot be reached at first (with what to do).
 */
export async function startRedisWorker(opts: RedisWorkerOptions): Promise<RedisWorkerHandle> {
  const log = opts.log ?? (() => {});
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const queueName = opts.queue ?? DEFAULT_QUEUE;
  const policy = opts.policy ?? BUILTIN_ONLY;
  const concurrency = Math.max(1, opts.concurrency ?? os.availableParallelism());
  const id = `${os.hostname()}:${process.pid}`;
  const redis = openRedis(opts.url, {
    name: 'optstudy-worker',
    tls: opts.tls,
    onState: (state, url) => log(state === 'lost' ? `lost Redis at ${url}; reconnecting…` : `reconnected to Redis at ${url}`),
  });
  try {
    await checkRedis(redis, opts.url, opts.connectTimeoutMs);
  } catch (e) {
    redis.disconnect();
    throw e;
  }
  const cache = new BlobCache(redis, prefix, opts.cacheDir ?? defaultCacheDir(), opts.dataRoot);
  const stats: RedisWorkerStats = { batches: 0, trials: 0, skipped: 0, blobsFetched: 0, blobsShared: 0, idleMs: 0 };
  const processor = jobProcessor({ redis, prefix, policy, cache, stats, id, runBatch: idleTimed(opts.runner, stats) });
  // BullMQ does not close a connection it was given: keep it to close it ourselves.
  const workerConn = redis.duplicate();
  workerConn.on('error', () => {});
  const worker = queueWorker(queueName, processor, workerConn, { id, concurrency, lockMs: opts.lockMs ?? 30_000, maxStalled: opts.maxStalled, log });
  const info: WorkerInfo = { id, host: os.hostname(), pid: process.pid, concurrency, queue: queueName, startedAt: new Date().toISOString(), allow: [...policy.allow], signed: policy.secret !== null };
  const beat = await register(redis, prefix, info);
  void worker.run().catch((e: unknown) => log(`worker stopped: ${e instanceof Error ? e.message : String(e)}`));
  const rules = `runs ${[...policy.allow].join(', ')}${policy.secret ? ' (signed jobs only)' : ' (no secret: unsigned built-ins only)'}`;
  log(`worker ${id} ready: queue '${queueName}', concurrency ${concurrency}, ${rules}, cache ${cache.dir}${opts.dataRoot ? `, data root ${opts.dataRoot}` : ''}`);

  let closing: Promise<void> | null = null;
  return {
    id,
    stats,
    close(force = false) {
      if (closing && !force) return closing;
      closing = (async () => {
        clearInterval(beat);
        // Finishing the batches in hand needs Redis to take their results; abandoning them is
        // bounded, so a second signal ends the worker even while Redis is away.
        await (force ? bounded(worker.close(true), 2000) : worker.close(false).catch(() => {}));
        // BullMQ's own blocking connection keeps reconnecting while Redis is away: close it too.
        await bounded(worker.disconnect(), 1000);
        await opts.runner.close().catch(() => {});
        await bounded(redis.multi().srem(keys.workerSet(prefix), id).del(keys.worker(prefix, id)).exec(), 2000);
        workerConn.disconnect();
        closeRedis(redis);
      })();
      return closing;
    },
  };
}

/** The runner, timing how long its pool has no batch (stats.idleMs; from the first batch on). */
function idleTimed(runner: BatchRunner, stats: RedisWorkerStats): BatchRunner['run'] {
  let running = 0;
  let idleSince = 0;
  return async (...args) => {
    if (running++ === 0 && idleSince) stats.idleMs += Date.now() - idleSince;
    try {
      return await runner.run(...args);
    } finally {
      if (--running === 0) idleSince = Date.now();
    }
  };
}

interface ProcessorContext {
  redis: Redis;
  prefix: string;
  policy: WorkerPolicy;
  cache: BlobCache;
  stats: RedisWorkerStats;
  id: string;
  runBatch: BatchRunner['run'];
}

/** One job: admitted by the policy, its files resolved, its trials run (unless the run is cancelled), its result pushed. */
function jobProcessor(c: ProcessorContext): (job: Job<BatchJobData>) => Promise<{ trials: number } | { skipped: true }> {
  const { redis, prefix, policy, cache, stats } = c;
  return async (job) => {
    const admitted = admitJob(job.id, job.data, policy);
    const { runId, seq, trials } = admitted.body;
    if ((await runState(redis, prefix, runId, admitted.signed ? policy.secret : null)).cancelled) {
      stats.skipped++;
      return { skipped: true };
    }
    const t0 = Date.now();
    const local = new Map<string, string>();
    for (const ref of admitted.body.files) local.set(ref.path, await cache.resolve(ref));
    stats.blobsFetched = cache.fetched;
    stats.blobsShared = cache.shared;
    const outcomes = await runCancellable(redis, keys.cancel(prefix, runId), (signal) => c.runBatch(admitted.localize(local), trials, signal, admitted.body.stage));
    if (outcomes === CANCELLED) {
      stats.skipped++;
      return { skipped: true };
    }
    const result: BatchResult = { runId, seq, outcomes, worker: c.id, attempt: job.attemptsStarted || job.attemptsMade + 1, durationMs: Date.now() - t0 };
    const key = keys.results(prefix, runId);
    // The coordinator's layout (older ones read 2 only). Not in a MULTI: ioredis copies a
    // transaction's arguments twice more, ~6 µs a trial on this thread for a 512-trial job.
    const version = Number(admitted.body.results) >= RESULT_VERSION ? RESULT_VERSION : 2;
    const bytes = encodeResult(result, (b, v) => signResult(policy.secret, b, v), version);
    await Promise.all([redis.rpush(key, bytes), redis.expire(key, 24 * 3600)]);
    stats.batches++;
    stats.trials += trials.length;
    return { trials: trials.length };
  };
}

/** The BullMQ worker of the queue, not yet running. */
function queueWorker(
  queueName: string,
  processor: ReturnType<typeof jobProcessor>,
  connection: Redis,
  o: { id: string; concurrency: number; lockMs: number; maxStalled?: number; log: (m: string) => void },
): Worker<BatchJobData> {
  const worker = new Worker<BatchJobData>(queueName, processor, {
    connection,
    // Two batches per pool thread: the next one is queued in the pool while one finishes, so a
    // thread never idles through the result's trip and the next job's fetch.
    concurrency: 2 * o.concurrency,
    // Shown as the job's `processedBy`, so one can tell which machine holds a batch.
    name: o.id,
    lockDuration: o.lockMs,
    stalledInterval: Math.max(500, Math.round(o.lockMs / 2)),
    maxStalledCount: o.maxStalled ?? 2,
    // BullMQ waits this long before retrying its loop after a connection error (15 s by default).
    runRetryDelay: 500,
    autorun: false,
  });
  worker.on('error', (e) => o.log(`queue error: ${e.message}`));
  worker.on('failed', (job, e) => job && o.log(`batch ${String(job.data?.seq).slice(0, 20)} of run ${String(job.data?.runId).slice(0, 70)} failed: ${e.message}`));
  return worker;
}

/**
 * Registers in the worker registry, so coordinators can see how many workers serve the queue
 * and what they run; renewed every 2 s (the entry expires 6 s after the last renewal).
 */
async function register(redis: Redis, prefix: string, info: WorkerInfo): Promise<NodeJS.Timeout> {
  const heartbeat = async () => {
    await redis.multi().sadd(keys.workerSet(prefix), info.id).set(keys.worker(prefix, info.id), JSON.stringify(info), 'PX', 6000).exec();
  };
  await heartbeat();
  return setInterval(() => void heartbeat().catch(() => {}), 2000);
}

const CANCELLED = Symbol('cancelled');

/** Runs `work`, aborting it when the run's cancel flag appears (polled every 0.5 s). */
async function runCancellable<T>(redis: Redis, cancelKey: string, work: (signal: AbortSignal) => Promise<T>): Promise<T | typeof CANCELLED> {
  const abort = new AbortController();
  const poll = setInterval(() => {
    redis.exists(cancelKey).then(
      (n) => n && abort.abort(),
      () => {},
    );
  }, 500);
  try {
    return await work(abort.signal);
  } catch (e) {
    // A cancelled run's batch is dropped quietly; anything else fails the job (BullMQ retries it).
    if (abort.signal.aborted) return CANCELLED;
    throw e;
  } finally {
    clearInterval(poll);
  }
}

/** Waits for `p` at most `ms` (its failure ignored). */
function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  return Promise.race([p.then(() => {}, () => {}), new Promise<void>((r) => setTimeout(r, ms).unref())]);
}

export { JobRefused };
