/**
 * The run host (dist/run-host.js): a process forked by the CLI or the extension that owns the
 * worker pool, so a runaway strategy or an out-of-memory never takes the editor down and a
 * cancel can always end it. It speaks `protocol/run-host.ts` over the IPC channel: the parent
 * sends `{type:'run', …}` then maybe `{type:'cancel'}`; the host answers every run event as
 * `{type:'event', event}` and exits after `end`. A parent that goes away cancels the run.
 */
import type { HostMessage, HostRequest } from '../../protocol/run-host';
import type { EndEvent, RunEvent } from '../../protocol/run-events';
import { runStudy, StudyError, type RunOptions } from './run-study';

/** Optional analysis (server/analysis), loaded when that module is built into this bundle. */
type Analyze = NonNullable<RunOptions['analyze']>;

function send(msg: HostMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(msg, undefined, {}, () => resolve());
  });
}

/** Runs one request; resolves with the end event after every event was sent. */
export async function host(req: Extract<HostRequest, { type: 'run' }>, signal: AbortSignal, analyze?: Analyze): Promise<EndEvent> {
  let chain = Promise.resolve();
  const emit = (event: RunEvent): void => {
    chain = chain.then(() => send({ type: 'event', event }));
  };
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
        redis: req.redis,
        analyze,
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
  await chain;
  return end;
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
      void host(m, ac.signal, analyze).then(() => {
        process.disconnect?.();
        process.exit(0);
      });
    }
  });
  process.on('disconnect', () => ac.abort());
  process.on('SIGINT', () => ac.abort());
  process.on('SIGTERM', () => ac.abort());
}
