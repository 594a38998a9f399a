/**
 * `validate holdout` / `validate walkforward` as part of `runStudy`, on the real ORCL price
 * file and real worker threads: the holdout's stages see only the in-sample bars (changing the
 * held-out bars changes no trial; every trial equals a direct backtest over the in-sample
 * slice), walk-forward folds recompute directly (a brute-force grid over each training window,
 * the best re-run on the test window, stitched equity), the end event and journal carry the
 * results, a resumed run finishes an interrupted validation with the same answer, and the CLI
 * (`run` and `report`) prints them.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { EndEvent, RunValidation, TrialEvent } from '../../protocol/run-events';
import { loadPrices, runBacktest, sliceBars, type BacktestConfig } from '../../server/engine';
import { loadStudy, runStudy } from '../../server/run/run-study';
import { scoreTrial } from '../../server/run/plan';
import { collector, essence, repoRoot, sampleData, tempStudy } from '../support/run-fixtures';

const ORCL = sampleData('orcl-1995-2014.txt');
const CONFIG: BacktestConfig = { cash: 100000, commission: 0.001, sizing: { kind: 'percent', value: 95 } };
const FROM = '2003-01-01';
const TO = '2014-12-31';

function study(data: string, validate: string): string {
  return `
study "validated" {
  data "${data}" from ${FROM} to ${TO}
  cash 100000
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize sharpe
  constraint trades >= 3
  stage "grid" {
    param fast in [5, 10, 15, 20]
    param slow in [30, 50, 80]
    where fast < slow
  }
  ${validate}
  seed 11
}
`;
}

function journalLines(dir: string): { type: string; [k: string]: unknown }[] {
  return fs
    .readFileSync(path.join(dir, 'journal.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string });
}

const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(repoRoot(), 'dist/cli.js'), ...args], { encoding: 'utf8', cwd: repoRoot(), timeout: 120_000 });

test('holdout: the stages optimize on the in-sample bars only; the top 5 are re-run out of sample', async () => {
  // Two copies of the data: the second with every held-out bar's prices changed.
  const dir = tempStudy({});
  const original = fs.readFileSync(ORCL, 'utf8');
  fs.writeFileSync(path.join(dir, 'a.txt'), original);
  fs.writeFileSync(path.join(dir, 'a.optstudy'), study(path.join(dir, 'a.txt'), 'validate holdout 30%'));
  const c = collector();
  const endA = await runStudy({ file: path.join(dir, 'a.optstudy'), workers: 2, out: path.join(dir, 'run-a') }, c.onEvent, new AbortController().signal);
  assert.equal(endA.status, 'finished');
  const v = endA.validation;
  assert.ok(v && v.kind === 'holdout', 'the end event carries the holdout');
  assert.equal(v.source, 'run');
  const h = v.report;

  // The split: 30% of the study's bars held out, the rest in sample.
  const all = loadPrices(ORCL, { from: FROM, to: TO });
  assert.equal(h.outOfSample.end, all.bars);
  assert.equal(h.outOfSample.end - h.outOfSample.start, Math.round(all.bars * 0.3));
  assert.equal(h.inSample.start, 0);
  assert.equal(h.inSample.end, h.outOfSample.start);

  // Every trial equals a direct backtest over the in-sample slice.
  const plan = loadStudy(path.join(dir, 'a.optstudy')).plan;
  const inSample = sliceBars(all, 0, h.inSample.end);
  const trials = c.trials();
  assert.equal(trials.length, 12);
  for (const t of trials) assert.deepEqual(t.metrics, runBacktest(inSample, 'sma_cross', t.params, CONFIG, { trades: false }).metrics, `trial ${t.number}`);
  // The full-data metrics differ (so the comparison above can tell the slices apart).
  assert.notDeepEqual(trials[0]!.metrics, runBacktest(all, 'sma_cross', trials[0]!.params, CONFIG, { trades: false }).metrics);

  // The finalists: the top 5 feasible trials by in-sample score, re-run on the held-out bars.
  const ranked = trials.filter((t) => t.state === 'complete').sort((a, b) => (b.score as number) - (a.score as number) || a.number - b.number);
  assert.equal(h.rows.length, 5);
  const outOfSample = sliceBars(all, h.outOfSample.start, h.outOfSample.end);
  h.rows.forEach((r, i) => {
    assert.deepEqual(r.params, ranked[i]!.params);
    assert.equal(r.inSample.score, ranked[i]!.score);
    const direct = runBacktest(outOfSample, 'sma_cross', r.params, CONFIG, { trades: false }).metrics;
    assert.deepEqual(r.outOfSample.metrics, direct);
    assert.equal(r.outOfSample.score, scoreTrial({ objectives: plan.objectives, constraints: [] }, r.params, direct).score);
  });

  // The journal's end line carries the same validation.
  const endLine = journalLines(path.join(dir, 'run-a')).find((l) => l.type === 'end') as unknown as EndEvent;
  assert.deepEqual(endLine.validation, JSON.parse(JSON.stringify(v)));

  // Now change every held-out bar (scaled by a wave, so crossings move) and run again.
  const lines = original.split('\n');
  const changed = lines.map((line, i) => {
    if (i === 0 || !line.trim()) return line;
    const cells = line.split(',');
    if (cells[0]! <= h.inSample.to) return line;
    const f = 1 + 0.3 * Math.sin(i / 7);
    return [cells[0], ...cells.slice(1, 6).map((x) => String(Number(x) * f)), cells[6]].join(',');
  });
  fs.writeFileSync(path.join(dir, 'b.txt'), changed.join('\n'));
  fs.writeFileSync(path.join(dir, 'b.optstudy'), study(path.join(dir, 'b.txt'), 'validate holdout 30%'));
  const c2 = collector();
  const endB = await runStudy({ file: path.join(dir, 'b.optstudy'), workers: 1, out: path.join(dir, 'run-b') }, c2.onEvent, new AbortController().signal);
  assert.equal(endB.status, 'finished');
  // No in-sample trial changed: same params, scores, states and metrics.
  assert.deepEqual(c2.trials().map((t) => [essence(t), t.metrics]), trials.map((t) => [essence(t), t.metrics]));
  const vb = endB.validation as Extract<RunValidation, { kind: 'holdout' }>;
  assert.deepEqual(vb.report.rows.map((r) => r.inSample), h.rows.map((r) => r.inSample));
  // ... while the out-of-sample re-runs saw the changed bars.
  assert.notDeepEqual(vb.report.rows.map((r) => r.outOfSample.metrics), h.rows.map((r) => r.outOfSample.metrics));

  // `optstudy run` prints the validation table after the ranking.
  const r = cli('run', path.join(dir, 'a.optstudy'), '--out', path.join(dir, 'run-cli'), '--workers', '1');
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(`Holdout: optimized on ${h.inSample.from} … ${h.inSample.to} (${h.inSample.end} bars); top 5 re-run on ${h.outOfSample.from}`), r.stdout);
  const best = h.rows[0]!.params;
  assert.match(r.stdout, new RegExp(`\\n\\s+1\\s+.*fast=${best.fast} slow=${best.slow}`));
});

const WF = 'validate walkforward { folds 3, train 60% }';

test('walk-forward: each fold re-optimizes its training window and tests its best on the next window', async () => {
  const dir = tempStudy({ 'w.optstudy': study(ORCL, WF) });
  const file = path.join(dir, 'w.optstudy');
  const c = collector();
  const runDir = path.join(dir, 'run');
  const end = await runStudy({ file, workers: 2, out: runDir }, c.onEvent, new AbortController().signal);
  assert.equal(end.status, 'finished');
  const v = end.validation;
  assert.ok(v && v.kind === 'walkforward');
  assert.equal(v.report.folds.length, 3);
  assert.equal(v.anchored, false);
  // The main stages ran on all the bars (walk-forward keeps them as the parameters to use).
  const all = loadPrices(ORCL, { from: FROM, to: TO });
  const t0 = c.trials()[0]!;
  assert.deepEqual(t0.metrics, runBacktest(all, 'sma_cross', t0.params, CONFIG, { trades: false }).metrics);
  // Progress and log events per fold.
  for (const k of [1, 2, 3]) {
    assert.ok(c.events.some((e) => e.type === 'log' && e.message.startsWith(`walk-forward fold ${k}/3: optimizing on`)));
    assert.ok(c.events.some((e) => e.type === 'progress' && e.stage.startsWith(`walk-forward fold ${k}/3`)));
  }

  const plan = loadStudy(file).plan;
  const grid: { fast: number; slow: number }[] = [];
  for (const fast of [5, 10, 15, 20]) for (const slow of [30, 50, 80]) if (fast < slow) grid.push({ fast, slow });
  let product = 1;
  let prevTestEnd = -1;
  for (const f of v.report.folds) {
    // Rolling folds: consecutive test windows, each right after its training window.
    assert.equal(f.train.end, f.test.start);
    if (prevTestEnd >= 0) assert.equal(f.test.start, prevTestEnd);
    prevTestEnd = f.test.end;
    // Brute force over the training window with the study's scoring.
    const train = sliceBars(all, f.train.start, f.train.end);
    let best: { params: { fast: number; slow: number }; score: number } | null = null;
    for (const p of grid) {
      const s = scoreTrial(plan, p, runBacktest(train, 'sma_cross', p, CONFIG, { trades: false }).metrics);
      if (s.state === 'complete' && (!best || (s.score as number) > best.score)) best = { params: p, score: s.score as number };
    }
    assert.ok(best);
    assert.deepEqual(f.params, best.params, `fold ${f.fold} best`);
    assert.equal(f.inSample.score, best.score);
    const test = runBacktest(sliceBars(all, f.test.start, f.test.end), 'sma_cross', best.params, CONFIG, { equity: true, trades: false });
    assert.deepEqual(f.outOfSample.metrics, test.metrics, `fold ${f.fold} out of sample`);
    product *= test.equity![test.equity!.length - 1]! / test.equity![0]!;
    // Each fold's nested run has its own journal.
    assert.ok(fs.existsSync(path.join(runDir, 'walkforward', `fold-${f.fold}`, 'journal.jsonl')));
  }
  assert.ok(Math.abs(v.report.stitchedReturnPct! - (product - 1) * 100) < 1e-6, 'stitched equity chains the folds');
  const oosAnn = v.report.folds.map((f) => f.outOfSample.annualizedReturn!);
  const isAnn = v.report.folds.map((f) => f.inSample.annualizedReturn!);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(Math.abs(v.report.efficiency! - mean(oosAnn) / mean(isAnn)) < 1e-12);

  // The journal's end line carries it; `optstudy report` prints it without re-running.
  const endLine = journalLines(runDir).find((l) => l.type === 'end') as unknown as EndEvent;
  assert.deepEqual(endLine.validation, JSON.parse(JSON.stringify(v)));
  const r = cli('report', runDir, '--no-reruns');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Walk-forward \(3 folds, 60% train, rolling\)/);
  for (const f of v.report.folds) assert.match(r.stdout, new RegExp(`${f.test.from} … ${f.test.to}.*fast=${f.params.fast} slow=${f.params.slow}`));

  // Resume a run whose stages finished but whose validation did not: fold 1 finished, fold 2
  // half done, fold 3 never started, no end line.
  const dir2 = path.join(dir, 'run-resumed');
  fs.mkdirSync(path.join(dir2, 'walkforward'), { recursive: true });
  fs.writeFileSync(path.join(dir2, 'journal.jsonl'), journalLines(runDir).filter((l) => l.type !== 'end').map((l) => JSON.stringify(l) + '\n').join(''));
  fs.cpSync(path.join(runDir, 'walkforward', 'fold-1'), path.join(dir2, 'walkforward', 'fold-1'), { recursive: true });
  const fold2 = journalLines(path.join(runDir, 'walkforward', 'fold-2'));
  const keep = fold2.filter((l) => l.type === 'header' || (l.type === 'trial' && (l.number as number) < 5));
  fs.mkdirSync(path.join(dir2, 'walkforward', 'fold-2'));
  fs.writeFileSync(path.join(dir2, 'walkforward', 'fold-2', 'journal.jsonl'), keep.map((l) => JSON.stringify(l) + '\n').join(''));
  const c3 = collector();
  const end3 = await runStudy({ file, workers: 1, resume: dir2 }, c3.onEvent, new AbortController().signal);
  assert.equal(end3.status, 'finished');
  assert.ok(c3.events.some((e) => e.type === 'log' && e.message.startsWith('walk-forward fold 1/3: reusing')));
  assert.ok(c3.events.some((e) => e.type === 'log' && e.message.startsWith('walk-forward fold 2/3: resuming')));
  assert.deepEqual(end3.validation, v);
  const fold2Trials = journalLines(path.join(dir2, 'walkforward', 'fold-2')).filter((l) => l.type === 'trial') as unknown as TrialEvent[];
  assert.equal(new Set(fold2Trials.map((t) => t.number)).size, fold2Trials.length, 'no fold trial repeated');
});
