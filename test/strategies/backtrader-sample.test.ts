/**
 * The gallery's backtrader sample, run with the command its README gives (`optstudy run
 * backtrader-sma-cross.optstudy`, the shipped CLI, real backtrader): backtrader's SMA crossover
 * in the author's own Cerebro (its feed, custom sizer and custom analyzer `rodd` as the
 * objective), a grid and a TPE stage on two workers, a 30 % holdout. Every trial completes, the
 * custom analyzer is the objective, the best is re-run out of sample. (Parity with
 * `cerebro.optstrategy` for factories like this one: backtrader-parity.test.ts.)
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../support/run-fixtures';
import { backtraderMissing } from './backtrader-env';
import { scratchStudy } from './procs';

const skip = backtraderMissing();

test("the gallery's backtrader sample runs as its README says: every trial completes, rodd.ratio is the objective, the best is re-run out of sample", { skip, timeout: 600_000 }, () => {
  const dir = scratchStudy({});
  const samples = path.join(repoRoot(), 'samples');
  mkdirSync(path.join(dir, 'backtrader'));
  mkdirSync(path.join(dir, 'data'));
  copyFileSync(path.join(samples, 'backtrader-sma-cross.optstudy'), path.join(dir, 'backtrader-sma-cross.optstudy'));
  copyFileSync(path.join(samples, 'backtrader', 'smacross.py'), path.join(dir, 'backtrader', 'smacross.py'));
  copyFileSync(path.join(samples, 'data', 'orcl-1995-2014.txt'), path.join(dir, 'data', 'orcl-1995-2014.txt'));

  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'run', 'backtrader-sma-cross.optstudy', '--json', '--out', 'run'], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 540_000,
    maxBuffer: 64 << 20,
  });
  assert.equal(r.status, 0, `${r.stderr}\n${r.stdout.slice(-2000)}`);
  const events = r.stdout.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
  const end = events.at(-1)!;
  assert.equal(end.type, 'end');
  assert.equal(end.status, 'finished', end.error);
  const trials = events.filter((e) => e.type === 'trial');
  // The grid (every pfast < pslow), then at most twelve TPE trials (a point already run is not run twice).
  assert.equal(trials.filter((t) => t.stage === 'grid').length, 27);
  const tpe = trials.filter((t) => t.stage === 'sizing').length;
  assert.ok(tpe > 0 && tpe <= 12, `${tpe} TPE trials`);
  assert.deepEqual(trials.filter((t) => t.state === 'failed').map((t) => t.error), []);
  assert.equal(typeof end.best.metrics['rodd.ratio'], 'number', 'the custom analyzer is the objective');
  const holdout = end.validation?.report;
  assert.ok(holdout?.inSample?.from && holdout?.outOfSample?.to, JSON.stringify(end.validation));
});
