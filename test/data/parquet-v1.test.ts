/**
 * A Parquet file with version-1 data pages (DATA_PAGE: definition levels inside the compressed
 * page, with a length prefix), as parquetjs, parquet-mr and older pyarrow write them — the
 * other Parquet tests use hyparquet-writer, which writes version-2 pages only. The committed
 * fixture (test/data/make-parquet-v1-fixture.cjs, written by parquetjs-lite) is ORCL 2014 in
 * Snappy pages of 40 rows, three row groups, every column OPTIONAL, with one Close written as
 * null: the loader gives the CSV file's bars (that row skipped, with a warning naming it) and
 * the same backtest.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { loadPrices } from '../../server/data';
import { runBacktest } from '../../server/engine';
import { priceFolder } from '../support/price-files';
import { sampleData } from '../support/run-fixtures';

const FIXTURE = path.join(__dirname, '..', '..', '..', 'test', 'data', 'fixtures', 'orcl-2014.v1-snappy.parquet');
const CSV = sampleData('orcl-2014.txt');
const CONFIG = { cash: 100000, commission: 0.001, sizing: { kind: 'percent' as const, value: 95 } };

test('the fixture really holds version-1 data pages (Snappy, several pages and row groups, OPTIONAL columns)', () => {
  const bytes = readFileSync(FIXTURE);
  const buf = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const meta = parquetMetadata(buf);
  assert.equal(meta.row_groups.length, 3);
  assert.deepEqual(meta.schema.slice(1).map((e) => [e.name, e.repetition_type]), ['Date', 'Open', 'High', 'Low', 'Close', 'Volume'].map((n) => [n, 'OPTIONAL']));
  const types = new Set<string>();
  let pages = 0;
  for (const rg of meta.row_groups)
    for (const c of rg.columns) {
      const m = c.meta_data!;
      assert.equal(m.codec, 'SNAPPY');
      // Walk the chunk's pages by their headers.
      const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
      const end = start + Number(m.total_compressed_size);
      const reader = { view: new DataView(buf, 0, end), offset: start };
      while (reader.offset < end) {
        const h = parquetHeader(reader);
        types.add(h.type);
        if (h.type === 'DATA_PAGE') pages++;
        reader.offset += h.compressed_page_size;
      }
    }
  assert.deepEqual([...types], ['DATA_PAGE']);
  assert.ok(pages >= 6 * 7, `${pages} data pages`);
});

test('version-1 pages load as the CSV file’s bars, the null Close skipped with its row; the same backtest', () => {
  const pq = loadPrices(FIXTURE);
  assert.deepEqual(pq.warnings, [`${pq.file}: 1 row with a missing price skipped (first: row 54)`]);
  // The CSV without that row (2014-03-20).
  const lines = readFileSync(CSV, 'utf8').split('\n');
  assert.match(lines[54]!, /^2014-03-20,/);
  const csvFile = priceFolder('parquet-v1').file('orcl-2014-gap.txt', lines.filter((_, i) => i !== 54).join('\n'));
  const csv = loadPrices(csvFile);
  assert.equal(pq.bars, 251);
  assert.equal(pq.bars, csv.bars);
  assert.deepEqual(pq.spacing, csv.spacing);
  // The id hashes every column: equal ids = the same bars bit for bit.
  assert.equal(pq.id, csv.id);
  for (const [strategy, params] of [['sma_cross', { fast: 5, slow: 20 }], ['rsi_reversion', {}]] as const) {
    const a = runBacktest(csv, strategy, params, CONFIG);
    const b = runBacktest(pq, strategy, params, CONFIG);
    assert.deepEqual(b.metrics, a.metrics, strategy);
    assert.deepEqual(b.trades, a.trades, strategy);
  }
  assert.ok(runBacktest(pq, 'sma_cross', { fast: 5, slow: 20 }, CONFIG).trades.length > 0);
  // A range inside the file reads just those rows of every page.
  const q1 = loadPrices(FIXTURE, { from: '2014-02-01', to: '2014-04-30' });
  assert.equal(q1.id, loadPrices(csvFile, { from: '2014-02-01', to: '2014-04-30' }).id);
});
