/**
 * One long-lived external strategy process speaking OptStudy's JSON-lines protocol
 * (../shared/DESIGN.md, "External strategy protocol"): requests on stdin, one answer per
 * request on stdout, matched by `id`, in any order. Lines that are not answers are ignored;
 * stderr is kept and attached to the trial that was running when it was written.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Metrics } from '../../protocol/run-events';

/** What OptStudy sends for one trial (the `id` is added here). */
export interface ExternalRequest {
  params: Record<string, number | string | boolean>;
  data: string;
  from: string | null;
  to: string | null;
  cash: number;
  commission: number;
  sizing: { kind: 'fixed' | 'percent'; value: number };
}

export type ExternalAnswer = { metrics: Metrics; log?: string } | { error: string; log?: string };

interface Pending {
  /** The process the request went to: a late 'exit' of a replaced process must not fail its successor's requests. */
  child: ChildProcess;
  resolve: (a: ExternalAnswer) => void;
  timer: NodeJS.Timeout | null;
  log: string;
}

/** Keeps the tail of a log: a chatty strategy must not grow the journal without bound. */
const MAX_LOG = 8 * 1024;

/**
 * Extra time for the first answer of a freshly started process: starting an interpreter and
 * importing a framework (backtrader takes about a second) is not part of the trial.
 */
export const STARTUP_GRACE_MS = 15_000;

export class ExternalProcess {
  private child: ChildProcess | null = null;
  private buffer = '';
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** stderr written while no request was in flight (start-up messages): shown with the next failure. */
  private orphanLog = '';
  private closed = false;
  /** Whether the running process has answered anything yet (see STARTUP_GRACE_MS). */
  private warm = false;

  /**
   * @param command the command line, run through the shell in `cwd` (a trusted workspace only)
   * @param cwd the study file's folder
   */
  constructor(
    private readonly command: string,
    private readonly cwd: string,
  ) {}

  /** Sends one request; resolves with its answer, or an error answer on timeout or exit. Never rejects. */
  request(req: ExternalRequest, timeoutMs?: number): Promise<ExternalAnswer> {
    if (this.closed) return Promise.resolve({ error: 'the run is closing' });
    const child = this.ensureStarted();
    if (!child) return Promise.resolve({ error: `cannot start '${this.command}'` });
    const id = this.nextId++;
    return new Promise<ExternalAnswer>((resolve) => {
      const p: Pending = { child, resolve, timer: null, log: '' };
      if (timeoutMs && timeoutMs > 0) {
        const limit = this.warm ? timeoutMs : timeoutMs + STARTUP_GRACE_MS;
        p.timer = setTimeout(() => {
          // A process that does not answer in time may be stuck for good: replace it.
          this.settle(id, { error: `no answer within ${timeoutMs} ms${this.warm ? '' : ' (plus the start-up allowance)'}; the process was restarted` });
          this.kill();
        }, limit);
      }
      this.pending.set(id, p);
      child.stdin!.write(JSON.stringify({ id, ...req }) + '\n', (err) => {
        if (err) this.settle(id, { error: `cannot write to '${this.command}': ${err.message}` });
      });
    });
  }

  /** Stops the process (its stdin is closed first so a well-behaved strategy exits by itself). */
  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    if (!child) return;
    for (const id of [...this.pending.keys()]) this.settle(id, { error: 'the run is closing' });
    child.stdin?.end();
    // A well-behaved strategy exits when its stdin closes; whatever is still running after a
    // second (a hung interpreter, a grandchild of the shell) is killed with its group.
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(resolve, 1000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    killTree(child);
  }

  private ensureStarted(): ChildProcess | null {
    if (this.child) return this.child;
    let child: ChildProcess;
    try {
      child = spawn(this.command, {
        cwd: this.cwd,
        shell: true,
        // Its own process group: the shell may start the interpreter as a grandchild (pyenv
        // shims, wrappers), and a kill must reach the whole group, not only the shell.
        detached: process.platform !== 'win32',
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, OPTSTUDY_PROTOCOL: '1' },
      });
    } catch (e) {
      this.orphanLog += `cannot start: ${(e as Error).message}\n`;
      return null;
    }
    this.child = child;
    this.buffer = '';
    this.warm = false;
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => this.onStdout(chunk));
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => this.onStderr(chunk));
    child.stdin!.on('error', () => {
      /* EPIPE when the process died: reported through 'exit' */
    });
    child.on('error', (e) => {
      this.orphanLog += `${e.message}\n`;
    });
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = null;
      killTree(child); // the shell is gone: leave nothing of its group behind
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      for (const [id, p] of [...this.pending.entries()]) {
        if (p.child !== child) continue;
        const log = p.log || this.orphanLog;
        const tail = log.trim().split('\n').slice(-3).join(' | ');
        this.settle(id, { error: `the strategy process ${how}${tail ? `: ${tail}` : ''}` });
      }
    });
    return child;
  }

  private onStdout(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line.startsWith('{')) continue; // the protocol ignores other lines (prints, progress)
      let msg: { id?: unknown; metrics?: unknown; error?: unknown };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        continue;
      }
      if (typeof msg.id !== 'number' || !this.pending.has(msg.id)) continue;
      this.warm = true;
      if (typeof msg.error === 'string') this.settle(msg.id, { error: msg.error });
      else if (msg.metrics && typeof msg.metrics === 'object') this.settle(msg.id, { metrics: cleanMetrics(msg.metrics as Record<string, unknown>) });
      else this.settle(msg.id, { error: `answer ${msg.id} has neither "metrics" nor "error"` });
    }
  }

  private onStderr(chunk: string): void {
    if (this.pending.size === 0) {
      this.orphanLog = (this.orphanLog + chunk).slice(-MAX_LOG);
      return;
    }
    for (const p of this.pending.values()) p.log = (p.log + chunk).slice(-MAX_LOG);
  }

  private settle(id: number, answer: ExternalAnswer): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    const log = p.log || undefined;
    p.resolve(log ? { ...answer, log } : answer);
  }

  private kill(): void {
    const child = this.child;
    this.child = null;
    if (child) killTree(child);
  }
}

/** Kills a strategy process and everything it started (its process group). */
function killTree(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === 'win32') child.kill('SIGKILL');
    else process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL'); // the group is gone already, or was never made
  }
}

/** Keeps numbers and nulls: a metric that is not a finite number is undefined (`null`). */
function cleanMetrics(raw: Record<string, unknown>): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'number') out[k] = Number.isFinite(v) ? v : null;
    else if (v === null) out[k] = null;
    else if (v === 'inf' || v === 'Infinity') out[k] = null;
  }
  return out;
}
