/**
 * The run's events, journal first: trial lines are written together at most FLUSH_MS apart and
 * a trial reaches the listener only after its line is on disk, so whatever the editor or a
 * `--json` reader has seen survives a kill. Any other event first announces the trials
 * waiting; a timer announces them when nothing else comes (a batch whose last trial hangs).
 * Progress and analysis snapshots are throttled here too.
 */
import type { AnalysisSnapshot } from '../../protocol/analysis';
import type { RunEvent, StartEvent, TrialEvent } from '../../protocol/run-events';
import { FLUSH_MS, type Journal } from './journal';
import type { RunTally } from './tally';
import type { TrialBatch } from './trial-batch';

/**
 * Receives a run's events in order. Given `trials`, trial events come to it in batches (a batch
 * reads states and scores from columns and makes event objects only when asked: the fast path
 * of a big grid); otherwise every trial comes to the function as its `trial` event.
 */
export type RunListener = ((e: RunEvent) => void) & {
  trials?: (batch: TrialBatch) => void;
  /**
   * A promise while the listener's reader is behind (`--json` into a slow pipe): the run starts
   * no new batch until it settles, so output never piles up in memory. Null: go on.
   */
  ready?: () => Promise<void> | null;
};

export interface AnnouncerOptions {
  /** Minimum interval between `progress` events (ms). */
  progressMs: number;
  /** Minimum interval between `analysis` events (ms), when `analyze` is given. */
  analysisMs: number;
  analyze?: (trials: TrialEvent[], start: StartEvent, final: boolean) => AnalysisSnapshot;
}

export class Announcer {
  private waiting: TrialBatch[] = [];
  private lastFlush = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private lastProgress = 0;
  private lastAnalysis = Date.now();
  private analysisCost = 0;
  /** The stage whose trials run now (for progress events). */
  stage = '';
  start: StartEvent | null = null;

  constructor(
    private readonly listener: RunListener,
    private readonly journal: Journal,
    readonly tally: RunTally,
    private readonly options: AnnouncerOptions,
  ) {}

  /** Trials that finished: journaled (unless `journaled` is false: resumed trials are on disk), counted, announced soon. */
  trials(batch: TrialBatch, journal = true): void {
    if (journal) this.journal.appendLines(batch.bytes);
    this.tally.record(batch);
    this.waiting.push(batch);
    if (Date.now() - this.lastFlush >= FLUSH_MS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
    this.progress(false);
    this.analysis(false);
  }

  /** While the listener's reader is behind: settles when it has caught up (RunListener.ready). */
  ready(): Promise<void> | null {
    return this.listener.ready?.() ?? null;
  }

  /** Any other event, after the trials waiting. */
  event(e: RunEvent): void {
    if (this.waiting.length) this.flush();
    this.listener(e);
  }

  /** Writes the journal and announces the trials waiting. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.journal.flush();
    this.lastFlush = Date.now();
    const batches = this.waiting;
    this.waiting = [];
    for (const b of batches) {
      if (this.listener.trials) this.listener.trials(b);
      else for (let i = 0; i < b.count; i++) this.listener(b.event(i));
    }
  }

  progress(force: boolean): void {
    const now = Date.now();
    if (!this.start || (!force && now - this.lastProgress < this.options.progressMs)) return;
    this.lastProgress = now;
    const rate = this.tally.rate(now);
    const total = this.start.total;
    const remaining = Math.max(0, total - this.tally.done);
    this.event({ type: 'progress', stage: this.stage, done: this.tally.done, total, rate, etaMs: rate > 0 ? Math.round((remaining / rate) * 1000) : null });
  }

  /**
   * An analysis snapshot, at most every `analysisMs` — and the interval grows with the
   * snapshot's own cost (≤ 20% of the time on analysis), so a big run's snapshots never starve
   * the trials, the events or a cancel. `final`: the last one, whatever the interval.
   */
  analysis(final: boolean): void {
    const analyze = this.options.analyze;
    if (!analyze || !this.start || this.tally.kept.length === 0) return;
    const now = Date.now();
    if (!final && now - this.lastAnalysis < Math.max(this.options.analysisMs, 5 * this.analysisCost)) return;
    try {
      const snapshot = analyze(this.tally.kept, this.start, final);
      this.lastAnalysis = Date.now();
      this.analysisCost = this.lastAnalysis - now;
      this.event({ type: 'analysis', snapshot });
    } catch (e) {
      this.lastAnalysis = Date.now();
      this.event({ type: 'log', level: 'warning', message: `analysis failed: ${(e as Error).message}` });
    }
  }

  /** The incremental snapshot now, whatever the interval (a cancelled run ends without a full refit). */
  analysisNow(): void {
    this.analysisCost = 0;
    this.lastAnalysis = 0;
    this.analysis(false);
  }

  log(level: 'info' | 'warning' | 'error', message: string): void {
    this.event({ type: 'log', level, message });
  }
}
