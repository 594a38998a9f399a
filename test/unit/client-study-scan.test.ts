/** The client's study scanner on the samples: studies, stages, objectives, trust, backtest plan, journal reopen. */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { eventsFromJournal } from '../../client/journal';
import { modelFromEvents } from '../../client/run-model';
import { needsTrust, offsetAt, scanStudies, stageAt, studyAt } from '../../client/study-scan';
import { parseTrial, trialArgs } from '../../client/trial-detail';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const sample = (n: string) => readFileSync(path.join(ROOT, 'samples', n), 'utf8');

test('studies, settings, stages and objectives of the staged sample', () => {
  const text = sample('ema-atr-staged.optstudy');
  const scan = scanStudies(text);
  assert.equal(scan.studies.length, 1);
  const s = scan.studies[0]!;
  assert.equal(s.name, 'EMA cross with ATR exits');
  assert.equal(s.strategy!.name, 'ema_atr');
  assert.deepEqual(s.stages.map((st) => [st.name, st.params.map((p) => p.name)]), [['risk', ['atr_sl_multiplier', 'atr_tp_multiplier']], ['entry', ['ema_fast', 'ema_slow']]]);
  assert.deepEqual(s.objectives, [{ direction: 'maximize', expr: 'profit_factor * max(sharpe, 0) * (1 - max_drawdown_pct / 100)' }]);
  const line = text.split('\n').findIndex((l) => l.includes('param ema_fast'));
  const off = offsetAt(text, line, 4);
  assert.equal(studyAt(scan, off)!.name, s.name);
  assert.equal(stageAt(s, off)!.name, 'entry');
});

test('several objectives in a block', () => {
  const s = scanStudies(sample('multi-objective.optstudy')).studies[0]!;
  assert.deepEqual(s.objectives, [{ direction: 'maximize', expr: 'sharpe' }, { direction: 'minimize', expr: 'max_drawdown_pct' }]);
});

test('workspace trust: command strategies need it, built-ins do not', () => {
  const py = scanStudies(sample('python-strategy.optstudy'));
  assert.equal(needsTrust(py, py.studies[0]!).needed, true);
  assert.match(needsTrust(py, py.studies[0]!).why!, /runs the command "python3/);
  const q = scanStudies(sample('quickstart.optstudy'));
  assert.equal(needsTrust(q, q.studies[0]!).needed, false);
  const mod = scanStudies('study "m" { strategy module "strategies/x.ts" }');
  assert.equal(needsTrust(mod, mod.studies[0]!).needed, true);
});

test('Open Trial: the trial arguments name the study and the parameters; bad output is an error, not a crash', () => {
  const file = path.join(ROOT, 'samples', 'ema-atr-staged.optstudy');
  assert.deepEqual(trialArgs(file, 'EMA cross with ATR exits', { atr_sl_multiplier: 2, ema_fast: 9 }), [
    'trial', file, '--study', 'EMA cross with ATR exits', '--params', '{"atr_sl_multiplier":2,"ema_fast":9}', '--json',
  ]);
  const d = parseTrial({ n: 3, runId: 'r' }, {}, 'not json');
  assert.match(d.error!, /no JSON/);
  assert.equal(d.runId, 'r');
  const ok = parseTrial({ n: 4, stage: 's' }, { a: 1 }, JSON.stringify({ metrics: { x: 1 }, trades: [], equity: { dates: ['2020-01-02', '2020-01-03'], values: [100, 101] }, benchmark: [100, 99], state: 'infeasible', error: 'constraint' }));
  assert.deepEqual(ok.equity, [{ date: '2020-01-02', value: 100 }, { date: '2020-01-03', value: 101 }]);
  assert.deepEqual(ok.benchmark, [{ date: '2020-01-02', value: 100 }, { date: '2020-01-03', value: 99 }]);
  assert.match(ok.note!, /infeasible: constraint/);
});

test('a journal reopens into the same model as the live run', () => {
  const events = readFileSync(path.join(ROOT, 'test', 'fixtures', 'runs', 'quickstart.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  // The journal format: a header, then trial/stage/end lines (server/run/journal.ts).
  const start = events[0];
  const journal = [
    JSON.stringify({ type: 'header', format: 1, study: start.study, file: start.file, seed: 42, startedAt: '2026-01-01T00:00:00Z' }),
    ...events.filter((e: { type: string }) => e.type === 'trial' || e.type === 'stage' || e.type === 'end').map((e: unknown) => JSON.stringify(e)),
  ].join('\n');
  const { events: back, warnings } = eventsFromJournal(journal, '/runs/x', { directions: ['maximize'], objectives: ['sharpe'] });
  assert.deepEqual(warnings, []);
  const live = modelFromEvents('a', events);
  const reopened = modelFromEvents('b', back);
  assert.equal(reopened.trials.length, live.trials.length);
  assert.deepEqual(reopened.best, live.best);
  assert.equal(reopened.header.status, 'finished');
  assert.equal(reopened.header.runDir, '/runs/x');
  // Cut before the end: the run shows as cancelled (resumable); a torn last line is ignored.
  const cut = journal.split('\n').slice(0, 50).join('\n') + '\n{"type":"tri';
  const partial = modelFromEvents('c', eventsFromJournal(cut, '/runs/x').events);
  assert.equal(partial.header.status, 'cancelled');
  assert.equal(partial.trials.length, 49);
});
