/**
 * The piscina task file (dist/backtest-task.js): runs a chunk of trials in a worker thread and
 * sends them back as one OutcomeBlock — scored with the run's constraints and objectives and
 * encoded as the journal's JSON here, so the run's main thread does neither (outcome-block.ts).
 * The price data arrives once per worker in `workerData` as a SharedArrayBuffer (no copy);
 * indicators are memoized per worker. While a trial runs, the worker writes its index and
 * start time into the task's small shared "beat" buffer, so the pool can tell which trial
 * hung or crashed the worker and fail that trial alone.
 */
// The pool's workerData is the Worker's own: importing piscina's index here would load its
// whole main module (event loop utilities, histograms: ~30 ms of each worker's startup).
import { threadId, workerData } from 'node:worker_threads';
import { asStrategyDefinition, attachPrices, IndicatorCache, type PriceData, type SharedPrices } from '../engine';
import { splitSymbolMetrics } from '../data/basket';
import { feedRunner } from '../data/feeds';
import type { Metrics } from '../../protocol/run-events';
import type { StrategyRef, TaskPayload, TrialRequest } from './executor';
import { BlockBuilder, type OutcomeBlock } from './outcome-block';
import { unpackTrials, type PackedTrials } from './trial-pack';
import { compileScoring, scoreTrial, type Scorer } from './scoring';
import { checkOffHeap, guardOffHeap, MemoryCapError } from './memory-cap';
import { osThreadId } from './watchdog';

/** A worker's memory cap when the run sets none (MiB). */
export const DEFAULT_MEMORY_MB = 1024;

export interface TaskInput {
  /** The chunk's trials, as columns when they share their parameter names (trial-pack.ts). */
  trials: PackedTrials | TrialRequest[];
  /** Float64Array(BEAT_SLOTS) over a SharedArrayBuffer (watchdog.ts): [index of the running trial or -1, its start time (ms), this worker's thread id, its OS thread id]. */
  beat: SharedArrayBuffer;
  /** The trials' stage as its `trialHead`: the block's rows are then whole journal lines. */
  head?: string;
  /**
   * The run's payload and data, for threads started before the run knew them (local-pool.ts
   * PoolThreads: their workerData holds the memory cap alone). Sent until every thread has them.
   */
  init?: WorkerInit;
}

export interface WorkerInit {
  payload: TaskPayload;
  /** Data 0. */
  prices: SharedPrices;
  /** Every feed (data 0 first) when the study has several. */
  datas?: SharedPrices[];
  /** The worker's memory cap (MiB): its JS heap (resourceLimits) and its off-heap memory (memory-cap.ts). */
  memoryMb: number;
}

type Runner = (params: Record<string, number | string | boolean>) => Metrics;

/** What a chunk sends back: its trials, and when the worker must be replaced, those it did not run. */
export interface TaskResult {
  block: OutcomeBlock;
  /** Set when a trial went over the off-heap cap: the trials this worker did not run (it runs nothing more). */
  recycle?: { unrun: number[] };
  /** Set when this thread has no payload and data yet and the task brought none: send it again with `init`. */
  needsInit?: true;
}

/** The run's payload and data: workerData, or the first task that brought them (threads started early). */
let init: WorkerInit | null = (workerData as Partial<WorkerInit> | null)?.payload ? (workerData as WorkerInit) : null;
let runner: Runner | null = null;
let scorer: Scorer | null = null;
let osTid = 0;
/** Set when a trial went over the off-heap cap: this worker runs nothing more (local-pool replaces it). */
let replaceMe = false;

/** Resolves a strategy reference to a function from parameters to metrics (once per worker). */
export function makeRunner(ref: StrategyRef, data: PriceData | readonly PriceData[], config: TaskPayload['config'], memoryMb = DEFAULT_MEMORY_MB, basket = false): Runner {
  const cache = new IndicatorCache();
  // One feed, several feeds for one strategy, or a basket (server/data/feeds.ts).
  const run = feedRunner(Array.isArray(data) ? data : [data as PriceData], basket, config, cache);
  switch (ref.kind) {
    case 'builtin':
      return (params) => run(ref.name, params);
    case 'module': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const mod = require(ref.file) as Record<string, unknown>;
      // The engine's check names what a malformed module lacks (name, params, setup).
      const def = guardOffHeap(asStrategyDefinition(mod.default !== undefined ? mod : (mod.strategy ?? mod), ref.file), memoryMb);
      return (params) => {
        const metrics = run(def, params);
        checkOffHeap(memoryMb);
        return metrics;
      };
    }
    case 'command':
    case 'backtrader':
      // External strategies run on their own processes (server/strategies/process-executor.ts).
      throw new Error(`strategy '${ref.name ?? ref.kind}': a ${ref.kind} strategy cannot run on the thread pool`);
  }
}

/** Runs one chunk; each trial's error is caught and reported for that trial only. */
export default function runBatch(task: TaskInput): TaskResult {
  init ??= task.init ?? null;
  if (!init) return { block: new BlockBuilder(0, 0).finish(), needsInit: true };
  const objectives = init.payload.scoring?.objectives.length ?? 0;
  const trials = unpackTrials(task.trials);
  const out = new BlockBuilder(trials.length, objectives, task.head);
  const beat = new Float64Array(task.beat);
  beat[2] = threadId;
  if (replaceMe) return { block: out.finish(), recycle: { unrun: trials.map((t) => t.number) } };
  beat[3] = osTid ||= osThreadId();
  let setupError: string | null = null;
  if (!runner) {
    try {
      const feeds = init.datas ? init.datas.map(attachPrices) : [attachPrices(init.prices)];
      runner = makeRunner(init.payload.strategy, feeds, init.payload.config, init.memoryMb, init.payload.basket !== undefined);
      if (init.payload.scoring) scorer = compileScoring(init.payload.scoring);
    } catch (e) {
      setupError = e instanceof Error ? e.message : String(e);
    }
  }
  for (let i = 0; i < trials.length; i++) {
    const t = trials[i]!;
    beat[1] = Date.now();
    beat[0] = i;
    const t0 = performance.now();
    if (setupError !== null) {
      out.add(t.number, t.params, 0, null, null, setupError);
      continue;
    }
    let metrics: Metrics;
    try {
      metrics = runner!(t.params);
    } catch (e) {
      out.add(t.number, t.params, performance.now() - t0, null, null, e instanceof Error ? e.message : String(e));
      if (e instanceof MemoryCapError) {
        // What the strategy holds may stay held: this worker stops here and is replaced; the
        // rest of the chunk (and of any chunk queued behind it) runs again on a fresh one.
        replaceMe = true;
        beat[0] = -1;
        return { block: out.finish(), recycle: { unrun: trials.slice(i + 1).map((x) => x.number) } };
      }
      continue;
    }
    const durationMs = performance.now() - t0;
    // A basket's metrics carry each symbol's under `<i>|<metric>` keys: split into `symbols`.
    const basket = init.payload.basket;
    const split = basket ? splitSymbolMetrics(metrics, basket.symbols) : null;
    if (split) metrics = split.metrics;
    out.add(t.number, t.params, durationMs, metrics, scorer ? scoreTrial(scorer, t.params, metrics, split?.symbols) : null, undefined, undefined, split?.symbols);
  }
  beat[0] = -1;
  return { block: out.finish() };
}
