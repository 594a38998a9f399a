/**
 * A run's checks and its first worker share one Python: the bridge process that will serve the
 * run's trials starts during the checks and describes the strategy itself, so the user's script
 * (and backtrader) are imported once per worker, not once more for the describe step. A run
 * whose SPEC names nothing stops at its checks with the usual "did you mean", and the process
 * started for it does not outlive the failure. Real backtrader, the run path, real processes.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { runStudy } from '../../server/run/run-study';
import { chooseExecutor, hostCheckOptions } from '../../server/host/executors';
import { collector, sampleData } from '../support/run-fixtures';
import { backtraderMissing, fixture } from './backtrader-env';
import { runFolder, runFolderToEnd } from './backtrader-runs';
import { processesIn, scratchStudy, waitFor } from './procs';

const skip = backtraderMissing();

// Every import of this script appends its process id to imports.log (in the study's folder);
// its strategy and the analyzer giving the serving process's id come from parity.py.
const SCRIPT = `import os
import backtrader as bt
from parity import Pid, SmaCross

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "imports.log"), "a") as f:
    f.write("%d\\n" % os.getpid())


def make(pfast=10, pslow=30):
    cerebro = bt.Cerebro()
    cerebro.adddata(bt.feeds.YahooFinanceCSVData(dataname=${JSON.stringify(sampleData('orcl-2014.txt'))}, adjclose=False))
    cerebro.addanalyzer(Pid, _name="proc")
    cerebro.addstrategy(SmaCross, pfast=pfast, pslow=pslow)
    return cerebro
`;

function folder(spec: string, workers: number, extra = ''): string {
  const dir = scratchStudy({ 'mine.py': SCRIPT, 'study.optstudy': study(spec, workers, extra) });
  copyFileSync(fixture('parity.py'), path.join(dir, 'parity.py'));
  return dir;
}

function study(spec: string, workers: number, extra: string): string {
  return `strategy s backtrader "${spec}"
study "s" {
  data "${sampleData('orcl-2014.txt')}"${extra ? `\n  ${extra}` : ''}
  strategy s
  objective maximize final_value
  stage "g" {
    param pfast in [5, 8, 10, 12]
    param pslow in [20, 30]
  }
  workers ${workers}
}`;
}

for (const workers of [1, 2]) {
  test(`${workers} worker(s): the script is imported once per worker — the first worker's process also described it`, { skip, timeout: 120_000 }, async () => {
    const dir = folder('mine.py:make', workers);
    const trials = await runFolder(dir);
    assert.equal(trials.length, 8);
    assert.deepEqual(trials.filter((t) => t.state !== 'complete').map((t) => t.error), []);
    const imports = readFileSync(path.join(dir, 'imports.log'), 'utf8').trim().split('\n').map(Number);
    const served = new Set(trials.map((t) => t.metrics['proc.pid']));
    // One import per worker process, each of them serving trials (the describing one included).
    assert.equal(imports.length, workers, `imports by ${imports.join(', ')}`);
    assert.deepEqual([...served].sort(), [...imports].sort());
    assert.ok(await waitFor(() => processesIn(dir).length === 0, 5000), `left behind: ${processesIn(dir).join('; ')}`);
  });
}

test('a run whose SPEC names nothing stops at its checks with "did you mean"; the process started for it ends', { skip, timeout: 120_000 }, async () => {
  const dir = folder('mine.py:mak', 1);
  await assert.rejects(
    runStudy({ file: path.join(dir, 'study.optstudy'), out: path.join(dir, 'run'), createExecutor: chooseExecutor, checkOptions: hostCheckOptions }, () => {}, new AbortController().signal),
    (e: Error & { findings?: string[] }) => {
      assert.match((e.findings ?? []).join('\n'), /'mine\.py' has no 'mak' \(did you mean 'make'\?\)/);
      return true;
    },
  );
  assert.ok(await waitFor(() => processesIn(dir).length === 0, 5000), `left behind: ${processesIn(dir).join('; ')}`);
});

test('processes started for more workers than the run uses end with the run; one process serves it', { skip, timeout: 120_000 }, async () => {
  // The study says `workers 2` (two processes start during the checks); the run is given one.
  const dir = folder('mine.py:make', 2);
  const c = collector();
  const end = await runStudy(
    { file: path.join(dir, 'study.optstudy'), out: path.join(dir, 'run'), workers: 1, createExecutor: chooseExecutor, checkOptions: hostCheckOptions },
    c.onEvent,
    new AbortController().signal,
  );
  assert.equal(end.status, 'finished', end.error);
  assert.equal(new Set(c.trials().map((t) => t.metrics['proc.pid'])).size, 1);
  assert.ok(await waitFor(() => processesIn(dir).length === 0, 5000), `left behind: ${processesIn(dir).join('; ')}`);
});

for (const validate of ['holdout 30%', 'walkforward { folds 3, train 60% }']) {
  test(`validate ${validate}: the out-of-sample re-runs${validate.startsWith('walk') ? ' and every fold' : ''} use the run's own processes — two workers, two imports`, { skip, timeout: 180_000 }, async () => {
    const dir = folder('mine.py:make', 2, `validate ${validate}`);
    const { end } = await runFolderToEnd(dir);
    type Side = { score: number | null; metrics: Record<string, number | null> };
    const report = end.validation?.report as { rows?: { outOfSample: Side }[]; folds?: { outOfSample: Side }[] } | undefined;
    const outOfSample = (validate.startsWith('walk') ? report?.folds : report?.rows)?.map((r) => r.outOfSample) ?? [];
    assert.ok(outOfSample.length >= (validate.startsWith('walk') ? 3 : 1), JSON.stringify(end.validation));
    for (const o of outOfSample) assert.equal(typeof o.score, 'number', JSON.stringify(o));
    // Before, each step started Python again: the validation's process, and two per fold.
    const imports = readFileSync(path.join(dir, 'imports.log'), 'utf8').trim().split('\n');
    assert.equal(imports.length, 2, `imports by ${imports.join(', ')}`);
    // The re-runs ran on those processes.
    for (const o of outOfSample) assert.ok(imports.includes(String(o.metrics['proc.pid'])), `re-run on ${o.metrics['proc.pid']}`);
    assert.ok(await waitFor(() => processesIn(dir).length === 0, 5000), `left behind: ${processesIn(dir).join('; ')}`);
  });
}

// A script that expects what a Python process does at its end: files it left open flushed (one
// per trial, held by the strategy; one held by the module) and its atexit handler run.
const AT_EXIT = `import atexit
import os
import backtrader as bt
from parity import SmaCross

HERE = os.path.dirname(os.path.abspath(__file__))
LOG = open(os.path.join(HERE, "module.log"), "a")
atexit.register(lambda: open(os.path.join(HERE, "atexit.log"), "a").write("%d\\n" % os.getpid()))


class Logged(SmaCross):
    def __init__(self):
        super().__init__()
        self.log = open(os.path.join(HERE, "trial-%d.log" % id(self)), "a")  # never closed

    def stop(self):
        self.log.write("stop\\n")
        LOG.write("stop\\n")


def make(pfast=10, pslow=30):
    cerebro = bt.Cerebro()
    cerebro.adddata(bt.feeds.YahooFinanceCSVData(dataname=${JSON.stringify(sampleData('orcl-2014.txt'))}, adjclose=False))
    cerebro.addstrategy(Logged, pfast=pfast, pslow=pslow)
    return cerebro
`;

test('a bridge process ends as Python would for the script: files it left open are flushed, its atexit handlers run', { skip, timeout: 120_000 }, async () => {
  const dir = scratchStudy({ 'mine.py': AT_EXIT, 'study.optstudy': study('mine.py:make', 2, '') });
  copyFileSync(fixture('parity.py'), path.join(dir, 'parity.py'));
  const trials = await runFolder(dir);
  assert.equal(trials.length, 8);
  assert.ok(await waitFor(() => processesIn(dir).length === 0, 5000), `left behind: ${processesIn(dir).join('; ')}`);
  const lines = (f: string): number => readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean).length;
  const logs = readdirSync(dir).filter((f) => f.startsWith('trial-'));
  assert.deepEqual(
    { module: lines('module.log'), trials: logs.reduce((n, f) => n + lines(f), 0), files: logs.length, atexit: lines('atexit.log') },
    { module: 8, trials: 8, files: 8, atexit: 2 },
  );
});
