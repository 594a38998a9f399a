/**
 * `optstudy run FILE [--study NAME] [--stage NAME] [--workers N] [--seed N] [--json] [--out DIR] [--resume DIR]`
 *
 * Runs the engine in this process (the pool's worker threads do the backtests). With `--json`
 * every run event is printed as one JSON line; on a terminal a progress bar shows the rate,
 * the ETA and the best so far, then a ranking table. Ctrl-C stops cleanly: finished trials are
 * in the journal and `--resume` continues the run.
 */
import * as path from 'node:path';
import { JOURNAL_FILE, readJournal } from '../../protocol/journal-reader';
import type { EndEvent } from '../../protocol/run-events';
import { killStrategyProcesses } from '../strategies/process-groups';
import { fmtDuration, rankingTable } from '../run/render';
import { validationTable } from '../run/validate-run';
import { runStudy, StudyError, type RunOptions } from '../run/run-study';
import { chooseExecutor, hostCheckOptions } from '../host/executors';
import type { CliIo, Command } from './main';
import { jsonPrinter, terminalPrinter, type Printer } from './run-printer';

const HELP = `Usage: optstudy run FILE [options]

Runs a study: its stages in order, on a pool of worker threads.

Options:
  --study NAME     the study to run when the file has several (default: the first)
  --stage NAME     run only this stage, from the strategy's defaults
  --workers N      worker threads (default: the study's 'workers', else one per core)
  --seed N         random seed (default: the study's 'seed', else random)
  --json           print one JSON event per line instead of the progress bar and table
  --out DIR        keep the run's journal in DIR (default: .optstudy/runs/… beside the study)
  --resume DIR     continue the run kept in DIR (FILE may be omitted)
  --redis URL      run the trials on 'optstudy worker' processes through this Redis
`;

interface Args {
  file?: string;
  study?: string;
  stage?: string;
  workers?: number;
  seed?: number;
  json: boolean;
  out?: string;
  resume?: string;
  redis?: string;
}

function parseArgs(argv: string[]): Args | string {
  const a: Args = { json: false };
  for (let i = 0; i < argv.length; i++) {
    const x = argv[i]!;
    const value = (): string | undefined => {
      const eq = x.indexOf('=');
      if (x.startsWith('--') && eq > 0) return x.slice(eq + 1);
      return argv[++i];
    };
    const key = x.startsWith('--') && x.includes('=') ? x.slice(0, x.indexOf('=')) : x;
    switch (key) {
      case '--json':
        a.json = true;
        break;
      case '--study':
      case '--stage':
      case '--out':
      case '--resume':
      case '--redis': {
        const v = value();
        if (v === undefined || v === '') return `${key} needs a value`;
        a[key.slice(2) as 'study' | 'stage' | 'out' | 'resume' | 'redis'] = v;
        break;
      }
      case '--workers':
      case '--seed': {
        const v = value();
        const n = Number(v);
        if (v === undefined || !Number.isInteger(n) || n < (key === '--workers' ? 1 : 0))
          return `${key} needs ${key === '--workers' ? 'a whole number of at least 1' : 'a whole number'} (got '${v ?? ''}')`;
        if (key === '--workers') a.workers = n;
        else a.seed = n;
        break;
      }
      default:
        if (x.startsWith('-')) return `unknown option '${x}'`;
        if (a.file !== undefined) return `unexpected argument '${x}' (one study file at a time)`;
        a.file = x;
    }
  }
  return a;
}

export const runCommand: Command = async (argv, io) => {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(HELP);
    return 0;
  }
  const args = parseArgs(argv);
  if (typeof args === 'string') {
    io.err(`optstudy run: ${args}\n\n${HELP}`);
    return EXIT.usage;
  }
  if (args.file === undefined && args.resume !== undefined) {
    try {
      const file = readJournal(args.resume).header?.file;
      if (typeof file !== 'string') throw new Error(`${args.resume}: the journal does not name its study file; give it: optstudy run FILE --resume ${args.resume}`);
      args.file = file;
    } catch (e) {
      io.err(`optstudy run: ${(e as Error).message}\n`);
      return 1;
    }
  }
  if (args.file === undefined) {
    io.err(`optstudy run: which study file?\n\n${HELP}`);
    return 2;
  }

  // The first SIGINT/SIGTERM cancels: the run ends with its `end` line (status cancelled) and
  // every finished trial kept. A second one quits at once; the strategy processes' groups are
  // killed on the way out (server/strategies/process-groups.ts), never left behind.
  const ac = new AbortController();
  let stoppedBy: NodeJS.Signals | null = null;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stoppedBy) {
      killStrategyProcesses();
      process.exit(signalStatus(signal));
    }
    stoppedBy = signal;
    if (!args.json) io.err(`\nStopping… (finished trials are kept; ${signal === 'SIGINT' ? 'Ctrl-C' : 'a second signal'} again to quit now)\n`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const printer = args.json ? jsonPrinter(io) : terminalPrinter(io, io.isTTY);
  const options: RunOptions = { file: args.file, study: args.study, stage: args.stage, workers: args.workers, seed: args.seed, out: args.out, resume: args.resume, redis: args.redis, createExecutor: chooseExecutor, checkOptions: (f) => hostCheckOptions(f, args.workers), confine: {} };
  try {
    const end = await runStudy(options, printer.listener, ac.signal);
    printer.close();
    if (!args.json) summary(io, end, printer, args.file);
    const status = runStatus(end, stoppedBy);
    if (end.status === 'failed') io.err(`optstudy run: the run failed: ${end.error}\n`);
    else if (status === EXIT.allFailed) io.err(`optstudy run: every trial failed; the first (trial ${end.firstFailure?.number}): ${end.firstFailure?.error}\n`);
    return status;
  } catch (e) {
    printer.close();
    if (e instanceof StudyError) {
      // A --json reader always gets a last `end` line, also for a run that could not start.
      if (args.json) {
        for (const f of e.findings) printer.listener({ type: 'log', level: 'error', message: f });
        printer.listener({ type: 'end', best: null, trials: 0, elapsedMs: 0, status: 'failed', error: e.findings.join('\n') });
        printer.close();
      }
      for (const f of e.findings) io.err(f + '\n');
      return 1;
    }
    throw e;
  } finally {
    printer.close();
    // Until the process exits (main.ts, once the output is written) a signal quits at once, as
    // a second one does during the run: the run may well end between a user's two Ctrl-C.
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    const quit = (signal: NodeJS.Signals): void => {
      killStrategyProcesses();
      process.exit(signalStatus(stoppedBy ?? signal));
    };
    process.once('SIGINT', quit);
    process.once('SIGTERM', quit);
  }
};

/** The ranking table, the validation, the counts and where the journal is. */
function summary(io: CliIo, end: EndEvent, printer: Printer, file: string): void {
  const s = printer.start();
  const searched = s?.params ?? [];
  const multi = (s?.directions?.length ?? 1) > 1;
  const rows = multi ? (end.pareto ?? []).slice(0, 10) : printer.top();
  io.out(`\n${multi ? `Pareto front (${end.pareto?.length ?? 0} trials; ${s?.objectives?.join(', ')}), first 10` : `Top ${rows.length} by ${s?.directions?.[0] ?? ''} ${s?.objectives?.[0] ?? 'score'}`}:\n`);
  io.out(rankingTable(rows, searched));
  if (end.validation) io.out('\n' + validationTable(end.validation, s?.objectives?.[0]));
  const journal = path.relative(process.cwd(), path.join(end.runDir ?? '', JOURNAL_FILE));
  io.out(`\n${trialCounts(end)} in ${fmtDuration(end.elapsedMs)}${end.status === 'cancelled' ? ' (cancelled)' : ''}. Journal: ${journal}\n`);
  if (end.status === 'cancelled') io.out(`Continue with: optstudy run ${path.relative(process.cwd(), path.resolve(file))} --resume ${path.relative(process.cwd(), end.runDir ?? '')}\n`);
}

/** `optstudy run`'s exit statuses (README, "Exit status"). */
export const EXIT = { ok: 0, error: 1, usage: 2, allFailed: 3, sigint: 130, sigterm: 143 } as const;

/** 128 + the signal's number, as a shell reports a process stopped by it. */
function signalStatus(signal: NodeJS.Signals | null): number {
  return signal === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
}

/** The exit status that tells what happened to a run. */
function runStatus(end: EndEvent, stoppedBy: NodeJS.Signals | null): number {
  if (end.status === 'cancelled') return signalStatus(stoppedBy);
  if (end.status === 'failed') return EXIT.error;
  const c = end.counts;
  return c && c.failed > 0 && c.complete + c.infeasible === 0 ? EXIT.allFailed : EXIT.ok;
}

/** "N trials (C complete, I infeasible, F failed)". */
function trialCounts(end: EndEvent): string {
  const c = end.counts;
  const parts = c ? [`${c.complete} complete`, ...(c.infeasible ? [`${c.infeasible} infeasible`] : []), ...(c.failed ? [`${c.failed} failed`] : [])] : [];
  return `${end.trials} trial${end.trials === 1 ? '' : 's'}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
