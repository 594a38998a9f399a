/**
 * What the run keeps of its finished trials, whatever their stage: counts by state, the first
 * failure, the best trial (ties to the lowest number: trials arrive in any order, the best must
 * not depend on it), the Pareto front of several objectives, the recent rate for progress, and
 * the events an analysis needs. It reads a batch's states and losses from its columns and makes
 * an event only for a trial that becomes the best (or joins a front).
 */
import type { EndEvent, TrialEvent, TrialSummary } from '../../protocol/run-events';
import { ParetoFront } from '../search';
import type { TrialBatch } from './trial-batch';

export interface Best {
  summary: TrialSummary;
  loss: number[];
}

/** Events kept for the analysis, at most. */
const KEEP_FOR_ANALYSIS = 200_000;

export function summaryOf(ev: TrialEvent): TrialSummary {
  return { params: ev.params, score: ev.score, metrics: ev.metrics, number: ev.number, stage: ev.stage };
}

export class RunTally {
  readonly counts = { complete: 0, infeasible: 0, failed: 0 };
  firstFailure: EndEvent['firstFailure'];
  best: Best | null = null;
  readonly front = new ParetoFront<TrialSummary>();
  done = 0;
  /** Events for the analysis (without an external strategy's log), when it runs. */
  readonly kept: TrialEvent[] = [];
  /** Arrival times of recent trials (ms), for the rate. */
  private readonly recent: number[] = [];
  private readonly maximize0: boolean;

  constructor(
    readonly directions: readonly ('maximize' | 'minimize')[],
    private readonly keepForAnalysis: boolean,
  ) {
    this.maximize0 = directions[0] === 'maximize';
  }

  record(batch: TrialBatch): void {
    const now = Date.now();
    const multi = this.directions.length > 1;
    for (let i = 0; i < batch.count; i++) {
      const state = batch.state(i);
      this.counts[state]++;
      if (state === 'failed') {
        const n = batch.number(i);
        if (!this.firstFailure || n < this.firstFailure.number) this.firstFailure = { number: n, error: batch.event(i).error ?? 'the trial failed' };
        continue;
      }
      const l0 = batch.loss0(i, this.maximize0);
      if (Number.isNaN(l0)) continue;
      const b = this.best;
      if (multi || !b || l0 < b.loss[0]! || (l0 === b.loss[0] && batch.number(i) < (b.summary.number ?? Infinity))) {
        const loss = batch.loss(i, this.directions)!;
        const better = !b || loss[0]! < b.loss[0]! || (loss[0] === b.loss[0] && batch.number(i) < (b.summary.number ?? Infinity));
        const summary = better || multi ? summaryOf(batch.event(i)) : null;
        if (better) this.best = { summary: summary!, loss };
        if (multi) this.front.add(loss, summary!);
      }
    }
    if (this.keepForAnalysis)
      for (let i = 0; i < batch.count && this.kept.length < KEEP_FOR_ANALYSIS; i++) {
        const ev = batch.event(i);
        this.kept.push(ev.log === undefined ? ev : { ...ev, log: undefined });
      }
    this.done += batch.count;
    this.recent.push(now, batch.count);
  }

  /** Trials per second over the last five seconds. */
  rate(now: number): number {
    const r = this.recent;
    while (r.length > 4 && now - r[0]! > 5000) r.splice(0, 2);
    let n = 0;
    for (let i = 1; i < r.length; i += 2) n += r[i]!;
    const span = r.length > 2 ? (now - r[0]!) / 1000 : 0;
    return span > 0 ? n / span : 0;
  }

  /** The non-dominated trials, in number order. */
  pareto(): TrialSummary[] {
    return this.front.items.sort((a, b) => (a.number ?? 0) - (b.number ?? 0));
  }
}
