/**
 * The price loader: backtrader and generic layouts, inclusive ranges, clear errors for bad
 * files, and sharing with real worker threads without copying.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import {
  attachPrices,
  loadPrices,
  parsePrices,
  sharePrices,
  slicePrices,
  type SharedPrices,
} from '../../server/data';
import { runBacktest } from '../../server/engine';
import { DATA } from '../support/engine-golden';
import { errorOf, priceFolder } from '../support/price-files';

const CONFIG = { cash: 100000, commission: 0.001, sizing: { kind: 'percent' as const, value: 95 } };

if (!isMainThread) {
  // Worker side of the sharing test: attach, run, and write into the scratch data.
  const { prices, scratch } = workerData as { prices: SharedPrices; scratch: SharedPrices };
  const d = attachPrices(prices);
  const r = runBacktest(d, 'sma_cross', { fast: 10, slow: 30 }, CONFIG, { trades: false });
  attachPrices(scratch).close[0] = 42;
  parentPort!.postMessage({ metrics: r.metrics, bars: d.bars, first: d.date[0] });
} else {
  const { dir: tmp, file } = priceFolder('prices');

  test('backtrader sample files load with the documented bar counts', () => {
    const counts: Record<string, number> = {
      'orcl-1995-2014.txt': 5036,
      'yhoo-1996-2014.txt': 4713,
      'nvda-1999-2014.txt': 4012,
      'orcl-2014.txt': 252,
      '2006-day-001.txt': 255,
    };
    for (const [f, n] of Object.entries(counts)) {
      const d = loadPrices(path.join(DATA, f));
      assert.equal(d.bars, n, f);
      assert.ok(d.buffer instanceof SharedArrayBuffer);
      for (const col of [d.date, d.open, d.high, d.low, d.close, d.volume]) {
        assert.equal(col.length, n);
        assert.equal(col.buffer, d.buffer);
      }
    }
    const oi = loadPrices(path.join(DATA, '2006-day-001.txt'));
    assert.ok(oi.openInterest, 'the OpenInterest layout keeps its column');
    assert.equal(oi.date[0], 20060102);
    assert.equal(oi.close[0], 3604.33);
    const orcl = loadPrices(path.join(DATA, 'orcl-1995-2014.txt'));
    assert.equal(orcl.openInterest, undefined);
    // Adj Close is ignored: Close is the raw column.
    assert.equal(orcl.close[0], 2.117284);
    assert.equal(orcl.volume[0], 36301200);
  });

  test('from/to are inclusive dates; the id is a content hash', () => {
    const f = path.join(DATA, 'orcl-1995-2014.txt');
    const d = loadPrices(f, { from: '2005-01-01', to: '2014-12-31' });
    assert.equal(d.bars, 2517);
    assert.equal(d.date[0], 20050103);
    assert.equal(d.date[d.bars - 1], 20141231);
    const exact = loadPrices(f, { from: '2005-01-03', to: '2005-01-03' });
    assert.equal(exact.bars, 1);
    assert.equal(loadPrices(f, { from: '2005-01-01', to: '2014-12-31' }).id, d.id);
    assert.notEqual(exact.id, d.id);
  });

  test('generic layouts: any header case, datetime column, semicolons, quotes, CRLF, any column order', () => {
    const p = file(
      'generic.csv',
      'DateTime;close;OPEN;High;low;vol\r\n"2020-01-02 00:00:00";10.5;10;11;9.5;100\r\n2020-01-03 00:00:00;11;10.5;11.5;10;200\r\n\r\n',
    );
    const d = loadPrices(p);
    assert.equal(d.bars, 2);
    assert.deepEqual(Array.from(d.date), [20200102, 20200103]);
    assert.deepEqual(Array.from(d.open), [10, 10.5]);
    assert.deepEqual(Array.from(d.close), [10.5, 11]);
    assert.deepEqual(Array.from(d.volume), [100, 200]);
    const noVol = loadPrices(file('novol.csv', 'date,open,high,low,close\n20200102,1,2,0.5,1.5\n'));
    assert.deepEqual(Array.from(noVol.volume), [0]);
    assert.equal(noVol.date[0], 20200102);
    const comma = loadPrices(file('comma.csv', 'Date;Open;High;Low;Close;Volume\n2020-01-02;1,25;2;0,5;1,5;7\n'));
    assert.deepEqual([comma.open[0], comma.low[0], comma.close[0]], [1.25, 0.5, 1.5]);
    const tabs = loadPrices(file('tabs.tsv', 'Date\tOpen\tHigh\tLow\tClose\tVolume\n2020/01/02\t1\t2\t0.5\t1.5\t7\n'));
    assert.equal(tabs.close[0], 1.5);
  });

  test('bad files give errors naming the file, the line and what to do', () => {
    const cases: [string, string, RegExp][] = [
      ['missing-col.csv', 'Date,Open,High,Low,Volume\n2020-01-02,1,2,0.5,10\n', /missing-col\.csv:1: missing column 'Close'.*the header needs Date, Open, High, Low, Close/],
      ['bad-number.csv', 'Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n2020-01-03,1,2,0.5,oops,10\n', /bad-number\.csv:3: 'oops' in column 'Close' is not a number; fix the value or remove the row/],
      ['unsorted.csv', 'Date,Open,High,Low,Close,Volume\n2020-01-01,1,2,0.5,1.5,10\n2020-01-03,1,2,0.5,1.5,10\n2020-01-02,1,2,0.5,1.5,10\n', /unsorted\.csv:4: date 2020-01-02 comes after 2020-01-03 \(line 3\); sort the file by date, oldest first/],
      ['dup.csv', 'Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n2020-01-02,1,2,0.5,1.6,10\n', /dup\.csv:3: date 2020-01-02 repeats line 2 with other prices; the file has one bar per day: remove the duplicate/],
      ['bad-date.csv', 'Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n2020-13-02,1,2,0.5,1.5,10\n', /bad-date\.csv:3: '2020-13-02' in column 'Date' is not a date; write dates as YYYY-MM-DD/],
      ['short.csv', 'Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5\n', /short\.csv:2: the row has 4 fields but the header needs 6; fix or remove the row/],
      ['no-header.csv', '2020-01-02,1,2,0.5,1.5,10\n', /no-header\.csv:1: the first line is data, not a header; add a header line/],
      ['empty.csv', '\n\n', /empty\.csv: the file is empty/],
      ['header-only.csv', 'Date,Open,High,Low,Close,Volume\n', /header-only\.csv: the file has a header but no rows/],
      ['high-low.csv', 'Date,Open,High,Low,Close,Volume\n2020-01-02,1,0.5,2,1.5,10\n', /high-low\.csv:2: High 0\.5 is below Low 2; check the column order/],
    ];
    for (const [name, text, re] of cases) {
      const e = errorOf(() => loadPrices(file(name, text)));
      assert.match(e.message, re, name);
      assert.ok(e.file.endsWith(name));
    }
    assert.equal(errorOf(() => loadPrices(file('bad-number2.csv', 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,x\n'))).line, 2);
    assert.match(errorOf(() => loadPrices(path.join(tmp, 'nope.csv'))).message, /nope\.csv: no such price file; check the path/);
  });

  test('empty or malformed ranges are errors that say how to fix them', () => {
    const f = path.join(DATA, 'orcl-2014.txt');
    assert.match(errorOf(() => loadPrices(f, { from: '2016-01-01' })).message, /orcl-2014\.txt: no bars between 2016-01-01 and the end \(the file covers 2014-01-02 … 2014-12-31\); widen 'from'\/'to'/);
    assert.match(errorOf(() => loadPrices(f, { from: '2014-06-01', to: '2014-01-01' })).message, /is empty \('from' is after 'to'\); swap the dates/);
    assert.match(errorOf(() => loadPrices(f, { from: '2014-13-01' })).message, /'from' date '2014-13-01' is not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM\[:SS\]/);
    const d = loadPrices(f);
    assert.match(errorOf(() => slicePrices(d, { from: '2015-01-01' })).message, /no bars between 2015-01-01 and the end \(the data covers 2014-01-02 … 2014-12-31\)/);
  });

  test('slicePrices gives views over the same buffer and the same backtest as a ranged load', () => {
    const f = path.join(DATA, 'orcl-1995-2014.txt');
    const full = loadPrices(f);
    const slice = slicePrices(full, { from: '2005-01-01', to: '2014-12-31' });
    const ranged = loadPrices(f, { from: '2005-01-01', to: '2014-12-31' });
    assert.equal(slice.buffer, full.buffer);
    assert.equal(slice.bars, ranged.bars);
    assert.deepEqual(Array.from(slice.date), Array.from(ranged.date));
    assert.deepEqual(Array.from(slice.close), Array.from(ranged.close));
    assert.notEqual(slice.id, full.id);
    const a = runBacktest(slice, 'sma_cross', { fast: 10, slow: 30 }, CONFIG);
    const b = runBacktest(ranged, 'sma_cross', { fast: 10, slow: 30 }, CONFIG);
    assert.deepEqual(a, b);
    // A slice of a slice, shared and attached again, still points at the right bars.
    const inner = slicePrices(slice, { from: '2010-01-01', to: '2010-12-31' });
    const again = attachPrices(structuredClone(sharePrices(inner)));
    assert.equal(again.date[0], 20100104);
    assert.equal(again.date[again.bars - 1], 20101231);
    assert.deepEqual(Array.from(again.close), Array.from(loadPrices(f, { from: '2010-01-01', to: '2010-12-31' }).close));
  });

  test('a real worker thread attaches the shared buffer without copying and gets the same result', async () => {
    const d = loadPrices(path.join(DATA, 'orcl-1995-2014.txt'));
    const scratch = parsePrices('Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n', 'scratch.csv');
    const here = runBacktest(d, 'sma_cross', { fast: 10, slow: 30 }, CONFIG, { trades: false });
    const w = new Worker(__filename, { workerData: { prices: sharePrices(d), scratch: sharePrices(scratch) } });
    const msg = await new Promise<{ metrics: unknown; bars: number; first: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    assert.equal(msg.bars, d.bars);
    assert.equal(msg.first, d.date[0]);
    assert.deepEqual(msg.metrics, here.metrics);
    // The worker's write is visible here: the memory is shared, not copied.
    assert.equal(scratch.close[0], 42);
  });
}
