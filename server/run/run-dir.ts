/**
 * A run folder opened for writing: created (a new run) or continued (`--resume`), locked for
 * this process while the run writes its journal (run-lock.ts), and with a torn journal tail
 * cut back before anything is appended (journal.ts `repairTail`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { JournalData } from '../../protocol/journal-reader';
import { Journal, type JournalHeader, type TornTail } from './journal';
import { lockRunFolder } from './run-lock';

export interface OpenRunDir {
  dir: string;
  journal: Journal;
  /** Closes the journal and releases the folder's lock. */
  close(): void;
}

export interface ResumedRunDir extends OpenRunDir {
  contents: JournalData;
  /** What a crash left torn at the journal's end, now kept aside; null when nothing was. */
  torn: TornTail | null;
}

/** Locks a run folder and opens its journal to continue it. @throws Error saying why it cannot. */
export function resumeRunDir(dir: string): ResumedRunDir {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`${dir}: no such run folder (a run folder holds journal.jsonl)`);
  const release = lockRunFolder(dir);
  try {
    const { journal, contents, torn } = Journal.resume(dir);
    return { dir, journal, contents, torn, close: closer(journal, release) };
  } catch (e) {
    release();
    throw e;
  }
}

/**
 * Creates a run folder (`dir`, or a new one under `.optstudy/runs/` beside the study), locks it
 * and starts its journal. @throws Error when the folder already holds a journal or is in use.
 */
export function createRunDir(dir: string | { studyFile: string; study: string }, header: JournalHeader): OpenRunDir {
  let at: string;
  if (typeof dir === 'string') {
    at = dir;
    fs.mkdirSync(at, { recursive: true });
  } else at = newRunDir(dir.studyFile, dir.study);
  const release = lockRunFolder(at);
  try {
    const journal = Journal.create(at, header);
    return { dir: at, journal, close: closer(journal, release) };
  } catch (e) {
    release();
    throw e;
  }
}

function closer(journal: Journal, release: () => void): () => void {
  return () => {
    try {
      journal.close();
    } finally {
      release();
    }
  };
}

/**
 * Creates a new run folder beside the study, `.optstudy/runs/<time>-<study>[-N]`. The folder is
 * made with an exclusive mkdir, so two runs started in the same second never share one.
 */
export function newRunDir(file: string, study: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const slug = study.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'study';
  const runs = path.join(path.dirname(file), '.optstudy', 'runs');
  fs.mkdirSync(runs, { recursive: true });
  const base = path.join(runs, `${stamp}-${slug}`);
  for (let i = 1; ; i++) {
    const dir = i === 1 ? base : `${base}-${i}`;
    try {
      fs.mkdirSync(dir);
      return dir;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
}
