/**
 * Loading a price file: only a regular file is opened for reading (a FIFO, a device or a
 * folder is refused before a byte is read, and a file larger than the limit before it is
 * read), gzip is undone, then the rows are read (csv.ts for text, parquet.ts for Parquet, told
 * by the content), ordered and checked (bars.ts) and stored in one shared buffer (store.ts).
 */
import * as fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { selectBars } from './bars';
import { scanCsv } from './csv';
import { isParquet, scanParquet } from './parquet';
import { storeBars } from './store';
import { PriceDataError, type DateRange, type LoadOptions, type PriceData } from './types';

/** The largest price file read (after gzip): a JS string cannot hold much more. */
export const MAX_PRICE_FILE_BYTES = 512 * 1024 * 1024;

/**
 * Loads a price file: CSV (comma, semicolon, tab or `|`; gzip'ed or not) or Parquet, daily or
 * intraday. Layouts: backtrader's (`Date,Open,High,Low,Close,Adj Close,Volume`,
 * `Date,Time,Open,…,OpenInterest`, and a header without `Time` over rows with it), `Date` +
 * `Time` columns, ISO datetimes with `T` or a space, epoch seconds or milliseconds, D/M/YYYY
 * and M/D/YYYY (told apart by the values, or by `options.dateFormat`). `range` is inclusive.
 * @throws PriceDataError naming the file, the line (and column) and what to do.
 */
export function loadPrices(file: string, range?: DateRange, options: LoadOptions = {}): PriceData {
  return pricesFromBytes(readPriceFile(file, options.maxBytes ?? MAX_PRICE_FILE_BYTES), file, range, options);
}

/** A price file's bytes (gzip undone) → bars: Parquet when they start with `PAR1`, else CSV text. */
export function pricesFromBytes(bytes: Buffer, file: string, range?: DateRange, options: LoadOptions = {}): PriceData {
  if (isParquet(bytes)) return storeBars(selectBars(scanParquet(bytes, file, options), file, range, options), file);
  return parsePrices(bytes.toString('utf8'), file, range, options);
}

/** Parses price CSV text (see `loadPrices`); `file` is used in messages and in the data's `file`. */
export function parsePrices(text: string, file: string, range?: DateRange, options: LoadOptions = {}): PriceData {
  const raw = scanCsv(text, file, options);
  return storeBars(selectBars(raw, file, range, options), file);
}

/** What a file system entry is, for messages about what is not a regular file. */
export function describeKind(st: fs.Stats): string {
  if (st.isDirectory()) return 'a folder';
  if (st.isFIFO()) return 'a named pipe (FIFO)';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

function mb(n: number): string {
  return n >= 2 ** 20 ? `${Math.round(n / 2 ** 20)} MB` : `${n} bytes`;
}

/**
 * The bytes of a regular file of at most `maxBytes` (gunzipped when it is gzip). Opened
 * non-blocking so a FIFO cannot hang the caller; checked with fstat on the open descriptor, so
 * what is read is what was checked.
 */
export function readPriceFile(file: string, maxBytes: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PriceDataError(
      code === 'ENOENT'
        ? `${file}: no such price file; check the path (relative paths are relative to the study file or the current folder).`
        : `${file}: cannot open the price file (${code ?? String(e)}).`,
      file,
    );
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new PriceDataError(`${file}: ${describeKind(st)}, not a regular file; a price file must be a plain file.`, file);
    if (st.size > maxBytes) throw new PriceDataError(`${file}: the file is ${mb(st.size)}; price files up to ${mb(maxBytes)} are read: split it or keep the range you need.`, file);
    const buf = Buffer.allocUnsafe(st.size);
    let got = 0;
    while (got < st.size) {
      const r = fs.readSync(fd, buf, got, st.size - got, got);
      if (r === 0) break;
      got += r;
    }
    const bytes = got === st.size ? buf : buf.subarray(0, got);
    return bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzip(bytes, file, maxBytes) : bytes;
  } catch (e) {
    if (e instanceof PriceDataError) throw e;
    throw new PriceDataError(`${file}: cannot read the price file (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, file);
  } finally {
    fs.closeSync(fd);
  }
}

function gunzip(bytes: Buffer, file: string, maxBytes: number): Buffer {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxBytes });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw new PriceDataError(`${file}: unzipped, the file is larger than ${mb(maxBytes)}; split it or keep the range you need.`, file);
    throw new PriceDataError(`${file}: the gzip data is damaged (${code ?? String(e)}); unzip it by hand to check it.`, file);
  }
}
