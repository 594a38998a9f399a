/**
 * Live bridge processes that no executor holds right now, per strategy (SPEC in its folder):
 * the ones a run's checks started for its workers (prestart.ts), and the ones an executor gave
 * back when it closed or when a single re-run had borrowed one. The run's next step — its
 * out-of-sample re-runs, the next walk-forward fold — takes them instead of starting Python and
 * importing backtrader and the user's script again (about a second each).
 *
 * They wait while an executor of the strategy is open (the run goes on: its out-of-sample
 * executor is made before the run's own closes, run-study.ts); when the last one closes, they
 * stop with its own, cleanly (stdin closed, awaited). Processes the checks started that no
 * executor came for stop after PRESTART_IDLE_MS. A waiting process never keeps OptStudy from
 * exiting, and every strategy process dies with it (process-groups.ts). A run's checks describe
 * the strategy again when its script changed (describe.ts), and then the waiting processes,
 * which run the old script, stop (`stopIdle`).
 */
import * as path from 'node:path';
import type { ExternalProcess } from '../external-process';

/** How long processes wait for an executor while none is open (the run's checks started them). */
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

/** Starts the countdown to stopping the waiting processes, unless one runs or an executor is open. */
function arm(spec: string, cwd: string, e: Entry): void {
  if (e.users > 0 || e.timer) return;
  e.timer = setTimeout(() => {
    e.timer = undefined;
    if (e.users === 0) stopIdle(spec, cwd);
  }, PRESTART_IDLE_MS);
  e.timer.unref();
}

/** How many processes wait for SPEC in CWD. */
export function idleCount(spec: string, cwd: string): number {
  return pool.get(keyOf(spec, cwd))?.idle.length ?? 0;
}

/** Processes that wait for a user: just started by a run's checks, or given back by an open executor. */
export function addIdle(spec: string, cwd: string, procs: ExternalProcess[]): void {
  if (!procs.length) return;
  const e = entry(spec, cwd);
  for (const p of procs) {
    p.hold(false);
    e.idle.push(p);
  }
  arm(spec, cwd, e);
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
  for (const p of drain(spec, cwd)) void p.close();
}

/** The processes waiting for SPEC in CWD, taken out of the pool (to stop them). */
function drain(spec: string, cwd: string): ExternalProcess[] {
  const key = keyOf(spec, cwd);
  const e = pool.get(key);
  if (!e) return [];
  if (e.timer) clearTimeout(e.timer);
  e.timer = undefined;
  if (e.users === 0) pool.delete(key);
  return e.idle.splice(0);
}

/**
 * An executor of SPEC in CWD opens: waiting processes stay while it is open. Returns its close:
 * the processes it gives back wait for the next user while another executor is open (those
 * busy or dead stop); the last executor's close stops them all and waits for them.
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
    const stop = e.users > 0 ? procs.filter((p) => !p.idle) : [...procs, ...drain(spec, cwd)];
    if (e.users > 0) addIdle(spec, cwd, procs.filter((p) => p.idle));
    await Promise.all(stop.map((p) => p.close()));
  };
}
