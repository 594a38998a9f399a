/**
 * The date and time columns of a Parquet file: typed timestamps (milli-, micro-, nanoseconds,
 * INT96; read as the wall-clock time they hold — UTC when the writer adjusted them to UTC),
 * typed dates, TIME columns, and text or numbers in any form the CSV loader reads (ISO dates
 * and datetimes, D/M/YYYY, yyyymmdd, epoch seconds or milliseconds, a study's `date_format`).
 */
import type { SchemaElement } from 'hyparquet';
import { compileDateFormat, DATE_FORMS, FORMAT_MISMATCH, fromDayNumber, newStamp, readStamp, readTime, type DateFormat } from './datetime';
import { bytesOf } from './bytes';
import { eachValue, type Page } from './parquet-pages';
import { at, cell, type RawBars } from './raw';
import { PriceDataError, type LoadOptions } from './types';

type DateKind = 'timestamp' | 'days' | 'text';

function dateKind(el: SchemaElement, name: string, file: string): DateKind {
  const lt = el.logical_type?.type;
  const ct = el.converted_type;
  if (lt === 'TIMESTAMP' || ct === 'TIMESTAMP_MILLIS' || ct === 'TIMESTAMP_MICROS' || (el.type === 'INT96' && !ct)) return 'timestamp';
  if (lt === 'DATE' || ct === 'DATE') return 'days';
  if (el.type === 'BYTE_ARRAY' || el.type === 'INT32' || el.type === 'INT64' || el.type === 'DOUBLE' || el.type === 'FLOAT') return 'text';
  throw new PriceDataError(`${file}: the Parquet column '${name}' (${el.type}) cannot hold dates; use a timestamp, date or text column.`, file);
}

/** Fills `raw.date` and `raw.time` (-1: no time) of every row from the date column `k`. */
export function parquetDates(raw: RawBars, pages: Page[], el: SchemaElement, k: number, file: string, options: LoadOptions): void {
  const name = raw.header.names[k]!;
  const kind = dateKind(el, name, file);
  if (kind === 'text') return textDates(raw, pages, k, file, options);
  let lastDay = NaN;
  let lastDate = 0;
  eachValue(pages, (v, r) => {
    if (typeof v !== 'number') missingDate(raw, r, name, file, k);
    const day = kind === 'days' ? v : Math.floor(v / 86400000);
    if (day !== lastDay) {
      lastDay = day;
      lastDate = fromDayNumber(day);
    }
    if (!(lastDate >= 10000101 && lastDate <= 99991231)) {
      throw new PriceDataError(`${at(raw, file, r + 1)}: the ${kind === 'days' ? 'date' : 'timestamp'} in column '${name}' lies outside the years 1000–9999; fix the value.`, file, r + 1, k + 1);
    }
    raw.date[r] = lastDate;
    raw.time[r] = kind === 'days' ? -1 : Math.floor(v / 1000) - day * 86400;
  });
  if (kind === 'timestamp') raw.hasTime = true;
}

/** Dates written as text or as plain numbers, read as the CSV loader reads a field. */
function textDates(raw: RawBars, pages: Page[], k: number, file: string, options: LoadOptions): void {
  const name = raw.header.names[k]!;
  let format: DateFormat | undefined;
  if (options.dateFormat !== undefined) {
    const f = compileDateFormat(options.dateFormat);
    if (typeof f === 'string') throw new PriceDataError(`${file}: ${f}.`, file);
    format = f;
  }
  const st = newStamp();
  eachValue(pages, (v, r) => {
    if (v === null || v === undefined) missingDate(raw, r, name, file, k);
    const s = typeof v === 'string' ? v.trim() : String(v);
    const b = bytesOf(s);
    if (!(format ? format(b, 0, b.length, st) : readStamp(b, 0, b.length, st))) {
      throw new PriceDataError(`${at(raw, file, r + 1)}: '${cell(s)}' in column '${name}' is not a date; ${format ? FORMAT_MISMATCH : DATE_FORMS}.`, file, r + 1, k + 1);
    }
    if (st.kind === 'ambiguous') {
      raw.date[r] = -(st.year * 10000 + st.p * 100 + st.q);
      raw.hasAmbiguous = true;
    } else raw.date[r] = st.date;
    raw.time[r] = st.time;
    if (st.time >= 0) raw.hasTime = true;
  });
}

/** Seconds after midnight from the time column `k` (TIME columns or `HH:MM[:SS]` text). */
export function parquetTimes(raw: RawBars, pages: Page[], el: SchemaElement, k: number, file: string): void {
  const name = raw.header.names[k]!;
  const perSecond = timeUnit(el);
  eachValue(pages, (v, r) => {
    let t = -1;
    if (perSecond && (typeof v === 'number' || typeof v === 'bigint')) t = Math.floor(Number(v) / perSecond);
    else if (typeof v === 'string') {
      const b = bytesOf(v.trim());
      t = readTime(b, 0, b.length);
    }
    if (!(t >= 0 && t < 86400)) {
      const hint = perSecond ? 'the value is not a time of day' : 'write HH:MM or HH:MM:SS, or use a Parquet TIME column';
      throw new PriceDataError(`${at(raw, file, r + 1)}: '${cell(String(v))}' in column '${name}' is not a time; ${hint}.`, file, r + 1, k + 1);
    }
    raw.time[r] = t;
  });
  raw.hasTime = true;
}

/** Units per second of a TIME column; 0 for any other column. */
function timeUnit(el: SchemaElement): number {
  const lt = el.logical_type;
  if (lt?.type === 'TIME') return lt.unit === 'MILLIS' ? 1e3 : lt.unit === 'MICROS' ? 1e6 : 1e9;
  if (el.converted_type === 'TIME_MILLIS') return 1e3;
  if (el.converted_type === 'TIME_MICROS') return 1e6;
  return 0;
}

function missingDate(raw: RawBars, r: number, name: string, file: string, k: number): never {
  throw new PriceDataError(`${at(raw, file, r + 1)}: the date in column '${name}' is missing; fill it in or remove the row.`, file, r + 1, k + 1);
}
