/**
 * Rows as a file holds them, before ordering and checks (bars.ts): what every file reader
 * (CSV text, Parquet columns) produces, and how messages point at one of its rows — a CSV
 * file's line (`file:12:`) or a Parquet file's row (`file, row 12:`).
 */
import type { HeaderInfo } from './layout';

/** Float columns in buffer order. */
export const FLOAT_COLS = ['open', 'high', 'low', 'close', 'volume', 'openinterest'] as const;

/**
 * Rows as read, in file order. The date, time and float columns are views over one
 * `SharedArrayBuffer` laid out as the store lays out bars (store.ts), so bars kept as read —
 * the common case — become the loaded data without a copy.
 */
export interface RawBars {
  n: number;
  /** yyyymmdd; an ambiguous `p/q/yyyy` date is stored as `-(yyyy*10000 + p*100 + q)`. */
  date: Int32Array;
  /** Seconds after midnight, -1 when the row has no time. */
  time: Int32Array;
  /** 1-based line (CSV) or row (Parquet) of each row. */
  line: Int32Array;
  /** What `line` counts: lines of text or rows of a table. */
  unit: 'line' | 'row';
  /** open, high, low, close, volume, openinterest (empty when the file has none). */
  cols: Float64Array[];
  /** The buffer the columns are views of, and the rows it has room for (the column stride). */
  buffer: SharedArrayBuffer;
  capacity: number;
  header: HeaderInfo;
  /** 1-based line of the header (0 for a file without one). */
  headerLine: number;
  hasAmbiguous: boolean;
  hasTime: boolean;
  hasOpenInterest: boolean;
  /** Rows skipped because a price was missing (`null`, empty, `NaN`): count and first line. */
  missing: { count: number; first: number };
  /** Rows whose volume was missing (taken as 0). */
  missingVolume: { count: number; first: number };
}

/** Raw columns for `cap` rows (all zero: a file without volume has volume 0). */
export function allocateRaw(cap: number, header: HeaderInfo, headerLine: number, unit: RawBars['unit']): RawBars {
  const hasOpenInterest = header.layout.openinterest >= 0;
  const nf = hasOpenInterest ? 6 : 5;
  const buffer = new SharedArrayBuffer(cap * (8 * nf + 8));
  const cols = FLOAT_COLS.map((_, k) => (k < nf ? new Float64Array(buffer, k * cap * 8, cap) : new Float64Array(0)));
  return {
    n: 0,
    date: new Int32Array(buffer, nf * cap * 8, cap),
    time: new Int32Array(buffer, nf * cap * 8 + cap * 4, cap),
    line: new Int32Array(cap),
    unit,
    cols,
    buffer,
    capacity: cap,
    header,
    headerLine,
    hasAmbiguous: false,
    hasTime: false,
    hasOpenInterest,
    missing: { count: 0, first: 0 },
    missingVolume: { count: 0, first: 0 },
  };
}

/** `raw` with room for `cap` rows (its rows copied into new columns). */
export function growRaw(raw: RawBars, cap: number): RawBars {
  const grown = allocateRaw(cap, raw.header, raw.headerLine, raw.unit);
  const n = raw.n;
  grown.date.set(raw.date.subarray(0, n));
  grown.time.set(raw.time.subarray(0, n));
  grown.line.set(raw.line.subarray(0, n));
  raw.cols.forEach((c, k) => grown.cols[k]!.set(c.subarray(0, n)));
  return { ...raw, date: grown.date, time: grown.time, line: grown.line, cols: grown.cols, buffer: grown.buffer, capacity: cap };
}

/** The prefix of a message about one line/row: `file:12` or `file, row 12`. */
export function at(raw: RawBars, file: string, line: number): string {
  return raw.unit === 'line' ? `${file}:${line}` : `${file}, row ${line}`;
}

/** A line/row named inside a message: `line 12` or `row 12`. */
export function ref(raw: RawBars, line: number): string {
  return `${raw.unit} ${line}`;
}

/** Cuts a cell for a message about a price file (never whole lines of other files). */
export function cell(s: string): string {
  const t = s.trim();
  return t.length > 40 ? `${t.slice(0, 37)}…` : t;
}
