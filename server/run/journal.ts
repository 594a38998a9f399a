/**
 * The run journal: `DIR/journal.jsonl`, one JSON object per line — a header (study hash, seed,
 * data hash, versions), then one line per finished trial shaped like the `trial` event, plus
 * `stage` and `end` lines. Lines are written with one `write` each as trials finish, so a crash
 * or a kill loses at most the trials in flight; a torn last line is ignored when reading.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { EndEvent, StageEvent, TrialEvent } from '../../protocol/run-events';

export const JOURNAL_FILE = 'journal.jsonl';
export const JOURNAL_FORMAT = 1;

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

export interface JournalContents {
  header: JournalHeader;
  trials: Map<number, TrialEvent>;
  stages: Map<string, StageEvent>;
  end: EndEvent | null;
}

export class Journal {
  private fd: number;

  private constructor(readonly file: string) {
    this.fd = fs.openSync(file, 'a');
  }

  /** Starts a new journal in `dir` (created when missing). Refuses to overwrite one. */
  static create(dir: string, header: JournalHeader): Journal {
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, JOURNAL_FILE);
    if (fs.existsSync(file) && fs.statSync(file).size > 0)
      throw new Error(`${file} already exists: continue that run with --resume ${dir}, or choose another --out folder`);
    const j = new Journal(file);
    j.append(header);
    return j;
  }

  /** Opens an existing journal to continue it. */
  static resume(dir: string): { journal: Journal; contents: JournalContents } {
    const contents = readJournal(dir);
    return { journal: new Journal(path.join(dir, JOURNAL_FILE)), contents };
  }

  append(line: object): void {
    fs.writeSync(this.fd, JSON.stringify(line) + '\n');
  }

  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Reads a journal (a run folder or the file itself). @throws Error naming the file and line. */
export function readJournal(dirOrFile: string): JournalContents {
  const file = fs.existsSync(dirOrFile) && fs.statSync(dirOrFile).isDirectory() ? path.join(dirOrFile, JOURNAL_FILE) : dirOrFile;
  if (!fs.existsSync(file)) throw new Error(`${file}: no journal here (a run folder holds journal.jsonl)`);
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  let header: JournalHeader | null = null;
  const trials = new Map<number, TrialEvent>();
  const stages = new Map<string, StageEvent>();
  let end: EndEvent | null = null;
  lines.forEach((text, i) => {
    if (!text.trim()) return;
    let o: { type?: string };
    try {
      o = JSON.parse(text) as { type?: string };
    } catch {
      if (i >= lines.length - 2) return; // a line torn by a crash
      throw new Error(`${file}:${i + 1}: not a JSON line`);
    }
    if (o.type === 'header') header = o as JournalHeader;
    else if (o.type === 'trial') trials.set((o as TrialEvent).number, o as TrialEvent);
    else if (o.type === 'stage') stages.set((o as StageEvent).name, o as StageEvent);
    else if (o.type === 'end') end = o as EndEvent;
  });
  if (!header) throw new Error(`${file}:1: the journal has no header line`);
  return { header, trials, stages, end };
}
