/**
 * Data statements in the editor, over real LSP with the built language server: the loader's
 * findings (invalid prices, a FIFO, a link leaving the workspace) on the `data` line, and
 * warnings for skipped rows.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LspSession, cursor } from '../support/lsp-session';
import { tempFolder } from '../support/temp';

const STUDY = (data: string) => `study "s" {\n  strategy sma_cross\n  data "${data}"\n  objective maximize sharpe\n  stage "g" {\n    param fast in [5, 10]\n  }\n}\n`;

test('the loader’s findings show on the data line: invalid prices, a FIFO, a link out of the workspace, skipped rows', async () => {
  const root = tempFolder('optstudy-editor-');
  const outside = tempFolder('optstudy-editor-out-');
  fs.writeFileSync(path.join(root, 'bad.csv'), 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n2020-01-03,1,2,0.5,-1.5\n');
  fs.writeFileSync(path.join(root, 'nulls.csv'), 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n2020-01-03,null,null,null,null\n2020-01-06,1,2,0.5,1.5\n');
  execFileSync('mkfifo', [path.join(root, 'pipe.csv')]);
  fs.writeFileSync(path.join(outside, 'x.csv'), 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n');
  fs.symlinkSync(path.join(outside, 'x.csv'), path.join(root, 'link.csv'));
  const s = await LspSession.start({ root });
  try {
    const find = async (name: string, data: string, code: string) => {
      const items = await s.diagnostics(s.open(path.join(root, name), STUDY(data)));
      const d = items.find((x) => x.code === code);
      assert.ok(d, `${name}: ${JSON.stringify(items)}`);
      assert.equal(d.range.start.line, 2, `${name}: on the data line`);
      return d;
    };
    assert.match((await find('bad.optstudy', 'bad.csv', 'data-file-invalid')).message, /^bad\.csv:3: the price -1\.5 in column 'Close' is not positive/);
    assert.match((await find('pipe.optstudy', 'pipe.csv', 'data-file-unreadable')).message, /is a named pipe \(FIFO\), not a regular file/);
    assert.match((await find('link.optstudy', 'link.csv', 'path-outside-workspace')).message, /is a link to a place outside the workspace/);
    const w = await find('nulls.optstudy', 'nulls.csv', 'data-warning');
    assert.equal(w.severity, 2);
    assert.match(w.message, /^nulls\.csv: 1 row with a missing price skipped \(first: line 3\)/);
  } finally {
    await s.stop();
  }
});

test('hover over a data file shows its bars, span and spacing; several feeds and a basket; diagnostics per feed', async () => {
  const root = tempFolder('optstudy-editor-hover-');
  const samples = path.resolve(__dirname, '..', '..', '..', 'samples', 'data');
  for (const f of ['orcl-1995-2014.txt', 'yhoo-1996-2014.txt', '2006-min-005.txt']) fs.copyFileSync(path.join(samples, f), path.join(root, f));
  fs.writeFileSync(path.join(root, 'bad.csv'), 'Date,Open,High,Low,Close\n2010-01-04,1,2,0.5,1.5\n2010-01-05,1,2,0.5,-1.5\n');
  const s = await LspSession.start({ root });
  try {
    const text = `study "s" {\n  strategy momentum_rotation\n  data ["orcl-1995-2014.txt", "yhoo-1996-2014.txt", "bad.csv"] from 2005-01-01 to 2014-12-31\n  objective maximize sharpe\n  stage "g" {\n    param lookback in [5, 10]\n  }\n}\nstudy "m" {\n  strategy sma_cross\n  data "2006-min-005.txt" from 2006-01-02T09:30 to 2006-01-02T17:30\n  objective maximize sharpe\n  stage "g" {\n    param fast in [5, 10]\n  }\n}\n`;
    const uri = s.open(path.join(root, 'h.optstudy'), text);
    const lines = text.split('\n');
    const at = (line: number, needle: string) => ({ line, character: lines[line]!.indexOf(needle) + 2 });
    const h1 = await s.hover(uri, at(2, '"yhoo'));
    assert.match(h1.contents.value, /^\*\*yhoo-1996-2014\.txt\*\* — data 1\n\n2,517 daily bars, 2005-01-03 … 2014-12-31$/);
    const h0 = await s.hover(uri, at(2, '"orcl'));
    assert.match(h0.contents.value, /— data 0\n\n2,517 daily bars, 2005-01-03 … 2014-12-31/);
    const hm = await s.hover(uri, at(10, '"2006'));
    assert.match(hm.contents.value, /— price data\n\n\d+ 5-minute bars, 2006-01-02T09:30:00 … 2006-01-02T17:30:00/);
    assert.equal(await s.hover(uri, at(2, '"bad')), null, 'no summary of a file the loader refuses');
    const diags = await s.diagnostics(uri);
    const bad = diags.find((d) => d.code === 'data-file-invalid');
    assert.ok(bad, JSON.stringify(diags));
    assert.match(bad.message, /^bad\.csv:3: the price -1\.5 in column 'Close' is not positive/);
  } finally {
    await s.stop();
  }
});

test('completion and hover inside a data block: its options and their values, the column roles, the keys not yet written', async () => {
  const s = await LspSession.start();
  try {
    const study = (body: string) => `study "s" {\n  strategy momentum_rotation\n  data ["a.txt", "b.txt", "c.txt"] from 2005-01-01 to 2014-12-31 {\n${body}\n  }\n  objective maximize sharpe\n}\n`;
    let n = 0;
    const labels = async (marked: string) => {
      const { text, position } = cursor(marked);
      return ((await s.completion(s.open(`data-${n++}.optstudy`, text), position)) as { label: string }[]).map((i) => i.label).sort();
    };
    assert.deepEqual(await labels(study('    <|>')), ['columns', 'date_format', 'prices']);
    assert.deepEqual(await labels(study('    prices repair\n    <|>')), ['columns', 'date_format']);
    assert.deepEqual(await labels(study('    columns { date "Datum", <|> }')), ['close', 'high', 'low', 'open', 'openinterest', 'time', 'volume']);
    assert.deepEqual(await labels(study('    prices <|>')), ['allow', 'check', 'repair']);
    assert.deepEqual(await labels(study('    prices check\n    date_format <|>')), ['"DD.MM.YYYY hh:mm"', '"DD.MM.YYYY"', '"DD/MM/YYYY"', '"MM/DD/YYYY"', '"YYYY-MM-DD hh:mm:ss"', 'epoch', 'epoch_ms']);
    const { text, position } = cursor(study('    date_for<|>mat "DD.MM.YYYY"'));
    const h = await s.hover(s.open(`data-${n++}.optstudy`, text), position);
    assert.match(h.contents.value, /^\*\*date_format\*\*\n\nHow dates are written/);
  } finally {
    await s.stop();
  }
});
