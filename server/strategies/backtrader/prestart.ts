/**
 * A bridge process started while a run checks its study. A run's checks describe its backtrader
 * strategy (a Python that imports backtrader and the user's script, about a second of CPU), and
 * its first worker would then import the same again. Instead the worker starts during the
 * checks and describes SPEC first (Linux: on a file the checks read while they wait), then
 * serves the run's trials: one import instead of two. Elsewhere it starts beside the usual
 * describe step. The run's executor takes the process (`takePrestarted`); one nobody takes —
 * the checks failed, the run went to Redis — is closed after PRESTART_IDLE_MS (and with every
 * strategy process when OptStudy exits, process-groups.ts).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExternalProcess, type FirstStart, type Launch } from '../external-process';
import { bridgePath, pythonCommand } from './bridge-path';

/** How long a started bridge waits for its run before it is stopped. */
export const PRESTART_IDLE_MS = 30_000;

/** How to start the bridge for a strategy. */
export function bridgeLaunch(spec: string, cwd: string): Launch {
  return { file: pythonCommand(), args: ['-u', bridgePath(), 'serve', spec], cwd, answersOnFd3Only: true, label: `the backtrader bridge for '${spec}'` };
}

const waiting = new Map<string, { proc: ExternalProcess; timer: NodeJS.Timeout }>();

const keyOf = (spec: string, cwd: string): string => `${path.resolve(cwd)}\0${spec.trim()}`;

/** Starts one bridge process for SPEC in CWD, unless one is waiting already; it, or undefined. */
export function prestartBridge(spec: string, cwd: string, first?: FirstStart): ExternalProcess | undefined {
  const key = keyOf(spec, cwd);
  if (waiting.has(key)) return undefined;
  let proc: ExternalProcess;
  try {
    proc = new ExternalProcess(bridgeLaunch(spec, cwd));
  } catch {
    return undefined; // no bridge in this installation: the run says so
  }
  if (!proc.start(first)) return undefined;
  const timer = setTimeout(() => dropPrestarted(spec, cwd), PRESTART_IDLE_MS);
  timer.unref();
  waiting.set(key, { proc, timer });
  return proc;
}

/**
 * Starts the run's first bridge process with SPEC's describe step in it and waits for the
 * description (the bridge's JSON line), blocking like the describe process it replaces. Linux
 * only (it watches /proc for an early exit); undefined elsewhere or when the process died
 * without a description (the caller then describes the usual way, which reports why); '' when
 * it took longer than `timeoutMs`.
 */
export function prestartAndDescribe(spec: string, cwd: string, timeoutMs: number): string | undefined {
  if (process.platform !== 'linux') {
    prestartBridge(spec, cwd);
    return undefined;
  }
  let dir: string | undefined;
  try {
    dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-describe-'));
    const file = path.join(dir, 'description.json');
    const fd = openSync(file, 'w');
    let proc: ExternalProcess | undefined;
    try {
      // The descriptor is the child's fd 4; this process reads the file by name.
      proc = prestartBridge(spec, cwd, { fds: [fd], env: { OPTSTUDY_DESCRIBE_FD: '4' } });
    } finally {
      closeSync(fd);
    }
    const text = proc?.pid ? waitForLine(file, proc.pid, timeoutMs) : undefined;
    if (proc && !text) dropPrestarted(spec, cwd);
    return text;
  } catch {
    dropPrestarted(spec, cwd);
    return undefined; // no temporary folder, say: the usual describe step
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

/** The first whole line of FILE, waiting (asleep, 5 ms at a time) while process PID lives; '' after `timeoutMs`. */
function waitForLine(file: string, pid: number, timeoutMs: number): string | undefined {
  const nap = new Int32Array(new SharedArrayBuffer(4));
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = readFileSync(file, 'utf8');
    const nl = text.indexOf('\n');
    if (nl >= 0) return text.slice(0, nl);
    if (!alive(pid)) return undefined;
    if (Date.now() > end) return ''; // no description: too slow to try again
    Atomics.wait(nap, 0, 0, 5);
  }
}

/** Whether PID runs (not gone, not a zombie waiting to be reaped). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
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
