import type { Command } from './main';

/** `optstudy worker` — not built yet; see the issue tracker. */
export const workerCommand: Command = async (_args, io) => {
  io.err('optstudy worker: not implemented yet.\n');
  return 2;
};
