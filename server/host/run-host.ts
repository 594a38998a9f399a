/**
 * The run host (dist/run-host.js): a process forked by the CLI or the extension that owns the
 * worker pool, so a runaway strategy or an out-of-memory never takes the editor down and a
 * cancel can always end it. It speaks `protocol/run-host.ts` over the IPC channel: the parent
 * sends `{type:'run', …}` then maybe `{type:'cancel'}`; the host answers with the run events,
 * batched (`{type:'events', events}`, about one message per 100 ms), and exits after `end`. A parent that goes away cancels the run;
 * one that reads slowly holds it back (EventBatcher.ready).
 */
import type { HostMessage, HostRequest } from '../../protocol/run-host';
import type { EndEvent, RunEvent } from '../../protocol/run-events';
import { runStudy, StudyError, type RunOptions } from '../run/run-study';
import { killStrategyProcesses } from '../strategies/process-groups';
import { chooseExecutor, hostCheckOptions } from './executors';

/** Optional analysis (server/analysis), loaded when that module is built into this bundle. */
type Analyze = NonNullable<RunOptions['analyze']>;

function send(msg: HostMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

/** Longest a trial event waits in the host before it is sent. */
export const BATCH_MS = 100;

/**
 * Events that may wait behind the message in flight before the run waits for the parent
 * (RunListener.ready): a parent that reads slowly holds the run back instead of the host
 * holding its output (a trial event is a few KB; a 10M grid makes tens of GB).
 */
export const MAX_QUEUED = 4096;

/**
 * Sends events in batches: at most one IPC message in flight, and at most one per BATCH_MS
 * while trials stream, so the channel and the parent's event loop never drown in one message
 * per trial (a fast grid makes thousands a second) and a cancel or the end is never stuck
 * behind a backlog. Events other than trials and progress (start, stage, log, end) go out at once.
 */
export class EventBatcher {
  private queue: RunEvent[] = [];
  private inFlight = false;
  private timer: NodeJS.Timeout | null = null;
  private lastSent = 0;
  private idle: (() => void)[] = [];

  constructor(private readonly post: (msg: HostMessage) => Promise<void>) {}

  push(e: RunEvent): void {
    this.queue.push(e);
    if (e.type === 'trial' || e.type === 'progress' || e.type === 'analysis') this.schedule();
    else this.flush();
  }

  private schedule(): void {
    if (this.timer || this.inFlight) return;
    const wait = Math.max(0, BATCH_MS - (Date.now() - this.lastSent));
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, wait);
  }

  private flush(): void {
    if (this.inFlight || this.queue.length === 0) {
      if (!this.inFlight && this.queue.length === 0) this.resolveIdle();
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const events = this.queue;
    this.queue = [];
    this.inFlight = true;
    this.lastSent = Date.now();
    void this.post(events.length === 1 ? { type: 'event', event: events[0]! } : { type: 'events', events }).then(() => {
      this.inFlight = false;
      // What arrived meanwhile: ends, stages and logs at once, trials after the interval.
      if (this.queue.some((e) => e.type !== 'trial' && e.type !== 'progress' && e.type !== 'analysis')) this.flush();
      else if (this.queue.length) this.schedule();
      else this.resolveIdle();
    });
  }

  private resolveIdle(): void {
    const w = this.idle;
    this.idle = [];
    for (const f of w) f();
  }

  /** While more than MAX_QUEUED events wait: settles once every one was sent. Null: go on. */
  ready(): Promise<void> | null {
    return this.queue.length > MAX_QUEUED ? this.drain() : null;
  }

  /** Resolves once every pushed event was sent. */
  drain(): Promise<void> {
    if (!this.inFlight && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.idle.push(resolve);
      if (!this.inFlight) this.flush();
    });
  }
}

/** Runs one request; resolves with the end event after every event was sent. */
export async function host(req: Extract<HostRequest, { type: 'run' }>, signal: AbortSignal, analyze?: Analyze): Promise<EndEvent> {
  const batcher = new EventBatcher(send);
  const emit = Object.assign((event: RunEvent): void => batcher.push(event), { ready: () => batcher.ready() });
  let end: EndEvent;
  try {
    end = await runStudy(
      {
        file: req.file,
        study: req.study,
        stage: req.stage,
        workers: req.workers,
        seed: req.seed,
        out: req.out,
        resume: req.resume,
        trusted: req.trusted,
        confine: { root: req.workspaceRoot },
        redis: req.redis,
        analyze,
        createExecutor: chooseExecutor,
        checkOptions: hostCheckOptions,
      },
      emit,
      signal,
    );
  } catch (e) {
    const message = e instanceof StudyError ? e.findings.join('\n') : e instanceof Error ? (e.stack ?? e.message) : String(e);
    if (e instanceof StudyError) for (const f of e.findings) emit({ type: 'log', level: 'error', message: f });
    end = { type: 'end', best: null, trials: 0, elapsedMs: 0, status: 'failed', error: message };
    emit(end);
  }
  await batcher.drain();
  return end;
}

/** How long the host may wait, its run over, for its event loop to run dry before it is ended. */
const END_GRACE_MS = 2000;

/**
 * Ends the host once its run is over and its `end` sent. Node's own exit (the event loop runs
 * dry) disposes V8's isolate before its platform, so a TurboFan compile still running on a
 * background thread is finished or dropped first; `process.exit()` takes the platform down
 * around such a job. That is the likely cause of the one SIGABRT seen here: the host died in
 * `OptimizingCompileDispatcher::CompileTask` right after a cancelled run's end, in 1 of ~120
 * runs of client-run-host.test.ts's cancel test (none in 150 since). Node's documentation, too,
 * prefers `process.exitCode` to `process.exit()`. The loop runs dry 6–40 ms after the `end`;
 * should something still hold it (a worker that did not stop), `process.exit()` ends the host
 * after END_GRACE_MS: it never outlives its run.
 */
function endHost(): void {
  process.disconnect?.();
  process.exitCode = 0;
  setTimeout(() => process.exit(0), END_GRACE_MS).unref();
}

if (require.main === module) {
  const ac = new AbortController();
  let started = false;
  let analyze: Analyze | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require('../analysis') as { analyzeTrials?: (t: unknown[], s: unknown, o: unknown) => ReturnType<Analyze> };
    if (typeof mod.analyzeTrials === 'function') {
      const f = mod.analyzeTrials;
      analyze = (trials, start, final) => f(trials, start, { final });
    }
  } catch {
    analyze = undefined;
  }
  process.on('message', (m: HostRequest) => {
    if (m?.type === 'cancel') ac.abort();
    else if (m?.type === 'run' && !started) {
      started = true;
      void host(m, ac.signal, analyze).then(endHost);
    }
  });
  // A parent that goes away, or a first signal, cancels (the run ends with its `end`); a second
  // signal quits at once — strategy processes' groups are killed on the way out.
  let signals = 0;
  const onSignal = (): void => {
    if (++signals > 1) {
      killStrategyProcesses();
      process.exit(1);
    }
    ac.abort();
  };
  process.on('disconnect', () => ac.abort());
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
