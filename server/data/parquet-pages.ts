/**
 * The pages of one flat Parquet column chunk, decoded with hyparquet's page readers (headers,
 * codecs, encodings, dictionaries, type conversion) but kept as pages: the values present plus
 * the definition levels that say which rows are null. hyparquet's own `readColumn` assembles
 * every nullable column into a JS array of boxed values — most of a 1M-row load — while price
 * columns only need "value or missing" per row, which `eachValue` answers from the levels.
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
