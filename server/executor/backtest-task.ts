/**
 * The piscina task file (dist/backtest-task.js): runs a batch of trials in a worker thread.
 * The price data arrives once per worker in `workerData` as a SharedArrayBuffer (no copy);
 * indicators are memoized per worker. While a trial runs, the worker writes its index and
 * start time into the task's small shared "beat" buffer, so the pool can tell which trial
 * hung or crashed the worker and fail that trial alone.
 */
import { threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import { asStrategyDefinition, attachPrices, IndicatorCache, type PriceData, type SharedPrices } from '../engine';
import { feedRunner } from '../data/feeds';
import type { Metrics } from '../../protocol/run-events';
import type { StrategyRef, TaskPayload, TrialOutcome, TrialRequest } from './executor';
import { checkOffHeap, guardOffHeap, MemoryCapError } from './memory-cap';
import { osThreadId } from './watchdog';

/** A worker's memory cap when the run sets none (MiB). */
export const DEFAULT_MEMORY_MB = 1024;

export interface TaskInput {
  trials: TrialRequest[];
  /** Float64Array(BEAT_SLOTS) over a SharedArrayBuffer (watchdog.ts): [index of the running trial or -1, its start time (ms), this worker's thread id, its OS thread id]. */
  beat: SharedArrayBuffer;
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

let runner: Runner | null = null;
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
      // Command strategies run on their own processes (server/strategies/command-executor.ts).
      throw new Error(`strategy '${ref.name ?? ref.command}': a command strategy cannot run on the thread pool`);
  }
}

/**
 * A batch's outcomes as they travel back to the pool: the metrics of every trial that has the
 * batch's usual metric names (in the same order) go as one Float64Array (one row per trial),
 * so structured clone copies one buffer instead of ~60 properties per trial — that copy was
 * ~14% of a worker's time on a fast grid. Other outcomes (errors, other metric sets) travel as
 * they are.
 */
export interface PackedOutcomes {
  packed: 1;
  keys: string[];
  /** Row i: metrics of `rows[i]`, NaN where `nulls` is 1. */
  values: Float64Array;
  nulls: Uint8Array;
  rows: { number: number; durationMs: number }[];
  /** Outcomes not packed. */
  rest: TrialOutcome[];
  /** Set when the worker must be replaced (a trial went over its off-heap cap): the trials it did not run. */
  recycle?: { unrun: number[] };
}

/** Packs outcomes (see PackedOutcomes). */
export function packOutcomes(out: TrialOutcome[]): PackedOutcomes {
  const first = out.find((o) => o.metrics);
  const keys = first ? Object.keys(first.metrics!) : [];
  const k = keys.length;
  const rows: PackedOutcomes['rows'] = [];
  const rest: TrialOutcome[] = [];
  const values = new Float64Array(out.length * k);
  const nulls = new Uint8Array(out.length * k);
  for (const o of out) {
    const m = o.metrics;
    let same = m !== null && o.error === undefined && o.log === undefined;
    if (same) {
      let n = 0;
      for (const key in m) {
        if (keys[n] !== key) {
          same = false;
          break;
        }
        n++;
      }
      same = same && n === k;
    }
    if (!same) {
      rest.push(o);
      continue;
    }
    const base = rows.length * k;
    for (let j = 0; j < k; j++) {
      const v = m![keys[j]!];
      if (typeof v === 'number') values[base + j] = v;
      else nulls[base + j] = 1;
    }
    rows.push({ number: o.number, durationMs: o.durationMs });
  }
  return { packed: 1, keys, values: values.subarray(0, rows.length * k), nulls: nulls.subarray(0, rows.length * k), rows, rest };
}

/** The outcomes back from a packed batch, in row order then the rest. */
export function unpackOutcomes(p: PackedOutcomes | TrialOutcome[]): TrialOutcome[] {
  if (Array.isArray(p)) return p;
  const { keys, values, nulls, rows } = p;
  const k = keys.length;
  const out: TrialOutcome[] = [];
  const make = metricsFactory(keys);
  for (let i = 0; i < rows.length; i++) out.push({ number: rows[i]!.number, metrics: make(values, nulls, i * k), durationMs: rows[i]!.durationMs });
  return out.concat(p.rest);
}

type MetricsFactory = (values: Float64Array, nulls: Uint8Array, base: number) => Metrics;
const factories = new Map<string, MetricsFactory>();

/**
 * A function building one metrics object from a packed row. Generated once per key list as a
 * single object literal: every object then has one shape from birth, where adding ~60 keys one
 * by one cost the main thread of a fast grid several microseconds a trial (and garbage).
 */
function metricsFactory(keys: string[]): MetricsFactory {
  const id = keys.join('\n');
  let f = factories.get(id);
  if (f) return f;
  if (keys.includes('__proto__')) {
    // An object literal would set the prototype instead of a key: build it key by key.
    f = (values, nulls, base) => {
      const m: Metrics = {};
      for (let j = 0; j < keys.length; j++) Object.defineProperty(m, keys[j]!, { value: nulls[base + j] ? null : values[base + j]!, enumerable: true, writable: true, configurable: true });
      return m;
    };
  } else {
    const fields = keys.map((key, j) => `${JSON.stringify(key)}: n[b + ${j}] ? null : v[b + ${j}]`);
    f = new Function('v', 'n', 'b', `return { ${fields.join(', ')} };`) as MetricsFactory;
  }
  if (factories.size > 64) factories.clear();
  factories.set(id, f);
  return f;
}

/** Runs one batch; each trial's error is caught and reported for that trial only. */
export default function runBatch(task: TaskInput): PackedOutcomes {
  const beat = new Float64Array(task.beat);
  beat[2] = threadId;
  if (replaceMe) return { ...packOutcomes([]), recycle: { unrun: task.trials.map((t) => t.number) } };
  beat[3] = osTid ||= osThreadId();
  const out: TrialOutcome[] = [];
  let setupError: string | null = null;
  if (!runner) {
    try {
      const init = workerData as WorkerInit;
      const feeds = init.datas ? init.datas.map(attachPrices) : [attachPrices(init.prices)];
      runner = makeRunner(init.payload.strategy, feeds, init.payload.config, init.memoryMb, init.payload.basket !== undefined);
    } catch (e) {
      setupError = e instanceof Error ? e.message : String(e);
    }
  }
  for (let i = 0; i < task.trials.length; i++) {
    const t = task.trials[i]!;
    beat[1] = Date.now();
    beat[0] = i;
    const t0 = performance.now();
    if (setupError !== null) {
      out.push({ number: t.number, metrics: null, error: setupError, durationMs: 0 });
      continue;
    }
    try {
      const metrics = runner!(t.params);
      out.push({ number: t.number, metrics, durationMs: performance.now() - t0 });
    } catch (e) {
      out.push({ number: t.number, metrics: null, error: e instanceof Error ? e.message : String(e), durationMs: performance.now() - t0 });
      if (e instanceof MemoryCapError) {
        // What the strategy holds may stay held: this worker stops here and is replaced; the
        // rest of the chunk (and of any chunk queued behind it) runs again on a fresh one.
        replaceMe = true;
        beat[0] = -1;
        return { ...packOutcomes(out), recycle: { unrun: task.trials.slice(i + 1).map((x) => x.number) } };
      }
    }
  }
  beat[0] = -1;
  return packOutcomes(out);
}
