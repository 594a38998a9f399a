/**
 * Writes the run journal: `DIR/journal.jsonl`, one JSON object per line — a header (study hash,
 * seed, data hash, versions), then one line per finished trial shaped like the `trial` event,
 * plus `stage` and `end` lines (read back by protocol/journal-reader.ts, the one reader).
 * Trial lines arrive as bytes (the workers encode them: server/executor/outcome-block.ts) and
 * are written together at most `FLUSH_MS` apart; the run announces a trial only after its line
 * is written, so whatever a listener has seen is on disk. A crash or a kill loses at most the
 * trials in flight and the last few milliseconds of finished, not yet announced ones —
 * `--resume` cuts a torn last line off (`repairTail`) and runs those again.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { JOURNAL_FILE, readJournal, type JournalData, type JournalHeader } from '../../protocol/journal-reader';

export { JOURNAL_FILE, type JournalHeader };
export const JOURNAL_FORMAT = 1;

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
  static resume(dir: string): { journal: Journal; contents: JournalData; torn: TornTail | null } {
    const file = path.join(dir, JOURNAL_FILE);
    const torn = fs.existsSync(file) ? repairTail(file) : null;
    const contents = readJournal(file, { strict: true });
    if (!contents.header) throw new Error(`${file}:1: the journal has no header line`);
    return { journal: new Journal(file), contents, torn };
  }

  /** Appends a line now (header, stage and end lines: rare and worth having on disk at once). */
  append(line: object): void {
    this.buffer(JSON.stringify(line));
    this.flush();
  }

  /** Appends trial lines (whole lines, UTF-8), written with the next flush (the run flushes at most FLUSH_MS apart). */
  appendLines(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.buf.length) {
      this.flush();
      if (bytes.length > this.buf.length) this.buf = Buffer.allocUnsafe(bytes.length);
    }
    this.buf.set(bytes, this.used);
    this.used += bytes.length;
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
  // A whole JSON line whose newline did not reach the disk: complete it instead of cutting it.
  if (data[data.length - 1] !== 0x0a && cut === data.lastIndexOf(0x0a) + 1 && isJsonLine(data.subarray(cut).toString('utf8'))) {
    fs.appendFileSync(file, '\n');
    return null;
  }
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
