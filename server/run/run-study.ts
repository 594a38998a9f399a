/**
 * `runStudy`: the optimizer's core, shared by the CLI, the run host and the tests. It checks
 * and resolves the study, loads the price data once, runs the stages in order (each stage's
 * best fixed for the next) with their samplers on an executor, scores every trial, keeps the
 * journal, and reports everything as run events.
 *
 * Determinism: trials are numbered in ask order; a sampler is asked for batches of its own
 * size (never the worker count's) and told each batch in trial-number order, and early
 * stopping is decided in that order too — so the same seed gives the same trials and the
 * same best on any number of workers, and `--resume` replays the journal through the same
 * samplers to continue exactly where an interrupted run stopped.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, IssueCodes, type Diagnostic, type StudyModel } from '../../grammar';
import type {
  EndEvent,
  Metrics,
  ParamValues,
  RunEvent,
  Score,
  StageEvent,
  StartEvent,
  TrialEvent,
  TrialSummary,
  TrialSymbol,
} from '../../protocol/run-events';
import { barStamp, formatDate, loadPrices, sliceBars, type PriceData } from '../engine';
import { splitSymbolMetrics } from '../data/basket';
import { feedsId, loadFeeds } from '../data/feeds';
import { createSampler, fullKey, ParetoFront, Rng, Space, type Params, type Told } from '../search';
import { hash32 } from '../search/rng';
import { RunAborted, untilAborted, type ExecutorContext, type ExecutorFactory, type ExecutorSettings, type TaskPayload, type TrialExecutor, type TrialOutcome, type TrialRequest } from '../executor/executor';
import { defaultWorkers, LocalExecutor } from '../executor/local-pool';
import { FLUSH_MS, JOURNAL_FORMAT, readJournal, type JournalHeader, type TornTail } from './journal';
import { createRunDir, resumeRunDir, type OpenRunDir } from './run-dir';
import { buildPlan, scoreTrial, type StagePlan, type StudyPlan } from './plan';
import { holdoutWindow, validateStudyRun } from './validate-run';
import { checkWorkspace } from '../workspace-checks';

/**
 * Memo entries kept (oldest out first, ~1 KB each). A stage never proposes a point twice, so
 * the memo serves later stages that revisit earlier stages' points (e.g. the point handed over).
 */
const MEMO_SIZE = 25_000;

declare const OPTSTUDY_VERSION: string | undefined;
const VERSION = typeof OPTSTUDY_VERSION === 'string' ? OPTSTUDY_VERSION : '0.1.0';

export interface RunOptions {
  /** The study file. */
  file: string;
  /** Which study of the file (by name); the first when absent. */
  study?: string;
  /** Only this stage (by name), from the strategy defaults and overrides. */
  stage?: string;
  workers?: number;
  seed?: number;
  /** The run folder (default: a new one under `.optstudy/runs/` beside the study). */
  out?: string;
  /** Continue the run kept in this folder. */
  resume?: string;
  /** False in an untrusted workspace: module and command strategies are refused. */
  trusted?: boolean;
  /**
   * Data and module paths may not leave `root` (default: the study file's folder), as `optstudy
   * check` reports them: the CLI and the run host set it; library callers (tests) may omit it.
   */
  confine?: { root?: string };
  /** Run trials on `optstudy worker` processes through this Redis (else the study's `executor redis`, else the local pool). */
  redis?: string;
  /**
   * Builds the executor. The CLI and the run host pass server/host's `chooseExecutor` (local
   * pool, command strategies, Redis); when absent, built-in strategies run on the local pool.
   */
  createExecutor?: ExecutorFactory;
  /** Minimum interval between `progress` events (default 250 ms). */
  progressMs?: number;
  /** Minimum interval between `analysis` events (default 1000 ms); needs `analyze`. */
  analysisMs?: number;
  /** Computes an analysis snapshot from the trials so far (server/analysis `analyzeTrials`). */
  analyze?: (trials: TrialEvent[], start: StartEvent, final: boolean) => import('../../protocol/analysis').AnalysisSnapshot;
  /** Per-worker heap cap (MiB). */
  memoryMb?: number;
  /** Only bars [start, end) of the study's data (a walk-forward fold's training window). */
  window?: { start: number; end: number };
  /** False: ignore the study's `validate` statement (the nested runs of walk-forward folds). */
  validate?: boolean;
}

/** A study that cannot run: its findings, formatted `file:line:col: message`. */
export class StudyError extends Error {
  constructor(
    message: string,
    readonly findings: string[] = [message],
  ) {
    super(message);
    this.name = 'StudyError';
  }
}

/** Formats a diagnostic the way `optstudy check` does. */
export function formatDiagnostic(file: string, d: Diagnostic): string {
  return `${file}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.severity}: ${d.message} [${d.code}]`;
}

/**
 * Reads, checks and picks the study to run. With `paths`, data and module paths must stay inside
 * `paths.workspaceRoot` (default: the study's folder), as `optstudy check` reports them.
 * @throws StudyError
 */
export function loadStudy(file: string, name?: string, paths?: { workspaceRoot?: string }): { model: StudyModel; plan: StudyPlan } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new StudyError(`${file}: cannot read the study file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const a = analyze(text);
  const errors = a.diagnostics.filter((d) => d.severity === 'error');
  const rel = path.relative(process.cwd(), file) || file;
  const model = name === undefined ? a.studies[0] : a.studies.find((s) => s.name === name);
  if (!model) {
    if (errors.length) throw new StudyError(`${rel}: the study has errors`, errors.map((d) => formatDiagnostic(rel, d)));
    const names = a.studies.map((s) => `'${s.name}'`).join(', ');
    throw new StudyError(name === undefined ? `${rel}:1:1: no study in this file` : `${rel}:1:1: no study named '${name}' (studies: ${names || 'none'})`);
  }
  // Errors inside this study, or outside every study (a strategy declaration it may use).
  const inside = (d: Diagnostic, m: StudyModel): boolean => d.range.start.line >= m.range.start.line && d.range.start.line <= m.range.end.line;
  const own = errors.filter((d) => inside(d, model) || !a.studies.some((s) => inside(d, s)));
  if (own.length || model.hasErrors)
    throw new StudyError(
      `${rel}: study '${model.name}' has errors`,
      own.length ? own.map((d) => formatDiagnostic(rel, d)) : [`${rel}:${model.range.start.line + 1}:1: study '${model.name}' has errors`],
    );
  const outside = paths ? checkWorkspace(model, file, { workspaceRoot: paths.workspaceRoot, contents: false }).filter((d) => d.code === IssueCodes.PathOutsideWorkspace) : [];
  if (outside.length) throw new StudyError(`${rel}: study '${model.name}' reads files outside its folder`, outside.map((d) => formatDiagnostic(rel, d)));
  try {
    return { model, plan: buildPlan(model, file) };
  } catch (e) {
    throw new StudyError(`${rel}:${model.range.start.line + 1}:1: ${(e as Error).message}`);
  }
}

interface StageBest {
  summary: TrialSummary;
  loss: number[];
}

/**
 * Receives every event of a run, in order. A journaled trial event comes with `json`, the line
 * the journal wrote for it, so a printer need not encode it again.
 */
export type RunListener = (e: RunEvent, json?: string) => void;

/** A batch of trials as it comes back: the losses by trial number, and the events its end needs. */
interface Batch {
  trials: { number: number; params: ParamValues; searched: Params }[];
  results: Map<number, number[] | null>;
  candidates: Map<number, TrialEvent>;
}

/**
 * Runs a study. Every event goes to `onEvent` in order; the returned promise resolves with
 * the `end` event (also when cancelled through `signal`: `status: 'cancelled'`).
 * @throws StudyError when the study has errors or its data cannot be loaded (before `start`).
 */
export async function runStudy(options: RunOptions, listener: RunListener, signal: AbortSignal): Promise<EndEvent> {
  const t0 = Date.now();
  const file = path.resolve(options.file);
  const { model, plan } = loadStudy(file, options.study, options.confine && { workspaceRoot: options.confine.root });
  if (options.trusted === false && plan.payload.strategy.kind !== 'builtin')
    throw new StudyError(`${file}: strategy '${model.strategy?.name}' is a ${plan.payload.strategy.kind} strategy: running it needs a trusted workspace`);
  let stages = plan.stages;
  if (options.stage !== undefined) {
    stages = stages.filter((s) => s.name === options.stage);
    if (!stages.length) throw new StudyError(`${file}: no stage named '${options.stage}' in study '${model.name}'`);
  }

  // The run to continue: its header holds the seed (read now; the journal itself is opened,
  // locked and read once the executor stands, below).
  let seed: number;
  let runDir: string | undefined;
  const resumed = options.resume !== undefined;
  if (options.resume !== undefined) {
    runDir = path.resolve(options.resume);
    seed = resumableHeader(runDir, plan.hash, options.stage).seed;
  } else {
    seed = options.seed ?? model.seed ?? (Math.random() * 2 ** 31) >>> 0;
    if (options.out !== undefined) runDir = path.resolve(options.out);
  }
  // Every feed once (data 0 first): a multi-feed strategy sees them all, a basket runs each alone.
  let feeds: PriceData[];
  try {
    feeds = loadFeeds(plan.payload.datas ?? [plan.payload.data]);
  } catch (e) {
    throw new StudyError(`${path.relative(process.cwd(), file) || file}:${model.range.start.line + 1}:1: ${(e as Error).message}`);
  }
  let prices = feeds[0]!;
  // Validation (validate-run.ts): `validate holdout` optimizes on the in-sample head only; a
  // walk-forward fold's nested run optimizes on its training window (one feed: the grammar
  // refuses `validate` with several).
  const allPrices = prices;
  const validating = options.validate !== false && model.validate !== undefined && options.stage === undefined;
  let window: { start: number; end: number } | null = options.window ?? null;
  try {
    // Also for a single `--stage`: its trials must stay comparable with the full run's.
    if (!window && options.validate !== false) window = holdoutWindow(model, prices);
    if (window && (window.start < 0 || window.end > prices.bars || window.end - window.start < 2)) throw new Error(`bar window ${window.start}…${window.end} is outside the ${prices.bars} bars of the data`);
  } catch (e) {
    throw new StudyError(`${path.relative(process.cwd(), file) || file}:${model.range.start.line + 1}:1: ${(e as Error).message}`);
  }
  if (window) prices = sliceBars(prices, window.start, window.end);
  const header: JournalHeader = {
    type: 'header',
    format: JOURNAL_FORMAT,
    study: model.name,
    file,
    studyHash: plan.hash,
    seed,
    dataHash: feeds.length > 1 ? feedsId(feeds) : prices.id,
    versions: { optstudy: VERSION, node: process.version, journal: JOURNAL_FORMAT },
    startedAt: new Date().toISOString(),
    ...(options.stage !== undefined ? { stage: options.stage } : {}),
  };
  const workers = Math.max(1, Math.floor(options.workers ?? model.workers ?? defaultWorkers()));
  const settings: ExecutorSettings = { workers, timeoutMs: model.timeoutMs, retries: model.retries ?? 0, memoryMb: options.memoryMb };
  // A study's own `executor redis` URL is not contacted from an untrusted workspace (it would
  // send the price data to a server the study's author chose): the run stays local (#21 finding 10).
  const studyRedis = options.trusted === false ? undefined : model.executor?.url;
  const redis = options.redis ?? studyRedis;
  let payload = plan.payload;
  // Executors that load the data themselves (Redis workers, command strategies) see the window as dates.
  if (window) payload = { ...payload, data: { ...payload.data, from: barStamp(prices, 0), to: barStamp(prices, prices.bars - 1) } };
  // The executor is built before the journal and the start, so one that cannot be built (a
  // module that does not compile, no Redis) stops the run with its reason and leaves no journal.
  // Its log lines wait for the start event.
  const early: RunEvent[] = [];
  if (model.executor?.url && redis === undefined)
    early.push({ type: 'log', level: 'warning', message: `the study's 'executor redis' is ignored: this workspace is not trusted, so the trials run here (trust the workspace to send them to the workers)` });
  let onLog = (level: 'info' | 'warning' | 'error', message: string): void => void early.push({ type: 'log', level, message });
  const executor = await createExecutor(options.createExecutor, payload, settings, feeds.length > 1 ? feeds : prices, { redis, log: (level, message) => onLog(level, message) });
  let opened: OpenRunDir;
  let prior = new Map<number, TrialEvent>();
  let priorStages = new Set<string>();
  let torn: TornTail | null = null;
  try {
    if (resumed) {
      const r = resumeRunDir(runDir!);
      ({ torn } = r);
      opened = r;
      prior = r.contents.trials;
      priorStages = new Set(r.contents.stages.keys());
    } else opened = createRunDir(runDir ?? { studyFile: file, study: model.name }, header);
  } catch (e) {
    await executor.close().catch(() => {});
    throw new StudyError((e as Error).message);
  }
  runDir = opened.dir;
  const journal = opened.journal;

  // Journal before announcing: trial lines are written together at most FLUSH_MS apart, and a
  // trial event reaches the listener only after its line is on disk, so whatever the editor or
  // a --json reader has seen survives a kill. Any other event first announces the waiting trials.
  const waiting: { e: TrialEvent; text: string }[] = [];
  let lastFlush = Date.now();
  // A trial that finishes while the others of its batch still run (or hang) is announced by a
  // timer, not only by the next trial or event.
  let flushTimer: NodeJS.Timeout | null = null;
  const announceTrials = (): void => {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    journal.flush();
    lastFlush = Date.now();
    for (const w of waiting) listener(w.e, w.text || undefined);
    waiting.length = 0;
  };
  const onEvent = (e: RunEvent): void => {
    if (waiting.length) announceTrials();
    listener(e);
  };

  const nObj = plan.objectives.length;
  const directions = plan.objectives.map((o) => o.direction);
  const sizes = stages.map((s) => (Number.isFinite(s.size) && s.size > 0 ? s.size : Number.isFinite(s.budget) ? s.budget : 0));
  const total = sizes.reduce((a, b) => a + b, 0);
  const start: StartEvent = {
    type: 'start',
    study: model.name,
    file,
    runDir,
    stages: stages.map((s, i) => ({ name: s.name, size: sizes[i]!, method: s.method })),
    total,
    seed,
    workers,
    directions,
    objectives: plan.objectives.map((o) => o.text),
    params: stages.flatMap((s) => s.dims.map((d) => d.name)),
    resumed,
  };
  onEvent(start);
  for (const e of early) onEvent(e);
  if (torn) onEvent({ type: 'log', level: 'warning', message: `${runDir}: the journal's last ${torn.bytes} bytes were torn by a crash mid-write; they are kept in ${torn.file} and the run continues from the last complete line (those trials run again)` });
  onLog = (level, message) => onEvent({ type: 'log', level, message });
  if (window && !options.window)
    onEvent({ type: 'log', level: 'info', message: `holdout: optimizing on ${barStamp(prices, 0)} … ${barStamp(prices, prices.bars - 1)} (${prices.bars} of ${allPrices.bars} bars); the rest is held out` });

  const warm = model.warmStart ? loadWarm(path.resolve(path.dirname(file), model.warmStart), plan, onEvent) : [];
  // The memo of evaluated parameter sets, bounded (oldest out first) so a huge grid runs in
  // constant memory; a backtest is deterministic, so a forgotten entry only costs a re-run.
  // A stage never proposes a point twice (see Proposals), so only a later stage can repeat
  // one: the last stage remembers nothing (keeping every outcome of a big single-stage grid
  // alive was most of its main thread's garbage-collection time).
  const memo = new Map<string, TrialOutcome>();
  let memoOn = false;
  const remember = (key: string, o: TrialOutcome): void => {
    if (!memoOn) return;
    // Only what a repeat needs (no log): the kept outcomes share their metrics with the events.
    memo.set(key, o.log === undefined ? o : { number: o.number, metrics: o.metrics, durationMs: o.durationMs });
    if (memo.size > MEMO_SIZE) memo.delete(memo.keys().next().value as string);
  };
  const front = new ParetoFront<TrialSummary>();
  const kept: TrialEvent[] = [];
  const keepForAnalysis = options.analyze !== undefined;
  let best: StageBest | null = null;
  let number = 0;
  let done = 0;
  const recent: number[] = [];
  let lastProgress = 0;
  let lastAnalysis = Date.now();
  let analysisCost = 0;
  let currentStage = stages[0]?.name ?? '';
  const progressMs = options.progressMs ?? 250;
  const analysisMs = options.analysisMs ?? 1000;

  const progress = (force: boolean): void => {
    const now = Date.now();
    if (!force && now - lastProgress < progressMs) return;
    lastProgress = now;
    while (recent.length > 1 && now - recent[0]! > 5000) recent.shift();
    const span = recent.length > 1 ? (now - recent[0]!) / 1000 : 0;
    const rate = span > 0 ? recent.length / span : 0;
    const remaining = Math.max(0, total - done);
    onEvent({ type: 'progress', stage: currentStage, done, total, rate, etaMs: rate > 0 ? Math.round((remaining / rate) * 1000) : null });
  };
  const analysis = (final: boolean): void => {
    if (!options.analyze || kept.length === 0) return;
    const now = Date.now();
    // The interval grows with the snapshot's own cost (≤ 20% of the time on analysis), so a
    // big run's snapshots never starve the trials, the events or a cancel.
    if (!final && now - lastAnalysis < Math.max(analysisMs, 5 * analysisCost)) return;
    try {
      const snapshot = options.analyze(kept, start, final);
      lastAnalysis = Date.now();
      analysisCost = lastAnalysis - now;
      onEvent({ type: 'analysis', snapshot });
    } catch (e) {
      lastAnalysis = Date.now();
      onEvent({ type: 'log', level: 'warning', message: `analysis failed: ${(e as Error).message}` });
    }
  };
  const lossOf = (ev: TrialEvent): number[] | null => {
    if (ev.state !== 'complete' || ev.score === null) return null;
    const s = Array.isArray(ev.score) ? ev.score : [ev.score];
    return s.map((v, i) => (directions[i] === 'maximize' ? -v : v));
  };
  const summaryOf = (ev: TrialEvent): TrialSummary => ({ params: ev.params, score: ev.score, metrics: ev.metrics, number: ev.number, stage: ev.stage });
  const better = (a: number[], b: number[]): boolean => a[0]! < b[0]!;

  /** Everything that happens when a trial is known (run, memoized or replayed); returns its loss. */
  const counts = { complete: 0, infeasible: 0, failed: 0 };
  let firstFailure: EndEvent['firstFailure'];
  const record = (ev: TrialEvent, fresh: boolean): number[] | null => {
    waiting.push({ e: ev, text: fresh ? journal.appendTrial(ev) : '' });
    counts[ev.state]++;
    if (ev.state === 'failed' && (!firstFailure || ev.number < firstFailure.number)) firstFailure = { number: ev.number, error: ev.error ?? 'the trial failed' };
    if (Date.now() - lastFlush >= FLUSH_MS) announceTrials();
    else flushTimer ??= setTimeout(announceTrials, FLUSH_MS);
    done++;
    recent.push(Date.now());
    if (recent.length > 2000) recent.splice(0, 1000);
    const loss = lossOf(ev);
    if (loss) {
      // Ties go to the lower trial number: trials arrive in any order, the best must not depend on it.
      if (!best || better(loss, best.loss) || (loss[0] === best.loss[0] && ev.number < (best.summary.number ?? Infinity))) best = { summary: summaryOf(ev), loss };
      if (nObj > 1) front.add(loss, summaryOf(ev));
    }
    // Kept for the analysis without the worker's log (an external strategy's stderr tail).
    if (keepForAnalysis && kept.length < 200_000) kept.push(ev.log === undefined ? ev : { ...ev, log: undefined });
    progress(false);
    analysis(false);
    return loss;
  };

  const symbolNames = plan.payload.basket?.symbols;
  // One object literal per event (no spreads): this runs once per trial on the main thread.
  const makeEvent = (stage: string, t: TrialRequest, o: TrialOutcome): TrialEvent => {
    const durationMs = Math.round(o.durationMs * 1000) / 1000;
    let ev: TrialEvent;
    if (!o.metrics) ev = { type: 'trial', stage, number: t.number, params: t.params, durationMs, metrics: {}, score: null, state: 'failed', error: o.error ?? 'the trial failed' };
    else if (symbolNames) {
      // A basket: the basket's metrics, and each symbol's under `symbols` (server/data/basket.ts).
      const { metrics, symbols } = splitSymbolMetrics(o.metrics, symbolNames);
      const s = scoreTrial(plan, t.params, metrics, symbols);
      ev = { type: 'trial', stage, number: t.number, params: t.params, durationMs, metrics, score: s.score, state: s.state, symbols };
      if (s.error) ev.error = s.error;
    } else {
      const s = scoreTrial(plan, t.params, o.metrics);
      ev = { type: 'trial', stage, number: t.number, params: t.params, durationMs, metrics: o.metrics, score: s.score, state: s.state };
      if (s.error) ev.error = s.error;
    }
    if (o.log) ev.log = o.log;
    return ev;
  };

  let status: EndEvent['status'] = 'finished';
  let failure: string | undefined;
  let base: ParamValues = { ...plan.defaults };
  try {
    for (let si = 0; si < plan.stages.length; si++) {
      const st = plan.stages[si]!;
      if (!stages.includes(st)) continue;
      currentStage = st.name;
      memoOn = st !== stages[stages.length - 1];
      const stageT0 = Date.now();
      const space = new Space(st.dims, { fixed: base, where: st.where });
      if (space.dims.length === 0) {
        onEvent({ type: 'log', level: 'warning', message: `stage '${st.name}' searches no parameter: skipped` });
        continue;
      }
      const rng = new Rng(hash32(seed >>> 0, si + 1));
      const sampler = createSampler(st.method, {
        space,
        rng,
        objectives: nObj,
        budget: st.budget,
        options: st.options,
        warm: warmFor(warm, space, plan),
      });
      // Each batch ends with a barrier (its trials are told, in order, before the next ask), where
      // workers wait. Methods whose proposals never depend on results (a plain grid, random)
      // take batches big enough to make that wait negligible, unless the study sets `batch` or
      // stops early (decided per batch: a big batch would overshoot the patience).
      const independent = (st.method === 'grid' && !(Number(st.options.zoom) > 1)) || st.method === 'random';
      const batchSize = independent && st.options.batch === undefined && !st.earlyStop ? Math.max(sampler.batch, 1024 * workers) : sampler.batch;
      let stageDone = 0;
      let stageBest: StageBest | null = null;
      const stageFront = new ParetoFront<TrialSummary>();
      let since = 0;
      let stoppedBy: string | undefined;
      const es = st.earlyStop;
      /** Starts a batch: replayed and memoized trials at once, the rest on the executor. */
      const startBatch = async (asked: Params[]): Promise<Batch> => {
        const trials = asked.map((p) => ({ number: number++, params: space.full(p) as ParamValues, searched: p }));
        // The batch's losses by trial number, and only the events its end may need: with big
        // batches, keeping every event alive until the tell was most of the garbage collector's
        // work. The stage's best is the first trial (in number order) with the batch's lowest
        // loss, so it is always among the trials that were the batch's lowest when they arrived.
        const results = new Map<number, number[] | null>();
        const candidates = new Map<number, TrialEvent>();
        let batchMin = Infinity;
        const note = (ev: TrialEvent, loss: number[] | null): void => {
          results.set(ev.number, loss);
          if (loss && (nObj > 1 || loss[0]! <= batchMin)) {
            if (loss[0]! < batchMin) batchMin = loss[0]!;
            candidates.set(ev.number, ev);
          }
        };
        const toRun: TrialRequest[] = [];
        for (const t of trials) {
          const prev = prior.get(t.number);
          if (prev) {
            const key = fullKey(t.params);
            if (fullKey(prev.params) !== key)
              throw new Error(`the journal's trial ${t.number} has other parameters than this run proposes: it cannot be resumed (was it written by another version?)`);
            if (prev.state !== 'failed') remember(key, { number: prev.number, metrics: prev.metrics, durationMs: 0 });
            note(prev, record(prev, false));
            continue;
          }
          const m = memo.size > 0 ? memo.get(fullKey(t.params)) : undefined;
          if (m) {
            const ev = makeEvent(st.name, t, { ...m, number: t.number, durationMs: 0 });
            note(ev, record(ev, true));
            continue;
          }
          toRun.push({ number: t.number, params: t.params });
        }
        if (toRun.length) {
          const exec = executor;
          const byNumber = new Map(toRun.map((t) => [t.number, t]));
          const onOutcome = (o: TrialOutcome): void => {
            if (results.has(o.number)) return;
            const t = byNumber.get(o.number);
            if (!t) return;
            const ev = makeEvent(st.name, t, o);
            if (o.metrics && memoOn) remember(fullKey(t.params), o); // memoOn checked first: no key to build otherwise
            note(ev, record(ev, true));
          };
          const outcomes = await exec.run(toRun, signal, onOutcome);
          for (const o of outcomes) onOutcome(o);
        }
        return { trials, results, candidates };
      };

      /** Finishes a batch, in batch order: tells the sampler, then the stage's best and early stop. */
      const finishBatch = ({ trials, results, candidates }: Batch): void => {
        // Tell in trial-number order: what the sampler learns never depends on timing.
        const told: Told[] = trials.map((t) => ({ params: t.searched, loss: results.get(t.number)! }));
        sampler.tell(told);
        let bestLoss: number[] | null = stageBest ? (stageBest as StageBest).loss : null;
        let bestNumber = -1;
        for (const t of trials) {
          const loss = results.get(t.number)!;
          let improved = false;
          if (loss) {
            const minDelta = es?.minDelta ?? 0;
            if (!bestLoss || loss[0]! < bestLoss[0]! - minDelta) improved = true;
            if (!bestLoss || better(loss, bestLoss)) {
              bestLoss = loss;
              bestNumber = t.number;
            }
            if (nObj > 1 && stageFront.add(loss, summaryOf(candidates.get(t.number)!))) improved = true;
          }
          since = improved ? 0 : since + 1;
          stageDone++;
          if (es && since >= es.patience && !stoppedBy) stoppedBy = 'early_stop';
        }
        if (bestNumber >= 0) stageBest = { summary: summaryOf(candidates.get(bestNumber)!), loss: bestLoss! };
        announceTrials();
        progress(false);
      };

      // A method whose proposals never depend on results keeps the next batch running while
      // one finishes, so the workers never wait at the barrier; others (and early stopping,
      // decided per batch) run one batch at a time.
      const depth = independent && !es ? 2 : 1;
      const running: Promise<Batch>[] = [];
      let asked = 0;
      let exhausted = false;
      while (!stoppedBy) {
        while (!exhausted && running.length < depth && asked < st.budget) {
          if (signal.aborted) throw new RunAborted();
          const points = sampler.ask(Math.min(batchSize, st.budget - asked));
          if (points.length === 0) {
            exhausted = true;
            break;
          }
          asked += points.length;
          const batch = startBatch(points);
          // Awaited in order below; one that fails while an earlier one is awaited must not be
          // reported as unhandled (the run stops on the first failure it awaits).
          batch.catch(() => {});
          running.push(batch);
        }
        const next = running.shift();
        if (!next) break;
        // Never waits on an executor after a cancel: a hung strategy must not hold the run.
        finishBatch(await untilAborted(next, signal));
      }
      const sb = stageBest as StageBest | null;
      const stageEvent: StageEvent = {
        type: 'stage',
        name: st.name,
        best: sb ? sb.summary : null,
        trials: stageDone,
        elapsedMs: Date.now() - stageT0,
        ...(stoppedBy ? { stoppedBy } : {}),
      };
      if (!priorStages.has(st.name)) journal.append(stageEvent);
      onEvent(stageEvent);
      if (sb) base = { ...sb.summary.params };
      else onEvent({ type: 'log', level: 'warning', message: `stage '${st.name}' found no feasible trial: the next stage starts from the same parameters` });
    }
  } catch (e) {
    if (e instanceof RunAborted || signal.aborted) status = 'cancelled';
    else {
      status = 'failed';
      failure = e instanceof Error ? e.message : String(e);
      onEvent({ type: 'log', level: 'error', message: failure });
    }
  } finally {
    await closeExecutor(executor, onEvent);
  }
  progress(true);
  // A cancelled run ends now: its last snapshot is the incremental one (no full refit).
  if (status === 'cancelled') {
    analysisCost = 0;
    lastAnalysis = 0;
    analysis(false);
  } else analysis(true);
  let validation: EndEvent['validation'];
  if (status === 'finished' && validating) {
    const v = await validateStudyRun({
      model,
      plan,
      payload,
      prices: allPrices,
      runDir,
      seed,
      onEvent,
      signal,
      runFold: (o, on, sig) => runStudy({ ...options, out: undefined, resume: undefined, seed: undefined, analyze: undefined, ...o }, on, sig),
    });
    validation = v.validation;
    if (v.cancelled) status = 'cancelled';
  }
  const finalBest = best as StageBest | null;
  const end: EndEvent = {
    type: 'end',
    best: finalBest ? finalBest.summary : null,
    trials: done,
    elapsedMs: Date.now() - t0,
    ...(nObj > 1 ? { pareto: front.items.sort((a, b) => (a.number ?? 0) - (b.number ?? 0)) } : {}),
    status,
    ...(failure ? { error: failure } : {}),
    runDir,
    ...(validation ? { validation } : {}),
    counts,
    ...(firstFailure ? { firstFailure } : {}),
  };
  journal.append(end);
  opened.close();
  onEvent(end);
  return end;
}

/** Trials of an earlier run (warm start): every complete trial, rescored with this study's objectives. */
function loadWarm(dir: string, plan: StudyPlan, onEvent: (e: RunEvent) => void): { params: ParamValues; metrics: Metrics; symbols?: TrialSymbol[] }[] {
  try {
    const c = readJournal(dir);
    const out = [...c.trials.values()].filter((t) => t.state === 'complete').map((t) => ({ params: t.params, metrics: t.metrics, symbols: t.symbols }));
    onEvent({ type: 'log', level: 'info', message: `warm start: ${out.length} trials from ${dir}` });
    return out;
  } catch (e) {
    onEvent({ type: 'log', level: 'warning', message: `warm start ignored: ${(e as Error).message}` });
    return [];
  }
}

/** The warm trials that lie in a stage's space, as told trials. */
function warmFor(warm: { params: ParamValues; metrics: Metrics; symbols?: TrialSymbol[] }[], space: Space, plan: StudyPlan): Told[] {
  const out: Told[] = [];
  for (const w of warm) {
    const p: ParamValues = {};
    let ok = true;
    for (const d of space.dims) {
      const v = w.params[d.name];
      if (v === undefined) ok = false;
      else p[d.name] = v;
    }
    if (!ok) continue;
    const s = scoreTrial(plan, w.params, w.metrics, w.symbols);
    out.push({ params: p, loss: s.loss });
  }
  return out;
}

export type { Score };

/** The run's executor: the caller's choice, else the local pool (built-in strategies only). @throws StudyError */
async function createExecutor(
  factory: ExecutorFactory | undefined,
  payload: TaskPayload,
  settings: ExecutorSettings,
  prices: PriceData | readonly PriceData[],
  context: ExecutorContext,
): Promise<TrialExecutor> {
  if (!factory) {
    const kind = payload.strategy.kind;
    if (context.redis || kind !== 'builtin')
      throw new StudyError(
        `${context.redis ? 'a distributed run' : `a ${kind} strategy`} needs the executor its host chooses: run it with \`optstudy run\` or from the editor (server/host/executors.ts)`,
      );
    return new LocalExecutor(payload, settings, prices);
  }
  try {
    return await factory(payload, settings, prices, context);
  } catch (e) {
    throw new StudyError(e instanceof Error ? e.message : String(e));
  }
}

/** The header of a run to continue, checked against the study as it is now. @throws StudyError */
function resumableHeader(runDir: string, hash: string, stage: string | undefined): JournalHeader {
  let header: JournalHeader;
  try {
    header = readJournal(runDir).header;
  } catch (e) {
    throw new StudyError((e as Error).message);
  }
  if (header.studyHash !== hash)
    throw new StudyError(`${runDir}: the study changed since this run started (hash ${header.studyHash}, now ${hash}); start a new run instead of resuming`);
  if ((header.stage ?? undefined) !== stage)
    throw new StudyError(`${runDir}: this run was started ${header.stage ? `for stage '${header.stage}' only` : 'for every stage'}; resume it the same way`);
  return header;
}

/** Longest wait for an executor to stop its workers and processes before the run ends anyway. */
const CLOSE_MS = 5000;

/** Closes the executor, waiting at most CLOSE_MS (its processes' groups are killed by then, or at exit). */
async function closeExecutor(executor: TrialExecutor, onEvent: (e: RunEvent) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_MS)));
  const closed = executor.close().then(
    () => 'closed' as const,
    (e: unknown) => {
      onEvent({ type: 'log', level: 'warning', message: `stopping the workers: ${e instanceof Error ? e.message : String(e)}` });
      return 'closed' as const;
    },
  );
  if ((await Promise.race([closed, late])) === 'late')
    onEvent({ type: 'log', level: 'warning', message: `the workers did not stop within ${CLOSE_MS / 1000} s; the run ends without them` });
  clearTimeout(timer);
}
