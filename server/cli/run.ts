import type { Command } from './main';

/** `optstudy run` — not built yet; see the issue tracker. */
export const runCommand: Command = async (_args, io) => {
  io.err('optstudy run: not implemented yet.\n');
  return 2;
};
