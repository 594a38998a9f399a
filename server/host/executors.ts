/**
 * The executor a run gets from its host (the CLI's `run`, the run host): trials go to
 * `optstudy worker` processes through Redis when the run names a Redis, to one long-lived
 * process per worker for an external command strategy, else to the local thread pool — with a
 * strategy module compiled first, so a compile error stops the run with its place in the
 * user's source. The run path (server/run) only knows the executor interface; this is the one
 * place that knows every kind.
 */
import type { ExecutorFactory } from '../executor/executor';
import { defaultWorkers, LocalExecutor } from '../executor/local-pool';
import { CommandExecutor } from '../strategies/command-executor';
import { BacktraderExecutor } from '../strategies/backtrader/backtrader-executor';
import { backtraderSchemaLoader } from '../strategies/backtrader/describe';
import { workersHint } from '../strategies/backtrader/prestart';
import type { AnalyzeOptions } from '../../grammar';
import { compileStrategyModule, ModuleCompileError } from '../strategies/compile-module';

/**
 * The checks a host adds to a run's own (trusted runs only): what a backtrader strategy
 * declares. The run's bridge processes start meanwhile, one per worker (`workers`: the run's
 * own setting, else the study file's `workers`, else one per core), the first describing it.
 */
export function hostCheckOptions(file: string, workers?: number): AnalyzeOptions {
  return { backtraderSchemas: backtraderSchemaLoader(file, { prestart: workers ?? workersHint(file) ?? defaultWorkers() }) };
}

export const chooseExecutor: ExecutorFactory = async (payload, settings, prices, context) => {
  if (context.redis) {
    // Loaded for distributed runs only: BullMQ and ioredis took ~170 ms of every local CLI
    // run's start. Distributed runs bundle and ship a module strategy themselves.
    const { createDistributedExecutor } = await import('../distributed/distributed-executor');
    return createDistributedExecutor(payload, settings, { url: context.redis, onLog: context.log });
  }
  // An external command strategy is its own worker: one process per worker, no thread pool.
  if (payload.strategy.kind === 'command') return new CommandExecutor(payload, settings);
  if (payload.strategy.kind === 'backtrader') return new BacktraderExecutor(payload, settings);
  if (payload.strategy.kind === 'module') {
    try {
      payload = { ...payload, strategy: { ...payload.strategy, file: (await compileStrategyModule(payload.strategy.file)).file } };
    } catch (e) {
      throw new Error(e instanceof ModuleCompileError ? `${e.message} (compiling the strategy module)` : (e as Error).message);
    }
  }
  return new LocalExecutor(payload, settings, prices);
};
