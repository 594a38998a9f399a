/**
 * Live bridge processes that no executor holds right now, per strategy (SPEC in its folder):
 * the ones a run's checks started for its workers (prestart.ts), and the ones an executor gave
 * back when it closed or when a single re-run had borrowed one. The run's next step — its
 * out-of-sample re-runs, the next walk-forward fold — takes them instead of starting Python and
 * importing backtrader and the user's script again (about a second each).
 *
 * They wait while an executor of the strategy is open (the run goes on); once none is, they stop
 * after GRACE_MS (PRESTART_IDLE_MS for processes the checks started that no executor came for).
 * A waiting process never keeps OptStudy from exiting, and every strategy process dies with it
 * (process-groups.ts). A run's checks describe the strategy again when its script changed
 * (describe.ts), and then the waiting processes, which run the old script, stop (`stopIdle`).
 */
import * as path from 'node:path';
import type { ExternalProcess } from '../external-process';

/** How long processes wait for a next user once no executor of their strategy is open. */
export const GRACE_MS = 1500;
/** How long processes a run's checks started wait for their run before they are stopped. */
export const PRESTART_IDLE_MS = 30_000;

interface Entry {
  idle: ExternalProcess[];
  /** Open executors of this strategy. */
  users: number;
  timer?: NodeJS.Timeout;
}

const pool = new Map<string, Entry>();

const keyOf = (spec: string, cwd: string): string => `${path.resolve(cwd)}\0${spec.trim()}`;

function entry(spec: string, cwd: string): Entry {
  const key = keyOf(spec, cwd);
  let e = pool.get(key);
  if (!e) pool.set(key, (e = { idle: [], users: 0 }));
  return e;
}

/** Starts the countdown to stopping the waiting processes (none while an executor is open). */
function arm(spec: string, cwd: string, e: Entry, ms: number): void {
  if (e.users > 0) return;
  if (e.timer) clearTimeout(e.timer);
  e.timer = setTimeout(() => {
    e.timer = undefined;
    if (e.users === 0) stopIdle(spec, cwd);
  }, ms);
  e.timer.unref();
}

/** How many processes wait for SPEC in CWD. */
export function idleCount(spec: string, cwd: string): number {
  return pool.get(keyOf(spec, cwd))?.idle.length ?? 0;
}

/** Processes that wait for a user: just started by a run's checks (`prestarted`), or given back. */
export function addIdle(spec: string, cwd: string, procs: ExternalProcess[], prestarted = false): void {
  if (!procs.length) return;
  const e = entry(spec, cwd);
  for (const p of procs) {
    p.hold(false);
    e.idle.push(p);
  }
  if (!prestarted || !e.timer) arm(spec, cwd, e, prestarted ? PRESTART_IDLE_MS : GRACE_MS);
}

/** Up to `count` waiting processes for SPEC in CWD (the earliest first), now the caller's. */
export function takeIdle(spec: string, cwd: string, count: number): ExternalProcess[] {
  const e = pool.get(keyOf(spec, cwd));
  if (!e) return [];
  const out: ExternalProcess[] = [];
  while (out.length < count && e.idle.length) {
    const p = e.idle.shift()!;
    if (!p.idle) {
      void p.close(); // it died while it waited
      continue;
    }
    p.hold(true);
    out.push(p);
  }
  return out;
}

/** Stops the processes waiting for SPEC in CWD (its describe step failed, its script changed, nobody came). */
export function stopIdle(spec: string, cwd: string): void {
  const key = keyOf(spec, cwd);
  const e = pool.get(key);
  if (!e) return;
  if (e.timer) clearTimeout(e.timer);
  e.timer = undefined;
  const idle = e.idle.splice(0);
  if (e.users === 0) pool.delete(key);
  for (const p of idle) void p.close();
}

/**
 * An executor of SPEC in CWD opens: waiting processes stay while it is open. Returns its close:
 * the processes it gives back wait for the next user (those still busy or dead stop).
 */
export function openUser(spec: string, cwd: string): (procs: ExternalProcess[]) => Promise<void> {
  const e = entry(spec, cwd);
  e.users++;
  if (e.timer) clearTimeout(e.timer);
  e.timer = undefined;
  let open = true;
  return async (procs) => {
    if (!open) return;
    open = false;
    e.users--;
    const [keep, stop] = [procs.filter((p) => p.idle), procs.filter((p) => !p.idle)];
    addIdle(spec, cwd, keep);
    if (!keep.length) arm(spec, cwd, e, GRACE_MS);
    await Promise.all(stop.map((p) => p.close()));
  };
}
