/**
 * One CSV row → the raw columns, read in place from the file's bytes. Each field has a kind
 * fixed by the header (skip, date, time, number into column c), so the loop does one branch per
 * field; the common stamp shapes (`YYYY-MM-DD`, with `T`/space and `HH:MM[:SS]`, and a
 * `HH:MM[:SS]` time column) are read without the general readers, which take every other form.
 */
import { textOf, type Bytes } from './bytes';
import { compileDateFormat, DATE_FORMS, FORMAT_MISMATCH, newStamp, readStamp, readTime, ymd, type DateFormat, type Stamp } from './datetime';
import type { HeaderInfo } from './layout';
import { fieldEnd, NUMBER_MISSING, NUMBER_OK, nextSeparator, numberStatus, readNumber } from './numbers';
import { cell, FLOAT_COLS, type RawBars } from './raw';
import { PriceDataError, type LoadOptions } from './types';

const SKIP = 0;
const DATE = 1;
const TIME = 2;
const NUMBER = 3;

/** Two ASCII digits at i as a number, NaN when either is not a digit. */
function two(s: Bytes, i: number): number {
  const a = s[i]! - 48;
  const b = s[i + 1]! - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

/** Reads rows into raw columns; throws on what cannot be read. */
export class RowScanner {
  /** Per field: SKIP, DATE, TIME or NUMBER. */
  private readonly kinds: Uint8Array;
  /** Per NUMBER field: the float column it fills. */
  private readonly target: Int8Array;
  /** Roles that share a field with another (`columns { open 5, close 5 }`): copied at the end. */
  private readonly aliases: [from: number, to: number][] = [];
  private readonly need: number;
  private readonly sep: number;
  private readonly stamp: Stamp = newStamp();
  private readonly format: DateFormat | undefined;
  /** The last date read by the fast path (yyyymmdd), already checked. */
  private lastDate = -1;

  /** The bytes of the current row (a chunk of the file: set by `row`). */
  private s: Bytes = new Uint8Array(0);

  constructor(
    private readonly file: string,
    private readonly header: HeaderInfo,
    options: LoadOptions,
  ) {
    const l = header.layout;
    const used = [l.date, l.time, ...FLOAT_COLS.map((c) => l[c])];
    this.need = Math.max(...used) + 1;
    this.kinds = new Uint8Array(this.need);
    this.target = new Int8Array(this.need);
    this.kinds[l.date] = DATE;
    if (l.time >= 0) this.kinds[l.time] = TIME;
    FLOAT_COLS.forEach((name, c) => {
      const f = l[name];
      if (f < 0) return;
      const kind = this.kinds[f];
      if (kind === DATE || kind === TIME) throw new PriceDataError(`${file}: columns: ${name} uses the ${kind === DATE ? 'date' : 'time'} column; map it to a price column.`, file);
      if (kind === NUMBER) this.aliases.push([this.target[f]!, c]);
      else {
        this.kinds[f] = NUMBER;
        this.target[f] = c;
      }
    });
    this.sep = header.sep.charCodeAt(0);
    if (options.dateFormat !== undefined) {
      const f = compileDateFormat(options.dateFormat);
      if (typeof f === 'string') throw new PriceDataError(`${file}: ${f}.`, file);
      this.format = f;
    }
  }

  row(s: Bytes, start: number, end: number, lineNo: number, raw: RawBars): void {
    this.s = s;
    const { kinds, target, need, sep } = this;
    const cols = raw.cols;
    const i = raw.n;
    let pos = start;
    let k = 0;
    let missing = false;
    raw.time[i] = -1;
    while (k < need) {
      const kind = kinds[k];
      let b: number;
      if (kind === NUMBER) {
        const v = readNumber(s, pos, end, sep);
        b = fieldEnd;
        if (numberStatus === NUMBER_OK) cols[target[k]!]![i] = v;
        else if (numberStatus === NUMBER_MISSING) missing = missingValue(target[k]!, raw, i, lineNo) || missing;
        else this.notANumber(pos, b, lineNo, k);
      } else {
        b = nextSeparator(s, pos, end, sep);
        if (kind !== SKIP) {
          let a = pos;
          while (a < b && (s[a] === 32 || s[a] === 34)) a++;
          let e = b;
          while (e > a && (s[e - 1] === 32 || s[e - 1] === 34)) e--;
          if (kind === DATE) this.date(a, e, lineNo, k, raw, i);
          else this.time(a, e, lineNo, k, raw, i);
        }
      }
      k++;
      if (b >= end) break;
      pos = b + 1;
    }
    if (k < need) {
      throw new PriceDataError(`${this.file}:${lineNo}: the row has ${k} field${k === 1 ? '' : 's'} but the header needs ${need}; fix or remove the row.`, this.file, lineNo);
    }
    if (missing) {
      if (raw.missing.count++ === 0) raw.missing.first = lineNo;
      return;
    }
    raw.line[i] = lineNo;
    raw.n = i + 1;
  }

  /** After the last row: columns that share a field get their copy. */
  finish(raw: RawBars): void {
    for (const [from, to] of this.aliases) raw.cols[to]!.set(raw.cols[from]!.subarray(0, raw.n));
  }

  private notANumber(a: number, b: number, lineNo: number, k: number): never {
    throw new PriceDataError(
      `${this.file}:${lineNo}: '${cell(textOf(this.s, a, b))}' in column '${this.header.names[k]}' is not a number; fix the value or remove the row.`,
      this.file,
      lineNo,
      k + 1,
    );
  }

  private date(a: number, b: number, lineNo: number, k: number, raw: RawBars, i: number): void {
    if (this.format === undefined && this.isoDate(a, b, raw, i)) return;
    const st = this.stamp;
    const ok = this.format ? this.format(this.s, a, b, st) : readStamp(this.s, a, b, st);
    if (!ok) {
      const hint = this.format ? FORMAT_MISMATCH : DATE_FORMS;
      throw new PriceDataError(`${this.file}:${lineNo}: '${cell(textOf(this.s, a, b))}' in column '${this.header.names[k]}' is not a date; ${hint}.`, this.file, lineNo, k + 1);
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

  /**
   * The fast path: `YYYY-MM-DD`, optionally with `T` or a space and `HH:MM` or `HH:MM:SS` (as
   * `readStamp` reads them). False for anything else, which the general reader then takes.
   */
  private isoDate(a: number, b: number, raw: RawBars, i: number): boolean {
    const s = this.s;
    const n = b - a;
    if (n < 10 || s[a + 4] !== 45 || s[a + 7] !== 45) return false;
    const date = (two(s, a) * 100 + two(s, a + 2)) * 10000 + two(s, a + 5) * 100 + two(s, a + 8);
    if (date !== this.lastDate) {
      if (!(ymd(Math.floor(date / 10000), Math.floor(date / 100) % 100, date % 100) === date)) return false;
      this.lastDate = date;
    }
    if (n > 10) {
      const t = s[a + 10];
      if ((t !== 84 && t !== 32) || (n !== 16 && n !== 19) || s[a + 13] !== 58 || (n === 19 && s[a + 16] !== 58)) return false;
      const h = two(s, a + 11);
      const m = two(s, a + 14);
      const sec = n === 19 ? two(s, a + 17) : 0;
      if (!(h <= 23 && m <= 59 && sec <= 59)) return false;
      if (raw.time[i]! < 0) raw.time[i] = h * 3600 + m * 60 + sec;
      raw.hasTime = true;
    }
    raw.date[i] = date;
    return true;
  }

  private time(a: number, b: number, lineNo: number, k: number, raw: RawBars, i: number): void {
    const s = this.s;
    const n = b - a;
    let t = -1;
    if ((n === 8 || n === 5) && s[a + 2] === 58 && (n === 5 || s[a + 5] === 58)) {
      const h = two(s, a);
      const m = two(s, a + 3);
      const sec = n === 8 ? two(s, a + 6) : 0;
      if (h <= 23 && m <= 59 && sec <= 59) t = h * 3600 + m * 60 + sec;
    }
    if (t < 0) t = readTime(s, a, b);
    if (t < 0) {
      throw new PriceDataError(`${this.file}:${lineNo}: '${cell(textOf(s, a, b))}' in column '${this.header.names[k]}' is not a time; write HH:MM or HH:MM:SS.`, this.file, lineNo, k + 1);
    }
    raw.time[i] = t;
    raw.hasTime = true;
  }
}

/** A missing value in float column c: a price makes the row unusable (true); volume counts as 0. */
function missingValue(c: number, raw: RawBars, i: number, lineNo: number): boolean {
  if (c <= 3) return true;
  if (c === 4) {
    raw.cols[4]![i] = 0;
    if (raw.missingVolume.count++ === 0) raw.missingVolume.first = lineNo;
  } else raw.cols[5]![i] = NaN;
  return false;
}
