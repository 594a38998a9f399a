/**
 * Splits a strategy process's output stream into lines, with bounds: a line longer than
 * `maxLine` is dropped (the reader skips to its newline), so a process that writes without
 * newlines cannot grow OptStudy's memory (#21: 636 MB in 18 s). Also the tolerant JSON reader
 * for answers: Python's `json.dumps` writes `NaN`, `Infinity` and `-Infinity`, which are not
 * JSON; they are read as the strings "nan", "inf" and "-inf" instead of dropping the answer.
 */

export class LineReader {
  private parts: string[] = [];
  private size = 0;
  /** Inside a line that went over the limit: everything up to its newline is dropped. */
  private skipping = false;

  /**
   * @param maxLine the longest line kept, in UTF-16 code units
   * @param onLine called with each complete line (without its newline)
   * @param onDropped called with the length of every dropped piece; `first` for the first
   *   piece of a dropped line
   */
  constructor(
    private readonly maxLine: number,
    private readonly onLine: (line: string) => void,
    private readonly onDropped: (length: number, first: boolean) => void,
  ) {}

  push(chunk: string): void {
    let from = 0;
    for (let nl = chunk.indexOf('\n'); nl >= 0; nl = chunk.indexOf('\n', from)) {
      const piece = chunk.slice(from, nl);
      from = nl + 1;
      if (this.skipping) {
        this.onDropped(piece.length + 1, false);
        this.skipping = false;
        continue;
      }
      if (this.size + piece.length > this.maxLine) {
        this.drop(piece.length + 1);
        continue;
      }
      const line = this.parts.length ? this.parts.join('') + piece : piece;
      this.parts = [];
      this.size = 0;
      this.onLine(line);
    }
    if (from >= chunk.length) return;
    const rest = chunk.length - from;
    if (this.skipping) this.onDropped(rest, false);
    else if (this.size + rest > this.maxLine) {
      this.drop(rest);
      this.skipping = true;
    } else {
      this.parts.push(from ? chunk.slice(from) : chunk);
      this.size += rest;
    }
  }

  /** Drops the line being read (what was kept plus `extra`). */
  private drop(extra: number): void {
    this.onDropped(this.size + extra, true);
    this.parts = [];
    this.size = 0;
  }
}

/**
 * Parses one JSON line; `NaN`, `Infinity` and `-Infinity` outside strings are read as the
 * strings "nan", "inf", "-inf". Returns undefined when the line is not JSON even so.
 */
export function parseJsonLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    if (!/NaN|Infinity/.test(line)) return undefined;
  }
  try {
    return JSON.parse(replaceNonFinite(line));
  } catch {
    return undefined;
  }
}

/** Rewrites the bare non-finite tokens of a JSON text (outside strings) as strings. */
function replaceNonFinite(text: string): string {
  let out = '';
  let i = 0;
  let last = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      // Skip the string, escapes included.
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    const word = text.startsWith('-Infinity', i) ? '-Infinity' : text.startsWith('Infinity', i) ? 'Infinity' : text.startsWith('NaN', i) ? 'NaN' : null;
    if (word) {
      out += text.slice(last, i) + (word === 'NaN' ? '"nan"' : word === 'Infinity' ? '"inf"' : '"-inf"');
      i += word.length;
      last = i;
      continue;
    }
    i++;
  }
  return out + text.slice(last);
}
