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
import { DEFAULT_MEMORY_MB, unpackOutcomes, type PackedOutcomes, type WorkerInit } from './backtest-task';
import { BEAT_SLOTS, Watchdog, type WatchedChunk } from './watchdog';
import { RunAborted, untilAborted, type ExecutorSettings, type TaskPayload, type TrialExecutor, type TrialOutcome, type TrialRequest } from './executor';

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

export class LocalExecutor implements TrialExecutor {
  readonly workers: number;
  private readonly pool: Piscina;
  private readonly timeoutMs: number | undefined;
  private readonly retries: number;
  private readonly watchdog: Watchdog;
  /** Workers (thread ids) this pool terminated to replace them: what they ran meanwhile runs again. */
  private readonly replaced = new Set<number>();

  constructor(payload: TaskPayload, settings: ExecutorSettings, prices?: PriceData | readonly PriceData[], taskFile = findTaskFile()) {
    // Every feed once (data 0 first); the workers attach them without copies.
    const feeds = loadFeeds(payload.datas ?? [payload.data], prices);
    this.workers = Math.max(1, Math.floor(settings.workers));
    this.timeoutMs = settings.timeoutMs && settings.timeoutMs > 0 ? settings.timeoutMs : undefined;
    this.retries = Math.max(0, Math.floor(settings.retries));
    const memoryMb = settings.memoryMb ?? DEFAULT_MEMORY_MB;
    const init: WorkerInit = { payload, prices: sharePrices(feeds[0]!), ...(feeds.length > 1 ? { datas: feeds.map(sharePrices) } : {}), memoryMb };
    this.pool = new Piscina({
      filename: taskFile,
      minThreads: this.workers,
      // A second chunk waits in each worker while it runs one, so the worker never idles while
      // the main thread takes in results and dispatches: that wait was a fifth of a fast grid's
      // time. It needs tasks piscina does not abort itself (it never queues a second task
      // beside an abortable one) and plain message events (with atomics, a worker holding two
      // tasks answers only after both): cancel and timeouts are handled here instead.
      concurrentTasksPerWorker: 2,
      atomics: 'disabled',
      maxThreads: this.workers,
      idleTimeout: 60_000,
      workerData: init,
      // The young generation sized for a backtest's short-lived garbage (measured ~12% more
      // backtests/s on a warm fast grid than the default).
      resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: 48 },
    });
    // A worker that dies between tasks is replaced by piscina; keep the error off stderr.
    this.pool.on('error', () => {});
    // The process as a whole: every worker at its heap and off-heap caps, plus the main thread.
    const rssLimit = (this.workers * 2 * memoryMb + 1024) * 1024 * 1024;
    // Terminating a worker rejects its tasks; piscina starts a new one.
    this.watchdog = new Watchdog((threadId) => void this.pool.threads.find((w) => w.threadId === threadId)?.terminate(), this.timeoutMs, rssLimit);
  }

  async run(batch: TrialRequest[], signal: AbortSignal, onOutcome?: (o: TrialOutcome) => void): Promise<TrialOutcome[]> {
    if (signal.aborted) throw new RunAborted();
    // Chunks amortize dispatch (a message each way, a structured clone); eight per worker per
    // batch keep the workers evenly loaded to the end of the batch.
    const size = Math.min(128, Math.max(1, Math.ceil(batch.length / (this.workers * 8))));
    const chunks: TrialRequest[][] = [];
    for (let i = 0; i < batch.length; i += size) chunks.push(batch.slice(i, i + size));
    const attempts = new Map<number, number>();
    const parts = await Promise.all(chunks.map((c) => this.runChunk(c, signal, attempts, onOutcome)));
    const byNumber = new Map<number, TrialOutcome>();
    for (const p of parts) for (const o of p) byNumber.set(o.number, o);
    return batch.map((t) => byNumber.get(t.number)!);
  }

  private async runChunk(
    chunk: TrialRequest[],
    signal: AbortSignal,
    attempts: Map<number, number>,
    onOutcome?: (o: TrialOutcome) => void,
    restarts = 0,
  ): Promise<TrialOutcome[]> {
    if (chunk.length === 0) return [];
    if (signal.aborted) throw new RunAborted();
    // Written by the worker, read by the watchdog (watchdog.ts).
    const beatBuf = new SharedArrayBuffer(8 * BEAT_SLOTS);
    const beat = new Float64Array(beatBuf);
    beat[0] = -1;
    const watched: WatchedChunk = { beat, killed: null };
    const unwatch = this.watchdog.watch(watched);
    const finish = (o: TrialOutcome): TrialOutcome => {
      onOutcome?.(o);
      return o;
    };
    try {
      let res: TrialOutcome[];
      let unrun: TrialRequest[] = [];
      try {
        const packed = await untilAborted(this.pool.run({ trials: chunk, beat: beatBuf }) as Promise<PackedOutcomes>, signal);
        res = unpackOutcomes(packed);
        if (packed.recycle) {
          // A trial went over the off-heap cap: replace its worker, run what it left on another.
          // (Awaited: the rest must not be handed to the worker being replaced.)
          if (!this.replaced.has(beat[2]!)) {
            this.replaced.add(beat[2]!);
            await this.pool.threads.find((w) => w.threadId === beat[2])?.terminate();
          }
          const left = new Set(packed.recycle.unrun);
          unrun = chunk.filter((t) => left.has(t.number));
        }
      } catch (e) {
        if (signal.aborted || e instanceof RunAborted) throw new RunAborted();
        // Its worker died (a timeout, a crash) while this chunk waited behind another, or was
        // replaced for another chunk's trial (over the off-heap cap): run it again as it is.
        if ((beat[1] === 0 || (this.replaced.has(beat[2]!) && !watched.killed)) && restarts < 3)
          return await this.runChunk(chunk, signal, attempts, onOutcome, restarts + 1);
        const idx = watched.killed ? watched.killed.index : beat[0]!;
        const reason = watched.killed ? watched.killed.reason : `its worker died: ${e instanceof Error ? e.message : String(e)}`;
        if (idx < 0 || idx >= chunk.length) {
          // Unknown culprit: run each trial on its own to find it.
          if (chunk.length === 1) return await this.failOrRetry(chunk[0]!, reason, signal, attempts, onOutcome);
          const each = await Promise.all(chunk.map((t) => this.runChunk([t], signal, attempts, onOutcome)));
          return each.flat();
        }
        const bad = chunk[idx]!;
        const rest = chunk.filter((_, i) => i !== idx);
        const [a, b] = await Promise.all([
          this.failOrRetry(bad, reason, signal, attempts, onOutcome),
          this.runChunk(rest, signal, attempts, onOutcome),
        ]);
        return a.concat(b);
      }
      const done: TrialOutcome[] = [];
      const again: TrialRequest[] = [];
      for (const o of res) {
        const n = (attempts.get(o.number) ?? 0) + 1;
        attempts.set(o.number, n);
        if (o.error !== undefined && n <= this.retries) again.push(chunk.find((t) => t.number === o.number)!);
        else {
          o.attempts = n; // a fresh object from unpackOutcomes: no copy per trial
          done.push(finish(o));
        }
      }
      again.push(...unrun);
      if (again.length) done.push(...(await this.runChunk(again, signal, attempts, onOutcome)));
      return done;
    } finally {
      unwatch();
    }
  }

  private async failOrRetry(
    t: TrialRequest,
    reason: string,
    signal: AbortSignal,
    attempts: Map<number, number>,
    onOutcome?: (o: TrialOutcome) => void,
  ): Promise<TrialOutcome[]> {
    const n = (attempts.get(t.number) ?? 0) + 1;
    attempts.set(t.number, n);
    if (n <= this.retries) return this.runChunk([t], signal, attempts, onOutcome);
    const o: TrialOutcome = { number: t.number, metrics: null, error: reason, durationMs: 0, attempts: n };
    onOutcome?.(o);
    return [o];
  }

  /** Ends the workers, also those still running tasks after a cancel (run() stops waiting for them). */
  async close(): Promise<void> {
    await this.pool.destroy();
  }
}
