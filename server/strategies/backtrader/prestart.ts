/**
 * A bridge process started while a run checks its study. The run's describe step (a Python
 * that imports backtrader and the user's script, about a second) and the first worker's start
 * (the same imports again) would otherwise follow one another; started together, the worker is
 * ready when the checks end. The run's executor takes the process (`takePrestarted`); one
 * nobody takes — the checks failed, the run went to Redis — is closed after PRESTART_IDLE_MS
 * (and with every strategy process when OptStudy exits, process-groups.ts).
 */
import * as path from 'node:path';
import { ExternalProcess, type Launch } from '../external-process';
import { bridgePath, pythonCommand } from './bridge-path';

/** How long a started bridge waits for its run before it is stopped. */
export const PRESTART_IDLE_MS = 30_000;

/** How to start the bridge for a strategy. */
export function bridgeLaunch(spec: string, cwd: string): Launch {
  return { file: pythonCommand(), args: ['-u', bridgePath(), 'serve', spec], cwd, answersOnFd3Only: true, label: `the backtrader bridge for '${spec}'` };
}

const waiting = new Map<string, { proc: ExternalProcess; timer: NodeJS.Timeout }>();

const keyOf = (spec: string, cwd: string): string => `${path.resolve(cwd)}\0${spec.trim()}`;

/** Starts one bridge process for SPEC in CWD, unless one is waiting already. */
export function prestartBridge(spec: string, cwd: string): void {
  const key = keyOf(spec, cwd);
  if (waiting.has(key)) return;
  let proc: ExternalProcess;
  try {
    proc = new ExternalProcess(bridgeLaunch(spec, cwd));
  } catch {
    return; // no bridge in this installation: the run says so
  }
  if (!proc.start()) return;
  const timer = setTimeout(() => dropPrestarted(spec, cwd), PRESTART_IDLE_MS);
  timer.unref();
  waiting.set(key, { proc, timer });
}

/** The waiting process for SPEC in CWD, now the caller's to use and close. */
export function takePrestarted(spec: string, cwd: string): ExternalProcess | undefined {
  const key = keyOf(spec, cwd);
  const w = waiting.get(key);
  if (!w) return undefined;
  waiting.delete(key);
  clearTimeout(w.timer);
  return w.proc;
}

/** Stops the waiting process for SPEC in CWD, if any (its describe step failed). */
export function dropPrestarted(spec: string, cwd: string): void {
  void takePrestarted(spec, cwd)?.close();
}
