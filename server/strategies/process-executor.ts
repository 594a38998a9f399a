/**
 * Runs trials on long-lived external processes: one process per worker, each taking the next
 * trial from a shared queue (the process is the worker, so no thread pool sits in between). A
 * trial whose process exits, hangs past the timeout or answers an error fails alone (after its
 * retries); a dead process is restarted for the next trial, a living one keeps serving. A
 * cancel (the run's AbortSignal) settles the trials in flight at once and kills the processes'
 * groups, so a hung strategy cannot hold a run that the user stopped.
 */
import { RunAborted, type ExecutorSettings, type TrialExecutor, type TrialOutcome, type TrialRequest } from '../executor/executor';
import type { Metrics, ParamValues } from '../../protocol/run-events';
import { ExternalProcess, type ExternalAnswer, type Launch } from './external-process';

/** What differs between kinds of external strategies: the request and how an answer reads. */
export interface ProcessProtocol {
  /** The request of a trial; `window` (inclusive days) replaces the study's date range. */
  request(t: TrialRequest, window?: { from: string; to: string }): Record<string, unknown>;
  /** Metrics from a successful answer; throws (failing the trial) when it is not usable. */
  metrics(answer: Extract<ExternalAnswer, { metrics: unknown }>): TrialOutcome['metrics'];
  /** The value per bar of an answer, when the protocol carries it. */
  equity?(answer: Extract<ExternalAnswer, { metrics: unknown }>): ArrayLike<number>;
}

/**
 * Where an executor's processes come from and go to. The default starts its own and stops them
 * at close; the backtrader executor takes and gives back live ones (bridge-pool.ts).
 */
export interface ProcessSource {
  /** Up to `count` running processes for this launch (the executor starts the rest). */
  take(count: number): ExternalProcess[];
  /** Processes the executor is done with: kept for another user, or stopped. */
  give(procs: ExternalProcess[]): Promise<void>;
  /** The executor closed, giving back `procs` (its workers). */
  close(procs: ExternalProcess[]): Promise<void>;
}

const ownProcesses: ProcessSource = {
  take: () => [],
  give: (procs) => Promise.all(procs.map((p) => p.close())).then(() => {}),
  close: (procs) => Promise.all(procs.map((p) => p.close())).then(() => {}),
};

export class ProcessExecutor implements TrialExecutor {
  readonly workers: number;
  /** One per worker, made at the first batch (null before). */
  private processes: ExternalProcess[] | null = null;
  private closed = false;

  constructor(
    private readonly launch: Launch,
    private readonly protocol: ProcessProtocol,
    private readonly settings: ExecutorSettings,
    private readonly source: ProcessSource = ownProcesses,
  ) {
    this.workers = Math.max(1, settings.workers);
  }

  /** The workers' processes: running ones from the source first, new ones (started at their first trial) for the rest. */
  private lanes(): ExternalProcess[] {
    if (!this.processes) {
      const got = this.closed ? [] : this.source.take(this.workers);
      this.processes = [...got, ...Array.from({ length: this.workers - got.length }, () => new ExternalProcess(this.launch))];
    }
    return this.processes;
  }

  async run(batch: TrialRequest[], signal: AbortSignal, onOutcome?: (o: TrialOutcome) => void): Promise<TrialOutcome[]> {
    const queue = [...batch];
    const done = new Map<number, TrialOutcome>();
    const lane = async (proc: ExternalProcess): Promise<void> => {
      for (let t = queue.shift(); t && !signal.aborted; t = queue.shift()) {
        const o = await this.runOne(proc, t, signal);
        if (signal.aborted) return;
        done.set(t.number, o);
        onOutcome?.(o);
      }
    };
    await Promise.all(this.lanes().map(lane));
    if (signal.aborted) throw new RunAborted();
    return batch.map((t) => done.get(t.number)!);
  }

  /** One trial on one process: the answer's metrics, or the last failure after the retries. */
  async runOne(proc: ExternalProcess, t: TrialRequest, signal?: AbortSignal): Promise<TrialOutcome> {
    const tries = 1 + Math.max(0, this.settings.retries);
    let last: TrialOutcome = { number: t.number, metrics: null, error: 'not run', durationMs: 0 };
    for (let attempt = 1; attempt <= tries && !signal?.aborted; attempt++) {
      const t0 = performance.now();
      const answer = await proc.request(this.protocol.request(t), this.settings.timeoutMs, signal);
      const durationMs = performance.now() - t0;
      let error: string;
      if ('metrics' in answer) {
        try {
          return { number: t.number, metrics: this.protocol.metrics(answer), durationMs, attempts: attempt, log: answer.log };
        } catch (e) {
          error = (e as Error).message;
        }
      } else error = answer.error;
      last = { number: t.number, metrics: null, error, durationMs, attempts: attempt, log: answer.log };
    }
    return last;
  }

  /**
   * One backtest on a window (out-of-sample re-runs): on the first worker's process once trials
   * ran here, else on a running process the source lends for this backtest alone, else on this
   * executor's own first process.
   */
  async backtestWindow(params: ParamValues, window: { from: string; to: string }): Promise<{ metrics: Metrics; equity?: ArrayLike<number> }> {
    if (this.closed) throw new Error('the executor is closed');
    const own = this.processes?.[0];
    const borrowed = own ? undefined : this.source.take(1)[0];
    const proc = own ?? borrowed ?? this.lanes()[0]!;
    try {
      const answer = await proc.request(this.protocol.request({ number: -1, params }, window), this.settings.timeoutMs);
      if (!('metrics' in answer)) throw new Error(answer.error);
      const metrics = this.protocol.metrics(answer) ?? {};
      return this.protocol.equity ? { metrics, equity: this.protocol.equity(answer) } : { metrics };
    } finally {
      if (borrowed) await this.source.give([borrowed]);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.source.close(this.processes ?? []);
  }
}
