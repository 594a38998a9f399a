/**
 * The lines of a price file's bytes, either all in memory or read a chunk at a time into one
 * reused buffer — a large CSV file is never held whole (a fresh 60 MB buffer costs more to map
 * than the file costs to parse). A line is handed out as `[start, end)` of `s` (without its
 * line break); `s` and the positions are valid until the next call.
 */
import { textOf } from './bytes';

/** Reads up to `max` more bytes into `buf` at `at`; 0 at the end of the file. */
export type ReadMore = (buf: Buffer, at: number, max: number) => number;

export class LineReader {
  lineNo = 0;
  /** The current line: `s[start, end)`. */
  start = 0;
  end = 0;
  private pos = 0;
  /** The last read returned nothing. */
  private done = false;

  /**
   * `s[0, filled)` holds the first bytes; `more` reads the rest (none: `s` is the whole file).
   */
  constructor(
    public s: Buffer,
    private filled: number,
    private readonly more?: ReadMore,
  ) {
    if (s[0] === 0xef && s[1] === 0xbb && s[2] === 0xbf) this.pos = 3;
  }

  private get eof(): boolean {
    return this.more === undefined || this.done;
  }

  /** Moves to the next line that is not blank; false at the end of the file. */
  nextNonBlank(): boolean {
    for (;;) {
      const e = this.lineEnd(this.pos);
      if (e === -2) return false;
      if (e === -1) {
        this.refill();
        continue;
      }
      const a = this.pos;
      this.pos = e + 1;
      this.lineNo++;
      const b = e > a && this.s[e - 1] === 13 ? e - 1 : e;
      if (!blank(this.s, a, b)) {
        this.start = a;
        this.end = b;
        return true;
      }
    }
  }

  /** The next non-blank line's text, without moving. */
  peekNonBlank(): string | undefined {
    let p = this.pos;
    for (;;) {
      const e = this.lineEnd(p);
      if (e === -2) return undefined;
      if (e === -1) {
        p -= this.refill();
        continue;
      }
      const b = e > p && this.s[e - 1] === 13 ? e - 1 : e;
      if (!blank(this.s, p, b)) return textOf(this.s, p, b);
      p = e + 1;
    }
  }

  /** The bytes in memory now: `s[0, filled)`. */
  get filledBytes(): number {
    return this.filled;
  }

  /** The end of the line starting at p: its `\n`, the end of the file, -1 (read more) or -2 (no line). */
  private lineEnd(p: number): number {
    if (p >= this.filled) return this.eof ? -2 : -1;
    const e = this.s.indexOf(10, p);
    if (e >= 0 && e < this.filled) return e;
    return this.eof ? this.filled : -1;
  }

  /** Moves the unread bytes to the front (growing the buffer when they fill it), reads more; returns the shift. */
  private refill(): number {
    const shift = this.pos;
    if (shift > 0) this.s.copyWithin(0, shift, this.filled);
    this.filled -= shift;
    this.pos = 0;
    if (this.filled === this.s.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.s.length * 2, 65536));
      this.s.copy(grown, 0, 0, this.filled);
      this.s = grown;
    }
    const n = this.more!(this.s, this.filled, this.s.length - this.filled);
    if (n === 0) this.done = true;
    this.filled += n;
    return shift;
  }
}

function blank(s: Buffer, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    const c = s[i];
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}
