/**
 * The pages of one flat Parquet column chunk, decoded with hyparquet's page readers (headers,
 * codecs, encodings, dictionaries, type conversion) but kept as pages: the values present plus
 * the definition levels that say which rows are null. hyparquet's own `readColumn` assembles
 * every nullable column into a JS array of boxed values — most of a 1M-row load — while price
 * columns only need "value or missing" per row, which `eachValue` answers from the levels.
 * Before decoding, `checkPages` walks the page headers so a damaged file fails with a message.
 */
import type { DecodedArray, ParquetType } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { convert, convertWithDictionary } from 'hyparquet/src/convert.js';
import { decompressPage, readDataPage, readDataPageV2 } from 'hyparquet/src/datapage.js';
import { readPlain } from 'hyparquet/src/plain.js';

/** What the page readers need to know about the column (hyparquet's ColumnDecoder). */
export type Decoder = Parameters<typeof readDataPageV2>[2];

/** One data page: `n` rows; `values` are the rows present; `defs[j] < max` marks row j null. */
export interface Page {
  n: number;
  values: DecodedArray;
  defs?: ArrayLike<number>;
  max: number;
}

/** Every data page of a flat column chunk (`view`) holding `rows` rows. */
export function readFlatChunk(view: DataView, rows: number, decoder: Decoder): Page[] {
  const reader = { view, offset: 0 };
  const pages: Page[] = [];
  const max = decoder.element.repetition_type === 'REQUIRED' ? 0 : 1;
  let dictionary: DecodedArray | undefined;
  let count = 0;
  while (count < rows && reader.offset < view.byteLength - 1) {
    const h = parquetHeader(reader);
    const bytes = new Uint8Array(view.buffer, view.byteOffset + reader.offset, h.compressed_page_size);
    reader.offset += h.compressed_page_size;
    if (h.type === 'DICTIONARY_PAGE') {
      const page = decompressPage(bytes, h.uncompressed_page_size, decoder.codec, decoder.compressors);
      const plain = { view: new DataView(page.buffer, page.byteOffset, page.byteLength), offset: 0 };
      dictionary = convert(readPlain(plain, decoder.type as ParquetType, h.dictionary_page_header!.num_values, decoder.element.type_length), decoder);
      continue;
    }
    let page: ReturnType<typeof readDataPage>;
    let n: number;
    let encoding: NonNullable<typeof h.data_page_header>['encoding'];
    if (h.type === 'DATA_PAGE' && h.data_page_header) {
      page = readDataPage(decompressPage(bytes, h.uncompressed_page_size, decoder.codec, decoder.compressors), h.data_page_header, decoder);
      n = h.data_page_header.num_values;
      encoding = h.data_page_header.encoding;
    } else if (h.type === 'DATA_PAGE_V2' && h.data_page_header_v2) {
      page = readDataPageV2(bytes, h, decoder);
      n = h.data_page_header_v2.num_values;
      encoding = h.data_page_header_v2.encoding;
    } else continue;
    const values = convertWithDictionary(page.dataPage, dictionary, encoding, decoder);
    const defs = page.definitionLevels?.length ? page.definitionLevels : undefined;
    const present = defs ? countAt(defs, max) : n;
    if (values.length !== present) throw new Error(`a page of ${n} rows holds ${values.length} values for ${present} present`);
    // Levels that mark no row null say nothing: drop them (the common, fast case).
    pages.push({ n, values, defs: present === n ? undefined : defs, max });
    count += n;
  }
  if (count !== rows) throw new Error(`a column chunk of ${count} values in a row group of ${rows} rows`);
  return pages;
}

function countAt(defs: ArrayLike<number>, max: number): number {
  let k = 0;
  for (let i = 0; i < defs.length; i++) if (defs[i] === max) k++;
  return k;
}

/** The largest page read, unpacked (a damaged header must not make us allocate gigabytes). */
const MAX_PAGE_BYTES = 256 * 2 ** 20;

/**
 * Walks a column chunk's page headers before decoding it, so that a damaged header fails with
 * a message instead of making the decoder allocate for billions of values or loop on a field
 * that is not there: every page lies inside the chunk, has the fields the format requires and
 * counts no more values than the row group has rows.
 */
export function checkPages(view: DataView, rows: number): void {
  const reader = { view, offset: 0 };
  while (reader.offset < view.byteLength - 1) {
    const h = parquetHeader(reader);
    const size = h.compressed_page_size;
    if (!count(size, view.byteLength - reader.offset)) throw new Error(`a page of ${size} bytes runs past its column chunk`);
    if (!count(h.uncompressed_page_size, MAX_PAGE_BYTES)) throw new Error(`a page of ${h.uncompressed_page_size} bytes unpacked`);
    const v1 = h.data_page_header;
    const v2 = h.data_page_header_v2;
    const dict = h.dictionary_page_header;
    const head = v1 ?? v2 ?? dict;
    if (!head || !head.encoding || !count(head.num_values, Math.max(rows, 1))) throw new Error(`a ${h.type ?? 'damaged'} page header without a valid value count or encoding`);
    if (v2 && !(count(v2.num_nulls, v2.num_values) && count(v2.num_rows, rows) && count(v2.definition_levels_byte_length + v2.repetition_levels_byte_length, size))) {
      throw new Error('a data page (v2) header with invalid level lengths or counts');
    }
    reader.offset += size;
  }
}

/** True for an integer in [0, max]. */
function count(x: unknown, max: number): boolean {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= max;
}

/** Calls `f(value, row)` for every row of a column's pages, in row order; null for a null. */
export function eachValue(pages: readonly Page[], f: (v: any, r: number) => void): void {
  let r = 0;
  for (const p of pages) {
    const { values, defs, max, n } = p;
    if (!defs) {
      for (let i = 0; i < n; i++) f(values[i], r++);
      continue;
    }
    let v = 0;
    for (let i = 0; i < n; i++) f(defs[i] === max ? values[v++] : null, r++);
  }
}

/** The number of rows the pages hold. */
export function rowsOf(pages: readonly Page[]): number {
  let n = 0;
  for (const p of pages) n += p.n;
  return n;
}
