/**
 * Reports from a saved run: one model built from the journal (and, where possible, engine
 * re-runs), rendered as a text summary, a CSV of trials, a JSON summary and one
 * self-contained HTML file.
 */
import type { AnalysisSnapshot } from '../../protocol/analysis';
import type { EndEvent, RunValidation, TrialEvent } from '../../protocol/run-events';
import { analyzeTrials } from '../analysis';
import { bestByMetric, rankTrials, stageNames, type BestByMetric, type RankedTrial } from '../analysis/rankings';
import { computeReruns, type RerunOptions, type Reruns } from './reruns';
import { readRunFolder, type RunData } from './run-folder';
import { validateRun } from './validation';

export { RunFolderError, readRunFolder, type RunData } from './run-folder';
export { computeReruns, type Reruns } from './reruns';
export { validateRun, type ValidationResult } from './validation';
export { trialsCsv } from './csv';
export { reportHtml } from './html';
export { reportText } from './text';

export interface ReportModel {
  generatedAt: string;
  run: {
    dir: string;
    journal: string;
    study: string | null;
    file: string | null;
    seed: number | null;
    startedAt: string | null;
    directions: ('maximize' | 'minimize')[];
    directionsFrom: RunData['directionsFrom'];
    objectives: string[];
    stages: { name: string; method?: string; size?: number }[];
    status: EndEvent['status'] | 'unfinished';
    warnings: string[];
  };
  snapshot: AnalysisSnapshot;
  rankings: {
    top: RankedTrial[];
    bottom: RankedTrial[];
    perStage: { stage: string; top: RankedTrial[] }[];
    bestByMetric: BestByMetric[];
  };
  reruns: Reruns;
  /** Holdout / walk-forward results: as the run recorded them, or re-run here (ValidationResult). */
  validation: unknown[];
  /** Why the study's validate statement was not run, when it was not. */
  validationNote: string | null;
  /** The trials, for the CSV and the history chart. */
  trials: TrialEvent[];
}

export interface BuildReportOptions extends RerunOptions {
  /** Skip engine re-runs (DSR moments, PBO, bootstrap, validation) — faster, journal-only. */
  noReruns?: boolean;
  topN?: number;
}

/** Reads `dir` and builds the report model. @throws RunFolderError for a missing/empty/corrupt folder. */
export async function buildReport(dir: string, opts: BuildReportOptions = {}): Promise<ReportModel> {
  const run = readRunFolder(dir);
  const dirs = run.start.directions ?? ['maximize'];
  const reruns: Reruns = opts.noReruns
    ? { available: false, reason: 're-runs were turned off (--no-reruns)', mismatches: [] }
    : run.start.file
      ? computeReruns(run.start.file, run.study, run.trials, dirs, opts)
      : { available: false, reason: 'the journal does not name its study file', mismatches: [] };
  const h = run.header ?? {};
  const validation: unknown[] = [];
  const end = run.end as (EndEvent & { validation?: unknown }) | null;
  let validationNote: string | null = null;
  if (end?.validation) validation.push(end.validation);
  else if (run.study?.validate && !opts.noReruns && run.start.file) {
    const v = await validateRun(run.start.file, run.study, run.trials);
    if (v.result) validation.push(v.result);
    else validationNote = v.reason ?? null;
  }
  // The overfitting verdict (server/analysis/evidence.ts) with what only the report has: PBO and
  // the DSR from re-runs (measured moments beat the normal assumption) and the validation.
  const observations = reruns.deflatedSharpe?.observations;
  const missing = [...(reruns.available ? [] : [`PBO and measured moments: ${reruns.reason ?? 're-runs unavailable'}`]), ...(validationNote ? [`validation: ${validationNote}`] : [])];
  const evidence = {
    pbo: reruns.pbo ? { pbo: reruns.pbo.pbo, combinations: reruns.pbo.combinations, partitions: reruns.pbo.partitions, strategies: reruns.pbo.strategies, observations: reruns.pbo.observations, degradationSlope: reruns.pbo.degradationSlope, probabilityOfLoss: reruns.pbo.probabilityOfLoss } : null,
    ...(reruns.deflatedSharpe ? { deflatedSharpe: reruns.deflatedSharpe } : {}),
    validation: (validation[0] as RunValidation | undefined) ?? null,
    missing,
  };
  const snapshot = analyzeTrials(run.trials, { ...run.start }, { final: true, topN: opts.topN ?? 20, ...(observations ? { observations } : {}), evidence });
  return {
    generatedAt: new Date().toISOString(),
    run: {
      dir: run.dir,
      journal: run.journal,
      study: run.start.study ?? null,
      file: run.start.file ?? null,
      seed: typeof h.seed === 'number' ? h.seed : null,
      startedAt: typeof h.startedAt === 'string' ? h.startedAt : null,
      directions: dirs,
      directionsFrom: run.directionsFrom,
      objectives: run.start.objectives ?? dirs.map((_, i) => `objective ${i + 1}`),
      stages: stageNames(run.trials, run.start).map((name) => {
        const s = run.start.stages?.find((x) => x.name === name);
        return { name, ...(s ? { method: s.method, size: s.size } : {}) };
      }),
      status: run.end?.status ?? (run.end ? 'finished' : 'unfinished'),
      warnings: run.warnings,
    },
    snapshot,
    rankings: {
      top: rankTrials(run.trials, run.start, { n: opts.topN ?? 20 }),
      bottom: rankTrials(run.trials, run.start, { n: 5, bottom: true }),
      perStage: stageNames(run.trials, run.start).map((stage) => ({ stage, top: rankTrials(run.trials, run.start, { n: 5, stage }) })),
      bestByMetric: bestByMetric(run.trials),
    },
    reruns,
    validation,
    validationNote,
    trials: run.trials,
  };
}

/** The JSON summary: everything but the per-trial rows and long series. */
export function reportJson(m: ReportModel): object {
  const { trials: _t, reruns, snapshot, ...rest } = m;
  const { best, ...rr } = reruns;
  return {
    ...rest,
    validation: m.validation.map((v) => JSON.parse(JSON.stringify(v, (k, x) => (k === 'stitchedEquity' ? undefined : x)))),
    snapshot: { ...snapshot, slices: snapshot.slices?.map((s) => ({ ...s, points: undefined })) },
    reruns: { ...rr, ...(best ? { best: { number: best.number, trades: best.trades, finalValue: best.equity[best.equity.length - 1] } } : {}) },
  };
}
