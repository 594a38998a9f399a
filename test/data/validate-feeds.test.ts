/**
 * `validate holdout` and `validate walkforward` on studies with several feeds — a momentum
 * rotation over three stocks and an SMA basket of the same three — run through the built CLI
 * (`optstudy run`). The windows are cut on the feeds' common calendar (the union of their bar
 * dates, computed here independently from the files), and every out-of-sample number is
 * checked against a separate backtest on that window: `optstudy backtest --data … --from --to`
 * for the rotation (and each basket symbol), the engine on the files loaded with the window's
 * dates for the basket's summed account, and real backtrader (../shared/oracle) for the
 * rotation. NVDA starts in 1999, after the studies' start: a late starter inside the first
 * windows. The report and the panel's reader show the same validation as the journal, and the
 * Trial card's re-run (`optstudy trial`) of a holdout trial uses the same in-sample head.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Metrics, ParamValues, RunValidation, TrialEvent } from '../../protocol/run-events';
import { readJournal } from '../../protocol/journal-reader';
import { formatDate, loadPrices, runBacktest, type StrategyDefinition } from '../../server/engine';
import { basketClock, runBasket, splitSymbolMetrics, symbolNames } from '../../server/data/basket';
import { loadStudy } from '../../server/run/run-study';
import { loadRunData, resolveStudy } from '../../server/run/resolve';
import { holdoutWindow, windowDates } from '../../server/run/validate-run';
import { cutFeeds, windowClock } from '../../server/data/windows';
import type { StudyModel } from '../../grammar';
import { replayTrial } from '../../server/analysis/replay';
import { validateRun } from '../../server/report/validation';
import { scoreTrial } from '../../server/run/plan';
import { eventsFromJournal } from '../../client/journal';
import { modelFromEvents } from '../../client/run-model';
import { DATA, ROOT, type OracleResult, type OracleScenario } from '../support/engine-golden';
import { same } from '../support/oracle-compare';
import { ORACLE, oracleSkipReason, python } from '../support/oracle-process';
import { sampleData, tempStudy } from '../support/run-fixtures';
import { backtraderMissing } from '../strategies/backtrader-env';

const CLI = path.join(ROOT, 'dist', 'cli.js');
const FILES = ['orcl-1995-2014.txt', 'yhoo-1996-2014.txt', 'nvda-1999-2014.txt'];
const FROM = '1998-06-01';
const TO = '2009-12-31';
const CONFIG = { cash: 100000, commission: 0.001, sizing: { kind: 'percent' as const, value: 95 } };
const WF = 'validate walkforward { folds 3, train 60% }';
const HOLDOUT = 'validate holdout 30%';

function rotation(validate: string): string {
  return `study "rotation" {
  data [${FILES.map((f) => `"${f}"`).join(', ')}] from ${FROM} to ${TO}
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy momentum_rotation
  objective maximize sharpe
  stage "grid" {
    param lookback in [10, 20, 40]
    param top in [1, 2]
    param rebalance in [5, 20]
  }
  ${validate}
  workers 1
  seed 3
}
`;
}

function basket(validate: string): string {
  return `study "basket" {
  data basket [${FILES.map((f) => `"${f}"`).join(', ')}] from ${FROM} to ${TO}
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize mean(sharpe)
  constraint min(trades) >= 3
  stage "grid" {
    param fast in [5, 10, 20]
    param slow in [30, 60]
  }
  ${validate}
  workers 1
  seed 3
}
`;
}

function cli(cwd: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', cwd, timeout: 180_000 });
  assert.equal(r.status, 0, `optstudy ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** `optstudy run` of a study text in a temp folder: the folder, the run folder, its journal. */
function runStudyCli(text: string): { dir: string; runDir: string; trials: TrialEvent[]; validation: RunValidation } {
  const dir = tempStudy({ 's.optstudy': text });
  const runDir = path.join(dir, 'run');
  cli(dir, 'run', 's.optstudy', '--out', runDir);
  const j = readJournal(runDir);
  assert.equal(j.end?.status, 'finished');
  assert.ok(j.end?.validation, 'the run recorded its validation');
  return { dir, runDir, trials: j.trials, validation: j.end.validation };
}

/** The feeds' common calendar, computed from the files alone: every date any feed has a bar on. */
function unionDates(): string[] {
  const days = new Set<number>();
  for (const f of FILES) for (const d of loadPrices(path.join(DATA, f), { from: FROM, to: TO }).date) days.add(d);
  return [...days].sort((a, b) => a - b).map(formatDate);
}

/** One window `[start, end)` of the union calendar: its bounds and dates agree. */
function checkWindow(w: { start: number; end: number; from: string; to: string }, dates: string[], what: string): void {
  assert.equal(w.from, dates[w.start], `${what}: from`);
  assert.equal(w.to, dates[w.end - 1], `${what}: to`);
}

/** `optstudy backtest` of the files on a window; its metrics (as a trial's: numbers only). */
function backtestCli(dir: string, files: string[], strategy: string, params: ParamValues, from: string, to: string): Metrics {
  const args = ['backtest', ...files.flatMap((f) => ['--data', f]), '--strategy', strategy, ...Object.entries(params).flatMap(([k, v]) => ['--param', `${k}=${v}`]), '--from', from, '--to', to, '--json'];
  const m = (JSON.parse(cli(dir, ...args)) as { metrics: Record<string, unknown> }).metrics;
  for (const k of ['yearly_returns', 'first_next_date', 'end_positions']) delete m[k];
  return m as Metrics;
}

/** The window's out-of-sample rows of a validation: params, window, metrics. */
function oosRows(v: RunValidation): { params: ParamValues; from: string; to: string; metrics: Metrics; symbols?: { symbol: string; metrics: Metrics }[]; score: number | null }[] {
  if (v.kind === 'holdout') return v.report.rows.map((r) => ({ params: r.params, from: v.report.outOfSample.from, to: v.report.outOfSample.to, ...r.outOfSample }));
  return v.report.folds.map((f) => ({ params: f.params, from: f.test.from, to: f.test.to, ...f.outOfSample }));
}

/** Real backtrader on each window: every metric it prints equals ours, bit for bit. */
async function checkOracle(rows: ReturnType<typeof oosRows>, dir: string): Promise<void> {
  const scenarios: OracleScenario[] = rows.map((r) => ({
    strategy: 'momentum_rotation',
    params: r.params as Record<string, number>,
    data: FILES,
    from: r.from,
    to: r.to,
    cash: 100000,
    commission: { type: 'percent', rate: 0.001 },
    slippage: null,
    sizing: { type: 'percent', percent: 95 },
  }));
  const file = path.join(dir, 'scenarios.json');
  writeFileSync(file, JSON.stringify(scenarios));
  const want = JSON.parse(await python([path.join(ORACLE, 'oracle.py'), file, '--data-dir', DATA])) as OracleResult[];
  const problems: string[] = [];
  rows.forEach((r, k) => {
    assert.equal(want[k]!.error, undefined, JSON.stringify(want[k]!.error));
    let compared = 0;
    for (const [key, v] of Object.entries(want[k]!.metrics)) {
      if (key === 'yearly_returns' || key === 'first_next_date' || key === 'end_positions') continue;
      if (!same(v, r.metrics[key])) problems.push(`${r.from} … ${r.to} ${JSON.stringify(r.params)} ${key}: backtrader ${String(v)}, ours ${String(r.metrics[key])}`);
      compared++;
    }
    assert.ok(compared >= 30, `${compared} metrics compared`);
  });
  assert.deepEqual(problems, []);
}

/** The report (`optstudy report --json`) and the panel's journal reader carry the run's validation as recorded. */
function checkReaders(dir: string, runDir: string, v: RunValidation): void {
  const recorded = JSON.parse(JSON.stringify(v)) as RunValidation;
  const report = JSON.parse(cli(dir, 'report', runDir, '--json', '-')) as { validation: RunValidation[] };
  // The JSON summary leaves the stitched equity curve out (the HTML report draws it).
  assert.deepEqual(report.validation, [JSON.parse(JSON.stringify(recorded, (k, x: unknown) => (k === 'stitchedEquity' ? undefined : x)))]);
  if (v.kind === 'walkforward') assert.ok(v.report.stitchedEquity.length > 100, 'the run kept the stitched out-of-sample equity');
  const { events, warnings } = eventsFromJournal(readFileSync(path.join(runDir, 'journal.jsonl'), 'utf8'), runDir);
  assert.deepEqual(warnings, []);
  assert.deepEqual(modelFromEvents('r', events).snapshot().validation, recorded);
  const text = cli(dir, 'report', runDir);
  assert.match(text, v.kind === 'holdout' ? /Holdout: optimized on/ : /Walk-forward: 3 folds/);
}

const dates = unionDates();

test('rotation + holdout: the in-sample head and the held-out tail are cut on the feeds\' common calendar; OOS = optstudy backtest = backtrader', { skip: oracleSkipReason() }, async () => {
  const { dir, runDir, trials, validation: v } = runStudyCli(rotation(HOLDOUT));
  assert.equal(v.kind, 'holdout');
  if (v.kind !== 'holdout') return;
  const h = v.report;
  assert.equal(h.outOfSample.end, dates.length, 'the tail ends at the last day any feed has');
  assert.equal(h.outOfSample.end - h.outOfSample.start, Math.round(dates.length * 0.3));
  assert.deepEqual([h.inSample.start, h.inSample.end], [0, h.outOfSample.start]);
  checkWindow(h.inSample, dates, 'in sample');
  checkWindow(h.outOfSample, dates, 'out of sample');
  // Every trial optimized on the head only: each feed loaded with the head's dates.
  const head = FILES.map((f) => loadPrices(path.join(DATA, f), { from: FROM, to: h.inSample.to }));
  assert.ok(head[2]!.date[0]! > head[0]!.date[0]!, 'NVDA starts late inside the head');
  assert.equal(trials.length, 12);
  for (const t of trials) assert.deepEqual(t.metrics, runBacktest(head, 'momentum_rotation', t.params, CONFIG, { trades: false }).metrics, `trial ${t.number}`);
  // The Trial card (`optstudy trial`) re-runs a trial on the same head, on the same calendar.
  const replay = await replayTrial({ file: path.join(dir, 's.optstudy'), params: trials[0]!.params });
  assert.deepEqual(replay.metrics, trials[0]!.metrics);
  assert.deepEqual([replay.equity.dates[0], replay.equity.dates.at(-1), replay.equity.values.length], [dates[0], h.inSample.to, h.inSample.end]);
  // The finalists' out-of-sample numbers are a separate backtest of the tail, bit for bit.
  const rows = oosRows(v);
  assert.equal(rows.length, 5);
  for (const r of rows) assert.deepEqual(r.metrics, backtestCli(dir, FILES, 'momentum_rotation', r.params, r.from, r.to), JSON.stringify(r.params));
  await checkOracle(rows, dir);
  checkReaders(dir, runDir, v);
  // `optstudy report` on a run that did not record its validation re-ranks the trials on the
  // same windows: the same split, the same finalists, the same out-of-sample numbers.
  const model = loadStudy(path.join(dir, 's.optstudy')).model;
  const again = await validateRun(path.join(dir, 's.optstudy'), model, trials);
  assert.ok(again.result?.kind === 'holdout', again.reason);
  assert.deepEqual([again.result.report.inSample, again.result.report.outOfSample], [h.inSample, h.outOfSample]);
  assert.deepEqual(again.result.report.rows.map((r) => [r.params, r.outOfSample.metrics]), h.rows.map((r) => [r.params, r.outOfSample.metrics]));
});

test('rotation + walk-forward: each fold optimizes on its training window and tests on the next, all feeds on one calendar; OOS = optstudy backtest = backtrader', { skip: oracleSkipReason() }, async () => {
  const { dir, runDir, validation: v } = runStudyCli(rotation(WF));
  assert.equal(v.kind, 'walkforward');
  if (v.kind !== 'walkforward') return;
  const folds = v.report.folds;
  assert.equal(folds.length, 3);
  assert.equal(folds[2]!.test.end, dates.length);
  for (const f of folds) {
    checkWindow(f.train, dates, `fold ${f.fold} train`);
    checkWindow(f.test, dates, `fold ${f.fold} test`);
    assert.equal(f.test.start, f.train.end);
    // The fold's best comes from its own nested run on the training window.
    const fold = readJournal(path.join(runDir, 'walkforward', `fold-${f.fold}`));
    assert.deepEqual(f.params, fold.end?.best?.params);
    const train = FILES.map((file) => loadPrices(path.join(DATA, file), { from: f.train.from, to: f.train.to }));
    for (const t of fold.trials) assert.deepEqual(t.metrics, runBacktest(train, 'momentum_rotation', t.params, CONFIG, { trades: false }).metrics, `fold ${f.fold} trial ${t.number}`);
    assert.deepEqual(f.inSample.metrics, backtestCli(dir, FILES, 'momentum_rotation', f.params, f.train.from, f.train.to), `fold ${f.fold} in sample`);
  }
  const rows = oosRows(v);
  for (const r of rows) assert.deepEqual(r.metrics, backtestCli(dir, FILES, 'momentum_rotation', r.params, r.from, r.to), `${r.from} … ${r.to}`);
  // The stitched out-of-sample equity runs on the same calendar: per tick of the test windows.
  const stitched = v.report.stitchedEquity;
  const tested = new Set(dates.slice(folds[0]!.test.start));
  assert.ok(stitched.every((p) => tested.has(p.date)));
  assert.equal(stitched[stitched.length - 1]!.date, dates[dates.length - 1]);
  // The first fold's training window starts before NVDA's first bar: a late starter.
  assert.ok(dates[0]! < '1999-01-22' && folds[0]!.train.from === dates[0]);
  await checkOracle([...rows, ...folds.map((f) => ({ params: f.params, from: f.train.from, to: f.train.to, ...f.inSample }))], dir);
  checkReaders(dir, runDir, v);
});

/** A basket window: the summed account = the engine's basket on the files loaded with the window's dates; each symbol = `optstudy backtest` of that symbol; the score = the study's objective over the symbols. */
function checkBasketWindow(dir: string, plan: ReturnType<typeof loadStudy>['plan'], r: ReturnType<typeof oosRows>[number]): void {
  const feeds = FILES.map((f) => loadPrices(path.join(DATA, f), { from: r.from, to: r.to }));
  const names = symbolNames(FILES);
  const direct = splitSymbolMetrics(runBasket(feeds, basketClock(feeds), 'sma_cross', r.params, CONFIG), names);
  assert.deepEqual(r.metrics, direct.metrics, `${r.from} … ${r.to}: the summed account`);
  assert.deepEqual(r.symbols?.map((s) => s.symbol), names);
  r.symbols!.forEach((s, i) => assert.deepEqual(s.metrics, backtestCli(dir, [FILES[i]!], 'sma_cross', r.params, r.from, r.to), `${r.from} … ${r.to}: ${s.symbol}`));
  assert.equal(r.score, scoreTrial({ objectives: plan.objectives, constraints: [] }, r.params, r.metrics, r.symbols).score);
  // mean(sharpe) is the symbols' mean, not the summed account's Sharpe.
  const mean = r.symbols!.reduce((a, s) => a + (s.metrics.sharpe as number), 0) / names.length;
  assert.ok(Math.abs(r.score! - mean) < 1e-12 && r.score !== r.metrics.sharpe);
}

test('basket + holdout and walk-forward: each window runs every symbol on its dates; the summed account and each symbol equal separate backtests', async () => {
  for (const validate of [HOLDOUT, WF]) {
    const { dir, runDir, trials, validation: v } = runStudyCli(basket(validate));
    const plan = loadStudy(path.join(dir, 's.optstudy')).plan;
    const rows = oosRows(v);
    assert.equal(rows.length, v.kind === 'holdout' ? 5 : 3);
    if (v.kind === 'holdout') {
      checkWindow(v.report.inSample, dates, 'in sample');
      checkWindow(v.report.outOfSample, dates, 'out of sample');
      // In-sample trials: the basket on the head (NVDA a late starter there).
      const head = FILES.map((f) => loadPrices(path.join(DATA, f), { from: FROM, to: v.report.inSample.to }));
      for (const t of trials) assert.deepEqual(t.metrics, splitSymbolMetrics(runBasket(head, basketClock(head), 'sma_cross', t.params, CONFIG), symbolNames(FILES)).metrics, `trial ${t.number}`);
      // The Trial card re-runs each symbol on the same head.
      const replay = await replayTrial({ file: path.join(dir, 's.optstudy'), params: trials[0]!.params });
      assert.deepEqual(replay.metrics, trials[0]!.metrics);
      assert.deepEqual(replay.symbols?.map((s) => s.metrics), trials[0]!.symbols?.map((s) => s.metrics));
      // `optstudy report`'s own validation (for runs that did not record one): the same rows.
      const again = await validateRun(path.join(dir, 's.optstudy'), loadStudy(path.join(dir, 's.optstudy')).model, trials);
      assert.ok(again.result?.kind === 'holdout', again.reason);
      assert.deepEqual(again.result.report.rows.map((r) => [r.params, r.outOfSample]), v.report.rows.map((r) => [r.params, r.outOfSample]));
    } else {
      for (const f of v.report.folds) {
        checkWindow(f.test, dates, `fold ${f.fold} test`);
        checkBasketWindow(dir, plan, { params: f.params, from: f.train.from, to: f.train.to, ...f.inSample });
      }
    }
    for (const r of rows) checkBasketWindow(dir, plan, r);
    checkReaders(dir, runDir, v);
  }
});

/** A module over two feeds (`ctx.datas`): hold half the portfolio in whichever rose more over `lookback` bars. */
const PAIR_MODULE = `module.exports = {
  name: 'pair_momentum',
  params: [{ name: 'lookback', type: 'int', default: 20, min: 2 }, { name: 'every', type: 'int', default: 10, min: 1 }],
  setup(ctx, p) {
    const rocs = ctx.datas.map((d) => d.roc(Number(p.lookback)));
    return (bar) => {
      if (bar.tick % Number(p.every) !== 0) return;
      const a = rocs[0][ctx.datas[0].i], b = rocs[1][ctx.datas[1].i];
      const k = b > a ? 1 : 0;
      bar.orderTarget({ percent: 0, data: 1 - k });
      bar.orderTarget({ percent: 50, data: k });
    };
  },
};
`;

test('a module over ctx.datas + walk-forward: every fold and test window equals the module run directly on the feeds loaded with the window\'s dates', async () => {
  const text = `study "pair" {
  data ["${FILES[1]}", "${FILES[2]}"] from ${FROM} to ${TO}
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy module "pair.js"
  objective maximize sharpe
  stage "grid" {
    param lookback in [10, 40]
    param every in [5, 20]
  }
  ${WF}
  workers 1
  seed 5
}
`;
  const dir = tempStudy({ 's.optstudy': text, 'pair.js': PAIR_MODULE });
  const runDir = path.join(dir, 'run');
  cli(dir, 'run', 's.optstudy', '--out', runDir);
  const v = readJournal(runDir).end?.validation;
  assert.ok(v && v.kind === 'walkforward');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const strategy = require(path.join(dir, 'pair.js')) as StrategyDefinition;
  const two = [FILES[1]!, FILES[2]!];
  const calendar = new Set<number>();
  for (const f of two) for (const d of loadPrices(path.join(DATA, f), { from: FROM, to: TO }).date) calendar.add(d);
  const days = [...calendar].sort((a, b) => a - b).map(formatDate);
  let trades = 0;
  for (const f of v.report.folds) {
    checkWindow(f.train, days, `fold ${f.fold} train`);
    checkWindow(f.test, days, `fold ${f.fold} test`);
    for (const [w, got] of [[f.train, f.inSample.metrics], [f.test, f.outOfSample.metrics]] as const) {
      const feeds = two.map((file) => loadPrices(path.join(DATA, file), { from: w.from, to: w.to }));
      assert.deepEqual(got, runBacktest(feeds, strategy, f.params, CONFIG, { trades: false }).metrics, `fold ${f.fold} ${w.from} … ${w.to}`);
    }
    trades += f.outOfSample.metrics.trades_closed as number;
  }
  assert.ok(trades > 10, `${trades} out-of-sample trades`);
});

/** A backtrader strategy over two feeds: hold 45 % in whichever rose more over `lookback` bars. */
const PAIR_PY = `import backtrader as bt


class Pair(bt.Strategy):
    params = (("lookback", 20), ("every", 10))

    def __init__(self):
        self.rocs = [bt.indicators.RateOfChange(d, period=self.p.lookback) for d in self.datas]
        self.n = 0

    def next(self):
        self.n += 1
        if self.n % self.p.every:
            return
        k = 1 if self.rocs[1][0] > self.rocs[0][0] else 0
        self.order_target_percent(data=self.datas[1 - k], target=0.0)
        self.order_target_percent(data=self.datas[k], target=0.45)
`;

test('a backtrader strategy over two feeds + walk-forward: each window is given to every feed; OOS = optstudy backtest --backtrader on the window', { skip: backtraderMissing() ?? false }, () => {
  const two = [FILES[1]!, FILES[2]!];
  const text = `strategy pair backtrader "pair.py:Pair"

study "bt pair" {
  data [${two.map((f) => `"${f}"`).join(', ')}] from 2000-01-01 to 2009-12-31
  strategy pair
  objective maximize sharpe
  stage "grid" {
    param lookback in [10, 40]
    param every in [5, 20]
  }
  validate walkforward { folds 2, train 60% }
  workers 1
  seed 5
}
`;
  const dir = tempStudy({ 's.optstudy': text, 'pair.py': PAIR_PY });
  const runDir = path.join(dir, 'run');
  cli(dir, 'run', 's.optstudy', '--out', runDir);
  const v = readJournal(runDir).end?.validation;
  assert.ok(v && v.kind === 'walkforward' && v.report.folds.length === 2, JSON.stringify(v));
  for (const f of v.report.folds) {
    // The study's broker: no commission (the default), as the run's.
    const args = ['backtest', '--backtrader', 'pair.py:Pair', ...two.flatMap((file) => ['--data', file]), '--commission', '0', '--from', f.test.from, '--to', f.test.to, ...Object.entries(f.params).flatMap(([k, x]) => ['--param', `${k}=${x}`]), '--json'];
    const direct = (JSON.parse(cli(dir, ...args)) as { metrics: Metrics }).metrics;
    const keys = Object.keys(f.outOfSample.metrics);
    assert.ok(keys.length >= 30, `${keys.length} metrics`);
    assert.deepEqual(keys.filter((k) => JSON.stringify(f.outOfSample.metrics[k]) !== JSON.stringify(direct[k])), [], `fold ${f.fold}`);
  }
});

test('the window clock: one feed\'s bars, or the union of several feeds\' stamps (intraday ticks with their time, a daily bar at its day\'s end)', () => {
  const min5 = loadPrices(sampleData('2006-min-005.txt'));
  const one = windowClock([min5]);
  assert.equal(one.ticks, min5.bars);
  assert.deepEqual(windowDates(one).slice(0, 2), ['2006-01-02T09:05:00', '2006-01-02T09:10:00']);
  const h = holdoutWindow({ validate: { kind: 'holdout', fraction: 0.3 } } as StudyModel, one)!;
  assert.match(h.to, /^2006-01-\d\dT\d\d:\d\d:00$/);
  assert.deepEqual(cutFeeds([min5], one, h.start, h.end)[0]!.close, min5.close.subarray(0, h.end));
  // 5-minute bars beside daily bars of the same days: each day's daily bar is a tick after its last 5-minute bar.
  const day = loadPrices(sampleData('2006-day-001.txt'), { from: '2006-01-02', to: '2006-01-31' });
  const mixed = windowClock([min5, day]);
  const stamps = windowDates(mixed);
  assert.equal(mixed.ticks, min5.bars + day.bars);
  const k = stamps.indexOf('2006-01-03');
  assert.deepEqual([stamps[k - 1]!.slice(0, 10), stamps[k + 1]!.slice(0, 10)], ['2006-01-03', '2006-01-04']);
  // A window of that clock keeps, of each feed, its bars between the window's first and last tick.
  const cut = cutFeeds([min5, day], mixed, 0, k + 1);
  assert.deepEqual([cut[0]!.date[cut[0]!.bars - 1], cut[1]!.bars], [20060103, 2]);
});

test('a windowed run names the window on every feed for executors that read the files themselves: the same bars as the cut', () => {
  const dir = tempStudy({ 's.optstudy': rotation(HOLDOUT) });
  const data = loadRunData(resolveStudy({ file: path.join(dir, 's.optstudy') }), {});
  assert.ok(data.window && data.feeds.length === 3 && data.allFeeds.length === 3);
  const refs = data.payload.datas!;
  assert.deepEqual(refs.map((r) => [r.from, r.to]), Array(3).fill([dates[0], dates[data.window.end - 1]]));
  refs.forEach((r, k) => {
    const loaded = loadPrices(r.file, { from: r.from, to: r.to }, r.options);
    assert.deepEqual([loaded.bars, loaded.date[0], loaded.date[loaded.bars - 1]], [data.feeds[k]!.bars, data.feeds[k]!.date[0], data.feeds[k]!.date[data.feeds[k]!.bars - 1]], `feed ${k}`);
  });
  assert.deepEqual([data.payload.data.from, data.payload.data.to], [refs[0]!.from, refs[0]!.to]);
});

test('a feed without a bar in a validation window: the run stops before its first trial and says what to do', () => {
  // ORCL 2014 only, beside ORCL 1995–2014 from 2010: the early windows hold no 2014 bar.
  const text = basket(WF).replace(/data basket \[[^\]]*\] from \S+ to \S+/, 'data basket ["orcl-1995-2014.txt", "orcl-2014.txt"] from 2010-01-01');
  const dir = tempStudy({ 's.optstudy': text });
  const r = spawnSync(process.execPath, [CLI, 'run', 's.optstudy', '--out', path.join(dir, 'run')], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
  assert.equal(r.status, 1, r.stdout);
  // The error points at the `validate` statement (the window's source), not the study's first line.
  const validateLine = text.split('\n').findIndex((l) => /^\s*validate /.test(l)) + 1;
  assert.ok(validateLine > 0 && r.stderr.includes(`s.optstudy:${validateLine}:`), r.stderr);
  assert.match(r.stderr, /orcl-2014 has no bar in the window 2010-01-04 … \S+ \(its bars run 2014-01-02 … 2014-12-31\), and every feed is cut on the same dates: start the study's data \(from …\) where every feed has bars/);
  assert.equal(readJournalOrNull(path.join(dir, 'run')), null, 'no trial ran');
});

function readJournalOrNull(dir: string): unknown {
  try {
    return readJournal(dir).trials.length ? readJournal(dir) : null;
  } catch {
    return null;
  }
}
