/**
 * Numbers in price files, read from the file's bytes without a substring in the common case.
 *
 * The result must be the double Python's `float()` (and JS `Number()`) gives, as the golden
 * files were made that way. Plain decimals of at most 15 significant digits take Clinger's
 * fast path: the digits as an integer m < 2^53 and 10^k (k ≤ 22) are both exact doubles, so
 * `m / 10^k` is one correctly rounded division — the same double `Number()` returns. Anything
 * else (exponents, long mantissas, quoted or localized numbers) goes through `Number()`.
 */
import { textOf, type Bytes } from './bytes';

/** Outcome of the last `readNumber` call (a module variable: no object per field). */
export const NUMBER_OK = 0;
/** Empty, `null`, `NaN`, `N/A`, `-`, …: the value is missing. */
export const NUMBER_MISSING = 1;
/** Not a number at all. */
export const NUMBER_INVALID = 2;

/** Read it right after `readNumber`. */
export let numberStatus = NUMBER_OK;

const POW10: number[] = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const MISSING = new Set(['', 'null', 'nan', 'n/a', 'na', '-', 'none', '#n/a', 'nil']);

/** Where the field `readNumber` read ends (its separator, or the line's end). */
export let fieldEnd = 0;

/**
 * Reads the number of the field that starts at `a` in a line ending at `end`, and sets
 * `fieldEnd` and `numberStatus`. `sep` is the file's separator (a char code): in a comma file a
 * quoted `"1,234.5"` has grouping commas; in a semicolon or tab file `1,25` and `1.234,5` have a
 * decimal comma.
 */
export function readNumber(s: Bytes, a: number, end: number, sep: number): number {
  numberStatus = NUMBER_OK;
  let i = a;
  let c = s[i]!;
  let neg = false;
  if (c === 45 || c === 43) {
    neg = c === 45;
    c = s[++i]!;
  }
  // m: every digit as one integer; at most 15 digits keep it exact (leading zeros count, so a
  // longer field with leading zeros merely takes the slow path).
  let m = 0;
  const first = i;
  while (i < end && c >= 48 && c <= 57) {
    m = m * 10 + (c - 48);
    c = s[++i]!;
  }
  let digits = i - first;
  let frac = 0;
  if (i < end && c === 46) {
    const dot = ++i;
    c = s[i]!;
    while (i < end && c >= 48 && c <= 57) {
      m = m * 10 + (c - 48);
      c = s[++i]!;
    }
    frac = i - dot;
    digits += frac;
  }
  if ((i === end || c === sep) && digits > 0 && digits <= 15) {
    fieldEnd = i;
    const v = frac === 0 ? m : m / POW10[frac]!;
    return neg ? -v : v;
  }
  fieldEnd = nextSeparator(s, a, end, sep);
  return readNumberSlow(textOf(s, a, fieldEnd), sep);
}

/** The end of the field that starts at `a`: its separator or the line's end (quotes respected). */
export function nextSeparator(s: Bytes, a: number, end: number, sep: number): number {
  let from = a;
  if (s[a]! === 34) {
    from = a + 1;
    for (;;) {
      const q = s.indexOf(34, from);
      if (q < 0 || q >= end) return end;
      from = q + 1;
      if (s[from]! !== 34) break;
      from++;
    }
  }
  for (let i = from; i < end; i++) if (s[i]! === sep) return i;
  return end;
}

function readNumberSlow(field: string, sep: number): number {
  let t = field.trim();
  if (t.length >= 2 && t.charCodeAt(0) === 34 && t.charCodeAt(t.length - 1) === 34) t = t.slice(1, -1).trim();
  if (MISSING.has(t.toLowerCase())) {
    numberStatus = NUMBER_MISSING;
    return NaN;
  }
  if (sep === 44) {
    if (/^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$/.test(t)) t = t.replace(/,/g, '');
  } else if (/^[+-]?\d+,\d+$/.test(t)) {
    t = t.replace(',', '.');
  } else if (/^[+-]?\d{1,3}(?:\.\d{3})+,\d+$/.test(t)) {
    t = t.replace(/\./g, '').replace(',', '.');
  }
  if (!NUMBER_RE.test(t)) {
    numberStatus = NUMBER_INVALID;
    return NaN;
  }
  return Number(t);
}
