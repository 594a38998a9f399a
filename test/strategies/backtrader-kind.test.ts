/**
 * The backtrader strategy kind beyond parity (#18), each case a bug the old command bridge had:
 * a bare `bt.Strategy` class (file and `module:Class` forms, imported from the study's folder)
 * in the bridge's default Cerebro reproduces the built-in sma_cross; `sizing percent` sizes a
 * tutorial's `self.sell()` exit by the position, not from cash; a wiped-out account (-inf
 * returns) completes without a timeout; a trial that raises fails alone with its traceback
 * while the same Python process serves the others; a print that looks like an answer is log;
 * `check` names a wrong class or parameter with "did you mean"; a run whose every trial failed
 * exits 3 with the first error. Real backtrader, real processes.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runStudy } from '../../server/run/run-study';
import { chooseExecutor, hostCheckOptions } from '../../server/host/executors';
import type { TrialEvent } from '../../protocol/run-events';
import { collector, repoRoot, sampleData } from '../support/run-fixtures';
import { backtraderMissing, fixture, optstrategy } from './backtrader-env';
import { runFolderToEnd } from './backtrader-runs';
import { scratchStudy } from './procs';

const skip = backtraderMissing();

/** A study folder with parity.py beside the study (the user's script in their project). */
function project(text: string): string {
  const dir = scratchStudy({ 'study.optstudy': text });
  copyFileSync(fixture('parity.py'), path.join(dir, 'parity.py'));
  return dir;
}

async function run(dir: string): Promise<{ trials: TrialEvent[]; status: string }> {
  const c = collector();
  const end = await runStudy(
    { file: path.join(dir, 'study.optstudy'), out: path.join(dir, 'run'), createExecutor: chooseExecutor, checkOptions: hostCheckOptions },
    c.onEvent,
    new AbortController().signal,
  );
  return { trials: c.trials(), status: end.status ?? 'finished' };
}

const orcl = `data "${sampleData('orcl-1995-2014.txt')}" from 2005-01-01 to 2014-12-31
  cash 100000
  commission 0.1%
  sizing percent 95`;

function classStudy(spec: string, fast: string, slow: string, extra = ''): string {
  return `${extra}
study "s" {
  ${orcl}
  strategy ${spec}
  objective maximize sharpe
  stage "grid" {
    param ${fast} in [5, 10, 20]
    param ${slow} in [30, 60]
  }
  workers 2
}`;
}

test('a bare bt.Strategy class (file.py:Class and module:Class, imported from the study folder) reproduces the built-in sma_cross', { skip, timeout: 300_000 }, async () => {
  const builtin = await run(scratchStudy({ 'study.optstudy': classStudy('sma_cross', 'fast', 'slow') }));
  for (const spec of ['parity.py:SmaCross', 'parity:SmaCross']) {
    const ours = await run(project(classStudy('bt', 'pfast', 'pslow', `strategy bt backtrader "${spec}"`)));
    assert.equal(ours.trials.length, 6, spec);
    for (const t of ours.trials) {
      assert.equal(t.state, 'complete', `${spec}: ${t.error}`);
      const b = builtin.trials.find((x) => x.params.fast === t.params.pfast && x.params.slow === t.params.pslow)!;
      for (const k of ['final_value', 'sharpe', 'trades', 'max_drawdown_pct', 'returns_rnorm100', 'sqn', 'bars'])
        assert.equal(t.metrics[k], b.metrics[k], `${spec} ${JSON.stringify(t.params)} ${k}`);
    }
  }
});

test('sizing percent sizes a self.sell() exit by the open position, not from cash', { skip, timeout: 300_000 }, async () => {
  const sell = await run(project(classStudy('bt', 'pfast', 'pslow', 'strategy bt backtrader "parity.py:SellExit"')));
  const close = await run(project(classStudy('bt', 'pfast', 'pslow', 'strategy bt backtrader "parity.py:SmaCross"')));
  for (const t of sell.trials) {
    assert.equal(t.state, 'complete', t.error);
    assert.ok((t.metrics.final_value as number) > 0, `final value ${t.metrics.final_value}`);
    assert.ok((t.metrics.end_position_size as number) >= 0, 'a sell exit never opens a short');
    const c = close.trials.find((x) => x.params.pfast === t.params.pfast && x.params.pslow === t.params.pslow)!;
    assert.equal(t.metrics.final_value, c.metrics.final_value, JSON.stringify(t.params));
  }
});

test('a wiped-out account (negative value, -inf log returns) is a complete trial, without a timeout', { skip, timeout: 120_000 }, async () => {
  const dir = project(`strategy w backtrader "parity.py:Wipeout"
study "s" {
  data "${sampleData('nvda-1999-2014.txt')}"
  sizing fixed 1
  strategy w
  objective maximize final_value
  stage "grid" {
    param size in [100000, 200000]
  }
}`);
  const { trials, end } = await runFolderToEnd(dir);
  for (const t of trials) {
    assert.equal(t.state, 'complete', t.error);
    assert.ok((t.metrics.final_value as number) < 0);
    assert.equal(t.metrics.returns_rtot, null);
  }
});

test('a trial that raises fails alone with its traceback; one Python process serves every trial; a print like an answer is log', { skip, timeout: 120_000 }, async () => {
  const dir = project(`strategy f backtrader "parity.py:failing"
study "s" {
  data "${sampleData('orcl-2014.txt')}"
  strategy f
  objective maximize final_value
  stage "grid" {
    param period in [2, 3, 4, 5, 6]
  }
  workers 1
}`);
  const { trials } = await run(dir);
  const failed = trials.filter((t) => t.state === 'failed');
  assert.deepEqual(
    failed.map((t) => t.params.period),
    [3],
  );
  assert.match(failed[0]!.error!, /^ZeroDivisionError: division by zero\nTraceback \(most recent call last\):/);
  assert.match(failed[0]!.error!, /parity\.py", line \d+, in next/);
  const ok = trials.filter((t) => t.state === 'complete');
  assert.equal(ok.length, 4);
  assert.equal(new Set(ok.map((t) => t.metrics['proc.pid'])).size, 1, 'one process for every trial');
  for (const t of ok) {
    assert.notEqual(t.metrics.final_value, -1);
    assert.match(t.log ?? '', /"id": 1, "metrics"/);
  }
});

test('check names a wrong class or a parameter the class lacks, with "did you mean", before any trial', { skip, timeout: 120_000 }, () => {
  const dir = project(`strategy bt backtrader "parity.py:SmaCros"
strategy ok backtrader "parity.py:SmaCross"
study "a" {
  data "data.txt"
  strategy bt
  objective maximize sharpe
  stage "g" {
    param pfast in [5, 10]
  }
}
study "b" {
  data "data.txt"
  strategy ok
  objective maximize ta.won.total
  stage "g" {
    param pfas in [5, 10]
  }
}`);
  writeFileSync(path.join(dir, 'data.txt'), 'Date,Open,High,Low,Close,Volume\n2014-01-02,1,1,1,1,0\n');
  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'check', path.join(dir, 'study.optstudy')], { encoding: 'utf8' });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /1:\d+: error backtrader-spec: 'parity\.py' has no 'SmaCros' \(did you mean 'SmaCross'\?\)/);
  assert.match(r.stdout, /'pfas' is not a parameter of 'ok': did you mean 'pfast'\?/);
  // SmaCross adds no analyzer: ta.* is no metric of it.
  assert.match(r.stdout, /unknown analyzer 'ta'/);
});

test('without a Python that imports backtrader, check warns on the SPEC why it could not check it, and a run says so when it starts', { timeout: 120_000 }, () => {
  const dir = project(`strategy ok backtrader "parity.py:SmaCross"
study "b" {
  data "data.txt"
  strategy ok
  objective maximize sharpe
  stage "g" {
    param pfas in [5, 10]
  }
}`);
  copyFileSync(path.join(repoRoot(), 'samples', 'data', 'orcl-2014.txt'), path.join(dir, 'data.txt'));
  // The oracle's backtrader off the path: this python3 has none of its own (no pip here).
  const env = { ...process.env, PYTHONPATH: '', OPTSTUDY_PYTHON: 'python3' };
  const bare = spawnSync('python3', ['-c', 'import backtrader'], { env });
  assert.notEqual(bare.status, 0, 'this test needs a python3 without backtrader');
  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'check', path.join(dir, 'study.optstudy')], { encoding: 'utf8', env });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /1:\d+: warning backtrader-spec: backtrader is not importable by .*: install it for this Python, or set OPTSTUDY_PYTHON: the factory and its parameters are not checked/);
  // Nothing to check the parameters against: no error for them.
  assert.doesNotMatch(r.stdout, /pfas/);
  // A run says it once when it starts, before its trials fail for that reason.
  const run = spawnSync(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'run', path.join(dir, 'study.optstudy'), '--json', '--out', path.join(dir, 'run')], { encoding: 'utf8', env });
  const events = run.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as { type: string; level?: string; message?: string });
  const warned = events.findIndex((e) => e.type === 'log' && e.level === 'warning' && /backtrader is not importable/.test(e.message ?? ''));
  assert.ok(warned >= 0, run.stdout + run.stderr);
  assert.ok(warned < events.findIndex((e) => e.type === 'trial'), 'the warning comes before the first trial');
});

test('optstudy run: every trial failed → exit status 3 and the first error (with its traceback) on stderr', { skip, timeout: 120_000 }, () => {
  const dir = project(`strategy f backtrader "parity.py:failing"
study "s" {
  data "${sampleData('orcl-2014.txt')}"
  strategy f
  objective maximize final_value
  stage "grid" {
    param period in [3]
  }
}`);
  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'run', path.join(dir, 'study.optstudy'), '--out', path.join(dir, 'run')], { encoding: 'utf8' });
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stderr, /ZeroDivisionError/);
});

test('optstudy backtest --backtrader: one run of a factory, metrics as optstrategy computes them, its round trips', { skip, timeout: 120_000 }, () => {
  const [row] = optstrategy('own_sizer', { pfast: [10], pslow: [30] });
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot(), 'dist', 'cli.js'), 'backtest', '--backtrader', `${fixture('parity.py')}:own_sizer`, '--param', 'pfast=10', '--param', 'pslow=30', '--json'],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { metrics: Record<string, number | null>; trades: { pnl: number; pnlcomm: number; entry_date: string; exit_date: string; size: number; exit_price: number }[] };
  for (const [k, v] of Object.entries(row!.metrics)) assert.equal(out.metrics[k], v, k);
  assert.equal(out.trades.length, out.metrics.trades_closed);
  let net = 0;
  for (const t of out.trades) net += t.pnlcomm;
  assert.equal(net, out.metrics['ta.pnl.net.total']);
  assert.ok(out.trades.every((t) => t.size > 0 && t.exit_date >= t.entry_date && t.exit_price > 0));
});

test('holdout on 5-minute bars: the in-sample head ends at a bar time, and the bridge cuts its feed there (not the whole day)', { skip, timeout: 300_000 }, async () => {
  const dir = project(`strategy p backtrader "parity.py:intraday"
study "intraday holdout" {
  data "2006-min-005.txt"
  strategy p
  objective maximize final_value
  stage "grid" {
    search grid
    param pfast in [5, 10]
    param pslow in [20, 40]
  }
  validate holdout 37%
  workers 2
}`);
  copyFileSync(fixture('2006-min-005.txt'), path.join(dir, '2006-min-005.txt'));
  const { trials, end } = await runFolderToEnd(dir);
  // The head as the run cuts it, from the file: the first 63 % of its bars.
  const bars = readFileSync(fixture('2006-min-005.txt'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
  const last = bars[bars.length - Math.round(bars.length * 0.37) - 1]!;
  const to = `${last[0]}T${last[1]}`;
  assert.notEqual(last[1], bars.filter((b) => b[0] === last[0]).pop()![1], 'the split falls inside a day');
  const direct = (window: string[], params: Record<string, unknown> = { pfast: 10, pslow: 20 }): Record<string, number | null> => {
    const r = spawnSync(
      process.execPath,
      [path.join(repoRoot(), 'dist', 'cli.js'), 'backtest', '--backtrader', path.join(dir, 'parity.py:intraday'), ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`]), ...window, '--json'],
      { encoding: 'utf8', cwd: dir },
    );
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { metrics: Record<string, number | null> }).metrics;
  };
  const t = trials.find((x) => x.params.pfast === 10 && x.params.pslow === 20);
  assert.equal(t?.state, 'complete', t?.error);
  assert.equal(trials.length, 4);
  assert.ok(trials.every((x) => x.state === 'complete'), trials.map((x) => x.error).join('\n'));
  const head = direct(['--to', to]);
  for (const [k, v] of Object.entries(head)) assert.equal(t!.metrics[k], v, k);
  // The Trial card's re-run (optstudy trial) cuts the same head.
  const replay = spawnSync(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'trial', path.join(dir, 'study.optstudy'), '--params', JSON.stringify({ pfast: 10, pslow: 20 }), '--json'], { encoding: 'utf8', cwd: dir });
  assert.equal(replay.status, 0, replay.stderr);
  const again = (JSON.parse(replay.stdout) as { metrics: Record<string, number | null> }).metrics;
  for (const k of ['final_value', 'trades_total', 'sharpe']) assert.equal(again[k], head[k], `optstudy trial: ${k}`);
  // A whole-day cut would trade the rest of that day too.
  assert.notEqual(direct(['--to', last[0]!]).final_value, head.final_value);
  // Out of sample: from the next bar's time, on the run's own bridge process.
  const next = bars[bars.length - Math.round(bars.length * 0.37)]!;
  type Row = { params: Record<string, unknown>; outOfSample: { metrics: Record<string, number | null> } };
  const rows = (end.validation?.report as { rows?: Row[] } | undefined)?.rows ?? [];
  assert.ok(rows.length > 0, JSON.stringify(end.validation));
  for (const row of rows) {
    const tail = direct(['--from', `${next[0]}T${next[1]}`], row.params);
    for (const k of ['final_value', 'trades_total', 'sharpe']) assert.equal(row.outOfSample.metrics[k], tail[k], k);
  }
});
