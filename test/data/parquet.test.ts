/**
 * Parquet price files: real files written with hyparquet-writer (and one committed file
 * compressed with zstd) read by the loader give the CSV file's bars bit for bit (the same
 * content hash) and the same backtest; every stamp layout (timestamps in ms/µs/ns, dates, a
 * Date + Time pair, text, epoch numbers), codecs, row groups, column mapping; missing,
 * repeated, unsorted and invalid rows reported with their row; damaged files refused with the
 * file's name, never a crash.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { loadPrices, pricesFromBytes, PriceDataError, type PriceData } from '../../server/data';
import { runBacktest } from '../../server/engine';
import { errorOf, priceFolder } from '../support/price-files';
import { sampleData } from '../support/run-fixtures';
import { barMillis, DATE, DOUBLE, INT64, parquetBytes, pricesParquet, STRING, timestamp, type ParquetColumn, type StampLayout, type WriteOptions } from './parquet-files';

const ORCL = sampleData('orcl-1995-2014.txt');
const MIN5 = sampleData('2006-min-005.txt');
const FIXTURE = path.join(__dirname, '..', '..', '..', 'test', 'data', 'fixtures', '2006-min-005.zstd.parquet');
const CONFIG = { cash: 100000, commission: 0.001, sizing: { kind: 'percent' as const, value: 95 } };
const folder = priceFolder('parquet');
const file = (name: string, bytes: Uint8Array | Buffer): string => folder.file(name, Buffer.from(bytes));

function sameBars(got: PriceData, want: PriceData, what: string): void {
  assert.equal(got.bars, want.bars, what);
  assert.deepEqual(got.spacing, want.spacing, what);
  assert.equal(got.time === undefined, want.time === undefined, `${what}: intraday or not`);
  // The id hashes the whole shared buffer: equal ids = every column equal bit for bit.
  assert.equal(got.id, want.id, `${what}: the same bars bit for bit`);
}

test('a Parquet file gives the CSV file’s bars and backtest bit for bit (ORCL 2000, daily)', () => {
  const csv = loadPrices(ORCL);
  const pq = file('orcl.parquet', pricesParquet(csv, 'date'));
  for (const range of [undefined, { from: '2000-01-01', to: '2000-12-31' }]) {
    const a = loadPrices(ORCL, range);
    const b = loadPrices(pq, range);
    sameBars(b, a, `orcl ${JSON.stringify(range)}`);
    for (const [strategy, params] of [['sma_cross', { fast: 10, slow: 30 }], ['bollinger', {}]] as const) {
      const ra = runBacktest(a, strategy, params, CONFIG);
      const rb = runBacktest(b, strategy, params, CONFIG);
      assert.deepEqual(rb.metrics, ra.metrics, strategy);
      assert.deepEqual(rb.trades, ra.trades, strategy);
      assert.ok(ra.trades.length > 0, 'the comparison covers trades');
    }
  }
  assert.equal(loadPrices(pq, { from: '2000-01-01', to: '2000-12-31' }).bars, 252);
});

test('intraday stamps in every layout, several row groups and codecs give the CSV bars', () => {
  const csv = loadPrices(MIN5);
  assert.deepEqual(csv.spacing, { unit: 'minutes', compression: 5 });
  const layouts: StampLayout[] = ['timestamp-ms', 'timestamp-us', 'timestamp-ns', 'date+time', 'text'];
  for (const layout of layouts) sameBars(loadPrices(file(`m-${layout}.parquet`, pricesParquet(csv, layout))), csv, layout);
  const codecs: (WriteOptions & { codec: string })[] = [
    { codec: 'UNCOMPRESSED' },
    { codec: 'SNAPPY', rowGroupSize: 100 },
    { codec: 'GZIP', compressors: { GZIP: (b) => gzipSync(b) } },
    { codec: 'BROTLI', compressors: { BROTLI: (b) => brotliCompressSync(b) } },
  ];
  for (const o of codecs) sameBars(loadPrices(file(`m-${o.codec}.parquet`, pricesParquet(csv, 'timestamp-us', o))), csv, `${o.codec} ${o.rowGroupSize ?? ''}`);
  // A committed file, zstd-compressed (as polars writes by default), in 22 row groups.
  const meta = parquetMetadata(readFileSync(FIXTURE));
  assert.deepEqual([meta.row_groups.length, meta.row_groups[0]!.columns[0]!.meta_data!.codec], [22, 'ZSTD']);
  sameBars(loadPrices(FIXTURE), csv, 'the committed zstd file');
  const ra = runBacktest(csv, 'sma_cross', { fast: 5, slow: 20 }, CONFIG);
  const rb = runBacktest(loadPrices(FIXTURE), 'sma_cross', { fast: 5, slow: 20 }, CONFIG);
  assert.deepEqual(rb.metrics, ra.metrics);
  assert.deepEqual(rb.trades, ra.trades);
  const win = loadPrices(FIXTURE, { from: '2006-01-03T10:00', to: '2006-01-03T10:30' });
  assert.equal(win.bars, 7);
  // Read in UTC: a timestamp adjusted to UTC keeps its UTC wall-clock time.
  sameBars(loadPrices(file('m-utc.parquet', parquetBytes(columnsOf(csv, timestamp('MICROS', true), (i) => BigInt(barMillis(csv, i)) * 1000n)))), csv, 'UTC timestamps');
});

/** The bars of `d` with a custom stamp column (element + value per bar). */
function columnsOf(d: PriceData, stamp: ParquetColumn['element'], value: (i: number) => unknown, name = 'Date'): ParquetColumn[] {
  const stamps = Array.from({ length: d.bars }, (_, i) => value(i));
  const data = stamps.every((x) => typeof x === 'bigint') ? BigInt64Array.from(stamps as bigint[]) : stamps;
  return [
    { name, data, element: stamp },
    { name: 'Open', data: Float64Array.from(d.open), element: DOUBLE },
    { name: 'High', data: Float64Array.from(d.high), element: DOUBLE },
    { name: 'Low', data: Float64Array.from(d.low), element: DOUBLE },
    { name: 'Close', data: Float64Array.from(d.close), element: DOUBLE },
    { name: 'Volume', data: BigInt64Array.from(d.volume, (v) => BigInt(v)), element: INT64 },
    ...(d.openInterest ? [{ name: 'OpenInterest', data: Float64Array.from(d.openInterest), element: DOUBLE }] : []),
  ];
}

test('dates as epoch seconds, yyyymmdd numbers, day-first text with a date_format; pandas’ index column; mapped names', () => {
  const csv = loadPrices(MIN5);
  const epochSeconds = columnsOf(csv, INT64, (i) => BigInt(barMillis(csv, i) / 1000), 'timestamp');
  sameBars(loadPrices(file('epoch.parquet', parquetBytes(epochSeconds))), csv, 'epoch seconds');
  const daily = loadPrices(ORCL, { from: '2000-01-01', to: '2000-12-31' });
  const ymd = columnsOf(daily, { type: 'INT32', repetition_type: 'OPTIONAL' }, (i) => daily.date[i], '__index_level_0__');
  sameBars(loadPrices(file('ymd.parquet', parquetBytes(ymd))), daily, 'yyyymmdd integers in pandas’ index column');
  const dmy = (i: number) => {
    const d = daily.date[i]!;
    return `${String(d % 100).padStart(2, '0')}.${String(Math.floor(d / 100) % 100).padStart(2, '0')}.${Math.floor(d / 10000)}`;
  };
  const german = columnsOf(daily, STRING, dmy, 'Datum').map((c) => ({ ...c, name: { Open: 'Eroeffnung', High: 'Hoch', Low: 'Tief', Close: 'Schluss' }[c.name] ?? c.name }));
  const p = file('german.parquet', parquetBytes(german));
  const mapped = { columns: { open: 'Eroeffnung', high: 'Hoch', low: 'Tief', close: 'Schluss' }, dateFormat: 'DD.MM.YYYY' };
  sameBars(loadPrices(p, undefined, mapped), daily, 'mapped names, DD.MM.YYYY');
  // Day-first text is told from the values, as in CSV files (2000 has days above 12).
  sameBars(loadPrices(p, undefined, { columns: mapped.columns }), daily, 'day-first told by the values');
  assert.match(errorOf(() => loadPrices(p)).message, /german\.parquet: missing Parquet columns 'Open', 'High', 'Low', 'Close' \(the file has 6 columns: Datum, Eroeffnung, Hoch, Tief, Schluss, Volume; found Date, Volume\); the file needs Date, Open/);
  assert.match(errorOf(() => loadPrices(p, undefined, { ...mapped, dateFormat: 'MM/DD/YYYY' })).message, /german\.parquet, row 1: '03\.01\.2000' in column 'Datum' is not a date; it does not match the date_format of the study/);
});

/** A five-row daily file with the given closes (null = missing) and dates. */
function smallFile(name: string, closes: (number | null)[], dates = ['2020-01-02', '2020-01-03', '2020-01-06', '2020-01-07', '2020-01-08'], volumes?: (bigint | null)[]): string {
  const n = closes.length;
  const num = (x: number | null, d: number) => (x === null ? null : x + d);
  return file(
    name,
    parquetBytes([
      { name: 'Date', data: dates.slice(0, n), element: STRING },
      { name: 'Open', data: closes.map((x) => num(x, 0)), element: DOUBLE },
      { name: 'High', data: closes.map((x) => num(x, 1)), element: DOUBLE },
      { name: 'Low', data: closes.map((x) => num(x, -1)), element: DOUBLE },
      { name: 'Close', data: closes, element: DOUBLE },
      { name: 'Volume', data: volumes ?? closes.map(() => 100n), element: INT64 },
    ]),
  );
}

test('missing, repeated, unsorted and invalid rows are reported with their row', () => {
  const nulls = loadPrices(smallFile('nulls.parquet', [10, null, 12, null, 14], undefined, [1n, 2n, null, 4n, 5n]));
  assert.equal(nulls.bars, 3);
  assert.deepEqual(Array.from(nulls.close), [10, 12, 14]);
  assert.deepEqual(Array.from(nulls.volume), [1, 0, 5]);
  assert.deepEqual(nulls.warnings, [
    'nulls.parquet: 2 rows with a missing price skipped (first: row 2)'.replace('nulls.parquet', nulls.file),
    `${nulls.file}: 1 row without a volume read as volume 0 (first: row 3)`,
  ]);
  const dup = loadPrices(smallFile('dup.parquet', [10, 11, 11, 12], ['2020-01-02', '2020-01-03', '2020-01-03', '2020-01-06']));
  assert.equal(dup.bars, 3);
  assert.deepEqual(dup.warnings, [`${dup.file}: 1 repeated row skipped (identical to the row before; first: row 3)`]);
  const clash = errorOf(() => loadPrices(smallFile('clash.parquet', [10, 11, 12], ['2020-01-02', '2020-01-03', '2020-01-03'])));
  assert.match(clash.message, /clash\.parquet, row 3: date 2020-01-03 repeats row 2 with other prices; the file has one bar per day: remove the duplicate/);
  assert.equal(clash.line, 3);
  const unsorted = errorOf(() => loadPrices(smallFile('unsorted.parquet', [10, 11, 12], ['2020-01-02', '2020-01-06', '2020-01-03'])));
  assert.match(unsorted.message, /unsorted\.parquet, row 3: date 2020-01-03 comes after 2020-01-06 \(row 2\); sort the file by date, oldest first/);
  const neg = errorOf(() => loadPrices(smallFile('neg.parquet', [10, 11, -12])));
  assert.match(neg.message, /neg\.parquet, row 3: the price -12 in column 'Open' is not positive; fix the row, or let the study repair such rows/);
  assert.deepEqual([neg.line, neg.column], [3, 2]);
  const repaired = loadPrices(path.join(path.dirname(nulls.file), 'neg.parquet'), undefined, { prices: 'repair' });
  assert.equal(repaired.bars, 2);
  assert.match(repaired.warnings![0]!, /neg\.parquet: 1 row with a zero, negative or non-finite price skipped \(prices repair; first: row 3\)/);
  assert.equal(loadPrices(path.join(path.dirname(nulls.file), 'neg.parquet'), undefined, { prices: 'allow' }).bars, 3);
  const allMissing = errorOf(() => loadPrices(smallFile('none.parquet', [null, null])));
  assert.match(allMissing.message, /none\.parquet: every row has a missing price \(2 rows, first: row 1\)/);
  const text = file('text.parquet', parquetBytes([
    { name: 'Date', data: ['2020-01-02', '2020-01-03'], element: STRING },
    ...['Open', 'High', 'Low'].map((name) => ({ name, data: [1, 1], element: DOUBLE })),
    { name: 'Close', data: ['1.5', 'abc'], element: STRING },
  ]));
  assert.match(errorOf(() => loadPrices(text)).message, /text\.parquet, row 2: 'abc' in column 'Close' is not a number; fix the value or remove the row/);
  const noDate = file('nodate.parquet', parquetBytes(columnsOf(loadPrices(ORCL, { to: '1995-01-10' }), timestamp('MILLIS'), (i) => (i === 1 ? null : BigInt(i) * 86400000n))));
  assert.match(errorOf(() => loadPrices(noDate)).message, /nodate\.parquet, row 2: the date in column 'Date' is missing; fill it in or remove the row/);
});

test('damaged and unsupported Parquet files are refused with the file’s name, never a crash', () => {
  const good = pricesParquet(loadPrices(MIN5), 'timestamp-us', { rowGroupSize: 500 });
  const cut = file('cut.parquet', good.subarray(0, good.length - 100));
  assert.match(errorOf(() => loadPrices(cut)).message, /cut\.parquet: cannot read the footer of the Parquet file \(parquet file invalid \(footer != PAR1\)\); the file is damaged, cut short or not Parquet — export it again/);
  const headOnly = file('head.parquet', Buffer.from('PAR1 and then nothing useful'));
  assert.match(errorOf(() => loadPrices(headOnly)).message, /head\.parquet: cannot read the footer of the Parquet file/);
  const lz4 = file('lz4.parquet', pricesParquet(loadPrices(MIN5), 'timestamp-us', { codec: 'LZ4_RAW', compressors: { LZ4_RAW: (b) => b } }));
  assert.match(errorOf(() => loadPrices(lz4)).message, /lz4\.parquet: the Parquet column 'Date' is compressed with LZ4_RAW, which is not read; write the file with snappy, zstd or gzip compression/);
  const nested = file('nested.parquet', Buffer.from(good));
  assert.equal(loadPrices(nested).bars, 2142);
  // Damage anywhere: every outcome is bars or a PriceDataError naming the file.
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  let refused = 0;
  for (let k = 0; k < 600; k++) {
    const bytes = Buffer.from(good);
    for (let j = 0, m = 1 + rand(4); j < m; j++) bytes[rand(bytes.length)] = rand(256);
    try {
      const d = pricesFromBytes(bytes, 'flipped.parquet');
      assert.ok(d.bars > 0);
    } catch (e) {
      assert.ok(e instanceof PriceDataError, `flip ${k}: ${String(e)}`);
      assert.match(e.message, /^flipped\.parquet[:,]/, `flip ${k}`);
      refused++;
    }
  }
  assert.ok(refused > 120, `most damaged files are refused (${refused}/600)`);
});
