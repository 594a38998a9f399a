/**
 * Step 1 of a run: the study file → the study to run (checked, with its plan and the stages
 * asked for) → its price data (the bars it optimizes on: a holdout's in-sample head or a
 * walk-forward fold's training window) and the task payload the executor gets.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, IssueCodes, type AnalyzeOptions, type Diagnostic, type Range, type StudyModel } from '../../grammar';
import type { PriceData } from '../engine';
import { loadFeeds, type FeedRef } from '../data/feeds';
import { cutFeeds, windowClock, type WindowClock } from '../data/windows';
import type { TaskPayload } from '../executor/executor';
import { checkWorkspace } from '../workspace-checks';
import { buildPlan, type StagePlan, type StudyPlan } from './plan';
import { holdoutWindow, validationWindows } from './validate-run';

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
 * `paths.workspaceRoot` (default: the study's folder), as `optstudy check` reports them. `checks`
 * are the host's own (a backtrader strategy described by its bridge).
 * @throws StudyError
 */
export function loadStudy(file: string, name?: string, paths?: { workspaceRoot?: string }, checks: AnalyzeOptions = {}): { model: StudyModel; plan: StudyPlan; warnings: string[] } {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new StudyError(`${file}: cannot read the study file (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  const a = analyze(text, checks);
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
  // What the host's own checks could not do (a backtrader bridge without backtrader): said once
  // when the run starts, not only in the editor — else every trial fails before the user learns why.
  const warnings = a.diagnostics.filter((d) => d.severity === 'warning' && d.code === IssueCodes.BacktraderSpec && (inside(d, model) || !a.studies.some((s) => inside(d, s)))).map((d) => d.message);
  try {
    return { model, plan: buildPlan(model, file), warnings };
  } catch (e) {
    throw new StudyError(`${rel}:${model.range.start.line + 1}:1: ${(e as Error).message}`);
  }
}

export interface ResolvedStudy {
  /** The study file, absolute. */
  file: string;
  model: StudyModel;
  plan: StudyPlan;
  /** Warnings of the host's checks the run repeats when it starts (see loadStudy). */
  warnings: string[];
  /** The stages to run (one with `--stage`). */
  stages: StagePlan[];
}

/** The study a run asks for. @throws StudyError */
export function resolveStudy(options: { file: string; study?: string; stage?: string; trusted?: boolean; confine?: { root?: string }; checkOptions?: (file: string) => AnalyzeOptions }): ResolvedStudy {
  const file = path.resolve(options.file);
  // The host's own checks (a backtrader strategy described by its bridge) run user code: trusted only.
  const checks = options.trusted === false ? {} : (options.checkOptions?.(file) ?? {});
  const { model, plan, warnings } = loadStudy(file, options.study, options.confine && { workspaceRoot: options.confine.root }, checks);
  if (options.trusted === false && plan.payload.strategy.kind !== 'builtin')
    throw new StudyError(`${file}: strategy '${model.strategy?.name}' is a ${plan.payload.strategy.kind} strategy: running it needs a trusted workspace`);
  let stages = plan.stages;
  if (options.stage !== undefined) {
    stages = stages.filter((s) => s.name === options.stage);
    if (!stages.length) throw new StudyError(`${file}: no stage named '${options.stage}' in study '${model.name}'`);
  }
  return { file, model, plan, warnings, stages };
}

export interface RunData {
  /** The bars the run optimizes on (data 0 of `feeds`). */
  prices: PriceData;
  /** Every feed the run optimizes on, data 0 first (each cut to the window when there is one). */
  feeds: PriceData[];
  /** Every bar of the study's data (validation re-runs out of sample): data 0 … */
  allPrices: PriceData;
  /** … and every feed. */
  allFeeds: PriceData[];
  /**
   * Set when `feeds` are a window of `allFeeds` (a holdout's head, a fold's training window):
   * ticks [start, end) of `clock`.
   */
  window: { start: number; end: number } | null;
  /** The calendar windows are cut on: data 0's bars, or the union of every feed's bar stamps. */
  clock: WindowClock;
  /** The executor's payload: executors that load the data themselves see the window as dates. */
  payload: TaskPayload;
}

/** Loads the study's prices and cuts the run's window. @throws StudyError naming the line at fault */
export function loadRunData(r: ResolvedStudy, options: { window?: { start: number; end: number }; validate?: boolean }): RunData {
  const { data, datas, basket } = r.plan.payload;
  const ranges = r.model.ranges;
  // Every feed once (data 0 first): a multi-feed strategy sees them all, a basket runs each alone.
  const allFeeds = atLine(r, ranges.data, () => loadFeeds(datas ?? [data]));
  // Windows are ticks of one calendar for every feed (server/data/windows.ts).
  const clock = atLine(r, ranges.data, () => windowClock(allFeeds));
  let window = options.window ?? null;
  // `validate holdout` optimizes on the in-sample head only (also for a single `--stage`: its
  // trials must stay comparable with the full run's); a walk-forward fold's nested run on its window.
  if (!window && options.validate !== false) {
    window = atLine(r, ranges.validate, () => {
      const head = holdoutWindow(r.model, clock);
      // Several feeds: every validation window must hold a bar of every feed; say so before the first trial.
      if (allFeeds.length > 1) for (const w of validationWindows(r.model, clock)) cutFeeds(allFeeds, clock, w.start, w.end, basket?.symbols);
      return head;
    });
  }
  const feeds = atLine(r, options.window ? undefined : ranges.validate, () => {
    if (window && (window.start < 0 || window.end > clock.ticks || window.end - window.start < 2))
      throw new Error(`bar window ${window.start}…${window.end} is outside the ${clock.ticks} bars of the data`);
    return window ? cutFeeds(allFeeds, clock, window.start, window.end, basket?.symbols) : allFeeds;
  });
  // Executors that read the files themselves (Redis workers, the backtrader bridge) get the
  // window's first and last stamps as every feed's range: the same bars as the cut.
  const w = window;
  const cut = (ref: FeedRef): FeedRef => (w ? { ...ref, from: clock.stamp(w.start), to: clock.stamp(w.end - 1) } : ref);
  const payload = w ? { ...r.plan.payload, data: cut(data), ...(datas ? { datas: datas.map(cut) } : {}) } : r.plan.payload;
  return { prices: feeds[0]!, feeds, allPrices: allFeeds[0]!, allFeeds, window, clock, payload };
}

/** Runs `step`; its error becomes a StudyError at `range` (the statement at fault), else the study's line. */
function atLine<T>(r: ResolvedStudy, range: Range | undefined, step: () => T): T {
  try {
    return step();
  } catch (e) {
    const at = range ?? r.model.range;
    const file = path.relative(process.cwd(), r.file) || r.file;
    throw new StudyError(`${file}:${at.start.line + 1}:${at.start.character + 1}: ${(e as Error).message}`);
  }
}
