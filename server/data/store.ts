/**
 * Bars over one SharedArrayBuffer: built once by the loader, posted to workers as a small
 * descriptor (`sharePrices`), attached there without a copy (`attachPrices`), sliced by
 * range or index as views (`slicePrices`, `sliceBars`).
 *
 * Buffer layout, each column `capacity` long: the Float64 columns open, high, low, close,
 * volume[, openInterest], then the Int32 date column, then (intraday) the Int32 time column.
 */
import { createHash } from 'node:crypto';
import type { Selected } from './bars';
import { boundKey, formatStamp, stampKey } from './datetime';
import { PriceDataError, type DateRange, type PriceData, type SharedPrices, type Spacing } from './types';

const DAILY: Spacing = Object.freeze({ unit: 'days', compression: 1 }) as Spacing;

/**
 * The selected rows as loaded data. Rows kept as read (one run, as in almost every file) are
 * used in place: the data is a view of the raw buffer (store layout, raw.ts). Otherwise — rows
 * dropped inside the run, or a narrow range of a big file — they are copied into a new buffer.
 */
export function storeBars(sel: Selected, file: string): PriceData {
  const { raw, rows } = sel;
  const n = rows.length;
  const run = n > 0 && rows[n - 1]! - rows[0]! === n - 1;
  const d = run && n * 2 >= raw.capacity ? viewBars(sel, file, rows[0]!) : copyBars(sel, file);
  if (sel.warnings.length) d.warnings = sel.warnings;
  return d;
}

function viewBars(sel: Selected, file: string, offset: number): PriceData {
  const { raw, rows, intraday } = sel;
  const share: SharedPrices = { kind: 'optstudy-prices', file, id: '', buffer: raw.buffer, offset, bars: rows.length, capacity: raw.capacity, hasOpenInterest: raw.hasOpenInterest, hasTime: intraday, spacing: sel.spacing };
  const d = attachPrices(share);
  d.id = contentId(d);
  return d;
}

function copyBars(sel: Selected, file: string): PriceData {
  const { raw, rows, intraday } = sel;
  const n = rows.length;
  const nf = raw.hasOpenInterest ? 6 : 5;
  const buffer = new SharedArrayBuffer(n * 8 * nf + n * 4 * (intraday ? 2 : 1));
  for (let k = 0; k < nf; k++) gather(raw.cols[k]!, rows, new Float64Array(buffer, k * n * 8, n));
  gather(raw.date, rows, new Int32Array(buffer, nf * n * 8, n));
  if (intraday) gather(raw.time, rows, new Int32Array(buffer, nf * n * 8 + n * 4, n));
  const d = attachPrices({ kind: 'optstudy-prices', file, id: '', buffer, offset: 0, bars: n, capacity: n, hasOpenInterest: raw.hasOpenInterest, hasTime: intraday, spacing: sel.spacing });
  d.id = contentId(d);
  return d;
}

function gather<T extends Float64Array | Int32Array>(src: T, rows: Int32Array, dst: T): void {
  const n = rows.length;
  if (n > 0 && rows[n - 1]! - rows[0]! === n - 1) {
    dst.set(src.subarray(rows[0]!, rows[0]! + n));
    return;
  }
  for (let i = 0; i < n; i++) dst[i] = src[rows[i]!]!;
}

/**
 * A content hash of the bars: the columns in buffer order (float columns, date, time), so
 * equal bars have equal ids however they are stored.
 */
function contentId(d: PriceData): string {
  const h = createHash('sha256');
  const cols = [d.open, d.high, d.low, d.close, d.volume, ...(d.openInterest ? [d.openInterest] : []), d.date, ...(d.time ? [d.time] : [])];
  for (const c of cols) h.update(new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
  return h.digest('hex').slice(0, 24);
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
    hasTime: d.time !== undefined,
    spacing: d.spacing,
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
    spacing: s.spacing ?? DAILY,
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
  if (s.hasTime) d.time = new Int32Array(buffer, nf * capacity * 8 + capacity * 4 + offset * 4, bars);
  if (s.hasOpenInterest) d.openInterest = f(5);
  return d;
}

/** Bar i's stamp: `YYYY-MM-DD` (daily or longer), `YYYY-MM-DDTHH:MM:SS` (intraday). */
export function barStamp(d: PriceData, i: number): string {
  return formatStamp(d.date[i]!, d.time ? d.time[i] : undefined);
}

/** Bar i's stamp key (`yyyymmdd * 1e5 + seconds`; a daily bar is the end of its day). */
export function barKey(d: PriceData, i: number): number {
  return stampKey(d.date[i]!, d.time ? d.time[i]! : -1);
}

/**
 * The bars of `d` within an inclusive range (dates or datetimes, as `loadPrices`), as views over
 * the same buffer (no copy): for holdout and walk-forward splits.
 * @throws PriceDataError when the range holds no bar.
 */
export function slicePrices(d: PriceData, range: DateRange): PriceData {
  const bound = (which: 'from' | 'to'): number => {
    const text = range[which];
    if (text === undefined || text === '') return which === 'from' ? -Infinity : Infinity;
    const k = boundKey(text, which);
    if (k === null) throw new PriceDataError(`${d.file}: '${which}' date '${text}' is not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS].`, d.file);
    return k;
  };
  const from = bound('from');
  const to = bound('to');
  const a = firstAtOrAfter(d, from);
  const b = firstAtOrAfter(d, to, true);
  if (b <= a) {
    throw new PriceDataError(
      `${d.file}: no bars between ${range.from ?? 'the start'} and ${range.to ?? 'the end'} (the data covers ${barStamp(d, 0)} … ${barStamp(d, d.bars - 1)}); widen the range.`,
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

/** The first bar whose key is ≥ x (or > x with `after`). */
export function firstAtOrAfter(d: PriceData, x: number, after = false): number {
  let lo = 0;
  let hi = d.bars;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const k = barKey(d, mid);
    if (k < x || (after && k === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
