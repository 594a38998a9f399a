import type { Command } from './main';

/** `optstudy backtest` — not built yet; see the issue tracker. */
export const backtestCommand: Command = async (_args, io) => {
  io.err('optstudy backtest: not implemented yet.\n');
  return 2;
};
