/**
 * The one reader of run journals (`RUN_DIR/journal.jsonl`: a header line, then `trial`,
 * `stage`, `log` and `end` lines shaped like run events — server/run/journal.ts writes it).
 * `--resume`, warm starts, `optstudy report`, the analysis and the editor's saved runs all read
 * journals through here, so they agree on what a journal holds:
 * - a torn last line (a crash mid-write) is left out, and said so;
 * - another line that is not JSON is an error in `strict` mode (resume: continuing a damaged
 *   journal could run trials twice), else skipped with a warning naming its line;
 * - older journals: an untyped first line that is not a trial is the header, untyped lines with
 *   `params` and `state` are trials, a recorded `start` line is kept;
 * - a trial written twice (a resume after a crash) counts once: the last line wins.
 * Shared by the server and the client (node's fs only).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EndEvent, LogEvent, ParamValues, RunEvent, StageEvent, StartEvent, TrialEvent } from './run-events';

export const JOURNAL_FILE = 'journal.jsonl';

/** The header line: what `optstudy run` writes (older journals may lack fields). */
export interface JournalHeader {
  type: 'header';
  format: number;
  study: string;
  /** The study file, absolute. */
  file: string;
  /** Hash of the resolved study (what it runs, not how it is formatted). */
  studyHash: string;
  seed: number;
  /** Content hash of the price bars the run uses. */
  dataHash: string;
  versions: { optstudy: string; node: string; journal: number };
  startedAt: string;
  /** Only this stage was run (`stage` option). */
  stage?: string;
}

export interface JournalData {
  /** The journal file read. */
  file: string;
  /** The header line as written (any shape), or null when absent. */
  header: (Partial<JournalHeader> & Record<string, unknown>) | null;
  /** A recorded `start` line (journals written by recorders), else null. */
  start: Partial<StartEvent> | null;
  /** Every trial once, in number order (the last line wins for a number written twice); unnumbered trials after them. */
  trials: TrialEvent[];
  /** `stage` lines by stage name (the last wins). */
  stages: Map<string, StageEvent>;
  /** `log` and `analysis` lines, in order. */
  events: RunEvent[];
  end: EndEvent | null;
  /** What the reader skipped or had to guess, each naming its file and line. */
  warnings: string[];
  /** The length of a torn last line (0 when the journal ends with a whole line). */
  tornBytes: number;
}

/** A journal that cannot be read. The message names the file and line and says what to do. */
export class JournalError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JournalError';
  }
}

/** The journal file of a run folder (or the file itself). */
export function journalFile(dirOrFile: string): string {
  return isDirectory(dirOrFile) ? path.join(dirOrFile, JOURNAL_FILE) : dirOrFile;
}

/** Reads a run folder's journal (or a journal file). @throws JournalError */
export function readJournal(dirOrFile: string, options: { strict?: boolean } = {}): JournalData {
  const file = journalFile(dirOrFile);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new JournalError(
      code === 'ENOENT' ? `${file}: no journal here (a run folder holds ${JOURNAL_FILE}; run a study with --out DIR first)` : `${file}: cannot read the journal (${code ?? String(e)})`,
    );
  }
  return parseJournal(text, file, options);
}

type Line = Record<string, unknown> & { type?: unknown };

function isTrialLine(o: Line): boolean {
  return (o.type === 'trial' || o.type === undefined) && typeof o.params === 'object' && o.params !== null && typeof o.state === 'string';
}

/** Reads a journal's text (`file` names it in messages). @throws JournalError in strict mode, for a damaged line */
export function parseJournal(text: string, file = JOURNAL_FILE, options: { strict?: boolean } = {}): JournalData {
  const lines = text.split('\n');
  // A journal is written whole lines at a time: text after the last newline is a torn line,
  // unless it is whole JSON (a write cut just before its newline, a journal written by hand).
  const torn = text.endsWith('\n') || text === '' || isJson(lines[lines.length - 1]!) ? '' : lines.pop()!;
  let header: JournalData['header'] = null;
  let start: JournalData['start'] = null;
  const byNumber = new Map<number, TrialEvent>();
  const unnumbered: TrialEvent[] = [];
  const stages = new Map<string, StageEvent>();
  const events: RunEvent[] = [];
  let end: EndEvent | null = null;
  const warnings: string[] = [];
  const bad: number[] = [];
  let parsed = 0;
  lines.forEach((raw, i) => {
    if (!raw.trim()) return;
    let o: Line;
    try {
      o = JSON.parse(raw) as Line;
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new Error('not an object');
    } catch {
      if (options.strict) throw new JournalError(`${file}:${i + 1}: not a JSON line — the journal is damaged here; start a new run, or remove the line to continue this one`);
      bad.push(i + 1);
      return;
    }
    parsed++;
    // A header is typed, or (older journals) the first line when it is not a trial.
    if (o.type === 'header' || (parsed === 1 && o.type === undefined && !isTrialLine(o))) header = o as JournalData['header'];
    else if (o.type === 'start') start = o as Partial<StartEvent>;
    else if (isTrialLine(o)) {
      const t = normalizeTrial(o);
      if (typeof o.number === 'number') byNumber.set(t.number, t);
      else unnumbered.push(t);
    } else if (o.type === 'stage' && typeof o.name === 'string') stages.set(o.name, o as unknown as StageEvent);
    else if (o.type === 'end') end = o as unknown as EndEvent;
    else if (o.type === 'log' || o.type === 'analysis') events.push(o as unknown as LogEvent);
  });
  if (torn.trim()) warnings.push(`${file}:${lines.length + 1}: left out a torn last line (the run was interrupted while writing it).`);
  if (bad.length) {
    if (parsed === 0) throw new JournalError(`${file}:${bad[0]}: not a JSON line — this is not an OptStudy journal (or it is damaged throughout).`);
    warnings.push(`${file}: skipped ${bad.length} unreadable line(s): ${bad.slice(0, 8).join(', ')}${bad.length > 8 ? ', …' : ''}.`);
  }
  const trials = [...byNumber.values()].sort((a, b) => a.number - b.number);
  unnumbered.forEach((t, k) => trials.push({ ...t, number: byNumber.size + k }));
  return { file, header, start, trials, stages, events, end, warnings, tornBytes: Buffer.byteLength(torn) };
}

function isJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function normalizeTrial(o: Line): TrialEvent {
  const t = o as unknown as TrialEvent;
  return {
    ...t,
    type: 'trial',
    stage: typeof t.stage === 'string' ? t.stage : '',
    params: t.params as ParamValues,
    metrics: typeof t.metrics === 'object' && t.metrics !== null ? t.metrics : {},
    score: t.score === undefined ? null : t.score,
  };
}

/** A run folder at a glance, for run lists: from its journal's first and last lines (a huge journal is not read whole when it has its end). */
export interface JournalSummary {
  header: JournalData['header'];
  end: EndEvent | null;
  /** Trials recorded: the end's count, else the trial lines counted. */
  trials: number;
  mtimeMs: number;
}

/** Summarises a run folder's journal, or undefined when it has none. */
export function summarizeJournal(dirOrFile: string): JournalSummary | undefined {
  const file = journalFile(dirOrFile);
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return undefined;
  }
  try {
    const { size, mtimeMs } = fs.fstatSync(fd);
    const head = Buffer.alloc(Math.min(size, 16384));
    fs.readSync(fd, head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(size, 65536));
    fs.readSync(fd, tail, 0, tail.length, size - tail.length);
    let header: JournalData['header'] = null;
    try {
      header = JSON.parse(head.toString('utf8').split('\n')[0] ?? '') as JournalData['header'];
    } catch {
      /* not a journal we can summarise */
    }
    let end: EndEvent | null = null;
    for (const l of tail.toString('utf8').split('\n').slice(-200))
      if (l.includes('"type":"end"')) {
        try {
          end = JSON.parse(l) as EndEvent;
        } catch {
          /* torn */
        }
      }
    const trials = end ? end.trials : (fs.readFileSync(file, 'utf8').match(/"type":"trial"/g) ?? []).length;
    return { header, end, trials, mtimeMs };
  } finally {
    fs.closeSync(fd);
  }
}

function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}
