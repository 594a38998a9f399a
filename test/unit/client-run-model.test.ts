/**
 * The client's run model folded over recorded real runs (`optstudy run --json`): counts,
 * best, stages, snapshot/delta bookkeeping, and what the status bar says.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { formatDuration, formatScore, modelFromEvents, RunModel, statusText } from '../../client/run-model';
import type { RunEvent, TrialEvent } from '../../protocol/run-events';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (name: string): RunEvent[] =>
  readFileSync(path.join(ROOT, 'test', 'fixtures', 'runs', name), 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as RunEvent);

const quick = read('quickstart.jsonl');
const multi = read('multi-objective.jsonl');

test('a recorded run folds into the right counts, stages and best', () => {
  const m = modelFromEvents('q', quick);
  const trials = quick.filter((e): e is TrialEvent => e.type === 'trial');
  const end = quick.find((e) => e.type === 'end')!;
  assert.equal(m.trials.length, trials.length);
  assert.equal(m.header.status, 'finished');
  assert.equal(m.header.done, trials.length);
  assert.equal(m.header.counts.complete + m.header.counts.infeasible + m.header.counts.failed, trials.length);
  assert.equal(m.header.counts.complete, trials.filter((t) => t.state === 'complete').length);
  assert.deepEqual(m.header.stages.map((s) => s.name), ['grid']);
  assert.equal(m.header.stages[0]!.done, trials.length);
  assert.equal(m.header.stages[0]!.finished, true);
  assert.equal(end.type, 'end');
  assert.deepEqual(m.best, end.type === 'end' ? end.best : null);
  // The best is the maximum score among complete trials.
  const max = Math.max(...trials.filter((t) => t.state === 'complete').map((t) => t.score as number));
  assert.equal(m.best!.score, max);
  assert.deepEqual(m.tables.params, ['fast', 'slow']);
  const row = m.trials[5]!;
  assert.deepEqual(m.trialParams(row.n), trials[5]!.params);
  assert.equal(row.m[m.tables.metrics.indexOf('sharpe')], trials[5]!.metrics['sharpe']);
  // Raw duplicates of study metrics stay out of the panel's rows; the study metrics are all there.
  assert.ok(!m.tables.metrics.includes('sharpe_days_ann_rf0') && !m.tables.metrics.includes('trades_closed'));
  for (const k of ['final_value', 'total_return_pct', 'trades', 'win_rate_pct', 'profit_factor', 'max_drawdown_pct', 'max_drawdown', 'sharpe', 'sortino', 'sqn']) {
    assert.ok(m.tables.metrics.includes(k), `${k} kept`);
  }
});

test('the running best before the end event follows the objective direction', () => {
  const m = new RunModel('x');
  const start = multi[0]!;
  assert.equal(start.type, 'start');
  // Minimize on a single objective: lower is better.
  m.apply({ ...(start as Extract<RunEvent, { type: 'start' }>), directions: ['minimize'], objectives: ['max_drawdown_pct'] });
  const trials = multi.filter((e): e is TrialEvent => e.type === 'trial' && e.state === 'complete').slice(0, 40);
  for (const t of trials) m.apply({ ...t, score: (t.score as number[])[1]! });
  const min = Math.min(...trials.map((t) => (t.score as number[])[1]!));
  assert.equal(m.best!.score, min);
});

test('snapshot then deltas carry every trial exactly once, with new names appended', () => {
  const m = new RunModel('d');
  m.apply(quick[0]!);
  const snap = m.snapshot();
  assert.equal(snap.trials.length, 0);
  let rows = 0;
  const names = [...snap.tables.metrics];
  for (let i = 1; i < quick.length; i += 17) {
    for (const e of quick.slice(i, i + 17)) m.apply(e);
    const d = m.takeDelta();
    assert.ok(d, 'a batch with events yields a delta');
    rows += d.trials.length;
    names.push(...d.newMetrics);
  }
  assert.equal(rows, m.trials.length);
  assert.deepEqual(names, m.tables.metrics);
  assert.equal(m.takeDelta(), null, 'nothing changed, no delta');
});

test('several objectives: scores stay arrays, the end brings the Pareto set', () => {
  const m = modelFromEvents('m', multi);
  const end = multi.find((e) => e.type === 'end')!;
  assert.equal(end.type, 'end');
  assert.deepEqual(m.header.directions, ['maximize', 'minimize']);
  assert.ok(Array.isArray(m.trials[0]!.sc));
  if (end.type === 'end' && end.pareto) assert.equal(m.pareto!.length, end.pareto.length);
});

test('the status bar line shows progress, rate, ETA and best', () => {
  const m = new RunModel('s');
  m.apply(quick[0]!);
  const trials = quick.filter((e) => e.type === 'trial').slice(0, 10);
  for (const t of trials) m.apply(t);
  m.apply({ type: 'progress', stage: 'grid', done: 10, total: 174, rate: 23.4, etaMs: 7000 });
  const s = statusText(m.header, m.best);
  assert.match(s, /^10\/174 · 23\/s · ETA 7 s · best /);
  m.apply(quick.find((e) => e.type === 'end')!);
  assert.match(statusText(m.header, m.best), /finished/);
  assert.equal(formatDuration(65_000), '1:05');
  assert.equal(formatDuration(3_723_000), '1:02:03');
  // One number format everywhere (#19-12): no exponents for everyday sizes, objectives joined.
  assert.equal(formatScore(1_420_000.4), '1,420,000');
  assert.equal(formatScore([0.52261, 51.5]), '0.5226 · 51.5');
  assert.equal(formatScore(-0.000012345), '-1.23e-5');
});

test('walk-forward folds are a validation phase, never a stage (#19-11: "stage 0/1")', () => {
  const m = new RunModel('w');
  m.apply({ type: 'start', study: 'wf', stages: [{ name: 'grid', size: 90, method: 'grid' }], total: 90 });
  m.apply({ type: 'progress', stage: 'grid', done: 90, total: 90, rate: 100, etaMs: 0 });
  m.apply({ type: 'progress', stage: 'walk-forward fold 2/5 grid', done: 3, total: 90, rate: 100, etaMs: 10 });
  assert.equal(m.header.stage, 'grid');
  assert.deepEqual(m.header.phase, { kind: 'validation', label: 'walk-forward fold 2/5', index: 2, count: 5 });
  assert.equal(m.header.done, 90, 'a fold\'s own count does not move the run\'s');
  m.apply({ type: 'end', best: null, trials: 90, elapsedMs: 1 });
  assert.equal(m.header.phase, undefined);
});

test('a host that restarts a stage name or sends unknown events does not break the model', () => {
  const m = new RunModel('u');
  m.apply({ type: 'weird' } as unknown as RunEvent);
  m.apply({ type: 'trial', stage: 's', number: 1, params: { a: 1 }, metrics: {}, score: null, state: 'failed', error: 'boom' });
  assert.equal(m.header.counts.failed, 1);
  assert.equal(m.trials[0]!.e, 'boom');
  assert.equal(m.best, null);
});
