/**
 * One run in the run host: a separate Node process (`dist/run-host.js`, started with
 * `child_process.fork`) that owns the worker pool, so a runaway strategy or an out-of-memory
 * never takes the editor down. Speaks protocol/run-host.ts over the IPC channel. Cancel asks
 * the host to stop (it keeps the finished trials in the journal and sends `end`); if it has not
 * exited after a grace period it is killed. A host that dies without an `end` event still
 * yields one (`failed`, with the tail of its stderr), so every run ends exactly once.
 * No vscode: tested by driving the real run host.
 */
import { fork, type ChildProcess } from 'node:child_process';
import type { HostMessage, HostRequest } from '../protocol/run-host';
import type { EndEvent, RunEvent } from '../protocol/run-events';

export type RunRequest = Extract<HostRequest, { type: 'run' }>;

export interface RunSessionOptions {
  /** Absolute path of dist/run-host.js. */
  hostPath: string;
  request: RunRequest;
  cwd?: string;
  onEvent: (e: RunEvent) => void;
  /** Milliseconds between Cancel and a forced kill. */
  killAfterMs?: number;
}

export interface RunOutcome {
  end: EndEvent;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

const STDERR_KEEP = 16384;

export class RunSession {
  readonly child: ChildProcess;
  /** Resolves once the host has exited and the run has ended (always resolves). */
  readonly done: Promise<RunOutcome>;
  private ended: EndEvent | undefined;
  private stderr = '';
  private cancelled = false;
  private killTimer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private trials = 0;

  constructor(private readonly o: RunSessionOptions) {
    // A larger young generation: the host's main thread turns every trial into short-lived
    // objects (metrics, events, journal text), and the default one made it scavenge and promote
    // far more (measured: a third less main-thread CPU per trial on a fast grid).
    this.child = fork(o.hostPath, [], { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe', 'ipc'], serialization: 'advanced', execArgv: ['--max-semi-space-size=32'] });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-STDERR_KEEP);
    });
    // The host writes nothing useful to stdout, but a full pipe would block it: drain.
    this.child.stdout?.resume();
    this.child.on('message', (m: HostMessage) => {
      if (!m) return;
      if (m.type === 'events' && Array.isArray(m.events)) for (const e of m.events) this.receive(e);
      else if (m.type === 'event' && m.event) this.receive(m.event);
    });
    this.done = new Promise<RunOutcome>((resolve) => {
      let settled = false;
      const finish = (exitCode: number | null, signal: NodeJS.Signals | null, error?: string) => {
        if (settled) return;
        settled = true;
        if (this.killTimer) clearTimeout(this.killTimer);
        if (!this.ended) {
          const why = error ?? (this.cancelled ? 'cancelled' : `the run host exited (${signal ?? `code ${exitCode}`}) before the run ended${this.stderr.trim() ? `: ${lastLines(this.stderr, 5)}` : ''}`);
          this.ended = { type: 'end', best: null, trials: this.trials, elapsedMs: Date.now() - this.started, status: this.cancelled ? 'cancelled' : 'failed', error: this.cancelled ? undefined : why };
          this.o.onEvent(this.ended);
        }
        resolve({ end: this.ended, exitCode, signal, stderr: this.stderr });
      };
      this.child.on('exit', (code, signal) => finish(code, signal));
      this.child.on('error', (e) => {
        finish(null, null, `could not start the run host (${o.hostPath}): ${e.message}`);
      });
    });
    this.send(o.request);
  }

  private receive(e: RunEvent): void {
    if (this.ended) return; // nothing after the end (a late duplicate would fold twice)
    if (e.type === 'trial') this.trials++;
    if (e.type === 'end') this.ended = e;
    this.o.onEvent(e);
  }

  private send(m: HostRequest): void {
    if (this.child.connected) this.child.send(m, () => undefined);
  }

  /** Asks the host to stop; kills it if it has not exited after the grace period. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.send({ type: 'cancel' });
    this.killTimer = setTimeout(() => this.kill(), this.o.killAfterMs ?? 5000);
    this.killTimer.unref?.();
  }

  /** Ends the host now (extension deactivation, a second Cancel). */
  kill(): void {
    this.cancelled = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  get isCancelled(): boolean {
    return this.cancelled;
  }
}

function lastLines(s: string, n: number): string {
  return s.trim().split('\n').slice(-n).join(' | ');
}
