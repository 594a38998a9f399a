/**
 * Reopening saved runs: turns a run folder's `journal.jsonl` (a header line, then trial, stage
 * and end lines shaped like run events) back into the event stream the run model folds, and
 * summarises run folders for the run list. Tolerant: a torn last line (a crash mid-write) is
 * skipped; other bad lines are reported with their line number. Pure apart from reading files.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EndEvent, RunEvent, StageEvent, StartEvent, TrialEvent } from '../protocol/run-events';

export const JOURNAL_FILE = 'journal.jsonl';

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

/** The events of a journal's text. `runDir` is recorded in the synthetic start and end events. */
export function eventsFromJournal(text: string, runDir?: string, facts: StudyFacts = {}, source = JOURNAL_FILE): JournalEvents {
  const warnings: string[] = [];
  const lines = text.split('\n');
  let header: JournalHeader | undefined;
  let start: StartEvent | undefined;
  const body: RunEvent[] = [];
  let end: EndEvent | undefined;
  const stageOrder: string[] = [];
  const params = new Set<string>();
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    let o: { type?: string } & Record<string, unknown>;
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      if (i < lines.length - 2) warnings.push(`${source}:${i + 1}: not a JSON line (skipped)`);
      return;
    }
    if (o.type === 'header') header = o as unknown as JournalHeader;
    else if (o.type === 'start') start = o as unknown as StartEvent;
    else if (o.type === 'trial' || (o.type === undefined && 'params' in o && 'state' in o)) {
      const t = { ...(o as unknown as TrialEvent), type: 'trial' as const };
      if (!stageOrder.includes(t.stage)) stageOrder.push(t.stage);
      for (const k of Object.keys(t.params ?? {})) params.add(k);
      body.push(t);
    } else if (o.type === 'stage') {
      const s = o as unknown as StageEvent;
      if (!stageOrder.includes(s.name)) stageOrder.push(s.name);
      body.push(s);
    } else if (o.type === 'end') end = o as unknown as EndEvent;
    else if (o.type === 'log' || o.type === 'analysis') body.push(o as unknown as RunEvent);
  });
  const trials = body.filter((e) => e.type === 'trial').length;
  const stages = facts.stages?.length
    ? facts.stages
    : stageOrder.map((name) => ({ name, method: '?', size: body.filter((e) => e.type === 'trial' && e.stage === name).length }));
  const ev: StartEvent = start ?? {
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
  // A journal without an end line belongs to a run that was stopped or killed: it can be resumed.
  events.push(end ? { ...end, runDir: runDir ?? end.runDir } : { type: 'end', best: null, trials, elapsedMs: 0, status: 'cancelled', runDir, error: 'the run stopped before it finished (resume it to continue)' });
  return { events, warnings, header };
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
  const file = path.join(dir, JOURNAL_FILE);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const mtimeMs = fs.fstatSync(fd).mtimeMs;
    const headBuf = Buffer.alloc(Math.min(size, 16384));
    fs.readSync(fd, headBuf, 0, headBuf.length, 0);
    const tailLen = Math.min(size, 65536);
    const tailBuf = Buffer.alloc(tailLen);
    fs.readSync(fd, tailBuf, 0, tailLen, size - tailLen);
    const first = headBuf.toString('utf8').split('\n')[0] ?? '';
    let header: JournalHeader | undefined;
    try {
      header = JSON.parse(first) as JournalHeader;
    } catch {
      /* not a journal we can summarise */
    }
    const tailLines = tailBuf.toString('utf8').split('\n').filter((l) => l.trim());
    let end: EndEvent | undefined;
    let lastTrial = -1;
    for (const l of tailLines.slice(-200)) {
      if (l.includes('"type":"end"')) {
        try {
          end = JSON.parse(l) as EndEvent;
        } catch {
          /* torn */
        }
      }
    }
    // Trials: count newlines cheaply (a journal line per trial, plus header/stage/end lines).
    if (!end) {
      const all = fs.readFileSync(file, 'utf8');
      lastTrial = (all.match(/"type":"trial"/g) ?? []).length;
    }
    return {
      dir,
      study: header?.study ?? path.basename(dir),
      file: header?.file,
      startedAt: header?.startedAt,
      trials: end ? end.trials : Math.max(0, lastTrial),
      status: end ? (end.status ?? 'finished') : 'cancelled',
      best: end?.best?.score,
      mtimeMs,
    };
  } finally {
    fs.closeSync(fd);
  }
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
