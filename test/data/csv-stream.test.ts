/**
 * Plain CSV files are read a chunk at a time (server/data/lines.ts): the bars must not depend on
 * where the chunks end. Real sample files and awkward ones (CRLF, a BOM, blank and
 * whitespace-only lines, quoted fields, a line longer than the buffer, no final line break)
 * read through tiny chunks give the bars — and errors — of the same bytes read whole, and a
 * file larger than one 4 MB chunk loads as its text parses.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parsePrices, loadPrices, PriceDataError, type PriceData } from '../../server/data';
import { selectBars } from '../../server/data/bars';
import { scanLines } from '../../server/data/csv';
import { LineReader } from '../../server/data/lines';
import { storeBars } from '../../server/data/store';
import { priceFolder } from '../support/price-files';
import { sampleData } from '../support/run-fixtures';

/** The bars of `bytes` read through a `chunk`-byte buffer that refills `step` bytes at a time. */
function streamed(bytes: Buffer, chunk: number, step: number, file = 'x.csv'): PriceData {
  let pos = Math.min(chunk, bytes.length);
  const first = Buffer.alloc(chunk);
  bytes.copy(first, 0, 0, pos);
  const more = (buf: Buffer, at: number, max: number): number => {
    const n = Math.min(max, step, bytes.length - pos);
    bytes.copy(buf, at, pos, pos + n);
    pos += n;
    return n;
  };
  return storeBars(selectBars(scanLines(new LineReader(first, pos, more), bytes.length, file, {}), file, undefined, {}), file);
}

function outcome(f: () => PriceData): { id?: string; bars?: number; warnings?: string[]; error?: string; line?: number } {
  try {
    const d = f();
    return { id: d.id, bars: d.bars, warnings: d.warnings };
  } catch (e) {
    assert.ok(e instanceof PriceDataError, String(e));
    return { error: e.message, line: e.line };
  }
}

const AWKWARD: Record<string, string> = {
  crlf_bom_blank: '\ufeffDate,Open,High,Low,Close,Volume\r\n\r\n2020-01-02,1,2,0.5,1.5,10\r\n   \r\n2020-01-03,1,2,0.5,1.6,11\r\n\t\r\n2020-01-06,1,2,0.5,1.7,12',
  quoted: 'Date;Open;High;Low;Close;Volume\n"2020-01-02";"1,5";"2";"0,5";"1,25";"1.234,5"\n"2020-01-03";1;2;0,5;1,5;7\n',
  long_line: `Date,Open,High,Low,Close,Volume,Note\n2020-01-02,1,2,0.5,1.5,10,${'x'.repeat(3000)}\n2020-01-03,1,2,0.5,1.5,10,y\n`,
  nulls_and_dups: 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n2020-01-03,null,null,null,null\n2020-01-03,null,null,null,null\n2020-01-06,1,2,0.5,1.5\n2020-01-06,1,2,0.5,1.5\n',
  bad_row: 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n2020-01-03,1,2,0.5,abc\n',
  unsorted: 'Date,Open,High,Low,Close\n2020-01-06,1,2,0.5,1.5\n2020-01-07,1,2,0.5,1.5\n2020-01-03,1,2,0.5,1.5\n',
};

test('chunk ends anywhere give the bars (and errors) of the whole bytes', () => {
  const files: [string, Buffer][] = [
    ['orcl-2014', readFileSync(sampleData('orcl-2014.txt'))],
    ['2006-min-005', readFileSync(sampleData('2006-min-005.txt'))],
    ...Object.entries(AWKWARD).map(([k, v]) => [k, Buffer.from(v)] as [string, Buffer]),
  ];
  for (const [name, bytes] of files) {
    const whole = outcome(() => parsePrices(bytes.toString('utf8'), 'x.csv'));
    for (const [chunk, step] of [[1, 1], [7, 3], [64, 64], [200, 1000], [4096, 17]]) {
      assert.deepEqual(outcome(() => streamed(bytes, chunk!, step!)), whole, `${name}: chunk ${chunk}, step ${step}`);
    }
  }
});

test('a file larger than one chunk loads as its text parses', () => {
  const { file } = priceFolder('csv-stream');
  const rows = ['Date,Time,Open,High,Low,Close,Volume'];
  for (let i = 0; i < 200_000; i++) {
    const t = new Date(Date.UTC(2020, 0, 2) + i * 60_000).toISOString();
    const stamp = `${t.slice(0, 10)},${t.slice(11, 16)}`;
    const p = (100 + Math.sin(i / 50) * 10).toFixed(4);
    rows.push(`${stamp},${p},${(+p + 0.5).toFixed(4)},${(+p - 0.5).toFixed(4)},${p},${i % 977}`);
  }
  const text = `${rows.join('\n')}\n`;
  assert.ok(text.length > 8 * 2 ** 20, 'more than two 4 MB chunks');
  const d = loadPrices(file('big.csv', text));
  const want = parsePrices(text, d.file);
  assert.equal(d.bars, 200_000);
  assert.equal(d.id, want.id);
  assert.deepEqual(d.spacing, { unit: 'minutes', compression: 1 });
});
