/**
 * Calendar arithmetic and the timestamp forms of price files, read straight from the file's
 * text (no substring per field: a million-row file has millions of them).
 *
 * A bar's stamp is a calendar day (yyyymmdd) and, for intraday bars, seconds after midnight
 * as written. Ranges and ordering compare one number, the stamp key `yyyymmdd * 1e5 + seconds`;
 * a daily bar's key is the end of its day (backtrader stamps daily bars 23:59:59.999989).
 */
import { bytesOf, textOf, type Bytes } from './bytes';

/** The key of a daily bar (or of the end of a `to` day): after every second of the day. */
export const END_OF_DAY = 86400;

export function stampKey(date: number, time: number): number {
  return date * 100000 + (time < 0 ? END_OF_DAY : time);
}

export function daysInMonth(y: number, m: number): number {
  return m === 2 ? (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28) : m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** yyyymmdd, or -1 when the day does not exist. */
export function ymd(y: number, m: number, d: number): number {
  if (y < 1000 || y > 9999 || m < 1 || m > 12 || d < 1 || d > daysInMonth(y, m)) return -1;
  return y * 10000 + m * 100 + d;
}

/** Days since 1970-01-01 of a yyyymmdd date (proleptic Gregorian). */
export function dayNumber(yyyymmdd: number): number {
  let y = Math.floor(yyyymmdd / 10000);
  const m = Math.floor(yyyymmdd / 100) % 100;
  const d = yyyymmdd % 100;
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** yyyymmdd of a day number (inverse of `dayNumber`). */
export function fromDayNumber(z: number): number {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return (yoe + era * 400 + (m <= 2 ? 1 : 0)) * 10000 + m * 100 + d;
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** yyyymmdd → `YYYY-MM-DD`. */
export function formatDate(d: number): string {
  return `${Math.floor(d / 10000)}-${pad2(Math.floor(d / 100) % 100)}-${pad2(d % 100)}`;
}

/** Seconds after midnight → `HH:MM:SS`. */
export function formatTime(t: number): string {
  return `${pad2(Math.floor(t / 3600))}:${pad2(Math.floor(t / 60) % 60)}:${pad2(t % 60)}`;
}

/** `YYYY-MM-DD` for a daily stamp (time < 0 or absent), `YYYY-MM-DDTHH:MM:SS` for intraday. */
export function formatStamp(date: number, time?: number): string {
  return time === undefined || time < 0 ? formatDate(date) : `${formatDate(date)}T${formatTime(time)}`;
}

/** The calendar day of a stamp `formatStamp` wrote: its `YYYY-MM-DD` (a daily stamp is its own day). */
export function stampDay(stamp: string): string {
  return stamp.slice(0, 10);
}

// ---------------------------------------------------------------------------------------------
// Reading stamps from a file's bytes (bytes.ts)

/** What `readStamp` found. `ambiguous`: `p/q/year` where either p or q may be the month. */
export interface Stamp {
  kind: 'date' | 'ambiguous' | 'epoch';
  /** yyyymmdd (kind `date` and `epoch`). */
  date: number;
  /** Seconds after midnight, or -1 when the text has no time. */
  time: number;
  /** kind `ambiguous`: the first and second numbers and the year. */
  p: number;
  q: number;
  year: number;
}

export function newStamp(): Stamp {
  return { kind: 'date', date: -1, time: -1, p: 0, q: 0, year: 0 };
}

const isDigit = (c: number): boolean => c >= 48 && c <= 57;

/** Reads `n` digits at `i` (NaN when one is not a digit). */
function digits(s: Bytes, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const c = s[i + k]! - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return v;
}

/** Length of the run of digits at `i` (at most up to `b`). */
function runLength(s: Bytes, i: number, b: number): number {
  let k = i;
  while (k < b && isDigit(s[k]!)) k++;
  return k - i;
}

/**
 * Reads a time `HH:MM[:SS[.fff]]` at `i` up to `b`, optionally followed by `Z` or an offset
 * `±HH[:MM]` (kept as written: the wall-clock time is the bar's time). Seconds or -1.
 */
export function readTime(s: Bytes, i: number, b: number): number {
  const hl = runLength(s, i, b);
  if (hl < 1 || hl > 2 || s[i + hl]! !== 58 /* : */) return readCompactTime(s, i, b);
  const h = digits(s, i, hl);
  let k = i + hl + 1;
  if (runLength(s, k, b) !== 2) return -1;
  const m = digits(s, k, 2);
  k += 2;
  let sec = 0;
  if (k < b && s[k]! === 58) {
    if (runLength(s, k + 1, b) !== 2) return -1;
    sec = digits(s, k + 1, 2);
    k += 3;
    if (k < b && (s[k]! === 46 || s[k]! === 44)) k += 1 + runLength(s, k + 1, b); // fraction: dropped
  }
  if (h > 23 || m > 59 || sec > 59) return -1;
  if (k < b && !timeZoneSuffix(s, k, b)) return -1;
  return h * 3600 + m * 60 + sec;
}

/** `HHMM` or `HHMMSS` (some exports write times without colons). */
function readCompactTime(s: Bytes, i: number, b: number): number {
  const n = b - i;
  if ((n !== 4 && n !== 6) || runLength(s, i, b) !== n) return -1;
  const h = digits(s, i, 2);
  const m = digits(s, i + 2, 2);
  const sec = n === 6 ? digits(s, i + 4, 2) : 0;
  return h > 23 || m > 59 || sec > 59 ? -1 : h * 3600 + m * 60 + sec;
}

function timeZoneSuffix(s: Bytes, k: number, b: number): boolean {
  const c = s[k]!;
  if (c === 90 /* Z */) return k + 1 === b;
  if (c !== 43 && c !== 45) return false;
  return /^\d{2}(?::?\d{2})?$/.test(textOf(s, k + 1, b));
}

/**
 * Reads a date or datetime field `s[a, b)` into `out`: `YYYY-MM-DD` (also `/` or `.`, or
 * `YYYYMMDD`), then optionally `T` or a space and a time; `D/M/YYYY` forms (ambiguous until the
 * file shows a day above 12); epoch seconds (9–11 digits) or milliseconds (12–14). False when
 * the text is none of these.
 */
export function readStamp(s: Bytes, a: number, b: number, out: Stamp): boolean {
  out.time = -1;
  const n1 = runLength(s, a, b);
  if (n1 === b - a) return readAllDigits(s, a, n1, out);
  const sep = s[a + n1]!;
  if (n1 === 4 && (sep === 45 || sep === 47 || sep === 46)) return readIso(s, a, b, sep, out);
  if ((n1 === 1 || n1 === 2) && (sep === 47 || sep === 45 || sep === 46)) return readDayMonth(s, a, b, n1, sep, out);
  if (n1 === 8) return readIsoCompact(s, a, b, out);
  if (n1 >= 9 && n1 <= 11 && sep === 46) {
    // Epoch seconds with a fraction (`1136192700.5`).
    if (runLength(s, a + n1 + 1, b) !== b - a - n1 - 1) return false;
    return epoch(digits(s, a, n1), out);
  }
  return false;
}

function readAllDigits(s: Bytes, a: number, n: number, out: Stamp): boolean {
  if (n === 8) return readIsoCompact(s, a, a + 8, out);
  if (n >= 9 && n <= 11) return epoch(digits(s, a, n), out);
  if (n >= 12 && n <= 14) return epoch(Math.floor(digits(s, a, n) / 1000), out);
  return false;
}

/** Epoch seconds (UTC) → day and time. */
export function epoch(secs: number, out: Stamp): boolean {
  if (!Number.isFinite(secs)) return false;
  const day = Math.floor(secs / 86400);
  out.kind = 'epoch';
  out.date = fromDayNumber(day);
  out.time = secs - day * 86400;
  return true;
}

function readIsoCompact(s: Bytes, a: number, b: number, out: Stamp): boolean {
  out.kind = 'date';
  out.date = ymd(digits(s, a, 4), digits(s, a + 4, 2), digits(s, a + 6, 2));
  if (out.date < 0) return false;
  return a + 8 === b || readTimeAfter(s, a + 8, b, out);
}

function readIso(s: Bytes, a: number, b: number, sep: number, out: Stamp): boolean {
  let k = a + 5;
  const ml = runLength(s, k, b);
  if (ml < 1 || ml > 2 || s[k + ml]! !== sep) return false;
  const m = digits(s, k, ml);
  k += ml + 1;
  const dl = runLength(s, k, b);
  if (dl < 1 || dl > 2) return false;
  out.kind = 'date';
  out.date = ymd(digits(s, a, 4), m, digits(s, k, dl));
  if (out.date < 0) return false;
  k += dl;
  return k === b || readTimeAfter(s, k, b, out);
}

function readDayMonth(s: Bytes, a: number, b: number, n1: number, sep: number, out: Stamp): boolean {
  let k = a + n1 + 1;
  const n2 = runLength(s, k, b);
  if (n2 < 1 || n2 > 2 || s[k + n2]! !== sep) return false;
  const p = digits(s, a, n1);
  const q = digits(s, k, n2);
  k += n2 + 1;
  if (runLength(s, k, b) !== 4) return false;
  const y = digits(s, k, 4);
  k += 4;
  if (k !== b && !readTimeAfter(s, k, b, out)) return false;
  if (p < 1 || q < 1 || (p > 12 && q > 12) || p > 31 || q > 31) return false;
  out.kind = 'ambiguous';
  out.p = p;
  out.q = q;
  out.year = y;
  return true;
}

/** A `T` or spaces, then a time. */
function readTimeAfter(s: Bytes, k: number, b: number, out: Stamp): boolean {
  const c = s[k]!;
  if (c !== 84 /* T */ && c !== 32) return false;
  k++;
  while (k < b && s[k]! === 32) k++;
  out.time = readTime(s, k, b);
  return out.time >= 0;
}

/** What to do about a field that is not a date (the end of a loader message). */
export const DATE_FORMS =
  'write dates as YYYY-MM-DD (optionally with a time), D/M/YYYY or M/D/YYYY, or epoch seconds, or give the layout: data "…" { date_format "DD.MM.YYYY" }';
export const FORMAT_MISMATCH = 'it does not match the date_format of the study';

// ---------------------------------------------------------------------------------------------
// Explicit date formats (`date_format "DD.MM.YYYY hh:mm"`)

/** A compiled date format: reads a field into `out` (kind `date` or `epoch`). */
export type DateFormat = (s: Bytes, a: number, b: number, out: Stamp) => boolean;

/**
 * Compiles a `date_format`: `epoch`, `epoch_ms`, or a pattern of `YYYY`, `MM`, `DD` (one or two
 * digits each in the data) and literal separators, optionally followed by a time pattern that
 * starts with `hh` (any time form `readTime` knows). Returns an error text for a bad pattern.
 */
export function compileDateFormat(pattern: string): DateFormat | string {
  const p = pattern.trim();
  if (p === 'epoch') return (s, a, b, out) => runLength(s, a, b) === b - a && b > a && epoch(digits(s, a, b - a), out);
  if (p === 'epoch_ms') return (s, a, b, out) => runLength(s, a, b) === b - a && b > a && epoch(Math.floor(digits(s, a, b - a) / 1000), out);
  const m = /^(.*?)(?:([ T])\s*hh.*)?$/.exec(p)!;
  const datePart = m[1]!;
  const withTime = m[2] !== undefined;
  const parts = datePart.split(/(YYYY|MM|DD)/).filter((x) => x !== '');
  const fields = parts.filter((x) => x === 'YYYY' || x === 'MM' || x === 'DD');
  if (fields.length !== 3 || new Set(fields).size !== 3) {
    return `date_format ${JSON.stringify(pattern)} needs YYYY, MM and DD once each (like "DD.MM.YYYY" or "MM/DD/YYYY hh:mm"), or epoch / epoch_ms`;
  }
  return (s, a, b, out) => {
    let k = a;
    let y = 0;
    let mo = 0;
    let d = 0;
    for (const part of parts) {
      if (part === 'YYYY' || part === 'MM' || part === 'DD') {
        const len = runLength(s, k, b);
        if (part === 'YYYY' ? len !== 4 : len < 1 || len > 2) return false;
        const v = digits(s, k, len);
        if (part === 'YYYY') y = v;
        else if (part === 'MM') mo = v;
        else d = v;
        k += len;
      } else {
        for (let j = 0; j < part.length; j++) if (s[k + j] !== part.charCodeAt(j)) return false;
        k += part.length;
      }
    }
    out.kind = 'date';
    out.date = ymd(y, mo, d);
    out.time = -1;
    if (out.date < 0) return false;
    if (k === b) return true;
    return withTime && readTimeAfter(s, k, b, out);
  };
}

// ---------------------------------------------------------------------------------------------
// Range bounds

/**
 * The stamp key of a `from`/`to` bound: a date (`from` = the start of the day, `to` = its end,
 * so every bar of the `to` day is kept) or a datetime `YYYY-MM-DD[T ]HH:MM[:SS]` (exact).
 * Null when the text is neither.
 */
export function boundKey(text: string, which: 'from' | 'to'): number | null {
  const t = text.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(t);
  if (!m) return null;
  const date = ymd(+m[1]!, +m[2]!, +m[3]!);
  if (date < 0) return null;
  if (m[4] === undefined) return date * 100000 + (which === 'from' ? 0 : END_OF_DAY);
  const h = +m[4];
  const mi = +m[5]!;
  const sec = m[6] === undefined ? 0 : +m[6];
  if (h > 23 || mi > 59 || sec > 59) return null;
  return date * 100000 + h * 3600 + mi * 60 + sec;
}

/** A date field's day as yyyymmdd (`YYYY-MM-DD`, `YYYYMMDD`, optionally with a time), or -1. */
export function parseDate(text: string): number {
  const st = newStamp();
  const b = bytesOf(text);
  return readStamp(b, 0, b.length, st) && st.kind !== 'ambiguous' ? st.date : -1;
}
