/**
 * Command strategies (`strategy NAME command "…"`): the command runs through the shell in the
 * study's folder, one process per worker, and gets the request of the DESIGN's external
 * strategy protocol for each trial (process-executor.ts does the rest).
 */
import type { ExecutorSettings, TaskPayload } from '../executor/executor';
import { percentCommission } from '../engine/study-config';
import { ProcessExecutor } from './process-executor';

export class CommandExecutor extends ProcessExecutor {
  constructor(payload: TaskPayload, settings: ExecutorSettings) {
    const ref = payload.strategy;
    if (ref.kind !== 'command') throw new Error(`CommandExecutor needs a command strategy, not '${ref.kind}'`);
    if (!ref.command.trim()) throw new Error(`strategy '${ref.name ?? ''}' has an empty command`);
    const base = {
      data: payload.data.file,
      from: payload.data.from ?? null,
      to: payload.data.to ?? null,
      cash: payload.config.cash,
      commission: percentCommission(payload.config.commission),
      sizing: payload.config.sizing,
    };
    super(
      { command: ref.command, cwd: ref.cwd, label: `the strategy process '${ref.command}'` },
      { request: (t, window) => ({ ...base, ...window, params: t.params }), metrics: (a) => a.metrics },
      settings,
    );
  }
}
