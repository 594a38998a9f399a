/**
 * The optimizer's `TrialExecutor` on Redis: what `runStudy` uses for `--redis URL` or a study's
 * `executor redis "URL"`. The sampler, the scoring and the journal stay in the coordinator;
 * each batch the optimizer hands over is cut into jobs (enough for every connected worker slot
 * to get some), and outcomes are reported as each job comes back, so events stream as they
 * do with the local pool.
 *
 * Files reach the workers by content hash: the price file as is, a module strategy bundled
 * into one self-contained CommonJS file first (its relative imports included), so a worker
 * needs neither the study's folder nor a compiler.
 */
import { setMaxListeners } from 'node:events';
import { RunAborted, type BatchContext, type ExecutorSettings, type TaskPayload, type TrialExecutor, type TrialOutcome, type TrialRequest } from '../executor/executor';
import { isBlock, type OutcomeBlock } from '../executor/outcome-block';
import { compileStrategyModule } from '../strategies/compile-module';
import type { WorkerInfo } from './protocol';
import { AbortError, createRedisExecutor, type RedisExecutor, type RedisExecutorStats } from './redis-executor';
import { loadSecret } from './job-auth';
import { redactUrl, tlsFromEnv, type TlsFiles } from './redis-connection';

/** What a distributed job's payload holds: the run's task and the study's trial settings. */
export interface DistributedPayload {
  task: TaskPayload;
  settings: Pick<ExecutorSettings, 'timeoutMs' | 'retries' | 'memoryMb'>;
}

export interface DistributedOptions {
  url: string;
  /** The run's log events (reconnections, lost jobs, no workers yet). */
  onLog?: (level: 'info' | 'warning' | 'error', message: string) => void;
  queue?: string;
  prefix?: string;
  runId?: string;
  reconcileMs?: number;
  /** Largest job, in trials (default 1024). */
  maxChunk?: number;
  /** The shared secret: needed for module and command strategies. Default: from the environment (`loadSecret`); null: none. */
  secret?: Buffer | null;
  /** TLS files for a `rediss://` URL (default: from the environment, `tlsFromEnv`). */
  tls?: TlsFiles;
  /** A Redis unreachable this long fails the run (default: `OPTSTUDY_REDIS_TIMEOUT_S` seconds, else 120 s). */
  giveUpMs?: number;
}

/** How long a Redis may stay unreachable before a run fails, from the environment. */
function giveUpFromEnv(): number | undefined {
  const s = Number(process.env.OPTSTUDY_REDIS_TIMEOUT_S);
  return Number.isFinite(s) && s > 0 ? s * 1000 : undefined;
}

/** Thrown before anything is sent when the run cannot be distributed as asked. */
export class DistributedSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DistributedSetupError';
  }
}

/** Bundles a module strategy into one CommonJS file (the same compile as local runs); returns its path. */
async function bundleModule(file: string): Promise<string> {
  try {
    return (await compileStrategyModule(file)).file;
  } catch (e) {
    throw new Error(`${(e as Error).message} (bundling the strategy module for the workers)`);
  }
}

/** A `TrialExecutor` that runs trials on `optstudy worker` processes through Redis. */
export class DistributedExecutor implements TrialExecutor {
  readonly workers: number;

  constructor(
    private readonly inner: RedisExecutor<TrialRequest, TrialOutcome | OutcomeBlock>,
    workers: number,
    private readonly maxChunk: number,
  ) {
    this.workers = workers;
  }

  get runId(): string {
    return this.inner.runId;
  }

  get stats(): RedisExecutorStats {
    return this.inner.stats;
  }

  async run(batch: TrialRequest[], signal: AbortSignal, onOutcome?: (o: TrialOutcome | OutcomeBlock) => void, context?: BatchContext): Promise<(TrialOutcome | OutcomeBlock)[]> {
    if (signal.aborted) throw new RunAborted();
    if (batch.length === 0) return [];
    // Cut so that every connected slot gets about two jobs; recomputed per batch since workers
    // come and go during a run.
    // No worker yet: cut as if for a few, so workers that join later can share the batch.
    // Bounded: with Redis away, a command waits for its return, and the give-up (redis-executor)
    // only covers batches already handed over.
    const slots = (await Promise.race([this.inner.capacity().catch(() => this.workers), new Promise<number>((r) => setTimeout(() => r(this.workers), 1000).unref())])) || 4;
    const size = Math.min(this.maxChunk, Math.max(1, Math.ceil(batch.length / (slots * 2))));
    // One listener on the caller's signal per batch; the jobs listen on a signal of our own.
    const ac = new AbortController();
    setMaxListeners(0, ac.signal);
    const onAbort = (): void => ac.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    // Each job's outcomes go to `onOutcome` as they arrive (then the batch resolves empty: each
    // outcome is reported once), else in the resolved list.
    const jobs: Promise<(TrialOutcome | OutcomeBlock)[]>[] = [];
    for (let i = 0; i < batch.length; i += size) {
      jobs.push(
        // Told the stage (outcomes reported as they come), the workers send whole journal lines.
        this.inner.run(batch.slice(i, i + size), ac.signal, onOutcome ? context?.stage : undefined).then((outs) => {
          if (!onOutcome) return outs;
          for (const o of outs) onOutcome(o);
          return [];
        }),
      );
    }
    try {
      const outs = (await Promise.all(jobs)).flat();
      return onOutcome ? outs : inBatchOrder(batch, outs);
    } catch (e) {
      if (e instanceof AbortError || signal.aborted) {
        // The other jobs of this batch are removed by their own abort listeners.
        await Promise.allSettled(jobs);
        throw new RunAborted();
      }
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /** Cancels what is still queued and disconnects. */
  close(): Promise<void> {
    return this.inner.close();
  }
}

/**
 * Connects to Redis and publishes the run's files; the executor is ready to take batches.
 * @throws RedisConnectionError (message: the URL, the cause, what to do) when Redis is unreachable.
 */
export async function createDistributedExecutor(
  payload: TaskPayload,
  settings: ExecutorSettings,
  options: DistributedOptions,
): Promise<DistributedExecutor> {
  const secret = options.secret !== undefined ? options.secret : (loadSecret(undefined)?.key ?? null);
  const kind = payload.strategy.kind;
  if (kind !== 'builtin' && !secret) {
    throw new DistributedSetupError(
      `a ${kind} strategy runs on workers only with a shared secret: give the coordinator --secret-file FILE (or OPTSTUDY_SECRET_FILE) and start the workers with --secret-file FILE --allow builtin,${kind}`,
    );
  }
  // Every feed's file (data 0 first; `datas` repeats it), each published once.
  const files = [...new Set([payload.data.file, ...(payload.datas ?? []).map((d) => d.file)])];
  let task = payload;
  if (payload.strategy.kind === 'module') {
    const bundled = await bundleModule(payload.strategy.file);
    task = { ...payload, strategy: { ...payload.strategy, file: bundled } };
    files.push(bundled);
  }
  const jobPayload: DistributedPayload = {
    task,
    settings: { timeoutMs: settings.timeoutMs, retries: settings.retries, memoryMb: settings.memoryMb },
  };
  const inner = await createRedisExecutor<TrialRequest, TrialOutcome | OutcomeBlock>({
    url: options.url,
    payload: jobPayload,
    files,
    queue: options.queue,
    prefix: options.prefix,
    runId: options.runId,
    reconcileMs: options.reconcileMs,
    onLog: options.onLog,
    secret,
    tls: options.tls ?? tlsFromEnv(),
    giveUpMs: options.giveUpMs ?? giveUpFromEnv(),
    failedOutcome: (t, reason) => ({ number: t.number, metrics: null, error: reason, durationMs: 0 }),
    unpack: (o) => {
      if (!Array.isArray(o)) throw new Error('not a list of outcomes');
      return o as (TrialOutcome | OutcomeBlock)[];
    },
    trialsIn,
  });
  const live = await inner.workers();
  const slots = live.reduce((s, w) => s + w.concurrency, 0);
  if (live.length === 0) {
    options.onLog?.(
      'warning',
      `no optstudy worker is connected to ${redactUrl(options.url)} yet; trials wait in the queue until one starts: optstudy worker --redis ${redactUrl(options.url)}`,
    );
  } else {
    options.onLog?.('info', `distributed run ${inner.runId}: ${live.length} worker process${live.length === 1 ? '' : 'es'}, ${slots} slots`);
    const unfit = live.filter((w) => !canRun(w, kind, Boolean(secret)));
    if (unfit.length)
      options.onLog?.('warning', `${unfit.length} of the ${live.length} workers will refuse this run's jobs (${unfit.map((w) => refusal(w, kind, Boolean(secret))).join('; ')})`);
  }
  // Big jobs amortize a job's fixed cost (a queue round trip, a result push, a signature on each
  // side) over many trials; the cut above still gives every slot two, so none waits for work.
  return new DistributedExecutor(inner, Math.max(1, slots), options.maxChunk ?? 1024);
}

/** Single outcomes in the batch's order (as the local pool resolves them); blocks as they came. */
function inBatchOrder(batch: TrialRequest[], outs: (TrialOutcome | OutcomeBlock)[]): (TrialOutcome | OutcomeBlock)[] {
  if (outs.length !== batch.length || outs.some(isBlock)) return outs;
  const byNumber = new Map((outs as TrialOutcome[]).map((o) => [o.number, o]));
  const ordered = batch.map((t) => byNumber.get(t.number));
  return ordered.every((o) => o !== undefined) ? (ordered as TrialOutcome[]) : outs;
}

/** Trials in a job's outcomes: an outcome block holds a chunk (its `numbers`), a single outcome one. */
function trialsIn(outs: unknown[]): number {
  let n = 0;
  for (const o of outs) {
    const numbers = (o as { numbers?: unknown }).numbers;
    n += numbers instanceof Float64Array ? numbers.length : 1;
  }
  return n;
}

/** Whether a registered worker takes a run's jobs (workers of older versions say nothing: assumed yes). */
function canRun(w: WorkerInfo, kind: string, signed: boolean): boolean {
  return refusal(w, kind, signed) === '';
}

function refusal(w: WorkerInfo, kind: string, signed: boolean): string {
  if (w.signed === undefined) return '';
  if (w.signed && !signed) return `${w.id} takes signed jobs only`;
  if (!w.signed && signed) return `${w.id} has no shared secret`;
  if (kind !== 'builtin' && !w.allow?.includes(kind)) return `${w.id} does not allow ${kind} strategies`;
  return '';
}
