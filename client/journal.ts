/**
 * Reopening saved runs: turns a run folder's `journal.jsonl` (a header line, then trial, stage
 * and end lines shaped like run events) back into the event stream the run model folds, and
 * summarises run folders for the run list — both through protocol/journal-reader.ts, the one
 * journal reader. Tolerant: a torn last line (a crash mid-write) is skipped; other bad lines are
 * reported with their line number. Pure apart from reading files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JOURNAL_FILE, parseJournal, summarizeJournal, type JournalData } from '../protocol/journal-reader';
import type { RunEvent, StartEvent } from '../protocol/run-events';

export { JOURNAL_FILE };

interface JournalHeader {
  type: 'header';
  study?: string;
  file?: string;
  seed?: number;
  startedAt?: string;
  stage?: string;
}

export interface JournalEvents {
  events: RunEvent[];
  /** Problems met while reading (a line that is not JSON). */
  warnings: string[];
  header?: JournalHeader;
}

/** Extra facts the journal lacks (from the study file): objective directions and expressions. */
export interface StudyFacts {
  directions?: ('maximize' | 'minimize')[];
  objectives?: string[];
  stages?: { name: string; method: string; size: number }[];
}

/** The events of a journal's text (read by protocol/journal-reader.ts, the one journal reader). `runDir` is recorded in the synthetic start and end events. */
export function eventsFromJournal(text: string, runDir?: string, facts: StudyFacts = {}, source = JOURNAL_FILE): JournalEvents {
  let data: JournalData;
  try {
    data = parseJournal(text, source);
  } catch (e) {
    return { events: [], warnings: [(e as Error).message] };
  }
  const header = data.header as JournalHeader | null;
  const stageOrder: string[] = [];
  const params = new Set<string>();
  for (const t of data.trials) {
    if (!stageOrder.includes(t.stage)) stageOrder.push(t.stage);
    for (const k of Object.keys(t.params ?? {})) params.add(k);
  }
  for (const name of data.stages.keys()) if (!stageOrder.includes(name)) stageOrder.push(name);
  const body: RunEvent[] = [...data.trials, ...data.stages.values(), ...data.events];
  const trials = data.trials.length;
  const stages = facts.stages?.length
    ? facts.stages
    : stageOrder.map((name) => ({ name, method: '?', size: data.trials.filter((t) => t.stage === name).length }));
  const ev: StartEvent = (data.start as StartEvent | null) ?? {
    type: 'start',
    study: header?.study ?? path.basename(runDir ?? 'run'),
    file: header?.file,
    runDir,
    stages,
    total: stages.reduce((a, s) => a + (s.size || 0), 0) || trials,
    seed: header?.seed,
    directions: facts.directions,
    objectives: facts.objectives,
    params: [...params],
  };
  // The folder the journal was read from wins: a run folder may have been moved.
  if (runDir) ev.runDir = runDir;
  const events: RunEvent[] = [ev, ...body];
  const end = data.end;
  // A journal without an end line belongs to a run that was stopped or killed: it can be resumed.
  events.push(end ? { ...end, runDir: runDir ?? end.runDir } : { type: 'end', best: null, trials, elapsedMs: 0, status: 'cancelled', runDir, error: 'the run stopped before it finished (resume it to continue)' });
  return { events, warnings: data.warnings, header: header ?? undefined };
}

export interface RunInfo {
  dir: string;
  study: string;
  file?: string;
  startedAt?: string;
  trials: number;
  status: 'finished' | 'cancelled' | 'failed' | 'unknown';
  best?: number | number[] | null;
  mtimeMs: number;
}

/** Summarises one run folder from its journal's first and last lines (without reading a huge journal whole). */
export function summarizeRun(dir: string): RunInfo | undefined {
  const j = summarizeJournal(path.join(dir, JOURNAL_FILE));
  if (!j) return undefined;
  const header = j.header as JournalHeader | null;
  return {
    dir,
    study: header?.study ?? path.basename(dir),
    file: header?.file,
    startedAt: header?.startedAt,
    trials: j.trials,
    status: j.end ? (j.end.status ?? 'finished') : 'cancelled',
    best: j.end?.best?.score,
    mtimeMs: j.mtimeMs,
  };
}

/** Every run folder (holding a journal) under `.optstudy/runs/` of the given roots, newest first. */
export function listRuns(roots: string[]): RunInfo[] {
  const out: RunInfo[] = [];
  const seen = new Set<string>();
  for (const root of roots) {
    const runs = path.join(root, '.optstudy', 'runs');
    let names: string[] = [];
    try {
      names = fs.readdirSync(runs);
    } catch {
      continue;
    }
    for (const n of names) {
      const dir = path.join(runs, n);
      if (seen.has(dir)) continue;
      seen.add(dir);
      const info = summarizeRun(dir);
      if (info) out.push(info);
    }
  }
  return out.sort((a, b) => b.mtimeMs - a.mtimeMs);
}
