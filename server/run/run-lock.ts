/**
 * An exclusive lock on a run folder while a run writes its journal: `DIR/run.lock`, created
 * with O_EXCL and naming its owner (pid, host, the process's start time). A second run of the
 * same folder (`--resume DIR` twice, two runs with one `--out`) is refused with the owner's
 * name; a lock left by a process that is gone (`kill -9`, a power cut) is taken over.
 *
 * Taking over is guarded by a second O_EXCL file (`run.lock.takeover`, held for a few
 * milliseconds): without it, two processes finding the same stale lock could both remove it —
 * the second removing the first's fresh lock — and both write the journal.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const LOCK_FILE = 'run.lock';

interface Owner {
  pid: number;
  host: string;
  startedAt: string;
  /** The process's start time in clock ticks since boot (Linux), so a reused pid is not taken for the owner. */
  since?: number;
}

/** A run folder held by another live process. */
export class RunLockedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunLockedError';
  }
}

/** A guard older than this belonged to a process that died while taking a lock over. */
const GUARD_STALE_MS = 10_000;

/**
 * Locks `dir` (which must exist) for this process; returns the release function (also run at
 * process exit). @throws RunLockedError naming the live owner and what to do.
 */
export function lockRunFolder(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  const me: Owner = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), since: processStart(process.pid) };
  const text = JSON.stringify(me) + '\n';
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      fs.writeFileSync(file, text, { flag: 'wx' });
      return releaser(file, text);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const seen = readOwner(file);
    if (seen === 'missing') continue;
    if (seen !== 'unreadable' && alive(seen)) throw new RunLockedError(describeOwner(dir, file, seen));
    // A lock being written this instant reads as unreadable: only an old one is stale.
    if (seen === 'unreadable' && ageMs(file) < 2000) {
      sleep(20);
      continue;
    }
    takeOver(file, seen);
  }
  throw new RunLockedError(`${dir}: cannot take the run folder's lock ${file}; remove it if no optstudy process uses this folder`);
}

/** Removes a stale lock under the takeover guard, if it is still the same stale lock. */
function takeOver(file: string, stale: Owner | 'unreadable'): void {
  const guard = `${file}.takeover`;
  try {
    fs.writeFileSync(guard, String(process.pid), { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    if (ageMs(guard) > GUARD_STALE_MS) fs.rmSync(guard, { force: true });
    else sleep(20);
    return;
  }
  try {
    const now = readOwner(file);
    const same = now === 'unreadable' ? stale === 'unreadable' : now !== 'missing' && stale !== 'unreadable' && now.pid === stale.pid && now.startedAt === stale.startedAt;
    if (same) fs.rmSync(file, { force: true });
  } finally {
    fs.rmSync(guard, { force: true });
  }
}

function releaser(file: string, text: string): () => void {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      // Only our own lock: never one another process took over meanwhile.
      if (fs.readFileSync(file, 'utf8') === text) fs.rmSync(file, { force: true });
    } catch {
      /* gone already */
    }
  };
  process.on('exit', release);
  return release;
}

function readOwner(file: string): Owner | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  }
  try {
    const o = JSON.parse(text) as Owner;
    return typeof o.pid === 'number' && typeof o.host === 'string' ? o : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/** Whether the lock's owner still runs. A lock from another machine is assumed alive (it cannot be checked). */
function alive(o: Owner): boolean {
  if (o.host !== os.hostname()) return true;
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  // The pid runs: the owner, unless the pid was reused by a process started later.
  const since = processStart(o.pid);
  return o.since === undefined || since === undefined || since === o.since;
}

function describeOwner(dir: string, file: string, o: Owner): string {
  const where = o.host === os.hostname() ? `process ${o.pid}` : `process ${o.pid} on ${o.host}`;
  return `${dir}: this run folder is in use by optstudy ${where} (since ${o.startedAt}). Wait for that run to end or stop it; if no such process runs any more, remove ${file}.`;
}

/** Field 22 of /proc/PID/stat (start time in clock ticks), or undefined off Linux. */
function processStart(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const v = Number(fields[19]);
    return Number.isFinite(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

function ageMs(file: string): number {
  try {
    return Date.now() - fs.statSync(file).mtimeMs;
  } catch {
    return Infinity;
  }
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
