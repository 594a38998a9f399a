/**
 * The seam between the optimizer and whatever runs backtests. The optimizer (server/run) hands
 * an executor batches of trials and gets one outcome per trial; the local piscina pool
 * (local-pool.ts), external command strategies (server/strategies) and the BullMQ/Redis
 * executor (server/distributed) implement it. The run's caller (the CLI, the run host:
 * server/host/executors.ts) chooses one and injects it, so the run path depends on this
 * interface only. A run's task payload is plain JSON with files as absolute paths, so it can
 * travel to another machine unchanged.
 */
import type { BacktestConfig } from '../engine/types';
import type { Metrics, ParamValues } from '../../protocol/run-events';
import { setMaxListeners } from 'node:events';
import type { PriceData } from '../engine';
import type { FeedRef } from '../data/feeds';
import type { OutcomeBlock } from './outcome-block';
import type { ScoringSpec } from './scoring';
import type { PoolThreads } from './local-pool';

/** Which strategy a trial runs. New kinds plug in here and in backtest-task.ts. */
export type StrategyRef =
  | { kind: 'builtin'; name: string }
  /** A JavaScript module (compiled) exporting a StrategyDefinition (default export or `strategy`). */
  | { kind: 'module'; file: string; name?: string }
  /** An external process speaking the JSON-lines protocol, one per worker. */
  | { kind: 'command'; command: string; cwd: string; name?: string }
  /** Real backtrader through the shipped bridge (server/strategies/backtrader): `file.py:NAME` run in `cwd`, one process per worker. */
  | { kind: 'backtrader'; spec: string; cwd: string; name?: string };

/** Everything a worker needs to run any trial of one run: the same for every batch. */
export interface TaskPayload {
  /** Price data (data 0): an absolute file path, the study's range and how to read the file. */
  data: FeedRef;
  /** Every feed, data 0 first, when the study has several (`data [...]`, `data basket [...]`). */
  datas?: FeedRef[];
  /** A basket: the strategy runs on each feed alone; `symbols` names them (server/data/basket.ts). */
  basket?: { symbols: string[] };
  strategy: StrategyRef;
  /** Broker settings (the engine's BacktestConfig: commission scheme, slippage, sizing). */
  config: BacktestConfig;
  /** The study's constraints and objectives: an executor that can score its trials returns them scored (OutcomeBlock). */
  scoring?: ScoringSpec;
}

/** One trial to run. */
export interface TrialRequest {
  number: number;
  /** The full parameter set (searched, fixed and defaults). */
  params: ParamValues;
}

/** What running a trial gave: metrics, or an error saying why it failed. */
export interface TrialOutcome {
  number: number;
  metrics: Metrics | null;
  error?: string;
  durationMs: number;
  /** How many times it ran (1 + retries used). */
  attempts?: number;
  /** The strategy's own log (an external command's stderr), when there is one. */
  log?: string;
}

/** What a run tells an executor about a batch beyond its trials. */
export interface BatchContext {
  /** The trials' stage: an executor that encodes trials may write whole journal lines for it (OutcomeBlock.lines). */
  stage?: string;
}

/**
 * Runs batches of trials. Each trial's outcome is reported exactly once — through `onOutcome` as
 * soon as it is known, or in the resolved array — either one at a time (TrialOutcome: metrics,
 * scored by the run) or as an OutcomeBlock (outcome-block.ts: a chunk's trials scored and
 * encoded where they ran, one buffer; what the local pool sends when given `onOutcome`).
 */
export interface TrialExecutor {
  run(batch: TrialRequest[], signal: AbortSignal, onOutcome?: (o: TrialOutcome | OutcomeBlock) => void, context?: BatchContext): Promise<(TrialOutcome | OutcomeBlock)[]>;
  close(): Promise<void>;
  /** Worker count, for the start event and batch sizes. */
  readonly workers?: number;
  /**
   * One backtest over a date window (inclusive days), for strategies that do not run in this
   * process (command and backtrader strategies): out-of-sample re-runs of `validate`. `equity`
   * is the value per bar when the strategy reports it. @throws Error when the backtest fails
   */
  backtestWindow?(params: ParamValues, window: { from: string; to: string }): Promise<{ metrics: Metrics; equity?: ArrayLike<number> }>;
}

/** Settings of an executor that come from the study and the command line. */
export interface ExecutorSettings {
  workers: number;
  /** Per-trial timeout (the worker is replaced); none when absent. */
  timeoutMs?: number;
  /** How often a failed trial is tried again. */
  retries: number;
  /** Per-worker heap cap in MiB. */
  memoryMb?: number;
  /** Local pool threads started before the run knew its data (runStudy): a local pool of their shape adopts them. */
  threads?: PoolThreads;
}

/** What a run tells the executor it asks for, beyond the payload and settings. */
export interface ExecutorContext {
  /** The run's log (the run's `log` events, shown after its `start`). */
  log: (level: 'info' | 'warning' | 'error', message: string) => void;
  /** Run the trials on `optstudy worker` processes through this Redis (`--redis`, or the study's `executor redis`). */
  redis?: string;
}

/**
 * Builds the executor for a run, before its first trial. @throws Error saying why it cannot
 * (a strategy module that does not compile, an unreachable Redis): the run stops before `start`.
 */
export type ExecutorFactory = (payload: TaskPayload, settings: ExecutorSettings, prices: PriceData | readonly PriceData[], context: ExecutorContext) => TrialExecutor | Promise<TrialExecutor>;

/** The error raised when a run is aborted. */
export class RunAborted extends Error {
  constructor() {
    super('the run was cancelled');
    this.name = 'RunAborted';
  }
}

/**
 * The task's result, or RunAborted as soon as `signal` aborts. The task itself runs on (an
 * executor's close ends it); its later outcome is ignored.
 */
export function untilAborted<T>(task: Promise<T>, signal: AbortSignal): Promise<T> {
  task.catch(() => {});
  if (signal.aborted) return Promise.reject(new RunAborted());
  // A big batch has many chunks waiting on one signal: that is expected, not a leak.
  setMaxListeners(0, signal);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new RunAborted());
    signal.addEventListener('abort', onAbort, { once: true });
    task.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}
