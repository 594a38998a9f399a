/**
 * The `data` statement in the grammar: several files, a basket, datetime ranges and the options
 * block that says how to read a file — what the study model carries to the run, and the
 * diagnostics on the right place when feeds do not fit together or fit the strategy.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { analyze, type Diagnostic, type StudyModel } from '../../grammar';

const study = (data: string, rest = 'strategy sma_cross\n  objective maximize sharpe', extra = ''): string =>
  `study "s" {\n  ${data}\n  ${rest}\n  stage "g" {\n    param ${rest.includes('momentum_rotation') ? 'lookback' : 'fast'} in [5, 10]\n  }\n${extra}}\n`;

function one(text: string): { model: StudyModel; diags: Diagnostic[] } {
  const a = analyze(text);
  assert.equal(a.studies.length, 1, JSON.stringify(a.diagnostics));
  return { model: a.studies[0]!, diags: a.diagnostics };
}

const codes = (ds: Diagnostic[]): string[] => ds.map((d) => `${d.severity} ${d.code}`);
const lineOf = (text: string, needle: string): number => text.split('\n').findIndex((l) => l.includes(needle));

test('one file keeps the old model: data = datas[0], no basket', () => {
  const { model, diags } = one(study('data "orcl.txt" from 2005-01-01 to 2014-12-31'));
  assert.deepEqual(diags, []);
  assert.deepEqual(model.data, { path: 'orcl.txt', from: '2005-01-01', to: '2014-12-31' });
  assert.deepEqual(model.datas, [model.data]);
  assert.equal(model.basket, false);
});

test('a list of files is several feeds in order; several data statements add feeds', () => {
  const text = study('data ["orcl.txt", "yhoo.txt" "nvda.txt"] from 2005-01-01\n  data "spy.txt"', 'strategy momentum_rotation\n  objective maximize sharpe');
  const { model, diags } = one(text);
  assert.deepEqual(diags, []);
  assert.deepEqual(
    model.datas.map((d) => [d.path, d.from]),
    [['orcl.txt', '2005-01-01'], ['yhoo.txt', '2005-01-01'], ['nvda.txt', '2005-01-01'], ['spy.txt', undefined]],
  );
  assert.equal(model.data, model.datas[0]);
  // Each feed's path is located for the workspace checks.
  assert.equal(model.ranges.datas!.length, 4);
  assert.equal(model.ranges.datas![3]!.start.line, lineOf(text, 'spy.txt'));
});

test('a basket with aggregate objectives and constraints', () => {
  const { model, diags } = one(study('data basket ["a.txt", "b.txt"]', 'strategy sma_cross\n  objective maximize mean(sharpe)\n  constraint min(trades) >= 5\n  constraint median(max_drawdown_pct) < 30'));
  assert.deepEqual(diags, []);
  assert.equal(model.basket, true);
  assert.deepEqual(model.datas.map((d) => d.path), ['a.txt', 'b.txt']);
});

test('the options block: columns by name or number, date_format, prices', () => {
  const text = study('data "de.csv" {\n    columns { date "Datum", close "Schluss", open 2 }\n    date_format "DD.MM.YYYY"\n    prices repair\n  }');
  const { model, diags } = one(text);
  assert.deepEqual(diags, []);
  assert.deepEqual(model.data, { path: 'de.csv', columns: { date: 'Datum', close: 'Schluss', open: 2 }, dateFormat: 'DD.MM.YYYY', prices: 'repair' });
  const epoch = one(study('data "e.csv" { date_format epoch_ms, prices allow }')).model.data;
  assert.deepEqual(epoch, { path: 'e.csv', dateFormat: 'epoch_ms', prices: 'allow' });
});

test('intraday ranges: date and time literals, checked as calendar stamps', () => {
  const ok = one(study('data "m5.txt" from 2006-01-02T09:30 to 2006-01-20T17:30:00'));
  assert.deepEqual(ok.diags, []);
  assert.deepEqual([ok.model.data!.from, ok.model.data!.to], ['2006-01-02T09:30', '2006-01-20T17:30:00']);
  const bad = one(study('data "m5.txt" from 2006-02-30T09:30 to 2006-01-02T25:00'));
  assert.deepEqual(codes(bad.diags), ['error invalid-date', 'error invalid-date']);
  assert.match(bad.diags[0]!.message, /2006-02-30T09:30 is not a calendar date/);
  const order = one(study('data "m5.txt" from 2006-01-03T10:00 to 2006-01-03T09:00'));
  assert.deepEqual(codes(order.diags), ['error date-order']);
});

test('bad options are reported on the option, with what is allowed', () => {
  const text = study('data "x.csv" { colums { date "D" }, columns { dat "D", close 0 }, date_format "DD/MM", prices fix }');
  const { diags } = one(text);
  assert.deepEqual(codes(diags), Array(5).fill('error invalid-data-option'));
  const msgs = diags.map((d) => d.message);
  assert.match(msgs[0]!, /unknown data option 'colums': the options are columns, date_format, prices/);
  assert.match(msgs[1]!, /unknown column 'dat': the columns are date, time, open, high, low, close, volume, openinterest/);
  assert.match(msgs[2]!, /close takes the header name in quotes \("Datum"\) or the column number from 1/);
  assert.match(msgs[3]!, /date_format "DD\/MM" needs YYYY, MM and DD/);
  assert.match(msgs[4]!, /prices takes check, repair or allow/);
  const col = text.split('\n')[1]!.indexOf('colums');
  assert.deepEqual(diags[0]!.range.start, { line: 1, character: col });
});

test('feeds that do not fit together or do not fit the strategy', () => {
  const cases: [string, string, string[], RegExp][] = [
    [study('data []'), 'empty list', ['error invalid-value'], /the list of data files is empty/],
    [study('data basket ["a.txt", "b.txt"]\n  data "c.txt"'), 'basket + data', ['error invalid-data-feeds'], /a study with a data basket has no other data statement/],
    [study('data ["a.txt", "a.txt"]', 'strategy momentum_rotation\n  objective maximize sharpe'), 'same file twice', ['warning invalid-data-feeds'], /"a\.txt" is already a data feed of this study/],
    [study('data ["a.txt", "b.txt"]'), 'single-feed built-in', ['warning invalid-data-feeds'], /'sma_cross' trades data 0 only: .* write data basket/],
    [study('data basket ["a.txt", "b.txt"]', 'strategy momentum_rotation\n  objective maximize sharpe'), 'rotation in a basket', ['error invalid-data-feeds'], /'momentum_rotation' trades several feeds at once/],
    [study('data "a.txt"', 'strategy momentum_rotation\n  objective maximize sharpe'), 'rotation on one file', ['warning invalid-data-feeds'], /rotates between several feeds; with one file/],
    [study('data basket ["a.txt"]'), 'basket of one', ['warning invalid-data-feeds'], /a basket of one symbol is a plain study/],
    [study('data "a.txt"', 'strategy sma_cross\n  objective maximize mean(sharpe)'), 'aggregate without basket', ['warning aggregate-without-basket'], /mean\(…\) of one value aggregates over the symbols of a basket/],
    [
      `strategy ext command "python3 s.py" {\n  param fast: int = 5\n}\n${study('data ["a.txt", "b.txt"]', 'strategy ext\n  objective maximize sharpe')}`,
      'command strategy with several feeds',
      ['error invalid-data-feeds'],
      /an external command strategy reads one data file/,
    ],
  ];
  for (const [text, what, want, message] of cases) {
    const a = analyze(text);
    const found = a.diagnostics.filter((d) => d.code === 'invalid-data-feeds' || d.code === 'invalid-value' || d.code === 'aggregate-without-basket');
    assert.deepEqual(codes(found), want, `${what}: ${JSON.stringify(a.diagnostics)}`);
    assert.match(found[0]!.message, message, what);
  }
});

test('validate (holdout, walk-forward) is fine with several feeds and with a basket: windows are cut on one calendar', () => {
  for (const [text, what] of [
    [study('data ["a.txt", "b.txt"]', 'strategy momentum_rotation\n  objective maximize sharpe\n  validate holdout 30%'), 'rotation + holdout'],
    [study('data ["a.txt", "b.txt"]', 'strategy momentum_rotation\n  objective maximize sharpe\n  validate walkforward { folds 3, train 60% }'), 'rotation + walk-forward'],
    [study('data basket ["a.txt", "b.txt"]', 'strategy sma_cross\n  objective maximize mean(sharpe)\n  validate walkforward { folds 3, train 60% }'), 'basket + walk-forward'],
  ] as const) {
    const a = analyze(text);
    assert.deepEqual(a.diagnostics.filter((d) => d.severity === 'error'), [], what);
    assert.ok(a.studies[0]!.validate, what);
  }
});

test('a half-typed data statement does not break the rest of the study', () => {
  const a = analyze(study('data basket ["a.txt", "b.txt"'));
  assert.equal(a.studies.length, 1);
  assert.ok(a.diagnostics.some((d) => d.severity === 'error'), 'the unclosed list is an error');
  assert.equal(a.studies[0]!.strategy?.name, 'sma_cross');
});
