/**
 * Parquet files through the built tools: `optstudy backtest --data x.parquet` and
 * `optstudy run` (pool workers attach the shared bars) give the CSV file's numbers; `check`
 * and the language server (over real LSP) report a damaged Parquet file on the `data` line
 * and hover over a Parquet path shows its bars.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPrices } from '../../server/data';
import { LspSession } from '../support/lsp-session';
import { repoRoot, sampleData } from '../support/run-fixtures';
import { tempFolder } from '../support/temp';
import { pricesParquet } from './parquet-files';

const CLI = path.join(repoRoot(), 'dist', 'cli.js');

function cli(args: string[], cwd?: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, timeout: 120_000 });
}

/** A folder with ORCL as CSV and as Parquet, and a corrupt Parquet file. */
function folder(): string {
  const dir = tempFolder('optstudy-parquet-tools-');
  fs.copyFileSync(sampleData('orcl-1995-2014.txt'), path.join(dir, 'orcl.txt'));
  fs.writeFileSync(path.join(dir, 'orcl.parquet'), pricesParquet(loadPrices(sampleData('orcl-1995-2014.txt')), 'date'));
  const good = pricesParquet(loadPrices(sampleData('orcl-1995-2014.txt')), 'timestamp-ms');
  fs.writeFileSync(path.join(dir, 'cut.parquet'), good.subarray(0, good.length - 50));
  return dir;
}

const STUDY = (data: string) =>
  `study "s" {\n  data "${data}" from 2000-01-01 to 2004-12-31\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" {\n    param fast in [5, 10, 15]\n    param slow in [30, 50]\n  }\n  workers 2\n}\n`;

test('optstudy backtest and run read a Parquet file as its CSV twin, number for number', () => {
  const dir = folder();
  const bt = (data: string) => {
    const r = cli(['backtest', '--data', path.join(dir, data), '--strategy', 'sma_cross', '--param', 'fast=10', '--param', 'slow=30', '--from', '2000-01-01', '--to', '2000-12-31', '--json']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { metrics: Record<string, number>; trades: unknown[] };
  };
  const a = bt('orcl.txt');
  assert.ok(a.trades.length > 0);
  assert.deepEqual(bt('orcl.parquet'), a);
  const runTrials = (data: string) => {
    fs.writeFileSync(path.join(dir, `${data}.optstudy`), STUDY(data));
    const r = cli(['run', path.join(dir, `${data}.optstudy`), '--out', path.join(dir, `run-${data}`), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const trials = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string; params: Record<string, number>; metrics: Record<string, number> })
      .filter((e) => e.type === 'trial');
    return trials.map((t) => [JSON.stringify(t.params), t.metrics] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  };
  const csvTrials = runTrials('orcl.txt');
  assert.equal(csvTrials.length, 6);
  assert.deepEqual(runTrials('orcl.parquet'), csvTrials);
});

test('optstudy check and the editor: a damaged Parquet file on the data line, hover over a Parquet path', async () => {
  const dir = folder();
  fs.writeFileSync(path.join(dir, 'cut.optstudy'), STUDY('cut.parquet'));
  const r = cli(['check', path.join(dir, 'cut.optstudy'), '--json']);
  const out = JSON.parse(r.stdout) as { diagnostics: { code: string; message: string; range: { start: { line: number } } }[] };
  const bad = out.diagnostics.find((d) => d.code === 'data-file-invalid');
  assert.ok(bad, r.stdout);
  assert.match(bad.message, /^cut\.parquet: cannot read the footer of the Parquet file \(parquet file invalid \(footer != PAR1\)\)/);
  assert.equal(bad.range.start.line, 1);
  const s = await LspSession.start({ root: dir });
  try {
    const text = STUDY('orcl.parquet');
    const uri = s.open(path.join(dir, 'h.optstudy'), text);
    const hover = await s.hover(uri, { line: 1, character: text.split('\n')[1]!.indexOf('"orcl') + 3 });
    assert.match(hover.contents.value, /^\*\*orcl\.parquet\*\* — price data\n\n1,256 daily bars, 2000-01-03 … 2004-12-31$/);
    assert.deepEqual((await s.diagnostics(uri)).filter((d) => d.severity === 1), []);
    const cut = await s.diagnostics(s.open(path.join(dir, 'c.optstudy'), STUDY('cut.parquet')));
    const d = cut.find((x) => x.code === 'data-file-invalid');
    assert.ok(d, JSON.stringify(cut));
    assert.equal(d.range.start.line, 1);
    assert.match(d.message, /^cut\.parquet: cannot read the footer of the Parquet file/);
  } finally {
    await s.stop();
  }
});
