/**
 * Runs trials on external strategy processes (`strategy NAME command "…"`): one long-lived
 * process per worker, each taking the next trial from a shared queue. The process is the
 * worker, so no thread pool sits in between. A trial whose process exits, hangs past the
 * timeout or answers an error fails alone (after its retries); the process is restarted for
 * the next trial.
 */
import { RunAborted, type ExecutorSettings, type TaskPayload, type TrialExecutor, type TrialOutcome, type TrialRequest } from '../executor/executor';
import { ExternalProcess, type ExternalRequest } from './external-process';

export class CommandExecutor implements TrialExecutor {
  readonly workers: number;
  private readonly processes: ExternalProcess[];
  private readonly base: Omit<ExternalRequest, 'params'>;

  constructor(
    payload: TaskPayload,
    private readonly settings: ExecutorSettings,
  ) {
    const ref = payload.strategy;
    if (ref.kind !== 'command') throw new Error(`CommandExecutor needs a command strategy, not '${ref.kind}'`);
    if (!ref.command.trim()) throw new Error(`strategy '${ref.name ?? ''}' has an empty command`);
    this.workers = Math.max(1, settings.workers);
    this.processes = Array.from({ length: this.workers }, () => new ExternalProcess(ref.command, ref.cwd));
    this.base = {
      data: payload.data.file,
      from: payload.data.from ?? null,
      to: payload.data.to ?? null,
      cash: payload.config.cash,
      commission: payload.config.commission,
      sizing: payload.config.sizing,
    };
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

  private async runOne(proc: ExternalProcess, t: TrialRequest, signal: AbortSignal): Promise<TrialOutcome> {
    const tries = 1 + Math.max(0, this.settings.retries);
    let last: TrialOutcome = { number: t.number, metrics: null, error: 'not run', durationMs: 0 };
    for (let attempt = 1; attempt <= tries && !signal.aborted; attempt++) {
      const t0 = performance.now();
      const answer = await proc.request({ ...this.base, params: t.params }, this.settings.timeoutMs);
      const durationMs = performance.now() - t0;
      if ('metrics' in answer) return { number: t.number, metrics: answer.metrics, durationMs, attempts: attempt, log: answer.log };
      last = { number: t.number, metrics: null, error: answer.error, durationMs, attempts: attempt, log: answer.log };
    }
    return last;
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.close()));
  }
}
