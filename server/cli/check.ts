import type { Command } from './main';

/** `optstudy check` — not built yet; see the issue tracker. */
export const checkCommand: Command = async (_args, io) => {
  io.err('optstudy check: not implemented yet.\n');
  return 2;
};
