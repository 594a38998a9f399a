/**
 * Parquet price files (pandas, polars, DuckDB and Arrow exports), read with hyparquet.
 *
 * The read is synchronous, as for CSV: the whole file is read into memory (load.ts), so the
 * footer is parsed with hyparquet's `parquetMetadata` and each needed column chunk is decoded
 * with its synchronous page readers (parquet-pages.ts) — the page, encoding and codec code its
 * promise API runs after fetching the bytes. The columns become raw rows (raw.ts); ordering,
 * ranges and price checks are the CSV path's (bars.ts, validate.ts), with messages naming a
 * row (from 1).
 */
import { brotliDecompressSync, unzipSync } from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';
import { DEFAULT_PARSERS } from 'hyparquet/src/convert.js';
import { parquetMetadata, parquetSchema } from 'hyparquet/src/metadata.js';
import { getTreePath } from 'hyparquet/src/schema.js';
import type { Compressors, FileMetaData, ParquetParsers, SchemaElement, SchemaTree } from 'hyparquet';
import { bytesOf } from './bytes';
import { mapColumns, requireColumns } from './layout';
import { checkPages, readFlatChunk, rowsOf, type Decoder, type Page } from './parquet-pages';
import { allocateRaw, at, cell, FLOAT_COLS, type RawBars } from './raw';
import { parquetDates, parquetTimes } from './parquet-stamps';
import { NUMBER_MISSING, numberStatus, readNumber } from './numbers';
import { PriceDataError, type LoadOptions } from './types';

/** True when the bytes start like a Parquet file (`PAR1`). */
export function isParquet(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x41 && b[2] === 0x52 && b[3] === 0x31;
}

/** The most rows read from one file (a damaged footer must not make us allocate terabytes). */
const MAX_ROWS = 2 ** 27;

/**
 * Timestamps and dates as plain numbers, not `Date` objects: epoch milliseconds (floored, also
 * before 1970) and days since 1970.
 */
const PARSERS: ParquetParsers = {
  ...DEFAULT_PARSERS,
  timestampFromMilliseconds: (v) => Number(v),
  timestampFromMicroseconds: (v) => floorDiv(v, 1000n),
  timestampFromNanoseconds: (v) => floorDiv(v, 1000000n),
  dateFromDays: (d) => d,
};

function floorDiv(v: bigint, d: bigint): number {
  const q = v / d;
  return Number(q * d > v ? q - 1n : q);
}

/** Codecs besides snappy (hyparquet's own): gzip and brotli from Node's zlib, zstd from fzstd. */
const COMPRESSORS: Compressors = {
  GZIP: (input) => unzipSync(input),
  BROTLI: (input) => brotliDecompressSync(input),
  ZSTD: (input, length) => zstdDecompress(input, new Uint8Array(length)),
};
const CODECS = new Set(['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'BROTLI', 'ZSTD']);

/** One top-level column of the file. */
interface Column {
  name: string;
  element: SchemaElement;
}

/** Reads a Parquet file's price columns into raw rows (see `loadPrices`). */
export function scanParquet(bytes: Uint8Array, file: string, options: LoadOptions): RawBars {
  const meta = guard(file, 'the footer', () => parquetMetadata(bytes, { parsers: PARSERS }));
  const tree = guard(file, 'the schema', () => parquetSchema(meta));
  const columns: Column[] = tree.children.map((c) => ({ name: c.element.name, element: c.element }));
  const names = columns.map((c) => c.name);
  const layout = mapColumns(file, file, names, options);
  const listed = names.length > 12 ? `${names.slice(0, 12).join(', ')}, …` : names.join(', ');
  requireColumns(file, `${file}: missing Parquet column`, `(the file has ${names.length} column${names.length === 1 ? '' : 's'}: ${listed}`, layout, undefined, 'the file');
  const n = rowCount(meta, file);
  const raw = allocateRaw(n, { sep: '', names, layout }, 0, 'row');
  const read = (k: number): Page[] => readWhole(bytes, meta, tree, columns[k]!, n, file);
  const missing = new Uint8Array(n);
  parquetDates(raw, read(layout.date), columns[layout.date]!.element, layout.date, file, options);
  if (layout.time >= 0 && layout.time !== layout.date) parquetTimes(raw, read(layout.time), columns[layout.time]!.element, layout.time, file);
  FLOAT_COLS.forEach((role, c) => {
    const k = layout[role];
    if (k >= 0) readNumbers(raw, read(k), c, k, missing, file);
    else if (c === 4) raw.cols[4]!.fill(0, 0, n);
    else if (c === 5) raw.cols[5]!.fill(NaN, 0, n);
  });
  compact(raw, n, missing);
  if (raw.n === 0 && raw.missing.count === 0) throw new PriceDataError(`${file}: the Parquet file has no rows; it needs one row per bar.`, file);
  return raw;
}

function rowCount(meta: FileMetaData, file: string): number {
  let n = 0;
  for (const g of meta.row_groups) n += Number(g.num_rows);
  if (!(n >= 0 && n <= MAX_ROWS)) throw new PriceDataError(`${file}: the Parquet footer says ${n} rows; at most ${MAX_ROWS.toLocaleString('en-US')} are read (or the file is damaged).`, file);
  return n;
}

/** The pages of one column, row group after row group, as hyparquet decodes them. */
function readWhole(bytes: Uint8Array, meta: FileMetaData, tree: SchemaTree, col: Column, n: number, file: string): Page[] {
  if (col.element.repetition_type === 'REPEATED') throw new PriceDataError(`${file}: the Parquet column '${col.name}' holds lists; price columns must be plain values.`, file);
  if (col.element.num_children) throw new PriceDataError(`${file}: the Parquet column '${col.name}' is nested (a struct or list); price columns must be plain values.`, file);
  const out: Page[] = [];
  for (const group of meta.row_groups) {
    const rows = Number(group.num_rows);
    const cm = group.columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === col.name)?.meta_data;
    if (!cm) throw new PriceDataError(`${file}: the Parquet column '${col.name}' is missing from a row group; the file is damaged.`, file);
    if (!CODECS.has(cm.codec)) {
      throw new PriceDataError(`${file}: the Parquet column '${col.name}' is compressed with ${cm.codec}, which is not read; write the file with snappy, zstd or gzip compression.`, file);
    }
    const start = Number(cm.dictionary_page_offset || cm.data_page_offset);
    const end = start + Number(cm.total_compressed_size);
    if (!(start >= 0 && end <= bytes.length && end > start)) throw new PriceDataError(`${file}: the Parquet column '${col.name}' points outside the file; the file is damaged or cut short.`, file);
    const pages = guard(file, `column '${col.name}'`, () => {
      const view = new DataView(bytes.buffer, bytes.byteOffset + start, end - start);
      checkPages(view, rows);
      const schemaPath = getTreePath(tree, cm.path_in_schema);
      const decoder = { pathInSchema: cm.path_in_schema, element: col.element, schemaPath, type: cm.type, codec: cm.codec, parsers: PARSERS, compressors: COMPRESSORS };
      return readFlatChunk(view, rows, decoder as Decoder);
    });
    out.push(...pages);
  }
  const got = rowsOf(out);
  if (got !== n) throw new PriceDataError(`${file}: the Parquet column '${col.name}' has ${got} values for ${n} rows; the file is damaged.`, file);
  return out;
}

/** Calls `f`, turning anything but a PriceDataError into one that names the file and part. */
function guard<T>(file: string, part: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PriceDataError) throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new PriceDataError(`${file}: cannot read ${part} of the Parquet file (${cell(why)}); the file is damaged, cut short or not Parquet — export it again.`, file);
  }
}

/** A price column (or volume, open interest) into raw column `c`; missing prices mark their row. */
function readNumbers(raw: RawBars, pages: Page[], c: number, k: number, missing: Uint8Array, file: string): void {
  const dst = raw.cols[c]!;
  let r = 0;
  for (const { values, defs, max, n } of pages) {
    if (!defs && values instanceof Float64Array) {
      dst.set(values.subarray(0, n), r);
      for (let i = 0; i < n; i++) if (values[i] !== values[i]) markMissing(raw, c, r + i, missing);
      r += n;
      continue;
    }
    const typed = values instanceof Float64Array;
    for (let i = 0, v = 0; i < n; i++, r++) {
      const x = defs && defs[i] !== max ? NaN : typed ? values[v++]! : number(values[v++], raw, r, k, file);
      if (x !== x) markMissing(raw, c, r, missing);
      else dst[r] = x;
    }
  }
}

/** One value as a number; NaN when it is missing (null, NaN, `null`, empty text). */
function number(v: unknown, raw: RawBars, r: number, k: number, file: string): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'string') {
    const b = bytesOf(v);
    const x = readNumber(b, 0, b.length, 44);
    if (numberStatus === 0 || numberStatus === NUMBER_MISSING) return x;
  }
  const name = raw.header.names[k];
  throw new PriceDataError(`${at(raw, file, r + 1)}: '${cell(String(v))}' in column '${name}' is not a number; fix the value or remove the row.`, file, r + 1, k + 1);
}

/** As the CSV scanner: a missing price drops the row, a missing volume is 0, open interest NaN. */
function markMissing(raw: RawBars, c: number, r: number, missing: Uint8Array): void {
  const col = raw.cols[c]!;
  if (c <= 3) {
    if (!missing[r]) missing[r] = 1;
  } else if (c === 4) {
    col[r] = 0;
    if (raw.missingVolume.count++ === 0) raw.missingVolume.first = r + 1;
  } else col[r] = NaN;
}

/** Drops rows with a missing price (counted), numbering the rest by their row in the file. */
function compact(raw: RawBars, n: number, missing: Uint8Array): void {
  let m = 0;
  for (let r = 0; r < n; r++) {
    if (missing[r]) {
      if (raw.missing.count++ === 0) raw.missing.first = r + 1;
      continue;
    }
    if (m !== r) {
      raw.date[m] = raw.date[r]!;
      raw.time[m] = raw.time[r]!;
      for (const col of raw.cols) col[m] = col[r]!;
    }
    raw.line[m] = r + 1;
    m++;
  }
  raw.n = m;
}
