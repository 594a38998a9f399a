/** `optstudy check` through the built CLI (dist/cli.js), on real files. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

function check(args: string[], cwd = ROOT) {
  return spawnSync(process.execPath, [CLI, 'check', ...args], { encoding: 'utf8', cwd });
}

interface CheckJson {
  diagnostics: { severity: string; code: string; message: string; range: { start: { line: number; character: number }; end: { line: number; character: number } } }[];
  studies: { name: string; stages: { name: string; size: number }[]; total: number }[];
}

test('check --json on the quickstart: no findings, the exact grid size, exit 0', () => {
  const r = check(['samples/quickstart.optstudy', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as CheckJson;
  assert.deepEqual(out, { diagnostics: [], studies: [{ name: 'SMA cross quickstart', stages: [{ name: 'grid', size: 174 }], total: 174 }] });
});

test('check --json on the staged DESIGN example: grid 4×4 then a 60-trial bayes stage', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optstudy-check-'));
  fs.mkdirSync(path.join(dir, 'data'));
  fs.copyFileSync(path.join(ROOT, 'samples', 'data', 'orcl-1995-2014.txt'), path.join(dir, 'data', 'orcl-1995-2014.txt'));
  fs.copyFileSync(path.join(ROOT, 'test', 'fixtures', 'studies', 'valid', 'design-example.optstudy'), path.join(dir, 'study.optstudy'));
  const r = check([path.join(dir, 'study.optstudy'), '--json']);
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const out = JSON.parse(r.stdout) as CheckJson;
  assert.deepEqual(out.studies, [{ name: 'EMA cross with ATR exits', stages: [{ name: 'risk', size: 16 }, { name: 'entry', size: 60 }], total: 76 }]);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('check on a broken study prints file:line:col: severity code: message and exits 1', () => {
  const r = check(['samples/broken.optstudy']);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /^samples\/broken\.optstudy:10:22: error unknown-metric: unknown metric 'sharp': did you mean 'sharpe'\?$/m);
  assert.match(r.stdout, /^samples\/broken\.optstudy:15:19: error reversed-range: /m);
  assert.match(r.stdout, /^samples\/broken\.optstudy:17:11: error unknown-parameter: 'fats' is not a parameter of 'sma_cross'/m);
  assert.match(r.stdout, /\d+ errors?, \d+ warnings?\n$/);
  const j = check(['samples/broken.optstudy', '--json']);
  assert.equal(j.status, 1);
  const out = JSON.parse(j.stdout) as CheckJson;
  assert.ok(out.diagnostics.every((d) => Object.keys(d).join() === 'severity,code,message,range'));
  assert.ok(out.diagnostics.some((d) => d.code === 'date-order' && d.range.start.line === 4));
});

test('data and module files are checked relative to the study, and may not escape its folder', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optstudy-check-'));
  const study = (data: string, extra = '') =>
    `study "s" {\n  data "${data}"\n  strategy ${extra || 'sma_cross'}\n  objective maximize sharpe\n  stage "g" { param fast in [5, 10] }\n}\n`;
  fs.mkdirSync(path.join(dir, 'data'));
  fs.writeFileSync(path.join(dir, 'data', 'p.txt'), 'Date,Open,High,Low,Close,Volume\n2020-01-02,1,2,0.5,1.5,10\n');
  fs.writeFileSync(path.join(dir, 'ok.optstudy'), study('data/p.txt'));
  fs.writeFileSync(path.join(dir, 'missing.optstudy'), study('data/nope.txt'));
  fs.writeFileSync(path.join(dir, 'escape.optstudy'), study('../../etc/passwd'));
  fs.writeFileSync(path.join(dir, 'folder.optstudy'), study('data'));
  fs.writeFileSync(path.join(dir, 'module.optstudy'), study('data/p.txt', 'module "strategies/none.ts"'));
  const codes = (f: string) => (JSON.parse(check([path.join(dir, f), '--json']).stdout) as CheckJson).diagnostics.map((d) => d.code);
  assert.deepEqual(codes('ok.optstudy'), []);
  assert.deepEqual(codes('missing.optstudy'), ['data-file-missing']);
  assert.deepEqual(codes('escape.optstudy'), ['path-outside-workspace']);
  assert.deepEqual(codes('folder.optstudy'), ['data-file-unreadable']);
  assert.deepEqual(codes('module.optstudy'), ['module-file-missing']);
  const r = check([path.join(dir, 'missing.optstudy')]);
  assert.equal(r.status, 1);
  assert.match(r.stdout, /missing\.optstudy:2:8: error data-file-missing: the data file "data\/nope\.txt" does not exist/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('warnings alone exit 0', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optstudy-check-'));
  fs.writeFileSync(path.join(dir, 'p.txt'), 'Date,Open,High,Low,Close\n2020-01-02,1,2,0.5,1.5\n');
  fs.writeFileSync(
    path.join(dir, 'w.optstudy'),
    'study "w" {\n  data "p.txt"\n  strategy sma_cross\n  objective maximize sharpe\n  stage "g" { param fast in 5 .. 12 step 5 }\n}\n',
  );
  const r = check([path.join(dir, 'w.optstudy')]);
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /warning step-does-not-divide: step 5 does not reach 12 from 5: the last value is 10/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a missing file or no file is a clear error with exit 2', () => {
  const r = check(['no/such/study.optstudy']);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /cannot read 'no\/such\/study\.optstudy': no such file/);
  const n = check([]);
  assert.equal(n.status, 2);
  assert.match(n.stderr, /Usage: optstudy check FILE/);
  const o = check(['--frobnicate', 'x']);
  assert.equal(o.status, 2);
  assert.match(o.stderr, /unknown option '--frobnicate'/);
});

test('half-typed input never crashes the CLI', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'optstudy-check-'));
  const text = fs.readFileSync(path.join(ROOT, 'samples', 'ema-atr-staged.optstudy'), 'utf8');
  for (const cut of [1, 40, 200, 333, 500, 700, text.length - 3]) {
    fs.writeFileSync(path.join(dir, 'h.optstudy'), text.slice(0, cut));
    const r = check([path.join(dir, 'h.optstudy'), '--json']);
    assert.ok(r.status === 0 || r.status === 1, `cut ${cut}: exit ${r.status} ${r.stderr}`);
    JSON.parse(r.stdout);
  }
  fs.rmSync(dir, { recursive: true, force: true });
});
