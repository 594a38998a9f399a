import type { Command } from './main';

/** `optstudy report` — not built yet; see the issue tracker. */
export const reportCommand: Command = async (_args, io) => {
  io.err('optstudy report: not implemented yet.\n');
  return 2;
};
