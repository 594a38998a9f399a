/**
 * Writes test/data/fixtures/orcl-2014.v1-snappy.parquet: ORCL 2014 (samples/data/orcl-2014.txt)
 * as Parquet with version-1 data pages (DATA_PAGE: the levels inside the compressed page, each
 * with a 4-byte length), as parquetjs / parquet-mr / older pyarrow write them — hyparquet-writer
 * writes version-2 pages only. Snappy pages of 40 rows in row groups of 100 rows, every column
 * OPTIONAL, dates as TIMESTAMP_MILLIS, and the Close of 2014-03-20 (row 54) written as null.
 * The file is committed, so tests never run this. To write it again:
 *   npm install --no-save parquetjs-lite@0.8.7 && node test/data/make-parquet-v1-fixture.cjs
 */
const fs = require('node:fs');
const path = require('node:path');
const parquet = require('parquetjs-lite');

const root = path.resolve(__dirname, '..', '..');
const out = path.join(root, 'test', 'data', 'fixtures', 'orcl-2014.v1-snappy.parquet');
const NULL_CLOSE = '2014-03-20';

async function main() {
  const lines = fs.readFileSync(path.join(root, 'samples', 'data', 'orcl-2014.txt'), 'utf8').trim().split('\n').slice(1);
  const opt = (type) => ({ type, optional: true, compression: 'SNAPPY' });
  const schema = new parquet.ParquetSchema({
    Date: opt('TIMESTAMP_MILLIS'),
    Open: opt('DOUBLE'),
    High: opt('DOUBLE'),
    Low: opt('DOUBLE'),
    Close: opt('DOUBLE'),
    Volume: opt('INT64'),
  });
  const writer = await parquet.ParquetWriter.openFile(schema, out, { useDataPageV2: false, rowGroupSize: 100, pageSize: 40 });
  for (const line of lines) {
    const [date, open, high, low, close, , volume] = line.split(',');
    const row = { Date: new Date(`${date}T00:00:00Z`), Open: Number(open), High: Number(high), Low: Number(low), Volume: Number(volume) };
    if (date !== NULL_CLOSE) row.Close = Number(close);
    await writer.appendRow(row);
  }
  await writer.close();
  console.log(`${out}: ${fs.statSync(out).size} bytes, ${lines.length} rows`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
