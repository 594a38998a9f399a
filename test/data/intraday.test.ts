/**
 * Intraday bars and the PriceData interface: every datetime layout the oracle README names
 * gives the same bars as backtrader's 5-minute sample file; spacing is detected as backtrader's
 * TimeFrame + compression; `from`/`to` take dates (whole days) or datetimes; the time column
 * and spacing travel to a real worker thread with the shared buffer.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { attachPrices, barStamp, loadPrices, parsePrices, sharePrices, slicePrices, type LoadOptions, type SharedPrices } from '../../server/data';
import { DATA } from '../support/engine-golden';
import { errorOf, priceFolder } from '../support/price-files';

const MIN5 = path.join(DATA, '2006-min-005.txt');

if (!isMainThread) {
  const d = attachPrices(workerData as SharedPrices);
  parentPort!.postMessage({ spacing: d.spacing, stamps: [barStamp(d, 0), barStamp(d, d.bars - 1)], times: Array.from(d.time ?? []).slice(0, 3) });
} else {
  const { file } = priceFolder('intraday');
  /** The 5-minute file's rows as [date, time, rest-of-fields]. */
  const rows = readFileSync(MIN5, 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [d, t, ...rest] = l.split(',');
      return { d: d!, t: t!, rest: rest.join(',') };
    });
  const epoch = (d: string, t: string): number => Date.parse(`${d}T${t}Z`) / 1000;

  test("backtrader's 5-minute file: time column, minutes/5, 21 days, stamps as the oracle prints them", () => {
    const d = loadPrices(MIN5);
    assert.equal(d.bars, 2142);
    assert.ok(d.time, 'intraday data has a time column');
    assert.equal(d.time.buffer, d.buffer);
    assert.deepEqual(d.spacing, { unit: 'minutes', compression: 5 });
    assert.equal(barStamp(d, 0), '2006-01-02T09:05:00');
    assert.equal(barStamp(d, d.bars - 1), '2006-01-30T17:30:00');
    assert.equal(d.date[0], 20060102);
    assert.equal(d.time[0], 9 * 3600 + 5 * 60);
    assert.equal(new Set(d.date).size, 21);
    assert.equal(d.close[0], 3582.99);
    assert.ok(d.openInterest);
  });

  test('every datetime layout of the README gives the same bars (same content hash)', () => {
    const ref = loadPrices(MIN5);
    const layouts: [string, string][] = [
      // backtrader's sample quirk: the header has no Time but the rows do.
      ['shifted.txt', `Date,Open,High,Low,Close,Volume,OpenInterest\n${rows.map((r) => `${r.d},${r.t},${r.rest}`).join('\n')}\n`],
      ['iso-t.csv', `Datetime,Open,High,Low,Close,Volume,OpenInterest\n${rows.map((r) => `${r.d}T${r.t},${r.rest}`).join('\n')}\n`],
      ['iso-space.csv', `datetime,open,high,low,close,volume,openinterest\r\n${rows.map((r) => `${r.d} ${r.t},${r.rest}`).join('\r\n')}\r\n`],
      ['iso-z.csv', `timestamp,open,high,low,close,volume,oi\n${rows.map((r) => `${r.d}T${r.t}Z,${r.rest}`).join('\n')}\n`],
      ['epoch-s.csv', `time,open,high,low,close,volume,openinterest\n${rows.map((r) => `${epoch(r.d, r.t)},${r.rest}`).join('\n')}\n`],
      ['epoch-ms.csv', `Timestamp,Open,High,Low,Close,Volume,OpenInterest\n${rows.map((r) => `${epoch(r.d, r.t) * 1000},${r.rest}`).join('\n')}\n`],
      ['hhmm.csv', `Date;Time;Open;High;Low;Close;Volume;OpenInterest\n${rows.map((r) => `${r.d.replace(/-/g, '')};${r.t.slice(0, 5)};${r.rest.replace(/,/g, ';')}`).join('\n')}\n`],
    ];
    for (const [name, text] of layouts) {
      const d = loadPrices(file(name, text));
      assert.equal(d.bars, ref.bars, name);
      assert.deepEqual(d.spacing, ref.spacing, name);
      assert.deepEqual(Array.from(d.time!), Array.from(ref.time!), name);
      assert.equal(d.id, ref.id, `${name}: every column equal`);
    }
    const gz = loadPrices(file('min5.txt.gz', gzipSync(readFileSync(MIN5))));
    assert.equal(gz.id, ref.id, 'gzip is undone before parsing');
  });

  test('spacing: seconds, minutes, hours, days, weeks, months as backtrader TimeFrame + compression', () => {
    const series = (stepSec: number, n: number, startSec = 9 * 3600): string => {
      const lines = ['Date,Open,High,Low,Close'];
      const t0 = Date.UTC(2021, 0, 4) / 1000 + startSec;
      for (let i = 0; i < n; i++) lines.push(`${new Date((t0 + i * stepSec) * 1000).toISOString().slice(0, 19)},1,2,0.5,1.5`);
      return lines.join('\n');
    };
    assert.deepEqual(parsePrices(series(60, 300), 'm1').spacing, { unit: 'minutes', compression: 1 });
    assert.deepEqual(parsePrices(series(3600, 40, 0), 'h1').spacing, { unit: 'minutes', compression: 60 });
    assert.deepEqual(parsePrices(series(30, 100), 's30').spacing, { unit: 'seconds', compression: 30 });
    assert.deepEqual(loadPrices(path.join(DATA, 'orcl-2014.txt')).spacing, { unit: 'days', compression: 1 });
    const days = (step: number, n: number): string => {
      const lines = ['Date,Open,High,Low,Close'];
      for (let i = 0; i < n; i++) lines.push(`${new Date(Date.UTC(2000, 0, 3) + i * step * 86400000).toISOString().slice(0, 10)},1,2,0.5,1.5`);
      return lines.join('\n');
    };
    assert.deepEqual(parsePrices(days(7, 60), 'w').spacing, { unit: 'weeks', compression: 1 });
    const months = (step: number): string => ['Date,Open,High,Low,Close', ...Array.from({ length: 36 }, (_, i) => `${2000 + Math.floor((i * step) / 12)}-${String(((i * step) % 12) + 1).padStart(2, '0')}-01,1,2,0.5,1.5`)].join('\n');
    assert.deepEqual(parsePrices(months(1), 'm').spacing, { unit: 'months', compression: 1 });
    assert.deepEqual(parsePrices(months(3), 'q').spacing, { unit: 'months', compression: 3 });
    // A datetime column with one bar per day is a daily file (no time column).
    const daily = parsePrices('Date,Open,High,Low,Close\n2020-01-02 00:00:00,1,2,0.5,1.5\n2020-01-03 00:00:00,1,2,0.5,1.5\n', 'midnight.csv');
    assert.equal(daily.time, undefined);
    assert.deepEqual(daily.spacing, { unit: 'days', compression: 1 });
    assert.equal(barStamp(daily, 1), '2020-01-03');
  });

  test('from/to: dates keep whole days, datetimes are exact, slices agree with ranged loads', () => {
    const day = loadPrices(MIN5, { from: '2006-01-03', to: '2006-01-03' });
    assert.equal(barStamp(day, 0), '2006-01-03T09:05:00');
    assert.equal(barStamp(day, day.bars - 1), '2006-01-03T17:30:00');
    const win = loadPrices(MIN5, { from: '2006-01-03T10:00', to: '2006-01-03 10:30:00' });
    assert.deepEqual([barStamp(win, 0), barStamp(win, win.bars - 1), win.bars], ['2006-01-03T10:00:00', '2006-01-03T10:30:00', 7]);
    const full = loadPrices(MIN5);
    const sl = slicePrices(full, { from: '2006-01-03T10:00', to: '2006-01-03T10:30:00' });
    assert.equal(sl.buffer, full.buffer);
    assert.deepEqual(Array.from(sl.time!), Array.from(win.time!));
    assert.deepEqual(Array.from(sl.close), Array.from(win.close));
    assert.deepEqual(sl.spacing, full.spacing, 'a slice keeps the spacing of its feed');
    // Daily bars are stamped at the end of their day (backtrader: 23:59:59.999989), so a `to` of
    // midnight leaves that day out and a date keeps it.
    const orcl = path.join(DATA, 'orcl-2014.txt');
    assert.equal(barStamp(loadPrices(orcl, { to: '2014-12-31T00:00' }), 250), '2014-12-30');
    assert.equal(loadPrices(orcl, { to: '2014-12-31' }).bars, 252);
    assert.match(errorOf(() => loadPrices(MIN5, { from: '2006-02-01T09:00' })).message, /no bars between 2006-02-01T09:00 and the end \(the file covers 2006-01-02T09:05:00 … 2006-01-30T17:30:00\)/);
    assert.match(errorOf(() => loadPrices(MIN5, { to: '2006-01-02T25:00' })).message, /'to' date '2006-01-02T25:00' is not a date; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM\[:SS\]/);
  });

  test('day-first and US dates: told apart by the values, ambiguity reported, explicit date_format', () => {
    const rowsOf = (dates: string[]) => `Date,Open,High,Low,Close\n${dates.map((d) => `${d},1,2,0.5,1.5`).join('\n')}\n`;
    const dayFirst = parsePrices(rowsOf(['02/01/2020', '13/01/2020']), 'eu.csv');
    assert.deepEqual(Array.from(dayFirst.date), [20200102, 20200113]);
    const us = parsePrices(rowsOf(['01/02/2020', '01/13/2020']), 'us.csv');
    assert.deepEqual(Array.from(us.date), [20200102, 20200113]);
    const dots = parsePrices(rowsOf(['13.1.2020 09:30', '13.1.2020 09:35']), 'dots.csv');
    assert.deepEqual([barStamp(dots, 0), barStamp(dots, 1)], ['2020-01-13T09:30:00', '2020-01-13T09:35:00']);
    const amb = errorOf(() => parsePrices(rowsOf(['01/02/2020', '03/04/2020']), 'amb.csv'));
    assert.match(amb.message, /amb\.csv:2: the dates are ambiguous: no day above 12 tells day\/month from month\/day; say which it is in the study: data "…" \{ date_format "DD\/MM\/YYYY" \}/);
    assert.equal(amb.line, 2);
    const mixed = errorOf(() => parsePrices(rowsOf(['13/01/2020', '01/14/2020']), 'mixed.csv'));
    assert.match(mixed.message, /mixed\.csv:3: the dates mix day-first \(line 2\) and month-first \(line 3\) order/);
    const opts: LoadOptions = { dateFormat: 'MM/DD/YYYY' };
    assert.deepEqual(Array.from(parsePrices(rowsOf(['01/02/2020', '03/04/2020']), 'fmt.csv', undefined, opts).date), [20200102, 20200304]);
    const fmtTime = parsePrices(rowsOf(['02.01.2020 09:30', '02.01.2020 09:35']), 'fmt2.csv', undefined, { dateFormat: 'DD.MM.YYYY hh:mm' });
    assert.deepEqual([barStamp(fmtTime, 0), barStamp(fmtTime, 1)], ['2020-01-02T09:30:00', '2020-01-02T09:35:00']);
    assert.match(errorOf(() => parsePrices(rowsOf(['2020-01-02']), 'fmt3.csv', undefined, opts)).message, /fmt3\.csv:2: '2020-01-02' in column 'Date' is not a date; it does not match the date_format of the study/);
    assert.match(errorOf(() => parsePrices(rowsOf(['2020-01-02']), 'fmt4.csv', undefined, { dateFormat: 'DD/MM' })).message, /date_format "DD\/MM" needs YYYY, MM and DD once each/);
  });

  test('intraday order: repeated bars, out-of-order bars and a newest-first file', () => {
    const head = 'Date,Time,Open,High,Low,Close\n';
    const dup = parsePrices(`${head}2020-01-02,09:30,1,2,0.5,1.5\n2020-01-02,09:30,1,2,0.5,1.5\n2020-01-02,09:35,1,2,0.5,1.5\n`, 'dup.csv');
    assert.equal(dup.bars, 2);
    assert.deepEqual(dup.warnings, ['dup.csv: 1 repeated row skipped (identical to the row before; first: line 3)']);
    assert.match(
      errorOf(() => parsePrices(`${head}2020-01-02,09:30,1,2,0.5,1.5\n2020-01-02,09:30,1,2,0.5,1.4\n`, 'dup2.csv')).message,
      /dup2\.csv:3: bar 2020-01-02T09:30:00 repeats line 2 with other prices; remove the duplicate/,
    );
    assert.match(
      errorOf(() => parsePrices(`${head}2020-01-02,09:30,1,2,0.5,1.5\n2020-01-02,09:40,1,2,0.5,1.5\n2020-01-02,09:35,1,2,0.5,1.5\n`, 'unsorted.csv')).message,
      /unsorted\.csv:4: bar 2020-01-02T09:35:00 comes after 2020-01-02T09:40:00 \(line 3\); sort the file by date, oldest first/,
    );
    const rev = parsePrices(`${head}2020-01-02,09:40,1,2,0.5,1.7\n2020-01-02,09:35,1,2,0.5,1.6\n2020-01-02,09:30,1,2,0.5,1.5\n`, 'rev.csv');
    assert.deepEqual(Array.from(rev.close), [1.5, 1.6, 1.7]);
    assert.deepEqual(rev.warnings, ['rev.csv: the rows are newest first; read in the opposite order']);
  });

  test('a real worker thread sees the time column and the spacing through the shared buffer', async () => {
    const d = loadPrices(MIN5);
    const w = new Worker(__filename, { workerData: sharePrices(d) });
    const msg = await new Promise<{ spacing: unknown; stamps: string[]; times: number[] }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    await w.terminate();
    assert.deepEqual(msg.spacing, { unit: 'minutes', compression: 5 });
    assert.deepEqual(msg.stamps, ['2006-01-02T09:05:00', '2006-01-30T17:30:00']);
    assert.deepEqual(msg.times, [32700, 33000, 33300]);
  });
}
