/**
 * From rows as read to the bars a backtest uses: ambiguous day/month dates resolved, order
 * checked (a newest-first file is turned around, duplicates reported with their lines),
 * daily-or-intraday decided, spacing detected, the `from`/`to` range applied and the prices
 * checked (or repaired) as the study asks.
 */
import { at, ref, type RawBars } from './raw';
import { boundKey, formatStamp, stampKey, ymd } from './datetime';
import { dailySpacing, intradaySpacing } from './spacing';
import { PriceDataError, type DateRange, type LoadOptions, type Spacing } from './types';
import { checkPrices } from './validate';

/** Bars ready for the shared buffer: the kept rows' indices into the raw columns. */
export interface Selected {
  raw: RawBars;
  /** Raw row indices in bar order. */
  rows: Int32Array;
  intraday: boolean;
  spacing: Spacing;
  warnings: string[];
}

export function selectBars(raw: RawBars, file: string, range: DateRange | undefined, options: LoadOptions): Selected {
  const warnings: string[] = [];
  if (raw.missing.count) warnings.push(`${file}: ${count(raw.missing.count, 'row')} with a missing price skipped (first: ${ref(raw, raw.missing.first)})`);
  if (raw.missingVolume.count) warnings.push(`${file}: ${count(raw.missingVolume.count, 'row')} without a volume read as volume 0 (first: ${ref(raw, raw.missingVolume.first)})`);
  if (raw.n === 0) throw new PriceDataError(`${file}: every row has a missing price (${count(raw.missing.count, 'row')}, first: ${ref(raw, raw.missing.first)}); the file has no usable bar.`, file, raw.missing.first);
  if (raw.hasAmbiguous) resolveDayMonth(raw, file);
  const [from, to] = rangeKeys(file, range);
  const intraday = raw.hasTime && hasTwoBarsOnADay(raw);
  const key = (i: number): number => stampKey(raw.date[i]!, intraday ? raw.time[i]! : -1);
  if (isNewestFirst(raw.n, key)) {
    reverseRows(raw);
    warnings.push(`${file}: the rows are newest first; read in the opposite order`);
  }
  const order = checkOrder(raw, key, file, intraday, warnings);
  const spacing = intraday ? intradaySpacing(raw.date, raw.time, order) : dailySpacing(raw.date, order);
  let lo = 0;
  while (lo < order.length && key(order[lo]!) < from) lo++;
  let hi = order.length;
  while (hi > lo && key(order[hi - 1]!) > to) hi--;
  if (hi === lo) {
    const first = order[0]!;
    const last = order[order.length - 1]!;
    const span = `${formatStamp(raw.date[first]!, intraday ? raw.time[first] : -1)} … ${formatStamp(raw.date[last]!, intraday ? raw.time[last] : -1)}`;
    throw new PriceDataError(`${file}: no bars between ${range?.from ?? 'the start'} and ${range?.to ?? 'the end'} (the file covers ${span}); widen 'from'/'to'.`, file);
  }
  const rows = checkPrices(raw, order.subarray(lo, hi), file, options.prices ?? 'check', warnings);
  if (rows.length === 0) throw new PriceDataError(`${file}: every bar between ${range?.from ?? 'the start'} and ${range?.to ?? 'the end'} was skipped as invalid; fix the prices.`, file);
  return { raw, rows, intraday, spacing, warnings };
}

function count(n: number, what: string): string {
  return `${n.toLocaleString('en-US')} ${what}${n === 1 ? '' : 's'}`;
}

function rangeKeys(file: string, range: DateRange | undefined): [number, number] {
  const key = (which: 'from' | 'to'): number => {
    const text = range?.[which];
    if (text === undefined || text === '') return which === 'from' ? -Infinity : Infinity;
    const k = boundKey(text, which);
    if (k === null) throw new PriceDataError(`${file}: '${which}' date '${text}' is not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS].`, file);
    return k;
  };
  const from = key('from');
  const to = key('to');
  if (from > to) throw new PriceDataError(`${file}: the range ${range?.from} … ${range?.to} is empty ('from' is after 'to'); swap the dates.`, file);
  return [from, to];
}

/**
 * `p/q/yyyy` dates: a first number above 12 anywhere means day-first, a second one above 12
 * means month-first (US); neither is ambiguous and both is inconsistent — errors that ask
 * for a `date_format`.
 */
function resolveDayMonth(raw: RawBars, file: string): void {
  let dayFirstLine = 0;
  let usLine = 0;
  for (let i = 0; i < raw.n; i++) {
    const v = raw.date[i]!;
    if (v >= 0) continue;
    const pq = -v % 10000;
    if (Math.floor(pq / 100) > 12 && !dayFirstLine) dayFirstLine = raw.line[i]!;
    if (pq % 100 > 12 && !usLine) usLine = raw.line[i]!;
  }
  const fix = 'say which it is in the study: data "…" { date_format "DD/MM/YYYY" } (or "MM/DD/YYYY")';
  if (dayFirstLine && usLine) {
    throw new PriceDataError(`${at(raw, file, usLine)}: the dates mix day-first (${ref(raw, dayFirstLine)}) and month-first (${ref(raw, usLine)}) order; ${fix}.`, file, usLine);
  }
  if (!dayFirstLine && !usLine) {
    throw new PriceDataError(`${at(raw, file, raw.line[0]!)}: the dates are ambiguous: no day above 12 tells day/month from month/day; ${fix}.`, file, raw.line[0]);
  }
  for (let i = 0; i < raw.n; i++) {
    const v = raw.date[i]!;
    if (v >= 0) continue;
    const y = Math.floor(-v / 10000);
    const p = Math.floor((-v % 10000) / 100);
    const q = -v % 100;
    const d = dayFirstLine ? ymd(y, q, p) : ymd(y, p, q);
    if (d < 0) throw new PriceDataError(`${at(raw, file, raw.line[i]!)}: ${p}/${q}/${y} is not a date (read as ${dayFirstLine ? 'day/month' : 'month/day'}/year).`, file, raw.line[i]);
    raw.date[i] = d;
  }
}

function hasTwoBarsOnADay(raw: RawBars): boolean {
  for (let i = 1; i < raw.n; i++) if (raw.date[i] === raw.date[i - 1]) return true;
  return false;
}

/** True when every row's stamp key (`key(i)`) is at or before the previous row's. */
function isNewestFirst(n: number, key: (i: number) => number): boolean {
  if (n < 2 || !(key(0) > key(n - 1))) return false;
  for (let i = 1; i < n; i++) if (key(i) > key(i - 1)) return false;
  return true;
}

function reverseRows(raw: RawBars): void {
  const n = raw.n;
  for (const c of [raw.date, raw.time, raw.line, ...raw.cols]) c.subarray(0, n).reverse();
}

/**
 * Row indices in bar order. A repeated stamp with the same prices is dropped (counted in a
 * warning); with other prices, or a stamp out of order, it is an error naming both lines.
 */
function checkOrder(raw: RawBars, key: (i: number) => number, file: string, intraday: boolean, warnings: string[]): Int32Array {
  const out = new Int32Array(raw.n);
  let m = 0;
  let dups = 0;
  let firstDup = 0;
  for (let i = 0; i < raw.n; i++) {
    if (m > 0) {
      const p = out[m - 1]!;
      const ki = key(i);
      const kp = key(p);
      if (ki === kp) {
        const stamp = formatStamp(raw.date[i]!, intraday ? raw.time[i] : -1);
        if (!sameBar(raw, i, p)) {
          throw new PriceDataError(
            `${at(raw, file, raw.line[i]!)}: ${intraday ? 'bar' : 'date'} ${stamp} repeats ${ref(raw, raw.line[p]!)} with other prices; ${intraday ? 'remove the duplicate' : 'the file has one bar per day: remove the duplicate'}.`,
            file,
            raw.line[i],
          );
        }
        if (dups++ === 0) firstDup = raw.line[i]!;
        continue;
      }
      if (ki < kp) {
        const stamp = formatStamp(raw.date[i]!, intraday ? raw.time[i] : -1);
        const before = formatStamp(raw.date[p]!, intraday ? raw.time[p] : -1);
        throw new PriceDataError(`${at(raw, file, raw.line[i]!)}: ${intraday ? 'bar' : 'date'} ${stamp} comes after ${before} (${ref(raw, raw.line[p]!)}); sort the file by date, oldest first.`, file, raw.line[i]);
      }
    }
    out[m++] = i;
  }
  if (dups) warnings.push(`${file}: ${count(dups, 'repeated row')} skipped (identical to the row before; first: ${ref(raw, firstDup)})`);
  return out.subarray(0, m);
}

function sameBar(raw: RawBars, i: number, j: number): boolean {
  for (const c of raw.cols) if (!Object.is(c[i], c[j])) return false;
  return true;
}
