/**
 * The CSV scanner: text → raw bar columns, in one pass over the characters (fields are found
 * with `indexOf`, numbers and stamps read in place). Ordering, ranges and price checks come
 * after (bars.ts), so this file only knows about rows and fields.
 */
import { compileDateFormat, DATE_FORMS, FORMAT_MISMATCH, newStamp, readStamp, readTime, type DateFormat, type Stamp } from './datetime';
import { readHeader, type HeaderInfo } from './layout';
import { fieldEnd, NUMBER_MISSING, nextSeparator, numberStatus, readNumber } from './numbers';
import { allocateRaw, cell, FLOAT_COLS, type RawBars } from './raw';
import { PriceDataError, type LoadOptions } from './types';

const ROLE_DATE = -1;
const ROLE_TIME = -2;

/** Scans CSV text (see `loadPrices` for the accepted layouts). */
export function scanCsv(text: string, file: string, options: LoadOptions): RawBars {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.indexOf('\n') < 0 && text.indexOf('\r') >= 0) text = text.replace(/\r/g, '\n');
  const lines = new LineCursor(text);
  if (!lines.nextNonBlank()) throw new PriceDataError(`${file}: the file is empty; it needs a header line (Date,Open,High,Low,Close,Volume) and one row per bar.`, file, 1);
  const headerLine = lines.lineNo;
  const headerText = text.slice(lines.start, lines.end);
  const peek = lines.peekNonBlank();
  const header = readHeader(file, headerText, headerLine, peek, options);
  const scanner = new RowScanner(text, file, header, options);
  let cap = 16;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) cap++;
  const raw = allocateRaw(cap, header, headerLine, 'line');
  while (lines.nextNonBlank()) scanner.row(lines.start, lines.end, lines.lineNo, raw);
  if (raw.n === 0 && raw.missing.count === 0) throw new PriceDataError(`${file}: the file has a header but no rows; add one row per bar.`, file, headerLine);
  return raw;
}

/** Walks the lines of a text without splitting it. */
class LineCursor {
  lineNo = 0;
  /** The current line: [start, end) without its line break. */
  start = 0;
  end = 0;
  private pos = 0;
  constructor(private readonly s: string) {}

  /** Moves to the next line that is not blank; false at the end of the text. */
  nextNonBlank(): boolean {
    const s = this.s;
    while (this.pos < s.length) {
      const a = this.pos;
      let e = s.indexOf('\n', a);
      if (e < 0) e = s.length;
      this.pos = e + 1;
      this.lineNo++;
      let b = e;
      if (b > a && s.charCodeAt(b - 1) === 13) b--;
      for (let i = a; i < b; i++) {
        const c = s.charCodeAt(i);
        if (c !== 32 && c !== 9) {
          this.start = a;
          this.end = b;
          return true;
        }
      }
    }
    return false;
  }

  /** The next non-blank line's text, without moving. */
  peekNonBlank(): string | undefined {
    const save = [this.pos, this.lineNo, this.start, this.end] as const;
    const r = this.nextNonBlank() ? this.s.slice(this.start, this.end) : undefined;
    [this.pos, this.lineNo, this.start, this.end] = save;
    return r;
  }
}

/** Reads one row into the raw columns; throws on what cannot be read. */
class RowScanner {
  /** Per field: ROLE_DATE, ROLE_TIME, or the float columns it feeds (several roles may share one). */
  private readonly roles: (number | number[] | undefined)[] = [];
  private readonly need: number;
  private readonly sepCode: number;
  private readonly stamp: Stamp = newStamp();
  private readonly format: DateFormat | undefined;

  constructor(
    private readonly s: string,
    private readonly file: string,
    private readonly header: HeaderInfo,
    options: LoadOptions,
  ) {
    const l = header.layout;
    this.roles[l.date] = ROLE_DATE;
    if (l.time >= 0) this.roles[l.time] = ROLE_TIME;
    FLOAT_COLS.forEach((name, k) => {
      const f = l[name];
      if (f < 0) return;
      const r = this.roles[f];
      if (typeof r === 'number') throw new PriceDataError(`${file}: columns: ${name} uses the ${r === ROLE_DATE ? 'date' : 'time'} column; map it to a price column.`, file);
      this.roles[f] = r ? [...r, k] : [k];
    });
    this.need = this.roles.length;
    this.sepCode = header.sep.charCodeAt(0);
    if (options.dateFormat !== undefined) {
      const f = compileDateFormat(options.dateFormat);
      if (typeof f === 'string') throw new PriceDataError(`${file}: ${f}.`, file);
      this.format = f;
    }
  }

  row(start: number, end: number, lineNo: number, raw: RawBars): void {
    const s = this.s;
    const i = raw.n;
    const sep = this.sepCode;
    let pos = start;
    let k = 0;
    let missing = false;
    raw.time[i] = -1;
    raw.cols[5]![i] = NaN;
    while (k < this.need) {
      const role = this.roles[k];
      let b: number;
      if (role === undefined) {
        b = nextSeparator(s, pos, end, sep);
      } else if (typeof role === 'number') {
        b = nextSeparator(s, pos, end, sep);
        let a = pos;
        while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 34)) a++;
        let e = b;
        while (e > a && (s.charCodeAt(e - 1) === 32 || s.charCodeAt(e - 1) === 34)) e--;
        if (role === ROLE_DATE) this.date(a, e, lineNo, k, raw, i);
        else this.time(a, e, lineNo, k, raw, i);
      } else {
        const v = readNumber(s, pos, end, sep);
        b = fieldEnd;
        if (numberStatus === 0) {
          for (let r = 0; r < role.length; r++) raw.cols[role[r]!]![i] = v;
        } else if (numberStatus === NUMBER_MISSING) {
          missing = missingValue(role, raw, i, lineNo) || missing;
        } else {
          throw new PriceDataError(
            `${this.file}:${lineNo}: '${cell(s.slice(pos, b))}' in column '${this.header.names[k]}' is not a number; fix the value or remove the row.`,
            this.file,
            lineNo,
            k + 1,
          );
        }
      }
      k++;
      if (b >= end) break;
      pos = b + 1;
    }
    if (k < this.need) {
      throw new PriceDataError(`${this.file}:${lineNo}: the row has ${k} field${k === 1 ? '' : 's'} but the header needs ${this.need}; fix or remove the row.`, this.file, lineNo);
    }
    if (missing) {
      if (raw.missing.count++ === 0) raw.missing.first = lineNo;
      return;
    }
    raw.line[i] = lineNo;
    raw.n = i + 1;
  }

  private date(a: number, b: number, lineNo: number, k: number, raw: RawBars, i: number): void {
    const st = this.stamp;
    const ok = this.format ? this.format(this.s, a, b, st) : readStamp(this.s, a, b, st);
    if (!ok) {
      const hint = this.format ? FORMAT_MISMATCH : DATE_FORMS;
      throw new PriceDataError(`${this.file}:${lineNo}: '${cell(this.s.slice(a, b))}' in column '${this.header.names[k]}' is not a date; ${hint}.`, this.file, lineNo, k + 1);
    }
    if (st.kind === 'ambiguous') {
      raw.date[i] = -(st.year * 10000 + st.p * 100 + st.q);
      raw.hasAmbiguous = true;
    } else raw.date[i] = st.date;
    if (st.time >= 0) {
      if (raw.time[i]! < 0) raw.time[i] = st.time;
      raw.hasTime = true;
    }
  }

  private time(a: number, b: number, lineNo: number, k: number, raw: RawBars, i: number): void {
    const t = readTime(this.s, a, b);
    if (t < 0) {
      throw new PriceDataError(`${this.file}:${lineNo}: '${cell(this.s.slice(a, b))}' in column '${this.header.names[k]}' is not a time; write HH:MM or HH:MM:SS.`, this.file, lineNo, k + 1);
    }
    raw.time[i] = t;
    raw.hasTime = true;
  }
}

/** A missing value: prices make the row unusable (true); volume counts as 0. */
function missingValue(role: number[], raw: RawBars, i: number, lineNo: number): boolean {
  let price = false;
  for (const r of role) {
    if (r <= 3) price = true;
    else if (r === 4) {
      raw.cols[4]![i] = 0;
      if (raw.missingVolume.count++ === 0) raw.missingVolume.first = lineNo;
    } else raw.cols[5]![i] = NaN;
  }
  return price;
}
