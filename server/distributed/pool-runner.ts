/**
 * The worker's batch runner: the optimizer's own local pool (server/executor/local-pool.ts:
 * piscina threads, prices shared once, per-trial timeout and retries), one per run the worker
 * serves. A pool is kept for the next job of the same run (its threads have the prices and the
 * strategy loaded); when several runs share the worker, the least recently used idle pool is
 * closed beyond `keep`, so threads do not pile up.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as os from 'node:os';
import { LocalExecutor } from '../executor/local-pool';
import type { ExecutorSettings, TrialExecutor, TrialOutcome, TrialRequest } from '../executor/executor';
import type { OutcomeBlock } from '../executor/outcome-block';
import { CommandExecutor } from '../strategies/command-executor';
import type { DistributedPayload } from './distributed-executor';
import type { BatchRunner } from './redis-worker';

interface PoolEntry {
  executor: TrialExecutor;
  busy: number;
  used: number;
}

export interface PoolRunnerOptions {
  /** Threads per pool (the worker's `--concurrency`). */
  threads: number;
  /** Idle pools kept for later jobs (default 2). */
  keep?: number;
}

export function createPoolRunner(opts: PoolRunnerOptions): BatchRunner {
  const pools = new Map<string, PoolEntry>();
  const keep = Math.max(1, opts.keep ?? 2);
  let clock = 0;

  const evict = async (): Promise<void> => {
    const idle = [...pools.entries()].filter(([, p]) => p.busy === 0).sort((a, b) => a[1].used - b[1].used);
    while (pools.size > keep && idle.length) {
      const [key, p] = idle.shift()!;
      pools.delete(key);
      await p.executor.close().catch(() => {});
    }
  };

  return {
    async run(payload, trials, signal, stage) {
      // What runs was decided before (worker-policy.ts): the payload is admitted and its files local.
      const p = payload as DistributedPayload;
      const key = createHash('sha256').update(JSON.stringify(p)).digest('hex');
      let entry = pools.get(key);
      if (!entry) {
        const settings: ExecutorSettings = { workers: opts.threads, ...trialSettings(p.settings) };
        let executor: TrialExecutor;
        if (p.task.strategy.kind === 'command') {
          // The command runs here, in the study's folder: it must exist on this machine too.
          if (!existsSync(p.task.strategy.cwd)) {
            throw new Error(
              `command strategy '${p.task.strategy.name ?? p.task.strategy.command}': its folder ${p.task.strategy.cwd} does not exist on worker ${os.hostname()}; share the study's folder at the same path on the workers`,
            );
          }
          executor = new CommandExecutor(p.task, settings);
        } else executor = new LocalExecutor(p.task, settings);
        entry = { executor, busy: 0, used: 0 };
        pools.set(key, entry);
      }
      // Marked busy before evicting, so the pool about to run is never the one closed.
      entry.busy++;
      entry.used = ++clock;
      try {
        await evict();
        // What the pool reports is what travels: its outcome blocks (a chunk's trials scored and
        // encoded by the pool thread) or single outcomes; the pool's array only when it reported none.
        const reported: (TrialOutcome | OutcomeBlock)[] = [];
        const returned = await entry.executor.run(trials as TrialRequest[], signal, (o) => void reported.push(o), stage !== undefined ? { stage } : undefined);
        return reported.length ? reported : returned;
      } finally {
        entry.busy--;
      }
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.executor.close().catch(() => {})));
    },
  };
}

/**
 * A job's trial settings, within what a worker grants whoever sent the job: a per-trial timeout,
 * a few retries, a heap cap no bigger than the machine's memory shared among its threads.
 */
function trialSettings(s: Partial<DistributedPayload['settings']> | undefined): Omit<ExecutorSettings, 'workers'> {
  const num = (v: unknown, lo: number, hi: number): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : undefined);
  return {
    timeoutMs: num(s?.timeoutMs, 1, 24 * 3600 * 1000),
    retries: Math.floor(num(s?.retries, 0, 5) ?? 0),
    memoryMb: num(s?.memoryMb, 64, Math.floor(os.totalmem() / 2 ** 20 / 2)),
  };
}
