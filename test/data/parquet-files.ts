/**
 * Writing real Parquet files for the loader tests, with hyparquet-writer (a dev dependency:
 * the product only reads Parquet). `pricesParquet` writes loaded bars back out with their
 * stamps as the chosen column type, so a test can compare the Parquet path with the CSV path
 * on the same bars.
 */
import type { DecodedArray, SchemaElement } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { dayNumber, type PriceData } from '../../server/data';
import { barStamp } from '../../server/data';

export interface ParquetColumn {
  name: string;
  data: DecodedArray | unknown[];
  /** The schema element without its name (type, logical type, repetition). */
  element: Omit<SchemaElement, 'name'>;
}

export interface WriteOptions {
  codec?: 'UNCOMPRESSED' | 'SNAPPY' | 'GZIP' | 'BROTLI' | 'ZSTD' | 'LZ4_RAW' | string;
  compressors?: Record<string, (input: Uint8Array) => Uint8Array>;
  rowGroupSize?: number;
}

export const DOUBLE: ParquetColumn['element'] = { type: 'DOUBLE', repetition_type: 'OPTIONAL' };
export const INT64: ParquetColumn['element'] = { type: 'INT64', repetition_type: 'OPTIONAL' };
export const STRING: ParquetColumn['element'] = { type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' };
export const DATE: ParquetColumn['element'] = { type: 'INT32', converted_type: 'DATE', repetition_type: 'OPTIONAL' };
export const TIME_MS: ParquetColumn['element'] = { type: 'INT32', logical_type: { type: 'TIME', isAdjustedToUTC: false, unit: 'MILLIS' }, repetition_type: 'OPTIONAL' };
export const timestamp = (unit: 'MILLIS' | 'MICROS' | 'NANOS', utc = false): ParquetColumn['element'] => ({
  type: 'INT64',
  logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: utc, unit },
  repetition_type: 'OPTIONAL',
});

/** A Parquet file of the given columns, as bytes. */
export function parquetBytes(columns: ParquetColumn[], options: WriteOptions = {}): Uint8Array {
  const buf = parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.name, data: c.data as DecodedArray })),
    schema: [{ name: 'root', num_children: columns.length }, ...columns.map((c) => ({ name: c.name, ...c.element }) as SchemaElement)],
    ...(options.codec ? { codec: options.codec } : {}),
    ...(options.compressors ? { compressors: options.compressors } : {}),
    ...(options.rowGroupSize ? { rowGroupSize: options.rowGroupSize } : {}),
  } as Parameters<typeof parquetWriteBuffer>[0]);
  return new Uint8Array(buf);
}

/** How `pricesParquet` writes each bar's stamp. */
export type StampLayout = 'timestamp-ms' | 'timestamp-us' | 'timestamp-ns' | 'date' | 'date+time' | 'text';

/** Bars (as loaded from a CSV file) written as Parquet, the stamps in `layout`. */
export function pricesParquet(d: PriceData, layout: StampLayout, options: WriteOptions = {}): Uint8Array {
  const cols: ParquetColumn[] = [...stampColumns(d, layout)];
  const prices: [string, Float64Array][] = [['Open', d.open], ['High', d.high], ['Low', d.low], ['Close', d.close]];
  for (const [name, col] of prices) cols.push({ name, data: Float64Array.from(col), element: DOUBLE });
  cols.push({ name: 'Volume', data: BigInt64Array.from(d.volume, (v) => BigInt(v)), element: INT64 });
  if (d.openInterest) cols.push({ name: 'OpenInterest', data: Float64Array.from(d.openInterest), element: DOUBLE });
  return parquetBytes(cols, options);
}

/** Epoch milliseconds of bar i (its wall-clock stamp read as UTC). */
export function barMillis(d: PriceData, i: number): number {
  return dayNumber(d.date[i]!) * 86400000 + (d.time ? d.time[i]! * 1000 : 0);
}

function stampColumns(d: PriceData, layout: StampLayout): ParquetColumn[] {
  const n = d.bars;
  const ms = (i: number) => BigInt(barMillis(d, i));
  switch (layout) {
    case 'timestamp-ms':
      return [{ name: 'Date', data: BigInt64Array.from({ length: n }, (_, i) => ms(i)), element: timestamp('MILLIS') }];
    case 'timestamp-us':
      return [{ name: 'Date', data: BigInt64Array.from({ length: n }, (_, i) => ms(i) * 1000n), element: timestamp('MICROS') }];
    case 'timestamp-ns':
      return [{ name: 'Date', data: BigInt64Array.from({ length: n }, (_, i) => ms(i) * 1000000n), element: timestamp('NANOS') }];
    case 'date':
      return [{ name: 'Date', data: Int32Array.from(d.date, (x) => dayNumber(x)), element: DATE }];
    case 'date+time':
      return [
        { name: 'Date', data: Int32Array.from(d.date, (x) => dayNumber(x)), element: DATE },
        { name: 'Time', data: Int32Array.from(d.time ?? new Int32Array(n), (t) => t * 1000), element: TIME_MS },
      ];
    case 'text':
      return [{ name: 'Date', data: Array.from({ length: n }, (_, i) => barStamp(d, i)), element: STRING }];
  }
}
