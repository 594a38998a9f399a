/**
 * Strategy processes run as leaders of their own process groups (spawned `detached`), because
 * a shell may start the interpreter as a grandchild (pyenv shims, wrappers) and a kill must
 * reach the whole group. This module keeps the live groups so that every way OptStudy ends —
 * a run's close, a timeout, a cancel, `process.exit` after a second Ctrl-C — kills them all:
 * nothing may keep running under PID 1 (#21 finding 8).
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

/** Registers a spawned group leader; it leaves the registry when it exits. */
export function trackGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  live.add(child);
  child.once('exit', () => {
    // The leader is gone, but what it started may still run in its group.
    killGroup(child);
    live.delete(child);
  });
  if (!hooked) {
    hooked = true;
    // Synchronous: 'exit' handlers cannot wait. Covers process.exit() and a normal end.
    process.on('exit', killStrategyProcesses);
  }
}

/** Kills a strategy process and everything in its process group (SIGKILL). */
export function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill('SIGKILL');
    else process.kill(-child.pid, 'SIGKILL');
  } catch {
    // The group is gone already (or was never made): the leader alone, if still there.
    try {
      child.kill('SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/**
 * Kills every strategy process group still alive. The hook for whoever ends the process
 * abruptly (a second SIGINT/SIGTERM): call it before exiting. Runs by itself on 'exit'.
 */
export function killStrategyProcesses(): void {
  for (const child of live) killGroup(child);
  live.clear();
}

/** Live strategy process groups (for tests and diagnostics). */
export function liveGroups(): number {
  return live.size;
}
