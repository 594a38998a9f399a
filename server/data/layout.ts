/**
 * Which field of a row is which price column: from the header by name (backtrader's names and
 * common exports), from a study's `columns { … }` mapping, and backtrader's sample-file quirk
 * of a header without `Time` over rows that have it.
 */
import { COLUMN_ROLES, PriceDataError, type ColumnRole, type LoadOptions } from './types';
import { bytesOf } from './bytes';
import { readTime } from './datetime';

/** Header spellings per role, compared lower-case with spaces, `_`, `-` and `.` removed. */
const HEADER_NAMES: Record<ColumnRole, readonly string[]> = {
  // `indexlevel0`: pandas' `__index_level_0__`, an unnamed DatetimeIndex written to Parquet.
  date: ['date', 'datetime', 'timestamp', 'day', 'gmttime', 'localtime', 'opentime', 'timeutc', 'datum', 'indexlevel0'],
  time: ['time', 'hour'],
  open: ['open', 'o', 'openprice'],
  high: ['high', 'h', 'highprice'],
  low: ['low', 'l', 'lowprice'],
  close: ['close', 'c', 'last', 'closeprice', 'price'],
  volume: ['volume', 'vol', 'v'],
  openinterest: ['openinterest', 'oi'],
};

const REQUIRED: readonly ColumnRole[] = ['date', 'open', 'high', 'low', 'close'];

export function normalizeName(s: string): string {
  return s.trim().replace(/^"|"$/g, '').toLowerCase().replace(/[\s_.-]+/g, '');
}

/** Role → 0-based field index (-1 when the file has no such column). */
export type Layout = Record<ColumnRole, number>;

export interface HeaderInfo {
  sep: string;
  /** Header cells as written (for messages about a file that IS a price file). */
  names: string[];
  layout: Layout;
}

export function pickSeparator(header: string): string {
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

/**
 * Reads the header line. `firstRow` (the first data line, if any) detects the shifted-Time
 * layout. Errors never quote the line: a file that is not a price file stays unprinted.
 */
export function readHeader(file: string, header: string, headerLine: number, firstRow: string | undefined, options: LoadOptions): HeaderInfo {
  const sep = pickSeparator(header);
  const names = header.split(sep).map((s) => s.trim().replace(/^"|"$/g, ''));
  const at = `${file}:${headerLine}`;
  const layout = mapColumns(file, at, names, options, headerLine);
  if (layout.time < 0 && firstRow !== undefined && !options.columns?.time) shiftedTime(firstRow, sep, names.length, layout);
  if (layout.date < 0 && /^\s*"?\d{4}[-/.]?\d{1,2}[-/.]?\d{1,2}/.test(header)) {
    throw new PriceDataError(`${at}: the first line is data, not a header; add a header line such as 'Date,Open,High,Low,Close,Volume'.`, file, headerLine);
  }
  const fields = `${names.length} field${names.length === 1 ? '' : 's'} separated by '${sep === '\t' ? '\\t' : sep}'`;
  requireColumns(file, `${at}: missing column`, `in the header (${fields}`, layout, headerLine);
  return { sep, names, layout };
}

/**
 * The roles of named columns (a CSV header's cells, a Parquet file's columns): by their usual
 * names, then the study's `columns { … }` mapping. `at` prefixes messages (`file:line`).
 */
export function mapColumns(file: string, at: string, names: readonly string[], options: LoadOptions, line?: number): Layout {
  const norm = names.map(normalizeName);
  const layout = {} as Layout;
  for (const role of COLUMN_ROLES) layout[role] = norm.findIndex((n) => HEADER_NAMES[role].includes(n));
  // `time` alone (no date column) is a datetime column, as in many exports.
  if (layout.date < 0 && layout.time >= 0) {
    layout.date = layout.time;
    layout.time = -1;
  }
  applyMapping(file, at, line, names, norm, layout, options.columns ?? {});
  return layout;
}

/** Refuses a layout without Date, Open, High, Low and Close: `what` + ` 'Open' ` + `where` + found. */
export function requireColumns(file: string, what: string, where: string, layout: Layout, line?: number, owner = 'the header'): void {
  const missing = REQUIRED.filter((r) => layout[r] < 0);
  if (!missing.length) return;
  const found = COLUMN_ROLES.filter((r) => layout[r] >= 0);
  throw new PriceDataError(
    `${what}${missing.length > 1 ? 's' : ''} ${missing.map(title).map((m) => `'${m}'`).join(', ')} ${where}${found.length ? `; found ${found.map(title).join(', ')}` : ''}); ` +
      `${owner} needs Date, Open, High, Low, Close (Volume and OpenInterest optional), or map the names in the study: data "…" { columns { date "Datum", close "Schluss" } }.`,
    file,
    line,
  );
}

function title(role: ColumnRole): string {
  return role === 'openinterest' ? 'OpenInterest' : role[0]!.toUpperCase() + role.slice(1);
}

function applyMapping(file: string, at: string, line: number | undefined, names: readonly string[], norm: string[], layout: Layout, columns: NonNullable<LoadOptions['columns']>): void {
  for (const [role, want] of Object.entries(columns) as [ColumnRole, string | number][]) {
    let i: number;
    if (typeof want === 'number') {
      i = Number.isInteger(want) && want >= 1 && want <= names.length ? want - 1 : -1;
      if (i < 0) throw new PriceDataError(`${at}: columns: ${role} ${want} is not a column number of this file (it has ${names.length} columns, numbered from 1).`, file, line);
    } else {
      i = norm.indexOf(normalizeName(want));
      if (i < 0) {
        throw new PriceDataError(
          `${at}: columns: ${role} ${JSON.stringify(want)} is not in the header (of ${names.length} columns); write the name as in the header (case and spaces do not matter) or the column's number from 1.`,
          file,
          line,
        );
      }
    }
    // A column mapped to a role takes it over: the role's default column no longer counts.
    layout[role] = i;
  }
}

/**
 * backtrader's sample files: the header `Date,Open,…` but rows `Date,Time,Open,…`. When the
 * first row has exactly one field more than the header and its second field is `HH:MM[:SS]`,
 * the columns are Date, Time, then the header's names moved one to the right.
 */
function shiftedTime(row: string, sep: string, headerFields: number, layout: Layout): void {
  const fields = row.split(sep);
  if (fields.length !== headerFields + 1 || layout.date !== 0) return;
  const t = fields[1]!.trim();
  if (!/^\d{1,2}:\d{2}(?::\d{2})?$/.test(t) || readTime(bytesOf(t), 0, Buffer.byteLength(t)) < 0) return;
  for (const role of COLUMN_ROLES) if (layout[role] >= 1) layout[role]++;
  layout.time = 1;
}
