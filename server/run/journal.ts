/**
 * The run journal: `DIR/journal.jsonl`, one JSON object per line — a header (study hash, seed,
 * data hash, versions), then one line per finished trial shaped like the `trial` event, plus
 * `stage` and `end` lines. Trial lines are gathered and written together at most
 * `FLUSH_MS` apart (one `write` per trial was a visible share of a fast grid's main thread);
 * the run announces a trial only after its line is written, so whatever a listener has seen is
 * on disk. A crash or a kill loses at most the trials in flight and the last few milliseconds of
 * finished, not yet announced ones — `--resume` runs those again; a torn last line is ignored
 * when reading.
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

/** Longest time a finished trial waits in memory before it reaches the file. */
export const FLUSH_MS = 50;
/** Pending bytes that force a write whatever the time. */
const FLUSH_BYTES = 256 * 1024;

export class Journal {
  private fd: number;
  /** Trial lines not yet written, UTF-8 encoded as they come (no join, no second encoding). */
  private buf = Buffer.allocUnsafe(FLUSH_BYTES);
  private used = 0;

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

  /**
   * Opens an existing journal to continue it. A torn tail (a crash mid-write) is cut back to the
   * last complete line first and kept aside (`repairTail`), so nothing is ever appended onto a
   * fragment.
   */
  static resume(dir: string): { journal: Journal; contents: JournalContents; torn: TornTail | null } {
    const file = path.join(dir, JOURNAL_FILE);
    const torn = fs.existsSync(file) ? repairTail(file) : null;
    const contents = readJournal(dir);
    return { journal: new Journal(file), contents, torn };
  }

  /** Appends a line now (header, stage and end lines: rare and worth having on disk at once). */
  append(line: object): void {
    this.buffer(JSON.stringify(line));
    this.flush();
  }

  /**
   * Appends a trial line, written with the next flush (the run flushes at most FLUSH_MS
   * apart). Returns the line's JSON (without the newline) so the event's printer can reuse it.
   */
  appendTrial(line: object): string {
    const text = JSON.stringify(line);
    this.buffer(text);
    return text;
  }

  private buffer(text: string): void {
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    const room = text.length * 3 + 1;
    if (this.used + room > this.buf.length) {
      this.flush();
      if (room > this.buf.length) this.buf = Buffer.allocUnsafe(room);
    }
    this.used += this.buf.write(text, this.used, 'utf8');
    this.buf[this.used++] = 0x0a;
  }

  /** Writes what is pending, in one write. */
  flush(): void {
    if (this.used === 0 || this.fd < 0) return;
    let off = 0;
    while (off < this.used) off += fs.writeSync(this.fd, this.buf, off, this.used - off);
    this.used = 0;
  }

  close(): void {
    this.flush();
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** What `repairTail` cut off a journal. */
export interface TornTail {
  /** Bytes cut. */
  bytes: number;
  /** Where they were kept. */
  file: string;
}

/**
 * Cuts a journal back to its last complete line: a crash mid-write leaves a fragment without
 * its newline (or, after a power cut, garbage where the last lines were). The cut bytes are
 * written to `journal.jsonl.torn` (`journal.jsonl.2.torn`, … when that exists) and synced
 * before the journal is truncated, so nothing is lost for good. Returns null when the journal
 * ends with a complete line.
 */
export function repairTail(file: string): TornTail | null {
  const data = fs.readFileSync(file);
  let cut = data.length;
  // Walk back over the lines at the end that are not whole JSON lines.
  for (;;) {
    if (cut === 0) break;
    const nl = data.lastIndexOf(0x0a, cut - 1);
    const endsLine = data[cut - 1] === 0x0a;
    const lineStart = endsLine ? data.lastIndexOf(0x0a, cut - 2) + 1 : nl + 1;
    const line = data.subarray(lineStart, endsLine ? cut - 1 : cut).toString('utf8');
    if (endsLine && isJsonLine(line)) break;
    cut = lineStart;
  }
  if (cut === data.length) return null;
  let torn = `${file}.torn`;
  for (let i = 2; fs.existsSync(torn); i++) torn = `${file}.${i}.torn`;
  const fd = fs.openSync(torn, 'wx');
  try {
    fs.writeSync(fd, data, cut, data.length - cut);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.truncateSync(file, cut);
  return { bytes: data.length - cut, file: torn };
}

function isJsonLine(line: string): boolean {
  if (!line.trim()) return true;
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
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
