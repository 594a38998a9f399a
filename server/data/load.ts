/**
 * Loading a price file: only a regular file is opened for reading (a FIFO, a device or a
 * folder is refused before a byte is read, and a file larger than the limit before it is
 * read); plain CSV is read a chunk at a time, gzip'ed and Parquet files whole (gzip undone). The
 * rows are read (csv.ts for text, parquet.ts for Parquet, told by the content), ordered and
 * checked (bars.ts) and kept in one shared buffer (store.ts).
 */
import * as fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { selectBars } from './bars';
import { scanCsv, scanLines } from './csv';
import { LineReader } from './lines';
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
  const maxBytes = options.maxBytes ?? MAX_PRICE_FILE_BYTES;
  return withPriceFile(file, maxBytes, (fd, size) => {
    const first = Buffer.allocUnsafe(Math.min(size, CHUNK_BYTES));
    let pos = readAt(fd, first, 0, first.length, 0, file);
    const head = first.subarray(0, pos);
    if (isGzip(head) || isParquet(head) || (head.indexOf(10) < 0 && head.indexOf(13) >= 0)) {
      return pricesFromBytes(unpack(readRest(fd, head, size, file), file, maxBytes), file, range, options);
    }
    // Plain CSV: streamed a chunk at a time through one buffer.
    const more = (buf: Buffer, at: number, max: number): number => {
      const n = readAt(fd, buf, at, Math.min(max, size - pos), pos, file);
      pos += n;
      return n;
    };
    return storeBars(selectBars(scanLines(new LineReader(first, pos, more), size, file, options), file, range, options), file);
  });
}

/** Bytes per read when a CSV file is streamed. */
const CHUNK_BYTES = 4 * 2 ** 20;

/** A price file's bytes (gzip undone) → bars: Parquet when they start with `PAR1`, else CSV text. */
export function pricesFromBytes(bytes: Buffer, file: string, range?: DateRange, options: LoadOptions = {}): PriceData {
  const raw = isParquet(bytes) ? scanParquet(bytes, file, options) : scanCsv(bytes, file, options);
  return storeBars(selectBars(raw, file, range, options), file);
}

/** Parses price CSV text (see `loadPrices`); `file` is used in messages and in the data's `file`. */
export function parsePrices(text: string, file: string, range?: DateRange, options: LoadOptions = {}): PriceData {
  return storeBars(selectBars(scanCsv(Buffer.from(text, 'utf8'), file, options), file, range, options), file);
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
 * The bytes of a regular file of at most `maxBytes` (gunzipped when it is gzip), read whole
 * (for Parquet and gzip'ed files; plain CSV is streamed by `loadPrices`).
 */
export function readPriceFile(file: string, maxBytes: number): Buffer {
  return withPriceFile(file, maxBytes, (fd, size) => unpack(readRest(fd, Buffer.alloc(0), size, file), file, maxBytes));
}

/**
 * Runs `use` on a regular file of at most `maxBytes`, open for reading. Opened non-blocking so
 * a FIFO cannot hang the caller; checked with fstat on the open descriptor, so what is read is
 * what was checked; closed afterwards.
 */
function withPriceFile<T>(file: string, maxBytes: number, use: (fd: number, size: number) => T): T {
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
    let st: fs.Stats;
    try {
      st = fs.fstatSync(fd);
    } catch (e) {
      throw new PriceDataError(`${file}: cannot read the price file (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, file);
    }
    if (!st.isFile()) throw new PriceDataError(`${file}: ${describeKind(st)}, not a regular file; a price file must be a plain file.`, file);
    if (st.size > maxBytes) throw new PriceDataError(`${file}: the file is ${mb(st.size)}; price files up to ${mb(maxBytes)} are read: split it or keep the range you need.`, file);
    return use(fd, st.size);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads up to `len` bytes at file position `pos` into `buf` at `at` (fewer only at the end). */
function readAt(fd: number, buf: Buffer, at: number, len: number, pos: number, file: string): number {
  let got = 0;
  try {
    while (got < len) {
      const r = fs.readSync(fd, buf, at + got, len - got, pos + got);
      if (r === 0) break;
      got += r;
    }
  } catch (e) {
    throw new PriceDataError(`${file}: cannot read the price file (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, file);
  }
  return got;
}

/** The whole file: `head` (its first bytes, already read) and the rest up to `size`. */
function readRest(fd: number, head: Buffer, size: number, file: string): Buffer {
  if (head.length >= size) return head;
  const buf = Buffer.allocUnsafe(size);
  head.copy(buf);
  const got = head.length + readAt(fd, buf, head.length, size - head.length, head.length, file);
  return got === size ? buf : buf.subarray(0, got);
}

function isGzip(b: Buffer): boolean {
  return b[0] === 0x1f && b[1] === 0x8b;
}

function unpack(bytes: Buffer, file: string, maxBytes: number): Buffer {
  return isGzip(bytes) ? gunzip(bytes, file, maxBytes) : bytes;
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
