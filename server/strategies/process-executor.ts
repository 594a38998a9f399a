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

export class ProcessExecutor implements TrialExecutor {
  readonly workers: number;
  private readonly processes: ExternalProcess[];

  /** `started`: processes already running for this launch (they take the first workers' places). */
  constructor(
    launch: Launch,
    private readonly protocol: ProcessProtocol,
    private readonly settings: ExecutorSettings,
    started: ExternalProcess[] = [],
  ) {
    this.workers = Math.max(1, settings.workers);
    this.processes = Array.from({ length: this.workers }, (_, i) => started[i] ?? new ExternalProcess(launch));
    for (const extra of started.slice(this.workers)) void extra.close();
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
    await Promise.all(this.processes.map(lane));
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

  async backtestWindow(params: ParamValues, window: { from: string; to: string }): Promise<{ metrics: Metrics; equity?: ArrayLike<number> }> {
    const answer = await this.processes[0]!.request(this.protocol.request({ number: -1, params }, window), this.settings.timeoutMs);
    if (!('metrics' in answer)) throw new Error(answer.error);
    const metrics = this.protocol.metrics(answer) ?? {};
    return this.protocol.equity ? { metrics, equity: this.protocol.equity(answer) } : { metrics };
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.close()));
  }
}
