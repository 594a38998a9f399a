/**
 * The overfitting verdict and the robust scores (#19 items 4, 9, 11): an isolated peak on a
 * grid and in a continuous search is found and a robust alternative named; edges of the
 * declared range are flagged; the verdict rates PBO, DSR and validation; and on real runs the
 * report's verdict says what the issue saw — the walk-forward sample lost 17 % out of sample —
 * and a Bayesian run gets robust scores too.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TrialLike } from '../../server/analysis';
import { analyzeTrials, mostRobust, overfittingEvidence, paramEdges, robustScores, metricLabel } from '../../server/analysis';
import { buildReport } from '../../server/report';
import { tempFolder } from '../support/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

const trial = (number: number, params: Record<string, number>, score: number | null, stage = 'g'): TrialLike & { number: number } => ({
  number, stage, params, metrics: {}, score, state: score === null ? 'infeasible' : 'complete',
});

/** A 10×10 grid: a broad hill around (7, 7) and one needle at (2, 2) above it. */
function hillWithNeedle(): (TrialLike & { number: number })[] {
  const out: (TrialLike & { number: number })[] = [];
  let n = 0;
  for (let a = 0; a < 10; a++) {
    for (let b = 0; b < 10; b++) {
      const hill = 1 - 0.02 * ((a - 7) ** 2 + (b - 7) ** 2);
      out.push(trial(n++, { a, b }, a === 2 && b === 2 ? 1.5 : hill));
    }
  }
  return out;
}

test('grid: the needle is flagged, the hill\'s centre is the most robust, every trial with neighbours is scored', () => {
  const trials = hillWithNeedle();
  const r = robustScores(trials, { gridStages: new Set(['g']) });
  assert.equal(r.method, 'grid-neighbourhood');
  assert.equal(r.complete, true);
  assert.equal(r.scores.length, 100);
  const needle = r.scores.find((s) => s.params.a === 2 && s.params.b === 2)!;
  assert.equal(needle.needle, true);
  const top = mostRobust(r.scores)!;
  assert.deepEqual(top.params, { a: 7, b: 7 });
  assert.equal(r.scores.find((s) => s.number === top.number)!.needle, false);
});

test('continuous search: nearest-trial neighbourhoods find the spike and prefer the broad optimum', () => {
  // A deterministic cloud in [0, 10]²: a smooth bowl peaking at (5, 5) and one spike at (1, 9).
  const trials: (TrialLike & { number: number })[] = [];
  let x = 0.123;
  const rnd = () => (x = (x * 9301 + 0.49297) % 1);
  for (let i = 0; i < 400; i++) {
    const a = 10 * rnd();
    const b = 10 * rnd();
    trials.push(trial(i, { a, b }, 2 - 0.05 * ((a - 5) ** 2 + (b - 5) ** 2), 'gp'));
  }
  trials.push(trial(400, { a: 1, b: 9 }, 3, 'gp'));
  const r = robustScores(trials, { gridStages: new Set() });
  assert.equal(r.method, 'nearest-trials');
  const spike = r.scores.find((s) => s.number === 400)!;
  assert.ok(spike.neighbours > 0 && spike.needle, 'the spike stands far above its neighbours');
  const top = mostRobust(r.scores)!;
  assert.ok(Math.hypot((top.params.a as number) - 5, (top.params.b as number) - 5) < 1.5, `most robust near the bowl's centre: ${JSON.stringify(top.params)}`);
  // The analysis snapshot carries them for the panel (robust-score sort, Apply most robust).
  const snap = analyzeTrials(trials, { directions: ['maximize'], stages: [{ name: 'gp', method: 'bayes', size: 401 }] }, { final: true });
  assert.equal(snap.robustScores!.length, r.scores.length);
  assert.equal(snap.mostRobust!.number, top.number);
  const ov = snap.overfitting!;
  assert.equal(ov.verdict, 'overfit');
  const peak = ov.items.find((i) => i.key === 'isolated-peak')!;
  assert.match(peak.text, new RegExp(`most robust trial is #${top.number}\\b`));
});

test('edges: the declared range when known, else the range tried; a continuous search counts within 2 %', () => {
  const grid = hillWithNeedle();
  const best = trial(999, { a: 9, b: 4 }, 1);
  assert.deepEqual(paramEdges(best, grid, undefined), [{ param: 'a', value: 9, side: 'high' }]);
  assert.deepEqual(paramEdges(best, grid, new Map([['a', { lo: 0, hi: 20 }]])), [], 'a = 9 is inside a declared 0 … 20');
  const cont = Array.from({ length: 100 }, (_, i) => trial(i, { p: 1 + 0.0991 * i }, 0));
  assert.deepEqual(paramEdges(trial(5, { p: 10.9 }, 1), cont, new Map([['p', { lo: 1, hi: 11 }]])), [{ param: 'p', value: 10.9, side: 'high' }]);
});

test('the verdict rates the evidence: PBO, DSR, walk-forward and out-of-sample loss', () => {
  const good = overfittingEvidence({
    directions: ['maximize'],
    best: null,
    pbo: { pbo: 0.05, combinations: 12870, partitions: 16, strategies: 64, observations: 2500, degradationSlope: 0.1, probabilityOfLoss: 0.02 },
    deflatedSharpe: { sharpe: 1.5, expectedMaxSharpe: 0.4, dsr: 0.99, psr: 0.999, trials: 100, observations: 2500, momentsMeasured: true },
  });
  assert.equal(good.verdict, 'robust');
  assert.match(good.headline, /No sign of overfitting: PBO 0\.05, Deflated Sharpe 0\.99/);
  const bad = overfittingEvidence({ directions: ['maximize'], best: null, pbo: { pbo: 0.8, combinations: 70, partitions: 8, strategies: 10, observations: 900, degradationSlope: -1, probabilityOfLoss: 0.6 } });
  assert.equal(bad.verdict, 'overfit');
  assert.match(bad.items[0]!.text, /^0\.8: in 80 % of 70 splits/);
  const none = overfittingEvidence({ directions: ['maximize'], best: null });
  assert.equal(none.verdict, 'unknown');
});

test('metric labels carry units for the panel\'s headers', () => {
  assert.deepEqual(metricLabel('max_drawdown_pct'), { label: 'Max drawdown (%)', unit: 'percent', better: 'lower' });
  assert.equal(metricLabel('final_value').unit, 'money');
  assert.equal(metricLabel('sharpe').label, 'Sharpe');
});

test('real walk-forward run: the report\'s verdict headlines the out-of-sample loss, not the in-sample best (#19-11)', { timeout: 240_000 }, async () => {
  const dir = tempFolder('optstudy-evidence-wf-');
  const r = spawnSync(process.execPath, [CLI, 'run', path.join(ROOT, 'samples', 'walkforward.optstudy'), '--out', path.join(dir, 'run'), '--json'], { encoding: 'utf8', timeout: 200_000 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const m = await buildReport(path.join(dir, 'run'));
  const ov = m.snapshot.overfitting!;
  assert.equal(ov.verdict, 'overfit');
  const w = (m.validation[0] as { report: { stitchedReturnPct: number } }).report;
  assert.ok(w.stitchedReturnPct < 0, 'the sample loses out of sample');
  assert.equal(ov.headline, `Out of sample the best parameters lost ${Number((-w.stitchedReturnPct).toPrecision(3))} % (walk-forward, 5 folds)`);
  assert.ok(ov.pbo && ov.pbo.pbo > 0 && ov.pbo.pbo < 1, 'PBO from the report\'s re-runs');
  assert.deepEqual(m.snapshot.pbo, ov.pbo);
  assert.ok(ov.items.some((i) => i.key === 'wfe'));
  assert.ok(m.snapshot.mostRobust && m.snapshot.robustScores!.length > 50);
});

test('real Bayesian run: robust scores, a most robust trial and a verdict with PBO (#19-4: bayes runs had no robustness)', { timeout: 240_000 }, async () => {
  const dir = tempFolder('optstudy-evidence-gp-');
  const study = path.join(dir, 'gp.optstudy');
  fs.mkdirSync(path.join(dir, 'data'));
  fs.copyFileSync(path.join(ROOT, 'samples', 'data', 'yhoo-1996-2014.txt'), path.join(dir, 'data', 'yhoo-1996-2014.txt'));
  fs.writeFileSync(study, fs.readFileSync(path.join(ROOT, 'samples', 'bayes-rsi.optstudy'), 'utf8').replace('trials 80, init 15', 'trials 40, init 10'));
  const r = spawnSync(process.execPath, [CLI, 'run', study, '--out', path.join(dir, 'run'), '--json'], { encoding: 'utf8', timeout: 200_000 });
  assert.equal(r.status, 0, r.stderr.slice(-2000));
  const m = await buildReport(path.join(dir, 'run'));
  const s = m.snapshot;
  assert.ok((s.robustScores?.length ?? 0) > 5, `robust scores for a bayes stage: ${s.robustScores?.length}`);
  assert.ok(s.mostRobust);
  assert.ok(s.overfitting && s.overfitting.items.some((i) => i.key === 'pbo'), JSON.stringify(s.overfitting));
  assert.ok(s.overfitting.items.some((i) => i.key === 'dsr'));
});
