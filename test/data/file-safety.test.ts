/**
 * Issue #21 findings 4, 6 and 10 (data part), on real files through the built CLI:
 * special files as data (a FIFO, a symlink to /dev/zero, a folder, an oversized file) are
 * refused by `check` and `run` without reading a byte; invalid prices are refused with the
 * line and column (and `check` reports them on the `data` line); paths and links that leave
 * the study's folder are flagged by `check` and refused by `run`; no message prints a line of
 * a file that is not a price file.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPrices } from '../../server/data';
import { errorOf, priceFolder } from '../support/price-files';
import { repoRoot, sampleData } from '../support/run-fixtures';
import { tempFolder } from '../support/temp';

const CLI = path.join(repoRoot(), 'dist', 'cli.js');

/** Runs the CLI; kills it after `limitMs` (a hang is a failure, not a stuck test). */
function cli(args: string[], limitMs = 60_000): Promise<{ code: number | null; out: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, timedOut });
    });
  });
}

/** A study folder with `data.csv` as its data (written by `make`) and a 2-trial grid. */
function studyFolder(make: (dataPath: string, dir: string) => void, dataName = 'data.csv', block = ''): string {
  const dir = tempFolder('optstudy-safety-');
  make(path.join(dir, dataName), dir);
  fs.writeFileSync(
    path.join(dir, 'study.optstudy'),
    `study "s" {\n  data "${dataName}"${block}\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" {\n    param fast in [5, 10]\n  }\n  workers 1\n}\n`,
  );
  return path.join(dir, 'study.optstudy');
}

interface CheckOut {
  diagnostics: { severity: string; code: string; message: string; range: { start: { line: number } } }[];
}

async function checkJson(study: string): Promise<CheckOut & { code: number | null }> {
  const r = await cli(['check', study, '--json']);
  assert.ok(!r.timedOut, 'check must not hang');
  return { ...(JSON.parse(r.out) as CheckOut), code: r.code };
}

test('finding 4: a FIFO as data is refused at once by the loader, check and run (no hang, no read)', async () => {
  const study = studyFolder((p) => execFileSync('mkfifo', [p]));
  const c = await checkJson(study);
  assert.equal(c.code, 1);
  const d = c.diagnostics.find((x) => x.code === 'data-file-unreadable');
  assert.ok(d, JSON.stringify(c.diagnostics));
  assert.match(d.message, /"data\.csv" is a named pipe \(FIFO\), not a regular file/);
  assert.equal(d.range.start.line, 1);
  const t0 = Date.now();
  const r = await cli(['run', study, '--json'], 60_000);
  assert.ok(!r.timedOut, `run blocked on the FIFO (${Date.now() - t0} ms)`);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /data\.csv: a named pipe \(FIFO\), not a regular file; a price file must be a plain file\./);
});

test('finding 4: a symlink to /dev/zero, a folder and an oversized file are refused before reading', async () => {
  const { dir, file } = priceFolder('special');
  const zero = path.join(dir, 'zero.csv');
  fs.symlinkSync('/dev/zero', zero);
  assert.match(errorOf(() => loadPrices(zero)).message, /zero\.csv: a device, not a regular file/);
  assert.match(errorOf(() => loadPrices(dir)).message, /a folder, not a regular file/);
  // A sparse 600 MB file: refused from its size, without reading (or allocating) it.
  const big = path.join(dir, 'big.csv');
  fs.writeFileSync(big, 'Date,Open,High,Low,Close\n');
  fs.truncateSync(big, 600 * 2 ** 20);
  const before = process.memoryUsage().rss;
  assert.match(errorOf(() => loadPrices(big)).message, /big\.csv: the file is 600 MB; price files up to 512 MB are read: split it or keep the range you need\./);
  assert.ok(process.memoryUsage().rss - before < 100 * 2 ** 20, 'nothing of the big file was read');
  assert.match(errorOf(() => loadPrices(file('small.csv', 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n'), undefined, { maxBytes: 10 })).message, /small\.csv: the file is 48 bytes; price files up to 10 bytes are read/);
  // Through the CLI: the link leaves the folder (check flags it, run refuses it at once).
  const study = studyFolder((p) => fs.symlinkSync('/dev/zero', p));
  const c = await checkJson(study);
  assert.ok(c.diagnostics.some((x) => x.code === 'path-outside-workspace' && /is a link to a place outside the study file's folder/.test(x.message)), JSON.stringify(c.diagnostics));
  const r = await cli(['run', study, '--json'], 60_000);
  assert.ok(!r.timedOut, 'run read /dev/zero');
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /"data\.csv" is a link to a place outside the study file's folder/);
  const folder = studyFolder((p) => fs.mkdirSync(p));
  assert.ok((await checkJson(folder)).diagnostics.some((x) => x.code === 'data-file-unreadable' && /"data\.csv" is a folder, not a regular file/.test(x.message)));
});

test('finding 6: invalid prices are refused with line and column; check reports them on the data line', async () => {
  const head = 'Date,Open,High,Low,Close,Volume\n2020-01-02,10,11,9,10.5,100\n';
  const cases: [string, string, RegExp][] = [
    ['negative', '2020-01-03,-10,11,-12,10.5,100', /:3: the price -10 in column 'Open' is not positive; fix the row, or let the study repair such rows: data "…" \{ prices repair \}/],
    ['zero', '2020-01-03,10,11,9,0,100', /:3: the price 0 in column 'Close' is not positive/],
    ['infinite', '2020-01-03,10,1e400,9,10.5,100', /:3: Infinity in column 'High' is not a finite number/],
    ['open-above-high', '2020-01-03,12,11,9,10.5,100', /:3: Open 12 is above High 11; fix the row/],
    ['close-below-low', '2020-01-03,10,11,9,8.5,100', /:3: Close 8\.5 is below Low 9; fix the row/],
    ['high-below-low', '2020-01-03,10,9,11,10.5,100', /:3: High 9 is below Low 11; check the column order/],
    ['negative-volume', '2020-01-03,10,11,9,10.5,-5', /:3: the volume -5 in column 'Volume' is not a finite number ≥ 0/],
  ];
  const { file } = priceFolder('prices6');
  for (const [name, row, re] of cases) {
    const e = errorOf(() => loadPrices(file(`${name}.csv`, head + row + '\n')));
    assert.match(e.message, re, name);
    assert.equal(e.line, 3, name);
    assert.ok(e.column! >= 2 && e.column! <= 6, `${name}: column ${e.column}`);
  }
  // A quoted number with grouping commas is read whole, never as 1.
  const quoted = loadPrices(file('quoted.csv', 'Date,Open,High,Low,Close\n2020-01-02,"1,234.5","1,240.0","1,230.25","1,235.75"\n'));
  assert.deepEqual([quoted.open[0], quoted.high[0], quoted.low[0], quoted.close[0]], [1234.5, 1240, 1230.25, 1235.75]);
  assert.match(errorOf(() => loadPrices(file('quoted-bad.csv', 'Date,Open,High,Low,Close\n2020-01-02,"1,23",2,0.5,1.5\n'))).message, /:2: '"1,23"' in column 'Open' is not a number/);
  // check: the loader's verdict on the data line, with the file's line.
  const study = studyFolder((p) => fs.writeFileSync(p, head + '2020-01-03,10,11,9,8.5,100\n'));
  const c = await checkJson(study);
  assert.equal(c.code, 1);
  const d = c.diagnostics.find((x) => x.code === 'data-file-invalid');
  assert.ok(d, JSON.stringify(c.diagnostics));
  assert.equal(d.range.start.line, 1);
  assert.match(d.message, /^data\.csv:3: Close 8\.5 is below Low 9/);
});

test('finding 6: repair skips or widens (counted in warnings), allow keeps the values as written', () => {
  const { file } = priceFolder('repair');
  const text = 'Date,Open,High,Low,Close,Volume\n2020-01-02,10,11,9,10.5,100\n2020-01-03,-1,11,9,10.5,100\n2020-01-06,10,11,9,11.5,100\n2020-01-07,10,1e400,9,10,100\n2020-01-08,10,11,9,10,-3\n';
  const p = file('mixed.csv', text);
  const r = loadPrices(p, undefined, { prices: 'repair' });
  assert.deepEqual(Array.from(r.date), [20200102, 20200106, 20200108]);
  assert.equal(r.high[1], 11.5, 'High widened over the Close');
  assert.equal(r.volume[2], 0);
  assert.deepEqual(r.warnings, [
    `${p}: 2 rows with a zero, negative or non-finite price skipped (prices repair; first: line 3)`,
    `${p}: High/Low widened over Open/Close on 1 row (prices repair; first: line 4)`,
    `${p}: 1 negative or non-finite volume read as 0 (prices repair; first: line 6)`,
  ]);
  const allowed = loadPrices(file('spread.csv', 'Date,Open,High,Low,Close\n2020-04-20,-5,1,-40,-37.6\n'), undefined, { prices: 'allow' });
  assert.equal(allowed.close[0], -37.6);
  assert.match(errorOf(() => loadPrices(p, undefined, { prices: 'allow' })).message, /:5: Infinity in column 'High' is not a finite number; fix the row\./);
});

test('finding 10: a link leaving the folder is flagged by check and refused by run; no message prints a line of another file', async () => {
  const outside = tempFolder('optstudy-outside-');
  fs.copyFileSync(sampleData('orcl-2014.txt'), path.join(outside, 'orcl.txt'));
  fs.writeFileSync(path.join(outside, 'secret.txt'), 'SECRET-LINE root:x:0:0:root:/root:/bin/bash\nmore\n');
  // A link to a real price file outside: it would run, so only the path rule stops it.
  const study = studyFolder((p) => fs.symlinkSync(path.join(outside, 'orcl.txt'), p));
  const c = await checkJson(study);
  assert.ok(c.diagnostics.some((x) => x.code === 'path-outside-workspace'), JSON.stringify(c.diagnostics));
  const r = await cli(['run', study, '--json']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /study 's' reads files outside its folder|is a link to a place outside/);
  assert.ok(!r.out.includes('"type":"trial"'), 'no trial ran');
  assert.ok(!fs.existsSync(path.join(path.dirname(study), '.optstudy')), 'no run folder was made');
  // A file that is not a price file, inside the folder: its text never shows in a message.
  const notPrices = studyFolder((p) => fs.copyFileSync(path.join(outside, 'secret.txt'), p));
  const c2 = await checkJson(notPrices);
  assert.ok(c2.diagnostics.some((x) => x.code === 'data-file-invalid' && /missing columns 'Date', 'Open', 'High', 'Low', 'Close' in the header \(1 field separated by ','\)/.test(x.message)), JSON.stringify(c2.diagnostics));
  const r2 = await cli(['run', notPrices, '--json']);
  assert.equal(r2.code, 1);
  for (const out of [JSON.stringify(c2.diagnostics), r2.out]) assert.ok(!out.includes('SECRET') && !out.includes('root:x'), out);
  // A path written outside (no link) is refused the same way by run.
  const written = studyFolder(() => undefined, path.join(outside, 'orcl.txt'));
  const r3 = await cli(['run', written, '--json']);
  assert.equal(r3.code, 1, r3.out);
  assert.match(r3.out, /is outside the study file's folder/);
});
