/**
 * Bridge processes started while a run checks its study. A run's checks describe its backtrader
 * strategy (a Python that imports backtrader and the user's script, about a second of CPU), and
 * its workers would then import the same again. Instead the workers start during the checks,
 * and the first describes SPEC itself (Linux: on a file the checks read while they wait): one
 * import per worker, and the other workers' imports use the cores the waiting checks leave
 * idle. Elsewhere they start beside the usual describe step. The run's executor takes the
 * processes (`takePrestarted`); ones nobody takes — the checks failed, the run went to Redis,
 * fewer workers than started — are closed (after PRESTART_IDLE_MS at the latest, and with
 * every strategy process when OptStudy exits, process-groups.ts).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExternalProcess, type FirstStart, type Launch } from '../external-process';
import { bridgePath, pythonCommand } from './bridge-path';

/** How long started bridges wait for their run before they are stopped. */
export const PRESTART_IDLE_MS = 30_000;

/** How to start the bridge for a strategy. */
export function bridgeLaunch(spec: string, cwd: string): Launch {
  return { file: pythonCommand(), args: ['-u', bridgePath(), 'serve', spec], cwd, answersOnFd3Only: true, label: `the backtrader bridge for '${spec}'` };
}

const waiting = new Map<string, { procs: ExternalProcess[]; timer: NodeJS.Timeout }>();

const keyOf = (spec: string, cwd: string): string => `${path.resolve(cwd)}\0${spec.trim()}`;

/** Starts bridge processes for SPEC in CWD until `count` wait (the first with `first`); the ones started. */
export function prestartBridges(spec: string, cwd: string, count: number, first?: FirstStart): ExternalProcess[] {
  const key = keyOf(spec, cwd);
  let w = waiting.get(key);
  const started: ExternalProcess[] = [];
  while ((w?.procs.length ?? 0) < count) {
    let proc: ExternalProcess;
    try {
      proc = new ExternalProcess(bridgeLaunch(spec, cwd));
    } catch {
      break; // no bridge in this installation: the run says so
    }
    if (!proc.start(started.length === 0 ? first : undefined)) break;
    if (!w) {
      const timer = setTimeout(() => dropPrestarted(spec, cwd), PRESTART_IDLE_MS);
      timer.unref();
      waiting.set(key, (w = { procs: [], timer }));
    }
    w.procs.push(proc);
    started.push(proc);
  }
  return started;
}

/**
 * Starts `count` bridge processes for a run, the first with SPEC's describe step in it, and
 * waits for the description (the bridge's JSON line), blocking like the describe process it
 * replaces. Linux only (it watches /proc for an early exit); undefined elsewhere, when
 * processes were waiting already, or when the first died without a description (the caller
 * then describes the usual way, which reports why); '' when it took longer than `timeoutMs`.
 */
export function prestartAndDescribe(spec: string, cwd: string, count: number, timeoutMs: number): string | undefined {
  if (process.platform !== 'linux' || waiting.has(keyOf(spec, cwd))) {
    prestartBridges(spec, cwd, count);
    return undefined;
  }
  let dir: string | undefined;
  try {
    dir = mkdtempSync(path.join(os.tmpdir(), 'optstudy-describe-'));
    const file = path.join(dir, 'description.json');
    const fd = openSync(file, 'w');
    let describer: ExternalProcess | undefined;
    try {
      // The descriptor is the first process's fd 4; this process reads the file by name.
      [describer] = prestartBridges(spec, cwd, 1, { fds: [fd], env: { OPTSTUDY_DESCRIBE_FD: '4' } });
    } finally {
      closeSync(fd);
    }
    prestartBridges(spec, cwd, count);
    const text = describer?.pid ? waitForLine(file, describer.pid, timeoutMs) : undefined;
    if (!text) dropPrestarted(spec, cwd);
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

/** The processes waiting for SPEC in CWD (the describing one first), now the caller's to use and close. */
export function takePrestarted(spec: string, cwd: string): ExternalProcess[] {
  const key = keyOf(spec, cwd);
  const w = waiting.get(key);
  if (!w) return [];
  waiting.delete(key);
  clearTimeout(w.timer);
  return w.procs;
}

/** Stops the processes waiting for SPEC in CWD, if any (its describe step failed, nobody came). */
export function dropPrestarted(spec: string, cwd: string): void {
  for (const p of takePrestarted(spec, cwd)) void p.close();
}

/**
 * How many workers a study file's runs will likely have: the largest `workers N` statement in
 * it, or undefined. Only a hint for how many processes to start early; the run decides.
 */
export function workersHint(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const counts = [...text.matchAll(/^[ \t]*workers[ \t]+(\d+)[ \t]*(?:\/\/.*)?$/gm)].map((m) => Number(m[1]));
  return counts.length ? Math.max(...counts) : undefined;
}
