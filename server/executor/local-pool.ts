/**
 * The local pool: piscina worker threads running dist/backtest-task.js. The price data is
 * loaded once and shared with every worker through a SharedArrayBuffer; trials travel in
 * chunks to amortize dispatch. A trial over the timeout has its worker terminated (piscina
 * replaces it) and fails alone — the other trials of its chunk run again; a trial that kills
 * its worker fails the same way; failed trials are retried as configured. Each worker's heap
 * is capped (`resourceLimits`), so a runaway strategy dies without taking the run with it.
 */
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Piscina } from 'piscina';
import { sharePrices, type PriceData } from '../engine';
import { loadFeeds } from '../data/feeds';
import { DEFAULT_MEMORY_MB, type TaskInput, type TaskResult, type WorkerInit } from './backtest-task';
import { BlockBuilder, blockToOutcomes, selectRows, STATE_CODE, trialHead, type OutcomeBlock } from './outcome-block';
import { packTrials } from './trial-pack';
import { BEAT_SLOTS, Watchdog, type WatchedChunk } from './watchdog';
import { RunAborted, untilAborted, type BatchContext, type ExecutorSettings, type TaskPayload, type TrialExecutor, type TrialOutcome, type TrialRequest } from './executor';

/** The default worker count: the study's, else one per core (at least 1). */
export function defaultWorkers(): number {
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/** Finds dist/backtest-task.js from the running bundle (dist/, out/test/…, or the sources). */
export function findTaskFile(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    for (const c of [path.join(dir, 'backtest-task.js'), path.join(dir, 'dist', 'backtest-task.js')]) if (existsSync(c)) return c;
    dir = path.dirname(dir);
  }
  throw new Error('dist/backtest-task.js not found: run `npm run build` first');
}

/** Each worker's young generation (MiB): see the pool's resourceLimits. */
const YOUNG_GENERATION_MB = 16;

/** The pool's threads: `workerData` is the run's WorkerInit, or only the memory cap for threads started before the run knew its data. */
function newPool(workers: number, memoryMb: number, taskFile: string, workerData: WorkerInit | { memoryMb: number }): Piscina {
  const pool = new Piscina({
    filename: taskFile,
    minThreads: workers,
    // A second chunk waits in each worker while it runs one, so the worker never idles while
    // the main thread takes in results and dispatches: that wait was a fifth of a fast grid's
    // time. It needs tasks piscina does not abort itself (it never queues a second task
    // beside an abortable one) and plain message events (with atomics, a worker holding two
    // tasks answers only after both): cancel and timeouts are handled here instead.
    concurrentTasksPerWorker: 2,
    atomics: 'disabled',
    maxThreads: workers,
    idleTimeout: 60_000,
    workerData,
    // The young generation sized for a backtest's short-lived garbage: 16 MB ran the warm SMA
    // grid as fast as 48 MB or V8's default (CPU per backtest within noise, load 3–4) and
    // keeps each worker ~16 MB smaller once its young generation has grown (a long grid's RSS).
    resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
  });
  // A worker that dies between tasks is replaced by piscina; keep the error off stderr.
  pool.on('error', () => {});
  return pool;
}

/**
 * A pool's threads started before the run knows its data and payload: runStudy starts them
 * while it reads the study and loads the data, so each thread's Node bootstrap and bundle load
 * (~50–100 ms of CPU, more under load) overlap the main thread's own start (in a fresh CLI
 * process ~250 ms) instead of following it. The LocalExecutor whose settings carry them and
 * match their shape adopts them (their first tasks then carry the data); unclaimed, `close()`
 * ends them.
 */
export class PoolThreads {
  private pool: Piscina | null;

  constructor(
    readonly workers: number,
    readonly memoryMb = DEFAULT_MEMORY_MB,
    readonly taskFile = findTaskFile(),
  ) {
    this.pool = newPool(workers, memoryMb, taskFile, { memoryMb });
  }

  /** The threads, once, for a pool of this shape (else null). */
  claim(workers: number, memoryMb: number, taskFile: string): Piscina | null {
    if (!this.pool || workers !== this.workers || memoryMb !== this.memoryMb || taskFile !== this.taskFile) return null;
    const pool = this.pool;
    this.pool = null;
    return pool;
  }

  /** Ends the threads unless an executor took them (idempotent). */
  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy();
  }
}

/** One batch's run on the pool, shared by its chunks. */
interface BatchRun {
  signal: AbortSignal;
  /** Runs so far of the trials that run again (retries; a trial that killed its worker). */
  attempts: Map<number, number>;
  report: (b: OutcomeBlock) => void;
  /** The stage's trialHead: blocks of whole journal lines. */
  head: string | undefined;
}

export class LocalExecutor implements TrialExecutor {
  readonly workers: number;
  private readonly pool: Piscina;
  private readonly timeoutMs: number | undefined;
  private readonly retries: number;
  /** Objectives the workers score (0: the payload has no scoring spec). */
  private readonly objectives: number;
  private readonly watchdog: Watchdog;
  /** Workers (thread ids) this pool terminated to replace them: what they ran meanwhile runs again. */
  private readonly replaced = new Set<number>();
  /** The run's payload and data, as the workers get them. */
  private readonly init: WorkerInit;
  /** Threads started early (PoolThreads) that hold `init` (tasks carry it until all do); null: workerData has it. */
  private readonly holdInit: Set<number> | null;

  constructor(payload: TaskPayload, settings: ExecutorSettings, prices?: PriceData | readonly PriceData[], taskFile = findTaskFile()) {
    // Every feed once (data 0 first); the workers attach them without copies.
    const feeds = loadFeeds(payload.datas ?? [payload.data], prices);
    this.workers = Math.max(1, Math.floor(settings.workers));
    this.timeoutMs = settings.timeoutMs && settings.timeoutMs > 0 ? settings.timeoutMs : undefined;
    this.retries = Math.max(0, Math.floor(settings.retries));
    this.objectives = payload.scoring?.objectives.length ?? 0;
    const memoryMb = settings.memoryMb ?? DEFAULT_MEMORY_MB;
    this.init = { payload, prices: sharePrices(feeds[0]!), ...(feeds.length > 1 ? { datas: feeds.map(sharePrices) } : {}), memoryMb };
    const early = settings.threads?.claim(this.workers, memoryMb, taskFile) ?? null;
    this.holdInit = early ? new Set() : null;
    this.pool = early ?? newPool(this.workers, memoryMb, taskFile, this.init);
    // The process as a whole: every worker at its heap and off-heap caps, plus the main thread.
    const rssLimit = (this.workers * 2 * memoryMb + 1024) * 1024 * 1024;
    // Terminating a worker rejects its tasks; piscina starts a new one.
    this.watchdog = new Watchdog((threadId) => void this.pool.threads.find((w) => w.threadId === threadId)?.terminate(), this.timeoutMs, rssLimit);
  }

  /**
   * Runs a batch in chunks. With `onOutcome`, each chunk's trials are reported as one
   * OutcomeBlock (scored and encoded by the worker; whole journal lines when `context.stage` is
   * given) as soon as they are final, and the promise resolves empty; without it, it resolves
   * with one TrialOutcome per trial, in batch order (for callers that ship outcomes elsewhere as JSON).
   */
  async run(batch: TrialRequest[], signal: AbortSignal, onOutcome?: (o: TrialOutcome | OutcomeBlock) => void, context?: BatchContext): Promise<TrialOutcome[]> {
    if (signal.aborted) throw new RunAborted();
    // Chunks amortize dispatch (a message each way, a structured clone); eight per worker per
    // batch keep the workers evenly loaded to the end of the batch.
    const size = Math.min(128, Math.max(1, Math.ceil(batch.length / (this.workers * 8))));
    const kept: OutcomeBlock[] = [];
    const report = onOutcome ?? ((b: OutcomeBlock | TrialOutcome) => void kept.push(b as OutcomeBlock));
    const run: BatchRun = { signal, attempts: new Map(), report, head: onOutcome && context?.stage !== undefined ? trialHead(context.stage) : undefined };
    const chunks: Promise<void>[] = [];
    for (let i = 0; i < batch.length; i += size) chunks.push(this.runChunk(batch.slice(i, i + size), run));
    await Promise.all(chunks);
    if (onOutcome) return [];
    const byNumber = new Map<number, TrialOutcome>();
    for (const b of kept) for (const o of blockToOutcomes(b)) byNumber.set(o.number, o);
    return batch.map((t) => byNumber.get(t.number)!);
  }

  /** Runs a chunk on a worker; reports its final trials, runs again what a retry or a replaced worker left. */
  private async runChunk(chunk: TrialRequest[], run: BatchRun, restarts = 0): Promise<void> {
    if (chunk.length === 0) return;
    const { signal, attempts } = run;
    if (signal.aborted) throw new RunAborted();
    // Written by the worker, read by the watchdog (watchdog.ts).
    const beatBuf = new SharedArrayBuffer(8 * BEAT_SLOTS);
    const beat = new Float64Array(beatBuf);
    beat[0] = -1;
    const watched: WatchedChunk = { beat, killed: null };
    const unwatch = this.watchdog.watch(watched);
    let result: TaskResult;
    try {
      const task: TaskInput = { trials: packTrials(chunk), beat: beatBuf, ...(run.head !== undefined ? { head: run.head } : {}), ...(this.needInit() ? { init: this.init } : {}) };
      result = await untilAborted(this.pool.run(task) as Promise<TaskResult>, signal);
    } catch (e) {
      if (signal.aborted || e instanceof RunAborted) throw new RunAborted();
      return this.afterWorkerDied(chunk, e, beat, watched, run, restarts);
    } finally {
      unwatch();
    }
    if (this.holdInit) {
      // A thread started early that got a task without the data (it started after the others held it): again, with it.
      if (result.needsInit) return this.runChunk(chunk, run, restarts);
      this.holdInit.add(beat[2]!);
    }
    let again: TrialRequest[] = [];
    if (result.recycle) {
      // A trial went over the off-heap cap: replace its worker (awaited, so the rest is not
      // handed to it), run what it left on another.
      if (!this.replaced.has(beat[2]!)) {
        this.replaced.add(beat[2]!);
        await this.pool.threads.find((w) => w.threadId === beat[2])?.terminate();
      }
      const left = new Set(result.recycle.unrun);
      again = chunk.filter((t) => left.has(t.number));
    }
    // Failed trials with retries left run again; the others are final.
    const b = result.block;
    const retry = new Set<number>();
    for (let i = 0; i < b.numbers.length; i++) {
      // Only trials that run again are in `attempts` (most batches: none).
      const n = (attempts.size === 0 ? 0 : (attempts.get(b.numbers[i]!) ?? 0)) + 1;
      b.attempts[i] = n;
      if (b.states[i] === STATE_CODE.failed && n <= this.retries) {
        attempts.set(b.numbers[i]!, n);
        retry.add(i);
      }
    }
    const final = retry.size ? selectRows(b, (i) => !retry.has(i)) : b;
    if (final.numbers.length) run.report(final);
    if (retry.size) {
      const numbers = new Set([...retry].map((i) => b.numbers[i]!));
      again = again.concat(chunk.filter((t) => numbers.has(t.number)));
    }
    await this.runChunk(again, run);
  }

  /** True while a thread of an early-started pool may lack the run's data (a new one replaces a terminated one, too). */
  private needInit(): boolean {
    const hold = this.holdInit;
    return hold !== null && !this.pool.threads.every((w) => hold.has(w.threadId));
  }

  /** A chunk's worker died (a timeout, a crash, a replacement): finds the trial to blame and runs the rest again. */
  private async afterWorkerDied(chunk: TrialRequest[], e: unknown, beat: Float64Array, watched: WatchedChunk, run: BatchRun, restarts: number): Promise<void> {
    // It died while this chunk waited behind another, or was replaced for another chunk's
    // trial (over the off-heap cap): run it again as it is.
    if ((beat[1] === 0 || (this.replaced.has(beat[2]!) && !watched.killed)) && restarts < 3) return this.runChunk(chunk, run, restarts + 1);
    const idx = watched.killed ? watched.killed.index : beat[0]!;
    const reason = watched.killed ? watched.killed.reason : `its worker died: ${e instanceof Error ? e.message : String(e)}`;
    if (idx < 0 || idx >= chunk.length) {
      // Unknown culprit: run each trial on its own to find it.
      if (chunk.length === 1) return this.failOrRetry(chunk[0]!, reason, run);
      await Promise.all(chunk.map((t) => this.runChunk([t], run)));
      return;
    }
    await Promise.all([
      this.failOrRetry(chunk[idx]!, reason, run),
      this.runChunk(
        chunk.filter((_, i) => i !== idx),
        run,
      ),
    ]);
  }

  private async failOrRetry(t: TrialRequest, reason: string, run: BatchRun): Promise<void> {
    const n = (run.attempts.get(t.number) ?? 0) + 1;
    run.attempts.set(t.number, n);
    if (n <= this.retries) return this.runChunk([t], run);
    const b = new BlockBuilder(1, this.objectives, run.head);
    b.add(t.number, t.params, 0, null, null, reason);
    const block = b.finish();
    block.attempts[0] = n;
    run.report(block);
  }

  /** Ends the workers, also those still running tasks after a cancel (run() stops waiting for them). */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
