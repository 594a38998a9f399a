/**
 * One long-lived external strategy process speaking OptStudy's JSON-lines protocol
 * (../shared/DESIGN.md, "External strategy protocol"): requests on stdin, one answer per
 * request, matched by `id`, in any order.
 *
 * Answers come on a dedicated pipe, file descriptor 3 (its number is in the environment as
 * `OPTSTUDY_ANSWER_FD`), or — for command strategies written before it existed — as JSON lines
 * on stdout. A process that has written on fd 3 once is read there only; its stdout is then
 * log like its stderr (a process claims fd 3 from the start by writing `{}` there). On stdout, a line is an answer only when it is a JSON object with the
 * `id` of a request in flight on this very process and a `metrics` object or an `error`
 * string: a strategy that prints `{"id": …}` of its own cannot answer for a trial.
 *
 * Every process has its own reader state, and an answer counts only for a request sent to that
 * process: whatever a killed or replaced process still writes is dropped, never read as the
 * next process's answer. Output is bounded (long lines dropped, at most MAX_NOISE bytes per
 * trial), and the process runs as a process-group leader whose whole group is killed on
 * timeout, cancel and close (process-groups.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Metrics } from '../../protocol/run-events';
import { LineReader, parseJsonLine } from './line-reader';
import { killGroup, trackGroup } from './process-groups';

/** How to start the process. */
export interface Launch {
  /** A command line run through the shell (`strategy NAME command "…"`, a trusted workspace only)… */
  command?: string;
  /** …or an executable and its arguments, without a shell. */
  file?: string;
  args?: string[];
  /** The study file's folder. */
  cwd: string;
  env?: Record<string, string>;
  /** True: answers only on fd 3 (the backtrader bridge); stdout is the strategy's own output. */
  answersOnFd3Only?: boolean;
  /** How the process is named in messages. */
  label: string;
}

/** Extra descriptors (numbered from 4) and environment for one start of a process. */
export interface FirstStart {
  fds?: number[];
  env?: Record<string, string>;
}

/** A successful answer: the metrics as sent, and the whole answer object for richer protocols. */
export type ExternalAnswer = { metrics: Metrics; body: Record<string, unknown>; log?: string } | { error: string; log?: string };

interface Proc {
  child: ChildProcess;
  /** Whether it has answered anything yet (see STARTUP_GRACE_MS). */
  warm: boolean;
  /** It has written on fd 3: its stdout is log only. */
  fd3: boolean;
  /** Output written while no request of it was in flight (start-up messages, a crash). */
  orphanLog: string;
}

interface Pending {
  proc: Proc;
  resolve: (a: ExternalAnswer) => void;
  timer: NodeJS.Timeout | null;
  log: string;
  /** Bytes of output (not answers) written while this request was in flight. */
  noise: number;
  onAbort?: () => void;
  signal?: AbortSignal;
  /** Its answer, kept until the output written beside it is read (see settleAnswered). */
  answer?: ExternalAnswer;
}

/** Keeps the tail of a log: a chatty strategy must not grow the journal without bound. */
const MAX_LOG = 8 * 1024;
/** The longest answer line read (a long equity curve fits); longer lines are dropped. */
export const MAX_LINE = 16 * 1024 * 1024;
/** Output allowed per trial before the trial fails and the process is restarted. */
export const MAX_NOISE = 64 * 1024 * 1024;

/**
 * Extra time for the first answer of a freshly started process: starting an interpreter and
 * importing a framework (backtrader takes about a second) is not part of the trial.
 */
export const STARTUP_GRACE_MS = 15_000;

export class ExternalProcess {
  private proc: Proc | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;
  /** Why the last start failed, for the next failure's message. */
  private startError = '';

  constructor(private readonly launch: Launch) {}

  /**
   * Sends one request; resolves with its answer, or an error answer on timeout, exit, abort or
   * close. Never rejects. An abort kills the process (a backtest in flight cannot be stopped
   * otherwise); the next request starts a new one.
   */
  request(body: Record<string, unknown>, timeoutMs?: number, signal?: AbortSignal): Promise<ExternalAnswer> {
    if (this.closed) return Promise.resolve({ error: 'the run is closing' });
    if (signal?.aborted) return Promise.resolve({ error: 'the run was cancelled' });
    const proc = this.ensureStarted();
    if (!proc) return Promise.resolve({ error: `cannot start ${this.launch.label}${this.startError ? `: ${this.startError}` : ''}` });
    const id = this.nextId++;
    return new Promise<ExternalAnswer>((resolve) => {
      const p: Pending = { proc, resolve, timer: null, log: '', noise: 0 };
      if (timeoutMs && timeoutMs > 0) {
        const limit = proc.warm ? timeoutMs : timeoutMs + STARTUP_GRACE_MS;
        p.timer = setTimeout(() => {
          // A process that does not answer in time may be stuck for good: replace it.
          this.settle(id, { error: `no answer within ${timeoutMs} ms${proc.warm ? '' : ' (plus the start-up allowance)'}; the process was restarted` });
          this.stop(proc);
        }, limit);
      }
      if (signal) {
        p.signal = signal;
        p.onAbort = () => {
          this.settle(id, { error: 'the run was cancelled' });
          this.stop(proc);
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(id, p);
      proc.child.stdin!.write(JSON.stringify({ id, ...body }) + '\n', (err) => {
        if (err) this.settle(id, { error: `cannot write to ${this.launch.label}: ${err.message}` });
      });
    });
  }

  /** Stops the process: stdin is closed first so a well-behaved strategy exits by itself. */
  async close(): Promise<void> {
    this.closed = true;
    const proc = this.proc;
    for (const id of [...this.pending.keys()]) this.settle(id, { error: 'the run is closing' });
    if (!proc) return;
    const child = proc.child;
    child.stdin?.end();
    // Whatever is still running after a second (a hung interpreter, a grandchild of the
    // shell) is killed with its group.
    await new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(resolve, 1000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
    });
    this.stop(proc);
  }

  /**
   * Starts the process now rather than at the first request (an interpreter and its imports
   * then load while the caller does other work). False when it cannot start. `first`: extra
   * descriptors and environment for this start only (a restart gets the plain launch).
   */
  start(first: FirstStart = {}): boolean {
    return !this.closed && this.ensureStarted(first) !== null;
  }

  /** Whether the process runs and has no request in flight (it may then serve another executor). */
  get idle(): boolean {
    return !this.closed && this.proc !== null && this.proc.child.exitCode === null && this.proc.child.signalCode === null && this.pending.size === 0;
  }

  /**
   * Whether the process keeps OptStudy's event loop alive: one that waits for a next executor
   * (bridge-pool.ts) must not hold OptStudy open; one in use must.
   */
  hold(on: boolean): void {
    const child = this.proc?.child;
    if (!child) return;
    if (on) child.ref();
    else child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr, child.stdio[3]] as (({ ref?(): void; unref?(): void } & object) | null | undefined)[]) {
      if (on) s?.ref?.();
      else s?.unref?.();
    }
  }

  /** The running process's id (tests). */
  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  private ensureStarted(first: FirstStart = {}): Proc | null {
    if (this.proc) return this.proc;
    const { launch } = this;
    let child: ChildProcess;
    try {
      const options = {
        cwd: launch.cwd,
        // Its own process group (see process-groups.ts).
        detached: process.platform !== 'win32',
        stdio: ['pipe', 'pipe', 'pipe', 'pipe', ...(first.fds ?? [])] as ('pipe' | number)[],
        env: { ...process.env, ...launch.env, ...first.env, OPTSTUDY_PROTOCOL: '1', OPTSTUDY_ANSWER_FD: '3' },
      };
      child = launch.file ? spawn(launch.file, launch.args ?? [], options) : spawn(launch.command ?? '', { ...options, shell: true });
    } catch (e) {
      this.startError = (e as Error).message;
      return null;
    }
    const proc: Proc = { child, warm: false, fd3: false, orphanLog: '' };
    this.proc = proc;
    trackGroup(child);
    const drop = (n: number, first: boolean): void => this.output(proc, first ? `[optstudy: dropped an output line longer than ${MAX_LINE >> 20} MiB]\n` : '', n);
    const stdout = new LineReader(MAX_LINE, (line) => this.onStdoutLine(proc, line), drop);
    const answers = new LineReader(MAX_LINE, (line) => this.onAnswerLine(proc, line), drop);
    const pipe = (s: Readable | null | undefined, on: (chunk: string) => void): void => {
      if (!s) return;
      s.setEncoding('utf8');
      s.on('data', on);
      s.on('error', () => {});
    };
    pipe(child.stdout, (c) => stdout.push(c));
    pipe(child.stderr, (c) => this.output(proc, c, c.length));
    pipe(child.stdio[3] as Readable | undefined, (c) => {
      proc.fd3 = true;
      answers.push(c);
    });
    child.stdin!.on('error', () => {
      /* EPIPE when the process died: reported through 'exit' */
    });
    child.on('error', (e) => {
      proc.orphanLog = (proc.orphanLog + `${e.message}\n`).slice(-MAX_LOG);
    });
    child.on('exit', (code, signal) => this.onExit(proc, code, signal));
    return proc;
  }

  private onExit(proc: Proc, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.proc === proc) this.proc = null;
    const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
    for (const [id, p] of [...this.pending.entries()]) {
      if (p.proc !== proc) continue;
      const tail = (p.log || proc.orphanLog).trim().split('\n').slice(-3).join(' | ');
      this.settle(id, { error: `${this.launch.label} ${how}${tail ? `: ${tail}` : ''}` });
    }
  }

  /** A stdout line: an answer only for a process that speaks on stdout, else the trial's log. */
  private onStdoutLine(proc: Proc, line: string): void {
    if (!proc.fd3 && !this.launch.answersOnFd3Only && line.trimStart().startsWith('{') && this.answer(proc, line, false)) return;
    this.output(proc, line + '\n', line.length + 1);
  }

  /** A line on the answer channel: nothing else writes there, so it must be an answer. */
  private onAnswerLine(proc: Proc, line: string): void {
    if (!line.trim() || this.answer(proc, line, true)) return;
    if (/^\s*\{\s*\}\s*$/.test(line)) return; // the hello a process may send to claim fd 3 before its first answer
    proc.orphanLog = (proc.orphanLog + `[optstudy: not an answer on fd 3: ${line.slice(0, 200)}]\n`).slice(-MAX_LOG);
  }

  /** Settles the request a line answers; false when the line answers nothing in flight on `proc`. */
  private answer(proc: Proc, line: string, strict: boolean): boolean {
    const msg = parseJsonLine(line) as { id?: unknown; metrics?: unknown; error?: unknown; traceback?: unknown } | undefined;
    if (msg === undefined) {
      // Not JSON even with NaN/Infinity read: fail the trial it names rather than wait forever.
      const m = /^\s*\{\s*"id"\s*:\s*(\d+)\s*,\s*"(?:metrics|error|record)"\s*:/.exec(line);
      const id = m ? Number(m[1]) : NaN;
      if (!this.ownPending(proc, id)) return false;
      this.settle(id, { error: `unreadable answer ${id} (not JSON): ${line.slice(0, 200)}` });
      return true;
    }
    if (!msg || typeof msg !== 'object' || Array.isArray(msg) || typeof msg.id !== 'number' || !this.ownPending(proc, msg.id)) return false;
    const hasMetrics = msg.metrics !== null && typeof msg.metrics === 'object' && !Array.isArray(msg.metrics);
    if (typeof msg.error !== 'string' && !hasMetrics) {
      if (!strict) return false; // a print of the strategy's own that happens to have an "id"
      this.settle(msg.id, { error: `answer ${msg.id} has neither "metrics" nor "error"` });
      return true;
    }
    proc.warm = true;
    // A traceback (the backtrader bridge sends one) follows the message, for the trial's detail.
    if (typeof msg.error === 'string') this.settleAnswered(msg.id, { error: typeof msg.traceback === 'string' && msg.traceback.trim() ? `${msg.error}\n${msg.traceback.trimEnd()}` : msg.error });
    else this.settleAnswered(msg.id, { metrics: cleanMetrics(msg.metrics as Record<string, unknown>), body: msg as Record<string, unknown> });
    return true;
  }

  /**
   * Settles an answered request after this turn of the event loop: stderr written BEFORE the
   * answer may be read just after it (two pipes, one poll), and it belongs to this trial's log,
   * not the next one's. The request stops timing out and stays in flight only for that turn.
   */
  private settleAnswered(id: number, answer: ExternalAnswer): void {
    const p = this.pending.get(id);
    if (!p || p.answer) return;
    p.answer = answer;
    if (p.timer) clearTimeout(p.timer);
    setImmediate(() => this.settle(id, answer));
  }

  private ownPending(proc: Proc, id: number): boolean {
    return this.pending.get(id)?.proc === proc;
  }

  /** Output that is not an answer: the log of the requests in flight on `proc`, bounded. */
  private output(proc: Proc, text: string, bytes: number): void {
    let any = false;
    for (const [id, p] of [...this.pending.entries()]) {
      if (p.proc !== proc) continue;
      any = true;
      p.log = (p.log + text).slice(-MAX_LOG);
      p.noise += bytes;
      if (p.noise > MAX_NOISE) {
        this.settle(id, { error: `${this.launch.label} wrote more than ${MAX_NOISE >> 20} MiB without answering; the process was restarted` });
        this.stop(proc);
      }
    }
    if (!any) proc.orphanLog = (proc.orphanLog + text).slice(-MAX_LOG);
  }

  private settle(id: number, answer: ExternalAnswer): void {
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (p.timer) clearTimeout(p.timer);
    if (p.onAbort) p.signal!.removeEventListener('abort', p.onAbort);
    const final = p.answer ?? answer; // an exit or a cancel after the answer does not undo it
    const log = p.log || undefined;
    p.resolve(log ? { ...final, log } : final);
  }

  /** Kills a process (its whole group); the next request starts a new one. */
  private stop(proc: Proc): void {
    if (this.proc === proc) this.proc = null;
    killGroup(proc.child);
  }
}

/**
 * Keeps numbers and nulls: a metric that is not a finite number (NaN, ±Infinity, "inf") is
 * undefined (`null`), so the trial stays complete and an objective over it is infeasible.
 */
export function cleanMetrics(raw: Record<string, unknown>): Metrics {
  const out: Metrics = {};
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v === 'number') out[k] = Number.isFinite(v) ? v : null;
    else if (v === null || v === 'inf' || v === '-inf' || v === 'nan' || v === 'Infinity' || v === '-Infinity' || v === 'NaN') out[k] = null;
    else if (typeof v === 'boolean') out[k] = v ? 1 : 0;
  }
  return out;
}
