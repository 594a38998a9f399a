/**
 * Step 3 of a run: one search stage. Its sampler proposes batches of points; each batch's
 * trials are replayed (resumed from the journal), taken from the memo (an earlier stage ran the
 * same point) or sent to the executor; what comes back is journaled and announced as it
 * arrives, and when the whole batch is back the sampler is told its losses in trial-number
 * order — so the same seed gives the same trials on any number of workers, and `--resume`
 * replays the journal through the same samplers to continue exactly where a run stopped.
 * Early stopping is decided in that order too.
 */
import type { ParamValues, StageEvent, TrialEvent, TrialSymbol } from '../../protocol/run-events';
import { splitSymbolMetrics } from '../data/basket';
import { untilAborted, RunAborted, type TrialExecutor, type TrialOutcome, type TrialRequest } from '../executor/executor';
import { isBlock, selectRows, trialBody, type OutcomeBlock } from '../executor/outcome-block';
import { scoreTrial } from '../executor/scoring';
import { createSampler, fullKey, ParetoFront, Rng, Space, type Params, type Sampler, type Told } from '../search';
import { hash32 } from '../search/rng';
import type { Announcer } from './announcer';
import type { StagePlan, StudyPlan } from './plan';
import { summaryOf, type Best } from './tally';
import { BlockBatch, EventBatch, stageHead, type TrialBatch } from './trial-batch';

/**
 * Memo entries kept (oldest out first). A stage never proposes a point twice, so the memo
 * serves later stages that revisit earlier stages' points (e.g. the point handed over).
 */
const MEMO_SIZE = 25_000;

/** What every stage of a run shares. */
export interface StageContext {
  plan: StudyPlan;
  executor: TrialExecutor;
  out: Announcer;
  signal: AbortSignal;
  seed: number;
  directions: ('maximize' | 'minimize')[];
  /** Workers to keep busy (sizes the batches of methods that do not learn). */
  workers: number;
  /** Trials of the journal being resumed, by number. */
  prior: Map<number, TrialEvent>;
  /** An earlier run's complete trials (warm start). */
  warm: Pick<TrialEvent, 'params' | 'metrics' | 'symbols'>[];
  /** The next trial's number (numbers run on across stages). */
  next: number;
  memo: Map<string, TrialEvent>;
}

export interface StageOutcome {
  best: Best | null;
  event: StageEvent;
}

/** One batch in flight: its trials (numbered from `first`), and their losses as they come back. */
interface Batch {
  first: number;
  /** Its trials: each the request an executor gets (kept until the batch ends, for outcomes that carry metrics only). */
  trials: TrialRequest[];
  /** The sampler's points, to tell it the losses (null for methods that learn nothing). */
  searched: Params[] | null;
  /** First-objective loss by index (NaN: none yet, or not complete). */
  loss0: Float64Array;
  /** Every objective's loss by index (several objectives only). */
  losses: (number[] | null)[];
  seen: Uint8Array;
  /** Trials that were the batch's lowest when they arrived (the stage's best is among them). */
  candidates: Map<number, { batch: TrialBatch; i: number }>;
  min: number;
}

/** Runs one stage from `base` (the earlier stages' best). @throws RunAborted when cancelled */
export async function runStage(ctx: StageContext, st: StagePlan, si: number, base: ParamValues, last: boolean): Promise<StageOutcome | null> {
  const t0 = Date.now();
  const space = new Space(st.dims, { fixed: base, where: st.where });
  if (space.dims.length === 0) {
    ctx.out.log('warning', `stage '${st.name}' searches no parameter: skipped`);
    return null;
  }
  const nObj = ctx.directions.length;
  const sampler = createSampler(st.method, {
    space,
    rng: new Rng(hash32(ctx.seed >>> 0, si + 1)),
    objectives: nObj,
    budget: st.budget,
    options: st.options,
    warm: warmFor(ctx, space),
  });
  // Methods whose proposals never depend on results (a plain grid, random) take batches big
  // enough to make the wait at each batch's end negligible and keep the next batch running
  // while one finishes (unless the study sets `batch`, or stops early: decided per batch).
  const independent = (st.method === 'grid' && !(Number(st.options.zoom) > 1)) || st.method === 'random';
  const batchSize = independent && st.options.batch === undefined && !st.earlyStop ? Math.max(sampler.batch, 1024 * ctx.workers) : sampler.batch;
  const depth = independent && !st.earlyStop ? 2 : 1;
  const run = new StageRun(ctx, st, space, sampler, !last, independent);
  const running: Promise<Batch>[] = [];
  let asked = 0;
  let exhausted = false;
  while (!run.stoppedBy) {
    while (!exhausted && running.length < depth && asked < st.budget) {
      if (ctx.signal.aborted) throw new RunAborted();
      // A reader that falls behind holds the next batch back (a cancel still ends the wait).
      const behind = ctx.out.ready();
      if (behind) await untilAborted(behind, ctx.signal);
      const points = sampler.ask(Math.min(batchSize, st.budget - asked));
      if (points.length === 0) {
        exhausted = true;
        break;
      }
      asked += points.length;
      const batch = run.start(points);
      // Awaited in order below; one that fails while an earlier one is awaited must not be
      // reported as unhandled (the run stops on the first failure it awaits).
      batch.catch(() => {});
      running.push(batch);
    }
    const next = running.shift();
    if (!next) break;
    // Never waits on an executor after a cancel: a hung strategy must not hold the run.
    run.finish(await untilAborted(next, ctx.signal));
  }
  const event: StageEvent = {
    type: 'stage',
    name: st.name,
    best: run.best ? run.best.summary : null,
    trials: run.done,
    elapsedMs: Date.now() - t0,
    ...(run.stoppedBy ? { stoppedBy: run.stoppedBy } : {}),
  };
  return { best: run.best, event };
}

/** A stage's state while it runs: its batches, its best, its early stop. */
class StageRun {
  best: Best | null = null;
  done = 0;
  stoppedBy: string | undefined;
  private since = 0;
  private readonly front = new ParetoFront<unknown>();
  private readonly head: Buffer;
  private readonly maximize0: boolean;

  constructor(
    private readonly ctx: StageContext,
    private readonly st: StagePlan,
    private readonly space: Space,
    private readonly sampler: Sampler,
    /** Later stages may revisit this stage's points: keep them. */
    private readonly memoOn: boolean,
    /** Proposals never depend on results: nothing to tell the sampler. */
    private readonly independent: boolean,
  ) {
    this.head = stageHead(st.name);
    this.maximize0 = ctx.directions[0] === 'maximize';
  }

  /** Starts a batch: replayed and memoized trials at once, the rest on the executor. */
  async start(asked: Params[]): Promise<Batch> {
    const ctx = this.ctx;
    const first = ctx.next;
    ctx.next += asked.length;
    const trials = asked.map((p, k): TrialRequest => ({ number: first + k, params: this.space.full(p) as ParamValues }));
    const n = trials.length;
    const batch: Batch = { first, trials, searched: this.independent ? null : asked, loss0: new Float64Array(n).fill(NaN), losses: [], seen: new Uint8Array(n), candidates: new Map(), min: Infinity };
    const known: TrialEvent[] = [];
    const replayed: TrialEvent[] = [];
    const toRun: TrialRequest[] = [];
    for (const t of trials) {
      const prev = ctx.prior.get(t.number);
      if (prev) {
        const key = fullKey(t.params);
        if (fullKey(prev.params) !== key)
          throw new Error(`the journal's trial ${t.number} has other parameters than this run proposes: it cannot be resumed (was it written by another version?)`);
        replayed.push(prev);
        continue;
      }
      const m = ctx.memo.size > 0 ? ctx.memo.get(fullKey(t.params)) : undefined;
      if (m) known.push(this.eventOf(t, { number: t.number, metrics: m.metrics, durationMs: 0 }, m.symbols));
      else toRun.push(t);
    }
    if (replayed.length) this.take(batch, new EventBatch(this.st.name, replayed), false);
    if (known.length) this.take(batch, new EventBatch(this.st.name, known), true);
    if (toRun.length) {
      const receive = (o: TrialOutcome | OutcomeBlock): void => this.receive(batch, o);
      const back = await ctx.executor.run(toRun, ctx.signal, receive, { stage: this.st.name });
      for (const o of back) receive(o);
    }
    return batch;
  }

  /** An executor's outcome: a block scored and encoded by a worker, or one trial's metrics (scored here). */
  private receive(batch: Batch, o: TrialOutcome | OutcomeBlock): void {
    if (isBlock(o)) {
      // Each trial counts once (an executor may deliver one twice).
      const fresh = selectRows(o, (i) => this.slot(batch, o.numbers[i]!) >= 0);
      if (fresh.numbers.length) this.take(batch, new BlockBatch(this.st.name, this.head, fresh), true);
      return;
    }
    const k = this.slot(batch, o.number);
    if (k < 0) return;
    this.take(batch, new EventBatch(this.st.name, [this.eventOf(batch.trials[k]!, o)]), true);
  }

  /** A trial's index in its batch, or -1 when it is not the batch's or came back already. */
  private slot(batch: Batch, number: number): number {
    const k = number - batch.first;
    return k >= 0 && k < batch.trials.length && batch.seen[k] === 0 ? k : -1;
  }

  /** Journals (unless replayed), announces and notes finished trials. */
  private take(batch: Batch, b: TrialBatch, journal: boolean): void {
    const multi = this.ctx.directions.length > 1;
    for (let i = 0; i < b.count; i++) {
      const k = b.number(i) - batch.first;
      batch.seen[k] = 1;
      const l0 = b.loss0(i, this.maximize0);
      batch.loss0[k] = l0;
      if (multi) batch.losses[k] = b.loss(i, this.ctx.directions);
      if (!Number.isNaN(l0) && (multi || l0 <= batch.min)) {
        if (l0 < batch.min) batch.min = l0;
        batch.candidates.set(b.number(i), { batch: b, i });
      }
      if (this.memoOn && b.state(i) !== 'failed') {
        const ev = b.event(i);
        this.remember(fullKey(ev.params), ev);
      }
    }
    this.ctx.out.trials(b, journal);
  }

  /** Finishes a batch, in batch order: tells the sampler, then the stage's best and early stop. */
  finish(batch: Batch): void {
    const multi = this.ctx.directions.length > 1;
    const lossOf = (k: number): number[] | null => (multi ? (batch.losses[k] ?? null) : Number.isNaN(batch.loss0[k]!) ? null : [batch.loss0[k]!]);
    // Tell in trial-number order: what the sampler learns never depends on timing.
    if (batch.searched) this.sampler.tell(batch.searched.map((p, k): Told => ({ params: p, loss: lossOf(k) })));
    const es = this.st.earlyStop;
    const minDelta = es?.minDelta ?? 0;
    // The first objective's loss decides the best (its number array is made once, at the end).
    let best0 = this.best ? this.best.loss[0]! : Infinity;
    let hasBest = this.best !== null;
    let bestK = -1;
    for (let k = 0; k < batch.trials.length; k++) {
      const l0 = batch.loss0[k]!;
      let improved = false;
      if (!Number.isNaN(l0)) {
        if (!hasBest || l0 < best0 - minDelta) improved = true;
        if (!hasBest || l0 < best0) {
          best0 = l0;
          hasBest = true;
          bestK = k;
        }
        if (multi && batch.losses[k] && this.front.add(batch.losses[k]!, null)) improved = true;
      }
      this.since = improved ? 0 : this.since + 1;
      this.done++;
      if (es && this.since >= es.patience && !this.stoppedBy) this.stoppedBy = 'early_stop';
    }
    if (bestK >= 0) {
      const c = batch.candidates.get(batch.first + bestK)!;
      this.best = { summary: summaryOf(c.batch.event(c.i)), loss: multi ? batch.losses[bestK]! : [best0] };
    }
    this.ctx.out.flush();
    this.ctx.out.progress(false);
  }

  /**
   * A trial's event from plain metrics (memo, command strategies, executors without scoring). A
   * basket's metrics carry each symbol's under `<i>|<metric>` keys (split here), unless `symbols`
   * are given (a memoized trial's).
   */
  private eventOf(t: { number: number; params: ParamValues }, o: TrialOutcome, symbols?: TrialSymbol[]): TrialEvent {
    let metrics = o.metrics;
    if (metrics && !symbols) ({ metrics, symbols } = splitSymbolMetrics(metrics, this.ctx.plan.payload.basket?.symbols));
    const s = metrics ? scoreTrial(this.ctx.plan, t.params, metrics, symbols) : null;
    return { type: 'trial', stage: this.st.name, number: t.number, ...(trialBody(t.params, o.durationMs, metrics, s, o.error, o.log, symbols) as Omit<TrialEvent, 'type' | 'stage' | 'number'>) };
  }

  private remember(key: string, ev: TrialEvent): void {
    const memo = this.ctx.memo;
    memo.set(key, ev.log === undefined ? ev : { ...ev, log: undefined });
    if (memo.size > MEMO_SIZE) memo.delete(memo.keys().next().value as string);
  }
}

/** The warm trials (an earlier run's) that lie in a stage's space, as told trials. */
function warmFor(ctx: StageContext, space: Space): Told[] {
  const out: Told[] = [];
  for (const w of ctx.warm) {
    const p: ParamValues = {};
    let ok = true;
    for (const d of space.dims) {
      const v = w.params[d.name];
      if (v === undefined) ok = false;
      else p[d.name] = v;
    }
    if (!ok) continue;
    out.push({ params: p, loss: scoreTrial(ctx.plan, w.params, w.metrics, w.symbols).loss });
  }
  return out;
}
