/**
 * The worker's side of a distributed run (`optstudy worker`): a BullMQ worker on the shared
 * queue that runs each batch on this machine's pool and pushes the outcomes onto the run's
 * results list.
 *
 * Order matters for at-least-once delivery: the result is pushed BEFORE BullMQ marks the job
 * done, so a crash in between re-runs the batch (the coordinator drops the duplicate) rather
 * than losing it. A worker that dies holds its job's lock until it expires (`lockMs`); then any
 * live worker's stalled check puts the job back in the queue.
 */
import { Worker, type Job } from 'bullmq';
import * as os from 'node:os';
import { BlobCache } from './content-store';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, JOB_VERSION, keys, rewritePaths, type BatchJobData, type BatchResult, type WorkerInfo } from './protocol';
import { checkRedis, closeRedis, openRedis } from './redis-connection';

/** Runs one batch of one run's trials on this machine (the optimizer's pool behind it). */
export interface BatchRunner {
  /** `payload` has its file paths already replaced by local ones. One outcome per trial, in order. */
  run(payload: unknown, trials: unknown[], signal: AbortSignal): Promise<unknown[]>;
  close(): Promise<void>;
}

export interface RedisWorkerOptions {
  url: string;
  /** Batches run at once (default: the CPU count). */
  concurrency?: number;
  /** Where fetched files are kept (default: `~/.cache/optstudy/blobs`). */
  cacheDir?: string;
  queue?: string;
  prefix?: string;
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

/**
 * Connects and starts taking jobs.
 * @throws RedisConnectionError when Redis cannot be reached at first (with what to do).
 */
export async function startRedisWorker(opts: RedisWorkerOptions): Promise<RedisWorkerHandle> {
  const log = opts.log ?? (() => {});
  const prefix = opts.prefix ?? DEFAULT_PREFIX;
  const queueName = opts.queue ?? DEFAULT_QUEUE;
  const concurrency = Math.max(1, opts.concurrency ?? os.availableParallelism());
  const lockMs = opts.lockMs ?? 30_000;
  const id = `${os.hostname()}:${process.pid}`;
  const redis = openRedis(opts.url, {
    name: 'optstudy-worker',
    onState: (state, url) => log(state === 'lost' ? `lost Redis at ${url}; reconnecting…` : `reconnected to Redis at ${url}`),
  });
  try {
    await checkRedis(redis, opts.url, opts.connectTimeoutMs);
  } catch (e) {
    redis.disconnect();
    throw e;
  }
  const cache = new BlobCache(redis, prefix, opts.cacheDir ?? defaultCacheDir());
  const stats: RedisWorkerStats = { batches: 0, trials: 0, skipped: 0, blobsFetched: 0, blobsShared: 0 };

  const processor = async (job: Job<BatchJobData>): Promise<{ trials: number } | { skipped: true }> => {
    const data = job.data;
    if (data.v !== JOB_VERSION) {
      throw new Error(`job layout version ${data.v}, this worker understands ${JOB_VERSION}: run the same optstudy version on coordinator and workers`);
    }
    if (await redis.exists(keys.cancel(prefix, data.runId))) {
      stats.skipped++;
      return { skipped: true };
    }
    const t0 = Date.now();
    const local = new Map<string, string>();
    for (const ref of data.files) local.set(ref.path, await cache.resolve(ref));
    stats.blobsFetched = cache.fetched;
    stats.blobsShared = cache.shared;
    const payload = rewritePaths(data.payload, local);

    // Poll the run's cancel flag while the batch runs, so Cancel stops work already handed out.
    const abort = new AbortController();
    const poll = setInterval(() => {
      redis.exists(keys.cancel(prefix, data.runId)).then(
        (n) => n && abort.abort(),
        () => {},
      );
    }, 500);
    let outcomes: unknown[] = [];
    try {
      outcomes = await opts.runner.run(payload, data.trials, abort.signal);
    } catch (e) {
      // A cancelled run's batch is dropped quietly; anything else fails the job (BullMQ retries it).
      if (!abort.signal.aborted) throw e;
    } finally {
      clearInterval(poll);
    }
    if (abort.signal.aborted) {
      stats.skipped++;
      return { skipped: true };
    }
    const result: BatchResult = {
      runId: data.runId,
      seq: data.seq,
      outcomes,
      worker: id,
      attempt: job.attemptsStarted || job.attemptsMade + 1,
      durationMs: Date.now() - t0,
    };
    const key = keys.results(prefix, data.runId);
    await redis.multi().rpush(key, JSON.stringify(result)).expire(key, 24 * 3600).exec();
    stats.batches++;
    stats.trials += data.trials.length;
    return { trials: data.trials.length };
  };

  // BullMQ does not close a connection it was given: keep it to close it ourselves.
  const workerConn = redis.duplicate();
  workerConn.on('error', () => {});
  const worker = new Worker<BatchJobData>(queueName, processor, {
    connection: workerConn,
    concurrency,
    // Shown as the job's `processedBy`, so one can tell which machine holds a batch.
    name: id,
    lockDuration: lockMs,
    stalledInterval: Math.max(500, Math.round(lockMs / 2)),
    maxStalledCount: opts.maxStalled ?? 2,
    // BullMQ waits this long before retrying its loop after a connection error (15 s by default).
    runRetryDelay: 500,
    autorun: false,
  });
  worker.on('error', (e) => log(`queue error: ${e.message}`));
  worker.on('failed', (job, e) => job && log(`batch ${job.data.seq} of run ${job.data.runId} failed: ${e.message}`));

  // Register in the worker registry, so coordinators can see how many workers serve the queue.
  const info: WorkerInfo = { id, host: os.hostname(), pid: process.pid, concurrency, queue: queueName, startedAt: new Date().toISOString() };
  const heartbeat = async () => {
    await redis.multi().sadd(keys.workerSet(prefix), id).set(keys.worker(prefix, id), JSON.stringify(info), 'PX', 6000).exec();
  };
  await heartbeat();
  const beat = setInterval(() => void heartbeat().catch(() => {}), 2000);
  void worker.run().catch((e: unknown) => log(`worker stopped: ${e instanceof Error ? e.message : String(e)}`));
  log(`worker ${id} ready: queue '${queueName}', concurrency ${concurrency}, cache ${cache.dir}`);

  let closing: Promise<void> | null = null;
  return {
    id,
    stats,
    close(force = false) {
      if (closing && !force) return closing;
      closing = (async () => {
        clearInterval(beat);
        await worker.close(force).catch(() => {});
        await opts.runner.close().catch(() => {});
        await redis.multi().srem(keys.workerSet(prefix), id).del(keys.worker(prefix, id)).exec().catch(() => {});
        workerConn.disconnect();
        closeRedis(redis);
      })();
      return closing;
    },
  };
}
