/**
 * Reads a saved run for reports: `RUN_DIR/journal.jsonl` through the one journal reader
 * (protocol/journal-reader.ts), tolerantly — a torn last line is skipped, unreadable lines in
 * the middle are skipped and reported as warnings, the header may be missing — plus
 * the study it ran (from the header's `file`), when that file can still be read, for the
 * objectives' directions, the stages' search methods and what re-runs need (data, strategy,
 * broker settings).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { analyze, type StudyModel } from '../../grammar';
import { journalFile, readJournal, type JournalData } from '../../protocol/journal-reader';
import type { EndEvent, StageEvent, StartEvent, TrialEvent } from '../../protocol/run-events';
import { paretoFront } from '../analysis/pareto';
import { scoreVector, type Direction, type StartLike } from '../analysis/trial-data';

/** A run folder that cannot be reported on; the message says which file, which line and what to do. */
export class RunFolderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RunFolderError';
  }
}

export interface RunData {
  dir: string;
  journal: string;
  /** The header line as written (any shape), or null when absent. */
  header: Record<string, unknown> | null;
  /** What the run's `start` event would have said, rebuilt from the study and the trials. */
  start: StartLike & { study?: string; file?: string };
  /** Trials in number order (the last line wins for a number written twice by a resume). */
  trials: TrialEvent[];
  stages: StageEvent[];
  end: EndEvent | null;
  /** The study as resolved from its file, when the file is still there and the study is found. */
  study: StudyModel | null;
  /** Where the directions came from: the study file, the end event's Pareto set, or a default. */
  directionsFrom: 'study' | 'start' | 'pareto' | 'default';
  /** Lines skipped and other things the reader had to guess. */
  warnings: string[];
}

/** Reads `dir` (a run folder, or a journal file) for a report. @throws RunFolderError */
export function readRunFolder(dir: string): RunData {
  if (!fs.existsSync(dir)) throw new RunFolderError(`${dir}: no such folder. Pass a run folder (it holds journal.jsonl), e.g. .optstudy/runs/<run>.`);
  const journal = journalFile(dir);
  if (!fs.existsSync(journal)) throw new RunFolderError(`${journal}: missing. A run folder holds journal.jsonl; run a study with --out ${dir} first.`);
  let data: JournalData;
  try {
    data = readJournal(journal);
  } catch (e) {
    throw new RunFolderError((e as Error).message);
  }
  if (!data.header && !data.start && data.trials.length === 0 && !data.end)
    throw new RunFolderError(`${journal}: empty — the run recorded nothing (was it stopped before its first trial?).`);
  const { header, trials, end } = data;
  const startLine = data.start;
  const warnings = [...data.warnings];
  if (trials.length === 0) throw new RunFolderError(`${journal}: no trials recorded yet — nothing to report. Let the run finish at least one trial.`);
  if (!header) warnings.push(`${journal}:1: no header line; the study's settings are unknown, so re-runs are skipped.`);

  const h = (header ?? {}) as { study?: unknown; file?: unknown };
  const s0 = (startLine ?? {}) as Partial<StartEvent>;
  const studyFile = typeof s0.file === 'string' ? s0.file : typeof h.file === 'string' ? h.file : undefined;
  const studyName = typeof s0.study === 'string' ? s0.study : typeof h.study === 'string' ? h.study : undefined;
  const study = studyFile ? loadStudy(studyFile, studyName, warnings) : null;

  const k = trials.map((t) => scoreVector(t)).find((v) => v !== null)?.length ?? 1;
  let directions: Direction[];
  let directionsFrom: RunData['directionsFrom'];
  if (s0.directions?.length) ((directions = s0.directions), (directionsFrom = 'start'));
  else if (study && study.objectives.length === k) ((directions = study.objectives.map((o) => o.direction)), (directionsFrom = 'study'));
  else {
    const inferred = k > 1 && end ? directionsFromPareto(trials, (end as EndEvent).pareto, k) : null;
    directions = inferred ?? Array.from({ length: k }, () => 'maximize' as const);
    directionsFrom = inferred ? 'pareto' : 'default';
    if (!inferred) warnings.push(`the objectives' directions are unknown (study file unavailable); assuming maximize.`);
  }
  const start: RunData['start'] = {
    directions,
    ...(s0.objectives ? { objectives: s0.objectives } : study ? { objectives: study.objectives.map((o) => o.text) } : {}),
    ...(s0.params ? { params: s0.params } : study ? { params: study.stages.flatMap((st) => st.params.map((p) => p.name)) } : {}),
    ...(s0.stages ? { stages: s0.stages } : study ? { stages: study.stages.map((st) => ({ name: st.name, size: st.size, method: st.search.method })) } : {}),
    ...(studyName ? { study: studyName } : {}),
    ...(studyFile ? { file: studyFile } : {}),
  };
  return { dir, journal, header, start, trials, stages: [...data.stages.values()], end, study, directionsFrom, warnings };
}

function loadStudy(file: string, name: string | undefined, warnings: string[]): StudyModel | null {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    warnings.push(`${file}: the study file is no longer readable; directions and re-runs rely on the journal alone.`);
    return null;
  }
  try {
    const doc = analyze(text);
    const s = name === undefined ? doc.studies[0] : doc.studies.find((x) => x.name === name);
    if (!s) warnings.push(`${file}: no study named '${name}' any more; re-runs are skipped.`);
    return s ?? null;
  } catch (e) {
    warnings.push(`${file}: could not be analysed (${e instanceof Error ? e.message : String(e)}).`);
    return null;
  }
}

/** The direction combination under which the trials' front equals the recorded Pareto set. */
function directionsFromPareto(trials: TrialEvent[], pareto: EndEvent['pareto'], k: number): Direction[] | null {
  if (!pareto?.length || k > 4) return null;
  const feasible = trials.filter((t) => t.state === 'complete' && scoreVector(t));
  const want = new Set(pareto.map((p) => JSON.stringify(p.score)));
  for (let mask = 0; mask < 1 << k; mask++) {
    const dirs = Array.from({ length: k }, (_, i) => ((mask >> i) & 1 ? 'minimize' : 'maximize') as Direction);
    const front = paretoFront(feasible.map((t) => scoreVector(t)!), dirs).map((i) => JSON.stringify(feasible[i]!.score));
    if (front.length === want.size && front.every((f) => want.has(f))) return dirs;
  }
  return null;
}
