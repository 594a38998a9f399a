/**
 * Bridge processes started while a run checks its study. A run's checks describe its backtrader
 * strategy (a Python that imports backtrader and the user's script, about a second of CPU), and
 * its workers would then import the same again. Instead the workers start during the checks,
 * and the first describes SPEC itself (Linux: on a file the checks read while they wait): one
 * import per worker, and the other workers' imports use the cores the waiting checks leave
 * idle. Elsewhere they start beside the usual describe step. They wait in the bridge pool
 * (bridge-pool.ts) for the run's executor; ones nobody takes — the checks failed, the run went
 * to Redis, fewer workers than started — stop (PRESTART_IDLE_MS after their start at the
 * latest, once no executor of the strategy is open; and with every strategy process when
 * OptStudy exits, process-groups.ts).
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExternalProcess, type FirstStart, type Launch } from '../external-process';
import { bridgePath, pythonCommand } from './bridge-path';
import { addIdle, idleCount, stopIdle } from './bridge-pool';

export { PRESTART_IDLE_MS } from './bridge-pool';

/** How to start the bridge for a strategy. */
export function bridgeLaunch(spec: string, cwd: string): Launch {
  return { file: pythonCommand(), args: ['-u', bridgePath(), 'serve', spec], cwd, answersOnFd3Only: true, label: `the backtrader bridge for '${spec}'` };
}

/** Starts bridge processes for SPEC in CWD until `count` wait in the pool (the first with `first`); the ones started. */
export function prestartBridges(spec: string, cwd: string, count: number, first?: FirstStart): ExternalProcess[] {
  const started: ExternalProcess[] = [];
  while (idleCount(spec, cwd) < count) {
    let proc: ExternalProcess;
    try {
      proc = new ExternalProcess(bridgeLaunch(spec, cwd));
    } catch {
      break; // no bridge in this installation: the run says so
    }
    if (!proc.start(started.length === 0 ? first : undefined)) break;
    addIdle(spec, cwd, [proc]);
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
  if (process.platform !== 'linux' || idleCount(spec, cwd) > 0) {
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
    if (!text) stopIdle(spec, cwd);
    return text;
  } catch {
    stopIdle(spec, cwd);
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
