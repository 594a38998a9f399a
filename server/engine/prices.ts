/**
 * Price data: a CSV loader for backtrader-style and common generic daily files, stored as
 * columns over one SharedArrayBuffer so workers share it without copies.
 *
 * Values are parsed with `Number()`, which gives the same doubles as Python's `float()` (the
 * golden files use backtrader's GenericCSVData on the raw columns: nothing adjusted, nothing
 * rounded; `Adj Close` is ignored).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PriceDataError, type DateRange, type PriceData, type SharedPrices } from './types';

/** Float64 columns in buffer order; the Int32 date column follows them. */
const FCOLS = ['open', 'high', 'low', 'close', 'volume', 'openInterest'] as const;
type FCol = (typeof FCOLS)[number];

/** Header spellings accepted for each column (compared lower-case, spaces/underscores removed). */
const HEADER_NAMES: Record<FCol | 'date', readonly string[]> = {
  date: ['date', 'datetime', 'timestamp', 'time', 'day'],
  open: ['open', 'o'],
  high: ['high', 'h'],
  low: ['low', 'l'],
  close: ['close', 'c', 'last'],
  volume: ['volume', 'vol', 'v'],
  openInterest: ['openinterest', 'oi'],
};

const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const DECIMAL_COMMA_RE = /^[+-]?\d+,\d+$/;

/** Parses `YYYY-MM-DD`, `YYYY/MM/DD`, `YYYYMMDD`, optionally followed by a time; yyyymmdd or -1. */
export function parseDate(text: string): number {
  const m = /^(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})(?:$|[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?$)/.exec(text);
  if (!m) return -1;
  const y = +m[1]!;
  const mo = +m[2]!;
  const d = +m[3]!;
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return -1;
  return y * 10000 + mo * 100 + d;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

/** yyyymmdd → `YYYY-MM-DD`. */
export function formatDate(d: number): string {
  const y = Math.floor(d / 10000);
  const m = Math.floor(d / 100) % 100;
  const day = d % 100;
  return `${y}-${m < 10 ? '0' : ''}${m}-${day < 10 ? '0' : ''}${day}`;
}

/** Checks a `from`/`to` bound and returns it as yyyymmdd (or the given default). */
function rangeBound(file: string, name: 'from' | 'to', text: string | undefined, dflt: number): number {
  if (text === undefined || text === '') return dflt;
  const d = parseDate(text.trim());
  if (d < 0 || text.trim().length > 10) {
    throw new PriceDataError(`${file}: '${name}' date '${text}' is not a date; write it as YYYY-MM-DD.`, file);
  }
  return d;
}

/**
 * Loads a daily price file. Accepts backtrader's layouts (`Date,Open,High,Low,Close,Adj Close,Volume`
 * and `Date,Open,High,Low,Close,Volume,OpenInterest`) and generic ones: header names in any case,
 * a date or datetime column, comma, semicolon or tab separators. `from`/`to` are inclusive.
 * @throws PriceDataError naming the file, the line and what to do.
 */
export function loadPrices(file: string, range?: DateRange): PriceData {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PriceDataError(
      code === 'ENOENT'
        ? `${file}: no such price file; check the path (relative paths are relative to the study file or the current folder).`
        : `${file}: cannot read the price file (${code ?? String(e)}).`,
      file,
    );
  }
  return parsePrices(text, file, range);
}

/** Parses price CSV text (see `loadPrices`); `file` is used in messages and in the data's `file`. */
export function parsePrices(text: string, file: string, range?: DateRange): PriceData {
  const from = rangeBound(file, 'from', range?.from, 0);
  const to = rangeBound(file, 'to', range?.to, 99999999);
  if (from > to) {
    throw new PriceDataError(`${file}: the range ${range?.from} … ${range?.to} is empty ('from' is after 'to'); swap the dates.`, file);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split(/\r?\n|\r/);
  let h = 0;
  while (h < lines.length && lines[h]!.trim() === '') h++;
  if (h === lines.length) throw new PriceDataError(`${file}: the file is empty; it needs a header line (Date,Open,High,Low,Close,Volume) and one row per day.`, file, 1);
  const header = lines[h]!;
  const sep = pickSeparator(header);
  const names = header.split(sep).map((s) => s.trim().replace(/^"|"$/g, '').toLowerCase().replace(/[\s_-]+/g, ''));
  const col: Record<string, number> = {};
  for (const [key, spellings] of Object.entries(HEADER_NAMES)) {
    const i = names.findIndex((n) => spellings.includes(n));
    if (i >= 0) col[key] = i;
  }
  if (col.date === undefined && /^\d{4}[-/.]?\d{2}[-/.]?\d{2}/.test(names[0] ?? '')) {
    throw new PriceDataError(
      `${file}:${h + 1}: the first line is data, not a header; add a header line such as 'Date,Open,High,Low,Close,Volume'.`,
      file,
      h + 1,
    );
  }
  const missing = (['date', 'open', 'high', 'low', 'close'] as const).filter((k) => col[k] === undefined);
  if (missing.length) {
    throw new PriceDataError(
      `${file}:${h + 1}: missing column${missing.length > 1 ? 's' : ''} ${missing.map((m) => `'${m[0]!.toUpperCase()}${m.slice(1)}'`).join(', ')} in the header '${header.trim()}'; the header needs Date, Open, High, Low, Close (Volume and OpenInterest optional), separated by '${sep}'.`,
      file,
      h + 1,
    );
  }
  const hasOI = col.openInterest !== undefined;
  const need = Math.max(...Object.values(col)) + 1;

  // First pass into growable plain arrays; most files are small, and the final copy into the
  // shared buffer is needed anyway to get one contiguous block.
  const dates: number[] = [];
  const vals: number[][] = FCOLS.map(() => []);
  let prevDate = -1;
  let prevLine = 0;
  for (let li = h + 1; li < lines.length; li++) {
    const raw = lines[li]!;
    if (raw.trim() === '') continue;
    const lineNo = li + 1;
    const t = raw.split(sep);
    if (t.length < need) {
      throw new PriceDataError(
        `${file}:${lineNo}: the row has ${t.length} field${t.length === 1 ? '' : 's'} but the header needs ${need}; fix or remove the row.`,
        file,
        lineNo,
      );
    }
    const dtext = t[col.date!]!.trim().replace(/^"|"$/g, '');
    const d = parseDate(dtext);
    if (d < 0) {
      throw new PriceDataError(`${file}:${lineNo}: '${dtext}' is not a date; write dates as YYYY-MM-DD (optionally followed by a time).`, file, lineNo);
    }
    if (d <= prevDate) {
      throw new PriceDataError(
        d === prevDate
          ? `${file}:${lineNo}: date ${formatDate(d)} repeats line ${prevLine}; the engine takes one bar per day: remove the duplicate.`
          : `${file}:${lineNo}: date ${formatDate(d)} comes after ${formatDate(prevDate)} (line ${prevLine}); sort the file by date, oldest first.`,
        file,
        lineNo,
      );
    }
    prevDate = d;
    prevLine = lineNo;
    if (d < from || d > to) continue;
    const row: number[] = [];
    for (let k = 0; k < FCOLS.length; k++) {
      const c = col[FCOLS[k]!];
      if (c === undefined) {
        row.push(k === 5 ? NaN : 0);
        continue;
      }
      let tok = t[c]!.trim().replace(/^"|"$/g, '');
      // Semicolon files often come from locales that write a decimal comma (1234,5).
      if (sep !== ',' && DECIMAL_COMMA_RE.test(tok)) tok = tok.replace(',', '.');
      if (!NUMBER_RE.test(tok)) {
        throw new PriceDataError(
          `${file}:${lineNo}: '${tok}' in column '${header.split(sep)[c]!.trim()}' is not a number; fix the value or remove the row.`,
          file,
          lineNo,
        );
      }
      row.push(Number(tok));
    }
    if (!(row[1]! >= row[2]!) && !(row[1]! === 0 && row[2]! === 0)) {
      // high < low: a column mix-up more often than real data; refuse rather than trade on it.
      throw new PriceDataError(`${file}:${lineNo}: High ${row[1]} is below Low ${row[2]}; check the column order.`, file, lineNo);
    }
    dates.push(d);
    for (let k = 0; k < FCOLS.length; k++) vals[k]!.push(row[k]!);
  }
  if (dates.length === 0) {
    if (prevDate < 0) {
      throw new PriceDataError(`${file}: the file has a header but no rows; add one row per day.`, file, h + 1);
    }
    throw new PriceDataError(
      `${file}: no bars between ${range?.from ?? 'the start'} and ${range?.to ?? 'the end'} (the file covers up to ${formatDate(prevDate)}); widen 'from'/'to'.`,
      file,
    );
  }
  const n = dates.length;
  const nf = hasOI ? 6 : 5;
  const buffer = new SharedArrayBuffer(n * 8 * nf + n * 4);
  for (let k = 0; k < nf; k++) new Float64Array(buffer, k * n * 8, n).set(vals[k]!);
  new Int32Array(buffer, nf * n * 8, n).set(dates);
  const id = createHash('sha256').update(new Uint8Array(buffer)).digest('hex').slice(0, 24);
  return attachPrices({ kind: 'optstudy-prices', file, id, buffer, offset: 0, bars: n, capacity: n, hasOpenInterest: hasOI });
}

function pickSeparator(header: string): string {
  let best = ',';
  let bestCount = 0;
  for (const s of [',', ';', '\t', '|']) {
    const c = header.split(s).length - 1;
    if (c > bestCount) {
      best = s;
      bestCount = c;
    }
  }
  return best;
}

/** A structured-clone-able descriptor of `d` (the buffer travels shared, not copied). */
export function sharePrices(d: PriceData): SharedPrices {
  return {
    kind: 'optstudy-prices',
    file: d.file,
    id: d.id,
    buffer: d.buffer,
    offset: d.offset,
    bars: d.bars,
    capacity: d.capacity,
    hasOpenInterest: d.openInterest !== undefined,
  };
}

/** Zero-copy column views over a shared descriptor (in a worker, or in the loading thread). */
export function attachPrices(s: SharedPrices): PriceData {
  const { buffer, offset, bars, capacity } = s;
  const nf = s.hasOpenInterest ? 6 : 5;
  const f = (k: number) => new Float64Array(buffer, (k * capacity + offset) * 8, bars);
  const d: PriceData = {
    file: s.file,
    bars,
    date: new Int32Array(buffer, nf * capacity * 8 + offset * 4, bars),
    open: f(0),
    high: f(1),
    low: f(2),
    close: f(3),
    volume: f(4),
    buffer,
    id: s.id,
    offset,
    capacity,
  };
  if (s.hasOpenInterest) d.openInterest = f(5);
  return d;
}

/**
 * The bars of `d` within an inclusive date range, as views over the same buffer (no copy): for
 * holdout and walk-forward splits. @throws PriceDataError when the range holds no bar.
 */
export function slicePrices(d: PriceData, range: DateRange): PriceData {
  const from = rangeBound(d.file, 'from', range.from, 0);
  const to = rangeBound(d.file, 'to', range.to, 99999999);
  const a = lowerBound(d.date, from);
  const b = lowerBound(d.date, to + 1);
  if (b <= a) {
    throw new PriceDataError(
      `${d.file}: no bars between ${range.from ?? 'the start'} and ${range.to ?? 'the end'} (the data covers ${formatDate(d.date[0]!)} … ${formatDate(d.date[d.bars - 1]!)}); widen the range.`,
      d.file,
    );
  }
  if (a === 0 && b === d.bars) return d;
  return sliceBars(d, a, b);
}

/** Bars `[a, b)` of `d` as views (indices relative to `d`). */
export function sliceBars(d: PriceData, a: number, b: number): PriceData {
  const id = createHash('sha256').update(`${d.id}:${a}:${b}`).digest('hex').slice(0, 24);
  return attachPrices({ ...sharePrices(d), id, offset: d.offset + a, bars: b - a });
}

function lowerBound(a: Int32Array, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
