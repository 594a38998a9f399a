/**
 * The `optstudy` command line. Each subcommand lives in its own module and is loaded only
 * when called, so `optstudy check` does not pay for the engine.
 */

export interface CliIo {
  out: (text: string | Uint8Array) => void;
  err: (text: string) => void;
  isTTY: boolean;
  /** Output written but not yet taken by the reader (stdout into a pipe is asynchronous), and when it has been. */
  backlog?: { bytes: () => number; drained: () => Promise<void> };
}

/** A subcommand: gets the arguments after its name, returns the exit code. */
export type Command = (args: string[], io: CliIo) => Promise<number>;

const USAGE = `optstudy — trading-strategy parameter optimization

Usage:
  optstudy check FILE [--json]
  optstudy backtest --data FILE --strategy NAME [--param k=v]... [--cash N] [--commission 0.1%]
                    [--slippage S] [--sizing fixed:N|percent:N] [--from DATE] [--to DATE] [--json]
  optstudy backtest --backtrader FILE.py:NAME [options]
  optstudy run FILE [--study NAME] [--stage NAME] [--workers N] [--seed N] [--json] [--out DIR]
               [--resume DIR] [--redis URL]
  optstudy report RUN_DIR [--html FILE] [--csv FILE] [--json FILE] [--no-reruns] [--top N]
  optstudy worker --redis URL [--concurrency N] [--secret-file FILE] [--allow KINDS] [options]
  optstudy trial FILE [--study NAME] [--params JSON] [--param k=v]... [--json]

Run 'optstudy COMMAND --help' for a command's options.`;

/** Subcommands, loaded on demand. A module that is not built yet reports so plainly. */
const COMMANDS: Record<string, () => Promise<Command>> = {
  check: async () => (await import('./check')).checkCommand,
  backtest: async () => (await import('./backtest')).backtestCommand,
  run: async () => (await import('./run')).runCommand,
  report: async () => (await import('./report')).reportCommand,
  worker: async () => (await import('./worker')).workerCommand,
  trial: async () => (await import('./trial')).trialCommand,
};

export async function main(argv: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(USAGE + '\n');
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    io.out(`${VERSION}\n`);
    return 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.err(`optstudy: unknown command '${name}'.\n\n${USAGE}\n`);
    return 2;
  }
  const command = await load();
  return command(rest, io);
}

declare const OPTSTUDY_VERSION: string | undefined;
const VERSION = typeof OPTSTUDY_VERSION === 'string' ? OPTSTUDY_VERSION : '0.1.0';

if (require.main === module) {
  const io: CliIo = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    isTTY: Boolean(process.stdout.isTTY),
    backlog: { bytes: () => process.stdout.writableLength, drained: () => new Promise((resolve) => process.stdout.once('drain', () => resolve())) },
  };
  // The process exits when its command ends, whatever is still holding the event loop (a
  // worker that did not stop, a connection): every optstudy process ends with its work.
  main(process.argv.slice(2), io).then(
    (code) => exitWhenWritten(code),
    (e: unknown) => {
      io.err(`optstudy: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      exitWhenWritten(70);
    },
  );
}

/** Exits once stdout and stderr have taken everything written to them. */
function exitWhenWritten(code: number): void {
  let left = 2;
  const done = (): void => {
    if (--left === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
