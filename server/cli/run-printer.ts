/**
 * What `optstudy run` prints while a run goes: with `--json` every event as one JSON line (trial
 * lines are the journal's own bytes, gathered and written at most FLUSH_MS apart); on a
 * terminal the start line, a progress bar (rate, ETA, best so far), each stage's best and the
 * logs, keeping the top 10 for the final table — from a batch's scores, making an event only
 * for a trial that enters the top 10.
 */
import type { RunEvent, StartEvent, TrialSummary } from '../../protocol/run-events';
import { FLUSH_MS } from '../run/journal';
import { fmtDuration, fmtParams, fmtScore, progressLine, TopK } from '../run/render';
import type { RunListener, TrialBatch } from '../run/run-study';
import type { CliIo } from './main';

export interface Printer {
  listener: RunListener;
  /** The run's start event, once seen. */
  start(): StartEvent | null;
  /** The best trials by the first objective (terminal printer). */
  top(): TrialSummary[];
  /** Writes what is still gathered, and clears the progress bar. */
  close(): void;
}

/** Output a --json reader may leave unread before the run waits for it (a 10M grid writes ~20 GB): far more than a pipe holds, a small part of the memory budget. */
const BACKLOG_BYTES = 4 << 20;

export function jsonPrinter(io: CliIo): Printer {
  let pending: (string | Uint8Array)[] = [];
  let size = 0;
  let last = Date.now();
  let timer: NodeJS.Timeout | null = null;
  let start: StartEvent | null = null;
  const flush = (): void => {
    if (timer) clearTimeout(timer);
    timer = null;
    for (const p of pending) io.out(p);
    pending = [];
    size = 0;
    last = Date.now();
  };
  const push = (p: string | Uint8Array, now: boolean): void => {
    pending.push(p);
    size += p.length;
    if (now || size > 256 * 1024 || Date.now() - last >= FLUSH_MS) flush();
    // Trials gathered now are written by the next event — or by this timer when none comes (the
    // rest of the batch hangs): a reader must see every finished trial, whatever comes next.
    else timer ??= setTimeout(flush, FLUSH_MS);
  };
  const listener = Object.assign(
    (e: RunEvent): void => {
      if (e.type === 'analysis') return;
      if (e.type === 'start') start = e;
      push(JSON.stringify(e) + '\n', e.type !== 'trial');
    },
    {
      trials: (b: TrialBatch): void => push(b.bytes, false),
      // More than BACKLOG_BYTES written and not yet read: the run waits for the reader.
      ready: (): Promise<void> | null => (io.backlog && io.backlog.bytes() > BACKLOG_BYTES ? io.backlog.drained() : null),
    },
  );
  return { listener, start: () => start, top: () => [], close: flush };
}

export function terminalPrinter(io: CliIo, tty: boolean): Printer {
  const top = new TopK(10);
  let start: StartEvent | null = null;
  let best: TrialSummary | null = null;
  let barShown = false;
  let maximize = true;
  const width = Math.max(60, (process.stderr.columns ?? 100) - 1);
  const clearBar = (): void => {
    if (barShown) io.err('\r\x1b[2K');
    barShown = false;
  };
  const onEvent = (e: RunEvent): void => {
    switch (e.type) {
      case 'start':
        start = e;
        maximize = (e.directions?.[0] ?? 'maximize') === 'maximize';
        io.out(
          `${e.resumed ? 'Resuming' : 'Running'} '${e.study}': ${e.stages.map((s) => `${s.name} (${s.method}, ${s.size})`).join(', ')} — ${e.total} trials on ${e.workers} worker${e.workers === 1 ? '' : 's'}, seed ${e.seed}\n`,
        );
        break;
      case 'progress':
        if (tty) {
          io.err('\r\x1b[2K' + progressLine(e, best, start?.params ?? [], width));
          barShown = true;
        }
        break;
      case 'stage': {
        clearBar();
        const b = e.best;
        const at = b ? `${fmtScore(b.score)} at ${fmtParams(b.params, (start?.params ?? []).filter((k) => k in b.params))}` : 'none (no feasible trial)';
        io.out(`stage '${e.name}': ${e.trials ?? 0} trials in ${fmtDuration(e.elapsedMs ?? 0)}${e.stoppedBy ? ` (stopped: ${e.stoppedBy})` : ''}; best ${at}\n`);
        break;
      }
      case 'log':
        clearBar();
        io.err(`${e.level}: ${e.message}\n`);
        break;
      case 'end':
        clearBar();
        break;
      default:
    }
  };
  const trials = (b: TrialBatch): void => {
    for (let i = 0; i < b.count; i++) {
      const loss = b.loss0(i, maximize);
      if (Number.isNaN(loss) || !top.accepts(loss)) continue;
      const e = b.event(i);
      top.add(loss, { params: e.params, score: e.score, metrics: e.metrics, number: e.number, stage: e.stage });
      best = top.items[0] ?? best;
    }
  };
  return { listener: Object.assign(onEvent, { trials }), start: () => start, top: () => top.items, close: clearBar };
}
