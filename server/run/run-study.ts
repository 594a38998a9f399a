/**
 * `runStudy`: a study run, shared by the CLI, the run host and the tests. It reads top to bottom
 * as the run's steps:
 *   1. resolve the study and its data (resolve.ts; the plan: plan.ts),
 *   2. the executor its caller chose (server/executor; the CLI and the run host inject
 *      server/host/executors.ts) and the journal (run-dir.ts: a new run folder, or the one to
 *      continue — locked, a torn tail cut back),
 *   3. the stages in order, each stage's best fixed for the next (stage-runner.ts: sampler,
 *      batches on the executor, trials scored and encoded where they ran),
 *   4. journal and events (announcer.ts, tally.ts), then the study's validation and `end`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AnalyzeOptions } from '../../grammar';
import type { EndEvent, LogEvent, ParamValues, StartEvent, TrialEvent } from '../../protocol/run-events';
import { readJournal } from '../../protocol/journal-reader';
import type { PriceData } from '../engine';
import { feedsId } from '../data/feeds';
import { clockDays } from '../data/windows';
import { RunAborted, type ExecutorContext, type ExecutorFactory, type ExecutorSettings, type TaskPayload, type TrialExecutor } from '../executor/executor';
import { defaultWorkers, LocalExecutor, PoolThreads } from '../executor/local-pool';
import { Announcer, type AnnouncerOptions, type RunListener } from './announcer';
import { JOURNAL_FORMAT, type JournalHeader } from './journal';
import { loadRunData, resolveStudy, StudyError, type ResolvedStudy, type RunData } from './resolve';
import { createRunDir, resumeRunDir, type OpenRunDir, type ResumedRunDir } from './run-dir';
import { runStage, type StageContext } from './stage-runner';
import { RunTally } from './tally';
import { validateStudyRun } from './validate-run';

export { formatDiagnostic, loadStudy, StudyError } from './resolve';
export type { RunListener } from './announcer';
export type { TrialBatch } from './trial-batch';

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
  /** False in an untrusted workspace: module and command strategies are refused, a study's own `executor redis` is not contacted. */
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
  /**
   * Checks that need the host (trusted only): server/host's `hostCheckOptions` asks the
   * backtrader bridge what a backtrader strategy declares, so a wrong class name or parameter
   * stops the run before its first trial.
   */
  checkOptions?: (file: string) => AnalyzeOptions;
  /** Minimum interval between `progress` events (default 250 ms). */
  progressMs?: number;
  /** Minimum interval between `analysis` events (default 1000 ms); needs `analyze`. */
  analysisMs?: number;
  /** Computes an analysis snapshot from the trials so far (server/analysis `analyzeTrials`). */
  analyze?: AnnouncerOptions['analyze'];
  /** Per-worker memory cap (MiB): JS heap and off-heap memory each. */
  memoryMb?: number;
  /** Only bars [start, end) of the study's data (a walk-forward fold's training window). */
  window?: { start: number; end: number };
  /** False: ignore the study's `validate` statement (the nested runs of walk-forward folds). */
  validate?: boolean;
}

/**
 * Runs a study. Every event goes to `listener` in order; the returned promise resolves with
 * the `end` event (also when cancelled through `signal`: `status: 'cancelled'`).
 * @throws StudyError when the run cannot start (study errors, its data, its executor, its folder in use) — before `start`.
 */
export async function runStudy(options: RunOptions, listener: RunListener, signal: AbortSignal): Promise<EndEvent> {
  const t0 = Date.now();
  const { study, setup } = await setUp(options);
  const { opened, executor } = setup;
  let oos: TrialExecutor | null = null;
  try {
    const out = announceStart(study, setup, options, listener);
    let { status, error } = await runStages(stageContext(study, setup, out, signal), study, setup.priorStages, opened);
    const validating = status === 'finished' && options.validate !== false && study.model.validate !== undefined && options.stage === undefined;
    // Made before the run's executor closes: a backtrader run's live processes pass to it.
    oos = validating ? await outOfSampleExecutor(study, setup, options) : null;
    await closeExecutor(executor, out);
    out.progress(true);
    // A cancelled run ends now: its last snapshot is the incremental one (no full refit).
    if (status === 'cancelled') out.analysisNow();
    else out.analysis(true);
    const v = validating ? await validate(study, setup, options, out, signal, oos) : undefined;
    if (v?.cancelled) status = 'cancelled';
    const end = endEvent(out.tally, { status, error, elapsedMs: Date.now() - t0, runDir: opened.dir, validation: v?.validation });
    opened.journal.append(end);
    opened.close();
    out.event(end);
    return end;
  } finally {
    // Whatever happened: the workers end and the folder's lock goes (all idempotent).
    await closeExecutor(executor, null);
    if (oos) await closeExecutor(oos, null);
    opened.close();
  }
}

/** Steps 1–2: the study resolved, its folder, data and executor. Nothing is left running when it throws. */
async function setUp(options: RunOptions): Promise<{ study: ResolvedStudy; setup: Setup }> {
  // The local pool's threads start first when the run's workers are known: their startup
  // overlaps reading the study and loading its data (PoolThreads).
  let threads = options.workers !== undefined && options.redis === undefined && !namesOtherExecutor(options.file) ? startThreads(options.workers, options.memoryMb) : null;
  try {
    const study = resolveStudy(options);
    threads ??= mayRunLocally(study, options) ? startThreads(workersOf(study, options), options.memoryMb) : null;
    const setup = await prepare(study, options, threads);
    // Threads the executor did not adopt (another executor, another shape) end now.
    void threads?.close();
    return { study, setup };
  } catch (e) {
    await threads?.close();
    throw e;
  }
}

/** The run's announcer, told the `start` event (and the logs from before it). */
function announceStart(study: ResolvedStudy, setup: Setup, options: RunOptions, listener: RunListener): Announcer {
  const tally = new RunTally(study.plan.objectives.map((o) => o.direction), options.analyze !== undefined);
  const out = new Announcer(listener, setup.opened.journal, tally, { progressMs: options.progressMs ?? 250, analysisMs: options.analysisMs ?? 1000, analyze: options.analyze });
  const start = startEvent(study, setup);
  out.start = start;
  out.event(start);
  setup.announceLogs(out);
  return out;
}

function stageContext(study: ResolvedStudy, setup: Setup, out: Announcer, signal: AbortSignal): StageContext {
  return {
    plan: study.plan,
    executor: setup.executor,
    out,
    signal,
    seed: setup.seed,
    directions: study.plan.objectives.map((o) => o.direction),
    workers: setup.executor.workers ?? setup.settings.workers,
    prior: setup.prior,
    warm: study.model.warmStart ? loadWarm(path.resolve(path.dirname(study.file), study.model.warmStart), out) : [],
    next: 0,
    memo: new Map(),
  };
}

/** Strategies that run outside this process (command, backtrader) re-run out of sample on an executor of their own; null for the rest. */
async function outOfSampleExecutor(study: ResolvedStudy, setup: Setup, options: RunOptions): Promise<TrialExecutor | null> {
  const { payload, allFeeds, allPrices } = setup.data;
  const kind = payload.strategy.kind;
  if ((kind !== 'command' && kind !== 'backtrader') || !options.createExecutor) return null;
  const settings = { workers: 1, retries: 0, timeoutMs: study.model.timeoutMs };
  return createExecutor(options.createExecutor, payload, settings, allFeeds.length > 1 ? allFeeds : allPrices, { log: () => {} }).catch(() => null);
}

/** After the stages: the study's `validate` statement (holdout or walk-forward) on the finished run. */
function validate(study: ResolvedStudy, setup: Setup, options: RunOptions, out: Announcer, signal: AbortSignal, oos: TrialExecutor | null) {
  const { data, opened } = setup;
  return validateStudyRun({
    model: study.model,
    plan: study.plan,
    payload: data.payload,
    feeds: data.allFeeds,
    clock: data.clock,
    runDir: opened.dir,
    seed: setup.seed,
    onEvent: (e) => out.event(e),
    signal,
    runFold: (o, on, sig) => runStudy({ ...options, out: undefined, resume: undefined, seed: undefined, analyze: undefined, ...o }, on, sig),
    externalBacktest: oos?.backtestWindow ? (params, w) => oos.backtestWindow!(params, w) : undefined,
  });
}

function endEvent(tally: RunTally, r: Pick<EndEvent, 'status' | 'error' | 'elapsedMs' | 'runDir' | 'validation'>): EndEvent {
  return {
    type: 'end',
    best: tally.best ? tally.best.summary : null,
    trials: tally.done,
    elapsedMs: r.elapsedMs,
    ...(tally.directions.length > 1 ? { pareto: tally.pareto() } : {}),
    status: r.status,
    ...(r.error ? { error: r.error } : {}),
    runDir: r.runDir,
    ...(r.validation ? { validation: r.validation } : {}),
    counts: tally.counts,
    ...(tally.firstFailure ? { firstFailure: tally.firstFailure } : {}),
  };
}

/** Step 3: the stages in order, each from the best of those before. Never throws: a failure or a cancel ends the run. */
async function runStages(ctx: StageContext, study: ResolvedStudy, priorStages: Set<string>, opened: OpenRunDir): Promise<{ status: NonNullable<EndEvent['status']>; error?: string }> {
  const { plan, stages } = study;
  let base: ParamValues = { ...plan.defaults };
  try {
    for (let si = 0; si < plan.stages.length; si++) {
      const st = plan.stages[si]!;
      if (!stages.includes(st)) continue;
      ctx.out.stage = st.name;
      const r = await runStage(ctx, st, si, base, st === stages[stages.length - 1]);
      if (!r) continue;
      if (!priorStages.has(st.name)) opened.journal.append(r.event);
      ctx.out.event(r.event);
      if (r.best) base = { ...r.best.summary.params };
      else ctx.out.log('warning', `stage '${st.name}' found no feasible trial: the next stage starts from the same parameters`);
    }
    return { status: 'finished' };
  } catch (e) {
    if (e instanceof RunAborted || ctx.signal.aborted) return { status: 'cancelled' };
    const error = e instanceof Error ? e.message : String(e);
    ctx.out.log('error', error);
    return { status: 'failed', error };
  }
}

interface Setup {
  opened: OpenRunDir;
  data: RunData;
  executor: TrialExecutor;
  settings: ExecutorSettings;
  seed: number;
  resumed: boolean;
  prior: Map<number, TrialEvent>;
  priorStages: Set<string>;
  /** Logs from before `start` (the executor's, a torn journal tail, the holdout window), announced after it. */
  announceLogs: (out: Announcer) => void;
}

/**
 * Step 2: the run folder, the data and the executor — built before `start`, so a run that
 * cannot start says why and leaves nothing locked or running. A run to continue is locked and
 * read first (its header holds the seed); a new run's folder is made last (nothing is left
 * behind when the executor cannot be built).
 */
async function prepare(study: ResolvedStudy, options: RunOptions, threads: PoolThreads | null): Promise<Setup> {
  const continued = options.resume !== undefined ? openToResume(path.resolve(options.resume), study, options.stage) : null;
  let executor: TrialExecutor | null = null;
  try {
    const data = loadRunData(study, options);
    const { model, plan } = study;
    const settings: ExecutorSettings = { workers: workersOf(study, options), timeoutMs: model.timeoutMs, retries: model.retries ?? 0, memoryMb: options.memoryMb, ...(threads ? { threads } : {}) };
    const early: LogEvent[] = [];
    let log: ExecutorContext['log'] = (level, message) => void early.push({ type: 'log', level, message });
    for (const w of study.warnings) log('warning', w);
    const redis = redisOf(study, options);
    if (model.executor?.url && redis === undefined)
      log('warning', `the study's 'executor redis' is ignored: this workspace is not trusted, so the trials run here (trust the workspace to send them to the workers)`);
    executor = await createExecutor(options.createExecutor, data.payload, settings, data.feeds.length > 1 ? data.feeds : data.prices, { redis, log: (level, message) => log(level, message) });
    const seed = continued ? continued.contents.header!.seed! : (options.seed ?? model.seed ?? (Math.random() * 2 ** 31) >>> 0);
    const header: JournalHeader = {
      type: 'header',
      format: JOURNAL_FORMAT,
      study: model.name,
      file: study.file,
      studyHash: plan.hash,
      seed,
      dataHash: data.feeds.length > 1 ? feedsId(data.feeds) : data.prices.id,
      versions: { optstudy: VERSION, node: process.version, journal: JOURNAL_FORMAT },
      startedAt: new Date().toISOString(),
      ...(options.stage !== undefined ? { stage: options.stage } : {}),
    };
    const opened = continued ?? newRunFolder(options.out !== undefined ? path.resolve(options.out) : { studyFile: study.file, study: model.name }, header);
    const torn = continued?.torn;
    return {
      opened,
      data,
      executor,
      settings,
      seed,
      resumed: continued !== null,
      prior: new Map((continued?.contents.trials ?? []).map((t) => [t.number, t])),
      priorStages: new Set(continued?.contents.stages.keys() ?? []),
      announceLogs: (out) => {
        for (const e of early) out.event(e);
        log = (level, message) => out.log(level, message);
        if (torn)
          out.log('warning', `${opened.dir}: the journal's last ${torn.bytes} bytes were torn by a crash mid-write; they are kept in ${torn.file} and the run continues from the last complete line (those trials run again)`);
        if (data.window && !options.window) {
          const { window: w, clock } = data;
          const each = data.feeds.length > 1 ? ` on the feeds' common calendar, every feed cut on these dates` : '';
          out.log('info', `holdout: optimizing on ${clock.stamp(w.start)} … ${clock.stamp(w.end - 1)} (${w.end - w.start} of ${clock.ticks} bars${each}); the rest is held out`);
        }
      },
    };
  } catch (e) {
    continued?.close();
    if (executor) await closeExecutor(executor, null);
    throw e instanceof StudyError ? e : new StudyError(e instanceof Error ? e.message : String(e));
  }
}

/** The run's worker count: the caller's, else the study's, else one per core. */
function workersOf(study: ResolvedStudy, options: RunOptions): number {
  return Math.max(1, Math.floor(options.workers ?? study.model.workers ?? defaultWorkers()));
}

/**
 * The Redis the run's trials go to, if any. A study's own `executor redis` URL is not contacted
 * from an untrusted workspace (it would send the price data to a server the study's author
 * chose): the run stays local (#21 finding 10).
 */
function redisOf(study: ResolvedStudy, options: RunOptions): string | undefined {
  return options.redis ?? (options.trusted === false ? undefined : study.model.executor?.url);
}

/** True when the run's trials will run on the local pool's threads (strategies that run in process, no Redis). */
function mayRunLocally(study: ResolvedStudy, options: RunOptions): boolean {
  const kind = study.plan.payload.strategy.kind;
  return (kind === 'builtin' || kind === 'module') && redisOf(study, options) === undefined;
}

/**
 * True when the study file may run elsewhere than on the local pool (a command or backtrader
 * strategy, an `executor redis`): a look at its text before it is read properly, so such runs
 * start no threads they would not use (after the study is resolved, mayRunLocally decides).
 */
function namesOtherExecutor(file: string): boolean {
  try {
    return /\b(?:command|backtrader)\s+"|\bexecutor\s+redis\b/.test(fs.readFileSync(file, 'utf8'));
  } catch {
    return true;
  }
}

/** Local pool threads started early (PoolThreads), or null when they cannot start here (the pool then says why). */
function startThreads(workers: number, memoryMb: number | undefined): PoolThreads | null {
  try {
    return new PoolThreads(Math.max(1, Math.floor(workers)), memoryMb);
  } catch {
    return null;
  }
}

/** A new run's folder, locked, with its journal started. @throws StudyError */
function newRunFolder(dir: string | { studyFile: string; study: string }, header: JournalHeader): OpenRunDir {
  try {
    return createRunDir(dir, header);
  } catch (e) {
    throw new StudyError((e as Error).message);
  }
}

/** The run folder to continue: locked, its torn tail cut back, read, and checked against the study as it is now. @throws StudyError */
function openToResume(runDir: string, study: ResolvedStudy, stage: string | undefined): ResumedRunDir {
  let r: ResumedRunDir;
  try {
    r = resumeRunDir(runDir);
  } catch (e) {
    throw new StudyError((e as Error).message);
  }
  const h = r.contents.header!;
  const problem =
    h.studyHash !== study.plan.hash
      ? `${runDir}: the study changed since this run started (hash ${h.studyHash}, now ${study.plan.hash}); start a new run instead of resuming`
      : (h.stage ?? undefined) !== stage
        ? `${runDir}: this run was started ${h.stage ? `for stage '${h.stage}' only` : 'for every stage'}; resume it the same way`
        : typeof h.seed !== 'number'
          ? `${r.contents.file}:1: the journal's header has no seed; it cannot be resumed`
          : null;
  if (problem) {
    r.close();
    throw new StudyError(problem);
  }
  return r;
}

function startEvent(study: ResolvedStudy, setup: Setup): StartEvent {
  const { plan, model, stages } = study;
  const sizes = stages.map((s) => (Number.isFinite(s.size) && s.size > 0 ? s.size : Number.isFinite(s.budget) ? s.budget : 0));
  return {
    type: 'start',
    study: model.name,
    file: study.file,
    runDir: setup.opened.dir,
    stages: stages.map((s, i) => ({ name: s.name, size: sizes[i]!, method: s.method })),
    total: sizes.reduce((a, b) => a + b, 0),
    seed: setup.seed,
    workers: setup.settings.workers,
    directions: plan.objectives.map((o) => o.direction),
    objectives: plan.objectives.map((o) => o.text),
    params: stages.flatMap((s) => s.dims.map((d) => d.name)),
    resumed: setup.resumed,
    tradingDays: clockDays(setup.data.clock, setup.data.window?.start, setup.data.window?.end),
  };
}

/** Trials of an earlier run (warm start): every complete trial (each stage rescores them with this study's objectives). */
function loadWarm(dir: string, out: Announcer): StageContext['warm'] {
  try {
    const trials = readJournal(dir).trials.filter((t) => t.state === 'complete').map((t) => ({ params: t.params, metrics: t.metrics, symbols: t.symbols }));
    out.log('info', `warm start: ${trials.length} trials from ${dir}`);
    return trials;
  } catch (e) {
    out.log('warning', `warm start ignored: ${(e as Error).message}`);
    return [];
  }
}

/** The run's executor: the caller's choice, else the local pool (built-in strategies only). @throws StudyError */
async function createExecutor(factory: ExecutorFactory | undefined, payload: TaskPayload, settings: ExecutorSettings, prices: PriceData | readonly PriceData[], context: ExecutorContext): Promise<TrialExecutor> {
  if (!factory) {
    const kind = payload.strategy.kind;
    if (context.redis || kind !== 'builtin')
      throw new StudyError(`${context.redis ? 'a distributed run' : `a ${kind} strategy`} needs the executor its host chooses: run it with \`optstudy run\` or from the editor (server/host/executors.ts)`);
    return new LocalExecutor(payload, settings, prices);
  }
  try {
    return await factory(payload, settings, prices, context);
  } catch (e) {
    throw new StudyError(e instanceof Error ? e.message : String(e));
  }
}

/** Longest wait for an executor to stop its workers and processes before the run ends anyway. */
const CLOSE_MS = 5000;
const closed = new WeakSet<TrialExecutor>();

/** Closes the executor once, waiting at most CLOSE_MS (its processes' groups are killed by then, or at exit). */
async function closeExecutor(executor: TrialExecutor, out: Announcer | null): Promise<void> {
  if (closed.has(executor)) return;
  closed.add(executor);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_MS)));
  const done = executor.close().then(
    () => 'closed' as const,
    (e: unknown) => {
      out?.log('warning', `stopping the workers: ${e instanceof Error ? e.message : String(e)}`);
      return 'closed' as const;
    },
  );
  if ((await Promise.race([done, late])) === 'late') out?.log('warning', `the workers did not stop within ${CLOSE_MS / 1000} s; the run ends without them`);
  clearTimeout(timer);
}
