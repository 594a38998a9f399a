/**
 * Offsets ↔ LSP positions (0-based line, UTF-16 character). Lines end at `\n`, `\r\n` or `\r`.
 */

import type { Position, Range } from './model';

export class LineIndex {
  private readonly starts: number[] = [0];
  /**
   * `baseLine`: the line of the document `text` starts on (a part of a document analyzed on its
   * own — grammar/incremental.ts — gets the document's line numbers directly).
   */
  constructor(
    readonly text: string,
    readonly baseLine = 0,
    /** When given, every position this index makes is also pushed here (to move them later). */
    private readonly made?: Position[],
  ) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 10) this.starts.push(i + 1);
      else if (c === 13) {
        if (text.charCodeAt(i + 1) === 10) i++;
        this.starts.push(i + 1);
      }
    }
  }

  /** The line of the last lookup: callers walk tokens in document order, so it usually hits. */
  private last = 0;

  /** The position of an offset (clamped into the document). */
  position(offset: number): Position {
    const o = Math.max(0, Math.min(this.text.length, Number.isFinite(offset) ? offset : this.text.length));
    const starts = this.starts;
    const n = starts.length;
    let line = this.last;
    // The last line or the one after it; else a binary search (the last line with start <= o).
    if (starts[line]! <= o && (line + 1 >= n || o < starts[line + 1]!)) {
      // same line
    } else if (line + 1 < n && starts[line + 1]! <= o && (line + 2 >= n || o < starts[line + 2]!)) line++;
    else {
      let lo = 0;
      let hi = n - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= o) lo = mid;
        else hi = mid - 1;
      }
      line = lo;
    }
    this.last = line;
    const p = { line: line + this.baseLine, character: o - starts[line]! };
    this.made?.push(p);
    return p;
  }

  /** The offset of a position (clamped). */
  offset(p: Position): number {
    const line = Math.max(0, Math.min(this.starts.length - 1, p.line - this.baseLine));
    const next = line + 1 < this.starts.length ? this.starts[line + 1]! : this.text.length;
    return Math.min(next, this.starts[line]! + Math.max(0, p.character));
  }

  /** The range from `start` (inclusive) to `end` (exclusive) offsets. */
  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(Math.max(start, end)) };
  }

  /** The document's full range. */
  get fullRange(): Range {
    return this.range(0, this.text.length);
  }
}

/** The smallest range covering both. */
export function spanRanges(a: Range, b: Range): Range {
  return { start: a.start, end: b.end };
}

/** True when `p` is inside `r` (end inclusive, as a cursor at the end of a word is "on" it). */
export function rangeContains(r: Range, p: Position): boolean {
  const afterStart = p.line > r.start.line || (p.line === r.start.line && p.character >= r.start.character);
  const beforeEnd = p.line < r.end.line || (p.line === r.end.line && p.character <= r.end.character);
  return afterStart && beforeEnd;
}
