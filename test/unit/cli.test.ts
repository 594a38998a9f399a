import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', '..', 'dist', 'cli.js');

test('optstudy with no arguments prints usage and exits 2', () => {
  const r = spawnSync(process.execPath, [CLI], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stdout, /Usage:/);
  assert.match(r.stdout, /optstudy run FILE/);
});

test('an unknown command is named in the error', () => {
  const r = spawnSync(process.execPath, [CLI, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown command 'frobnicate'/);
});

test('optstudy trial: a parameter the strategy refuses exits 1 with the reason, not as an internal error', () => {
  const study = path.resolve(__dirname, '..', '..', '..', 'samples', 'quickstart.optstudy');
  for (const [param, reason] of [
    ['fats=3', /has no parameter 'fats'/],
    ['fast=-5', /period must be an integer ≥ 1, got -5/],
  ] as const) {
    const r = spawnSync(process.execPath, [CLI, 'trial', study, '--param', param], { encoding: 'utf8' });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^optstudy trial: /);
    assert.match(r.stderr, reason);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  }
});

test('the usage names every option of each command’s own --help (the summary stays in step with the commands)', () => {
  const usage = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
  for (const cmd of ['check', 'backtest', 'run', 'report', 'trial']) {
    const help = spawnSync(process.execPath, [CLI, cmd, '--help'], { encoding: 'utf8' }).stdout;
    // Options listed at the start of a help line ("  --json  …"), not ones mentioned in passing.
    const options = [...help.matchAll(/^ {2}(--[a-z-]+)/gm)].map((m) => m[1]!);
    const line = usage.split('\n  optstudy ').filter((l) => l.startsWith(cmd)).join(' ');
    assert.deepEqual(options.filter((o) => !line.includes(o)), [], `optstudy ${cmd}`);
  }
});
