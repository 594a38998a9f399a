/**
 * The coordinator's side of a distributed run: an executor with the same shape as the local
 * pool (`run(batch, signal) → outcomes`, `close()`), that sends each batch as a BullMQ job and
 * waits for its outcomes on the run's results list. With a shared secret, every job is signed,
 * the run's lease is kept alive while it runs (job-auth.ts), and only signed results count.
 *
 * Delivery is at-least-once (a worker that dies after pushing its result but before BullMQ marks
 * the job done runs it again elsewhere; a job lost with a Redis restart is added again), so a
 * batch's outcomes are taken from the FIRST result that arrives and later copies are dropped:
 * each `run()` resolves exactly once, and the optimizer's journal sees each trial once.
 *
 * A reconcile loop (every `reconcileMs`) looks at the jobs still outstanding: a job Redis no
 * longer knows (restart without persistence) is published again with its files; a job that
 * failed for good (its worker crashed it more than BullMQ allows, or its files could not be
 * loaded) fails its trials with the reason. A Redis that stays unreachable longer than
 * `giveUpMs` fails the batches waiting on it, so the run ends instead of waiting forever.
 */
import { Queue } from 'bullmq';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { describeFile, publishBlob, type BlobRef } from './content-store';
import { signJob, signLease, verifyResult } from './job-auth';
import { decodeResult, DEFAULT_PREFIX, DEFAULT_QUEUE, JOB_VERSION, jobId, keys, RESULT_VERSION, type BatchJobData, type JobBody, type WorkerInfo } from './protocol';
import { checkRedis, closeRedis, openRedis, redactUrl, type TlsFiles } from './redis-connection';

/** A lease lives this long; it is renewed every LEASE_RENEW_MS while the run goes. */
const LEASE_MS = 120_000;
const LEASE_RENEW_MS = 15_000;
/** Commands sent while closing wait at most this long (Redis may be gone). */
const CLOSE_WAIT_MS = 2000;

export interface RedisExecutorOptions<Req, Out> {
  /** `redis://host:port`. */
  url: string;
  /** The optimizer's task payload for this run: JSON, with files as absolute paths. */
  payload: unknown;
  /** Absolute paths in `payload` whose files workers need (price data, bundled strategy modules). */
  files: string[];
  /** Builds a failed outcome for a trial whose batch could not run at all (see module doc). */
  failedOutcome: (trial: Req, reason: string) => Out;
  /** The outcomes of a batch from what a worker sent; throws when it is not a list of outcomes. */
  unpack: (outcomes: unknown) => Out[];
  /** How many trials `outs` covers (an outcome may be a block of several); default one each. */
  trialsIn?: (outs: Out[]) => number;
  /** The shared secret: jobs are signed with it, results must be. */
  secret?: Buffer | null;
  tls?: TlsFiles;
  /** A Redis unreachable this long fails the outstanding batches (default 120 s). */
  giveUpMs?: number;
  queue?: string;
  prefix?: string;
  /** A name for the run's keys; random when absent. */
  runId?: string;
  /** Messages for the user (reconnections, lost jobs) — the run's `log` events. */
  onLog?: (level: 'info' | 'warning' | 'error', message: string) => void;
  /** Deliveries of a job whose worker threw (not a trial failure: e.g. a file could not be fetched). */
  attempts?: number;
  reconcileMs?: number;
  /** Fail the first contact after this long. */
  connectTimeoutMs?: number;
}

interface Pending<Req, Out> {
  seq: number;
  id: string;
  trials: Req[];
  /** The trials' stage (JobBody.stage). */
  stage?: string;
  resolve: (outcomes: Out[]) => void;
  reject: (e: Error) => void;
  /** Times the job was found missing and added again. */
  readded: number;
  /** True once BullMQ accepted the job (before that, "unknown" is not "lost"). */
  added: boolean;
}

/** Statistics of an executor, for tests, logs and the benchmark. */
export interface RedisExecutorStats {
  batches: number;
  /** Results that arrived for a batch already resolved (at-least-once delivery showing). */
  duplicates: number;
  /** Jobs added again after Redis lost them. */
  readded: number;
  /** Jobs that failed for good. */
  failedJobs: number;
  /** Batches whose accepted result came from a second or later delivery (a worker died or Redis lost the job). */
  redelivered: number;
  /** Accepted batches per worker id (`host:pid`). */
  byWorker: Record<string, number>;
  /** Sum over accepted batches of the time workers spent on them (fetching files and running trials). */
  workerMs: number;
  /** Results dropped because they were not signed with the secret (or not results at all). */
  rejected: number;
}

export class AbortError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'AbortError';
  }
}

/** A coordinator's connection to the workers of one run. Create with `createRedisExecutor`. */
export class RedisExecutor<Req, Out> {
  readonly runId: string;
  readonly stats: RedisExecutorStats = { batches: 0, duplicates: 0, readded: 0, failedJobs: 0, redelivered: 0, byWorker: {}, workerMs: 0, rejected: 0 };
  private readonly prefix: string;
  private readonly pending = new Map<number, Pending<Req, Out>>();
  private seq = 0;
  private closed = false;
  private reader: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private reconciling = false;
  private blobs: { ref: BlobRef; bytes: Buffer }[] = [];
  private leaseTimer: NodeJS.Timeout | null = null;
  /** Since when Redis is unreachable (0: it is reachable). */
  private downSince = 0;
  /** Set once Redis was gone too long: every later `run()` fails with it. */
  private broken: Error | null = null;

  private constructor(
    private readonly opts: RedisExecutorOptions<Req, Out>,
    private readonly redis: Redis,
    private readonly blocking: Redis,
    private readonly queue: Queue,
    private readonly queueConn: Redis,
  ) {
    this.prefix = opts.prefix ?? DEFAULT_PREFIX;
    this.runId = opts.runId ?? `r${Date.now().toString(36)}${randomBytes(4).toString('hex')}`;
  }

  /** Connects (failing fast with what to do when Redis is not there) and publishes the run's files. */
  static async create<Req, Out>(opts: RedisExecutorOptions<Req, Out>): Promise<RedisExecutor<Req, Out>> {
    let self: RedisExecutor<Req, Out> | null = null;
    const onState = (state: 'lost' | 'back', url: string) => {
      if (state === 'lost') {
        if (self && !self.downSince) self.downSince = Date.now();
        opts.onLog?.('warning', `lost the connection to Redis at ${url}; reconnecting…`);
      } else {
        if (self) self.downSince = 0;
        opts.onLog?.('info', `reconnected to Redis at ${url}`);
        void self?.afterReconnect();
      }
    };
    const redis = openRedis(opts.url, { name: 'optstudy-coordinator', onState, tls: opts.tls });
    try {
      await checkRedis(redis, opts.url, opts.connectTimeoutMs);
    } catch (e) {
      redis.disconnect();
      throw e;
    }
    // A second connection for BLPOP: a blocked connection cannot carry other commands.
    const blocking = redis.duplicate();
    blocking.on('error', () => {});
    // BullMQ does not close a connection it was given, so the executor keeps and closes it.
    const queueConn = redis.duplicate();
    queueConn.on('error', () => {});
    const queue = new Queue(opts.queue ?? DEFAULT_QUEUE, { connection: queueConn });
    queue.on('error', () => {});
    self = new RedisExecutor(opts, redis, blocking, queue, queueConn);
    try {
      for (const f of opts.files) self.blobs.push(describeFile(f));
      await self.publishLease();
      await self.publishFiles();
    } catch (e) {
      await self.close();
      throw e;
    }
    self.reader = self.readResults();
    self.timer = setInterval(() => void self!.tick(), opts.reconcileMs ?? 1000);
    if (opts.secret) self.leaseTimer = setInterval(() => void self!.publishLease().catch(() => {}), LEASE_RENEW_MS);
    return self;
  }

  /** Sends a batch to the workers; resolves with one outcome per trial, in order. `stage`: the trials' stage (JobBody.stage). */
  run(trials: Req[], signal?: AbortSignal, stage?: string): Promise<Out[]> {
    if (this.closed) return Promise.reject(new Error('the Redis executor is closed'));
    if (this.broken) return Promise.reject(this.broken);
    if (signal?.aborted) return Promise.reject(new AbortError());
    const seq = this.seq++;
    this.stats.batches++;
    return new Promise<Out[]>((resolve, reject) => {
      const entry: Pending<Req, Out> = { seq, id: jobId(this.runId, seq), trials, ...(stage !== undefined ? { stage } : {}), resolve, reject, readded: 0, added: false };
      const onAbort = () => {
        if (!this.pending.delete(seq)) return;
        void this.redis.set(keys.cancel(this.prefix, this.runId), '1', 'EX', 24 * 3600).catch(() => {});
        // Settle once the job is gone, so "cancelled" means no job of the run is left waiting
        // (bounded, so a cancel during a Redis outage does not hang).
        void this.removeJobSoon(entry.id).then(() => reject(new AbortError()));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => signal?.removeEventListener('abort', onAbort);
      entry.resolve = (o) => {
        done();
        resolve(o);
      };
      entry.reject = (e) => {
        done();
        reject(e);
      };
      this.pending.set(seq, entry);
      this.addJob(entry).then(
        () => {
          entry.added = true;
          // Cancelled while the job was being added: take it back out.
          if (!this.pending.has(seq)) void this.removeJob(entry.id);
        },
        (e: unknown) => {
          if (this.pending.delete(seq)) entry.reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  }

  /** Live workers on the queue (registered within the last few seconds). */
  async workers(): Promise<WorkerInfo[]> {
    const ids = await this.redis.smembers(keys.workerSet(this.prefix));
    if (ids.length === 0) return [];
    const values = await this.redis.mget(ids.map((id) => keys.worker(this.prefix, id)));
    const live: WorkerInfo[] = [];
    const dead: string[] = [];
    values.forEach((v, i) => {
      if (v === null) dead.push(ids[i]!);
      else {
        const info = JSON.parse(v) as WorkerInfo;
        if (info.queue === this.queue.name) live.push(info);
      }
    });
    if (dead.length) await this.redis.srem(keys.workerSet(this.prefix), ...dead);
    return live;
  }

  /** Total concurrency of the live workers (0 when none is running yet). */
  async capacity(): Promise<number> {
    return (await this.workers()).reduce((s, w) => s + w.concurrency, 0);
  }

  /** Removes the run's jobs that no worker started and stops the ones running; pending `run()`s reject. */
  async cancel(): Promise<void> {
    await this.redis.set(keys.cancel(this.prefix, this.runId), '1', 'EX', 24 * 3600).catch(() => {});
    const entries = [...this.pending.values()];
    this.pending.clear();
    await Promise.all(entries.map((e) => this.removeJobSoon(e.id)));
    for (const e of entries) e.reject(new AbortError());
  }

  /**
   * Cancels what is outstanding, removes the run's keys (its lease first: no worker starts one
   * of its jobs after this), closes the connections. Bounded: with Redis gone it still ends
   * within a few seconds.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.pending.size) await bounded(this.cancel(), CLOSE_WAIT_MS);
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.leaseTimer) clearInterval(this.leaseTimer);
    await bounded(this.redis.del(keys.lease(this.prefix, this.runId), keys.results(this.prefix, this.runId)), CLOSE_WAIT_MS);
    this.blocking.disconnect();
    // A BLPOP queued while Redis is away is not always rejected by the disconnect.
    if (this.reader) await bounded(this.reader, CLOSE_WAIT_MS);
    await bounded(this.queue.close(), CLOSE_WAIT_MS);
    this.queueConn.disconnect();
    closeRedis(this.redis);
  }

  private async publishFiles(): Promise<void> {
    for (const b of this.blobs) await publishBlob(this.redis, this.prefix, b.ref, b.bytes);
  }

  /** The run's signed lease (with a secret): workers run its signed jobs only while it is valid. */
  private async publishLease(): Promise<void> {
    if (!this.opts.secret || this.closed) return;
    const lease = signLease(this.opts.secret, this.runId, Date.now() + LEASE_MS);
    await this.redis.set(keys.lease(this.prefix, this.runId), JSON.stringify(lease), 'PX', LEASE_MS);
  }

  private jobData(entry: Pending<Req, Out>): BatchJobData {
    const body: JobBody = {
      v: JOB_VERSION,
      runId: this.runId,
      seq: entry.seq,
      jobId: entry.id,
      issuedAt: Date.now(),
      payload: this.opts.payload,
      files: this.blobs.map((b) => b.ref),
      trials: entry.trials,
      ...(entry.stage !== undefined ? { stage: entry.stage } : {}),
      results: RESULT_VERSION,
    };
    const text = JSON.stringify(body);
    return { v: JOB_VERSION, runId: this.runId, seq: entry.seq, body: text, sig: this.opts.secret ? signJob(this.opts.secret, entry.id, text) : null };
  }

  private async addJob(entry: Pending<Req, Out>): Promise<void> {
    await this.queue.add('batch', this.jobData(entry), {
      jobId: entry.id,
      attempts: this.opts.attempts ?? 3,
      backoff: { type: 'exponential', delay: 500 },
      // Kept a while so the reconcile loop can tell "done, result on its way" from "lost".
      removeOnComplete: { age: 3600 },
      removeOnFail: { age: 24 * 3600 },
    });
  }

  /** `removeJob`, but gives up waiting after 2 s (Redis down): the run's cancel flag still stops the job. */
  private removeJobSoon(id: string): Promise<void> {
    return Promise.race([this.removeJob(id), new Promise<void>((r) => setTimeout(r, 2000).unref())]);
  }

  private async removeJob(id: string): Promise<void> {
    try {
      await this.queue.remove(id);
    } catch {
      // A job a worker holds cannot be removed; the cancel flag stops it there.
    }
  }

  /** BLPOP loop on the run's results list; the first result of a batch wins. */
  private async readResults(): Promise<void> {
    const key = keys.results(this.prefix, this.runId);
    const secret = this.opts.secret;
    const verify = secret ? (bytes: Uint8Array, sig: Uint8Array, version: number) => verifyResult(secret, bytes, sig, version) : null;
    while (!this.closed) {
      let item: [Buffer, Buffer] | null;
      try {
        item = await this.blocking.blpopBuffer(key, 1);
      } catch {
        if (this.closed) return;
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (!item) continue;
      const result = decodeResult(item[1], verify);
      if (!result) {
        // Not signed with the secret, or not a result: whoever pushed it, it counts for nothing.
        if (this.stats.rejected++ === 0) this.opts.onLog?.('warning', `a result on run ${this.runId}'s list was ${secret ? 'not signed with the shared secret' : 'not readable'}; dropped (a worker without the secret, or another optstudy version?)`);
        continue;
      }
      const entry = this.pending.get(result.seq);
      if (!entry || result.runId !== this.runId) {
        this.stats.duplicates++;
        continue;
      }
      this.pending.delete(result.seq);
      if (result.attempt > 1 || entry.readded > 0) this.stats.redelivered++;
      this.stats.byWorker[result.worker] = (this.stats.byWorker[result.worker] ?? 0) + 1;
      this.stats.workerMs += result.durationMs;
      let outs: Out[] = [];
      let n = -1;
      try {
        outs = this.opts.unpack(result.outcomes);
        n = this.opts.trialsIn ? this.opts.trialsIn(outs) : outs.length;
      } catch {
        // Counted as no answer below.
      }
      if (n !== entry.trials.length) {
        entry.reject(new Error(`worker ${String(result.worker).slice(0, 80)} answered batch ${result.seq} with ${Math.max(n, 0)} outcomes for ${entry.trials.length} trials`));
        continue;
      }
      entry.resolve(outs);
    }
  }

  /** After a reconnection: the blobs may be gone with a restarted Redis; publish and reconcile now. */
  private async afterReconnect(): Promise<void> {
    try {
      await this.publishLease();
      await this.publishFiles();
    } catch {
      // The reconcile loop publishes again before re-adding jobs.
    }
    await this.reconcile();
  }

  /** The periodic check: give up on a Redis gone too long, else reconcile. */
  private async tick(): Promise<void> {
    const giveUp = this.opts.giveUpMs ?? 120_000;
    if (this.downSince && Date.now() - this.downSince > giveUp && !this.broken) {
      this.broken = new Error(
        `lost Redis at ${redactUrl(this.opts.url)} for more than ${Math.round(giveUp / 1000)} s; the finished trials are kept: resume the run once Redis is back`,
      );
      const entries = [...this.pending.values()];
      this.pending.clear();
      for (const e of entries) e.reject(this.broken);
      return;
    }
    await this.reconcile();
  }

  private async reconcile(): Promise<void> {
    if (this.reconciling || this.closed || this.pending.size === 0 || this.redis.status !== 'ready') return;
    this.reconciling = true;
    try {
      for (const entry of [...this.pending.values()]) {
        if (this.closed || !this.pending.has(entry.seq) || !entry.added) continue;
        const state = await this.queue.getJobState(entry.id);
        if (state === 'unknown') {
          // Re-check the results list first: a result may have landed between the two reads.
          if (!this.pending.has(entry.seq)) continue;
          await this.publishLease();
          await this.publishFiles();
          entry.readded++;
          this.stats.readded++;
          if (entry.readded === 1) {
            this.opts.onLog?.('warning', `batch ${entry.seq} of run ${this.runId} was lost by Redis (restarted?); sending it again`);
          }
          await this.addJob(entry);
        } else if (state === 'failed') {
          const job = await this.queue.getJob(entry.id);
          const reason = job?.failedReason || 'the job failed on the workers';
          if (!this.pending.delete(entry.seq)) continue;
          this.stats.failedJobs++;
          this.opts.onLog?.('error', `batch ${entry.seq} failed on the workers: ${reason}`);
          entry.resolve(entry.trials.map((t) => this.opts.failedOutcome(t, `distributed worker: ${reason}`)));
        }
      }
    } catch {
      // Redis went away mid-way: the next tick tries again.
    } finally {
      this.reconciling = false;
    }
  }
}

/**
 * Connects to Redis and prepares a run's distributed executor.
 * @throws RedisConnectionError when the URL is malformed or Redis does not answer (the message
 *   names the URL and what to do).
 */
export function createRedisExecutor<Req, Out>(opts: RedisExecutorOptions<Req, Out>): Promise<RedisExecutor<Req, Out>> {
  return RedisExecutor.create(opts);
}

export { redactUrl };

/** Waits for `p` at most `ms` (its failure ignored). */
function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  return Promise.race([p.then(() => {}, () => {}), new Promise<void>((r) => setTimeout(r, ms).unref())]);
}
