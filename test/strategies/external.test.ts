/**
 * External command strategies through whole runs: the pure-Python sample against the built-in,
 * and a misbehaving process whose failures stay with their own trials.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { runStudy } from '../../server/run/run-study';
import { chooseExecutor } from '../../server/host/executors';
import type { TrialEvent } from '../../protocol/run-events';
import { collector, repoRoot, sampleData } from '../support/run-fixtures';
import { processesIn, scratchStudy } from './procs';

const GRID = `
  stage "grid" {
    param fast in 5 .. 30 step 5
    param slow in 20 .. 100 step 20
    where fast < slow
  }`;

function studyText(strategyLine: string, decl = ''): string {
  return `${decl}
study "s" {
  data "${sampleData('orcl-1995-2014.txt')}" from 2005-01-01 to 2014-12-31
  cash 100000
  commission 0.1%
  sizing percent 95
  ${strategyLine}
  objective maximize sharpe
  ${GRID}
  workers 2
  seed 1
  timeout 20s
}`;
}

async function run(dir: string, file = 'study.optstudy') {
  const c = collector();
  const end = await runStudy({ file: path.join(dir, file), out: path.join(dir, 'run'), createExecutor: chooseExecutor }, c.onEvent, new AbortController().signal);
  return { end, trials: c.trials() };
}

test('the pure-Python protocol sample finds the same optimum as the built-in sma_cross', async () => {
  const dir = scratchStudy({});
  mkdirSync(path.join(dir, 'python'));
  copyFileSync(path.join(repoRoot(), 'samples', 'python', 'sma_cross.py'), path.join(dir, 'python', 'sma_cross.py'));
  const decl = `strategy sma_py command "python3 python/sma_cross.py" {\n  param fast: int = 10\n  param slow: int = 30\n}`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(dir, 'py.optstudy'), studyText('strategy sma_py', decl));
  writeFileSync(path.join(dir, 'bi.optstudy'), studyText('strategy sma_cross'));
  const py = await run(dir, 'py.optstudy');
  const bi = await run(scratchStudy({ 'bi.optstudy': studyText('strategy sma_cross') }), 'bi.optstudy');
  assert.equal(py.end.status ?? 'finished', 'finished');
  assert.equal(py.trials.length, bi.trials.length);
  assert.ok(py.trials.every((t) => t.state === 'complete'), JSON.stringify(py.trials.find((t) => t.state !== 'complete')));
  assert.deepEqual(py.end.best?.params, bi.end.best?.params);
  // Same rules, same float recipes: every trial's score agrees with the built-in's.
  const byParams = new Map(bi.trials.map((t) => [JSON.stringify(t.params), t.score as number]));
  for (const t of py.trials) assert.equal(t.score, byParams.get(JSON.stringify(t.params)), JSON.stringify(t.params));
});

test('a process that exits, hangs, answers an error or junk fails only its own trials', async () => {
  const dir = scratchStudy({});
  copyFileSync(path.join(repoRoot(), 'test', 'fixtures', 'strategies', 'misbehave.py'), path.join(dir, 'misbehave.py'));
  const text = `strategy bad command "python3 misbehave.py" {
  param fast: int = 10
  param slow: int = 30
}
study "s" {
  data "${sampleData('orcl-2014.txt')}"
  strategy bad
  objective maximize sharpe
  stage "grid" {
    param fast in [5, 6, 7, 8, 9, 10, 11, 12]
  }
  workers 2
  timeout 2s
  retries 1
}`;
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path.join(dir, 'study.optstudy'), text);
  const { end, trials } = await run(dir);
  assert.equal(end.status ?? 'finished', 'finished');
  assert.equal(trials.length, 8);
  const by = (fast: number): TrialEvent => trials.find((t) => t.params.fast === fast)!;
  // 10 prints a line of its own with the request's id before answering: not an answer.
  for (const fast of [5, 6, 10, 11, 12]) {
    assert.equal(by(fast).state, 'complete', `fast=${fast}: ${by(fast).error}`);
    assert.equal(by(fast).score, fast / 100);
  }
  assert.equal(by(7).state, 'failed');
  assert.match(by(7).error!, /exited with code 3/);
  assert.match(by(7).error!, /giving up on 7/);
  assert.equal(by(8).state, 'failed');
  assert.match(by(8).error!, /no answer within 2000 ms/);
  assert.match(by(8).error!, /restarted/);
  assert.equal(by(9).state, 'failed');
  assert.match(by(9).error!, /fast=9 is not supported/);
  // stderr is kept as the trial's log.
  assert.match(by(9).log ?? '', /working on 9/);
  assert.deepEqual(end.best?.params.fast, 12);
  // The hung interpreter is a grandchild of the shell: nothing may outlive the run.
  assert.deepEqual(processesIn(dir), []);
});
