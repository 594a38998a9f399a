/**
 * The CSV scanner: the file's bytes → raw bar columns, in one pass (lines from lines.ts, fields
 * read in place by csv-row.ts; no string per line or field). Ordering, ranges and price checks
 * come after (bars.ts), so this file only knows about the header and the rows.
 */
import { textOf } from './bytes';
import { RowScanner } from './csv-row';
import { readHeader } from './layout';
import { LineReader } from './lines';
import { allocateRaw, growRaw, type RawBars } from './raw';
import { PriceDataError, type LoadOptions } from './types';

/** Scans CSV bytes held in memory (see `loadPrices` for the accepted layouts). */
export function scanCsv(bytes: Buffer, file: string, options: LoadOptions): RawBars {
  let s = bytes;
  if (s.indexOf(10) < 0 && s.indexOf(13) >= 0) s = Buffer.from(s.map((c) => (c === 13 ? 10 : c)));
  return scanLines(new LineReader(s, s.length), s.length, file, options);
}

/** Scans the lines of a CSV file of `size` bytes. */
export function scanLines(lines: LineReader, size: number, file: string, options: LoadOptions): RawBars {
  if (!lines.nextNonBlank()) throw new PriceDataError(`${file}: the file is empty; it needs a header line (Date,Open,High,Low,Close,Volume) and one row per bar.`, file, 1);
  const headerLine = lines.lineNo;
  const headerText = textOf(lines.s, lines.start, lines.end);
  const peek = lines.peekNonBlank();
  const header = readHeader(file, headerText, headerLine, peek, options);
  const scanner = new RowScanner(file, header, options);
  let raw = allocateRaw(estimateRows(lines, size), header, headerLine, 'line');
  while (lines.nextNonBlank()) {
    if (raw.n === raw.date.length) raw = growRaw(raw, raw.n * 2);
    scanner.row(lines.s, lines.start, lines.end, lines.lineNo, raw);
  }
  scanner.finish(raw);
  if (raw.n === 0 && raw.missing.count === 0) throw new PriceDataError(`${file}: the file has a header but no rows; add one row per bar.`, file, headerLine);
  return raw;
}

/**
 * Room for the rows: the file's size over the shortest mean line length of three samples of the
 * bytes in memory (start, middle, end), plus a margin. Room never written costs no memory (a
 * fresh buffer's pages are only mapped when written); too little costs a copy (`growRaw`).
 */
function estimateRows(lines: LineReader, size: number): number {
  const s = lines.s;
  const from = lines.end;
  const filled = lines.filledBytes;
  let shortest = Infinity;
  for (const at of [from, from + ((filled - from) >> 1), from + Math.floor((filled - from) * 0.9)]) {
    const a = s.indexOf(10, at);
    if (a < 0 || a >= filled) continue;
    let e = a;
    let k = 0;
    for (; k < 32; k++) {
      const x = s.indexOf(10, e + 1);
      if (x < 0 || x >= filled) break;
      e = x;
    }
    if (k > 0) shortest = Math.min(shortest, (e - a) / k);
  }
  return shortest === Infinity ? 16 : Math.ceil((size / shortest) * 1.2) + 16;
}
