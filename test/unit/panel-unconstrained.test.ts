/**
 * "Best so far" draws a trial that broke a constraint at the score its objective would have
 * had: the panel evaluates the objective itself (webview/objective.ts) on the row the client
 * made of the trial. Here samples/basket.optstudy — `maximize mean(sharpe)` over three stocks,
 * `constraint min(trades) >= 10` — runs through the built CLI, its events fold into the
 * client's run model and the panel's store, and every infeasible trial is placed at the
 * grammar's value of the objective on that trial's own symbols. The same for an objective over
 * a raw backtrader-named metric the panel's rows otherwise leave out (`returns_rtot`).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { analyze, compileExpr, type BasketLookup } from '../../grammar/index';
import { modelFromEvents } from '../../client/run-model';
import type { RunEvent, TrialEvent } from '../../protocol/run-events';
import { PanelStore } from '../../webview/store';
import { tempStudy } from '../support/run-fixtures';
import { tempFolder } from '../support/temp';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const STUDY = path.join(ROOT, 'samples', 'basket.optstudy');

/** The events of `optstudy run FILE --json` (the built CLI). */
function runEvents(file: string): RunEvent[] {
  const out = path.join(tempFolder('optstudy-panel-'), 'run');
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'cli.js'), 'run', file, '--json', '--out', out], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as RunEvent);
}

/** The panel's store after the client's model folded `events`. */
function panelOf(events: RunEvent[]): PanelStore {
  const store = new PanelStore();
  store.loadSnapshot(modelFromEvents('run', events).snapshot());
  return store;
}

const infeasibleOf = (events: RunEvent[]) => events.filter((e): e is TrialEvent => e.type === 'trial' && e.state === 'infeasible');

test('infeasible basket trials are placed at their objective over their own symbols', () => {
  const events = runEvents(STUDY);
  const infeasible = infeasibleOf(events);
  assert.ok(infeasible.length >= 10, `${infeasible.length} infeasible trials`);

  const study = analyze(readFileSync(STUDY, 'utf8')).studies[0]!;
  const objective = compileExpr(study.objectives[0]!.expr);
  const model = modelFromEvents('basket', events);
  const store = panelOf(events);
  for (const e of infeasible) {
    const lookup: BasketLookup = (n) => e.metrics[n] ?? e.params[n];
    lookup.symbols = e.symbols!.map((s) => (n: string) => s.metrics[n] ?? e.params[n]);
    const expected = objective(lookup);
    assert.equal(typeof expected, 'number', `trial ${e.number}: the grammar's value`);
    const row = store.row(e.number);
    assert.ok(row?.y, `trial ${e.number} carries its symbols' metrics`);
    assert.equal(store.unconstrainedScore(row), expected, `trial ${e.number}`);
    // The plain mean of the basket's own sharpe would differ: the symbols are what counts.
    assert.notEqual(expected, e.metrics['sharpe']);
  }
  // Complete trials carry no per-symbol rows (their score came with them).
  assert.ok(model.trials.filter((t) => t.st === 'complete').every((t) => t.y === undefined));
  assert.equal(store.infeasible.length, infeasible.length);
});

test('an objective over a raw backtrader-named metric places infeasible trials too', () => {
  const text = `study "rtot" {
  data "orcl-1995-2014.txt" from 2005-01-01 to 2014-12-31
  commission 0.1%
  sizing percent 95
  strategy sma_cross
  objective maximize returns_rtot * 100
  constraint trades >= 15
  stage "grid" {
    param fast in 5 .. 50 step 5
    param slow in 20 .. 200 step 20
    where fast < slow
  }
  seed 1
}`;
  const dir = tempStudy({ 'rtot.optstudy': text });
  const events = runEvents(path.join(dir, 'rtot.optstudy'));
  const infeasible = infeasibleOf(events);
  assert.ok(infeasible.length >= 5, `${infeasible.length} infeasible trials`);
  const objective = compileExpr(analyze(text).studies[0]!.objectives[0]!.expr);
  const store = panelOf(events);
  for (const e of infeasible) {
    const expected = objective((n) => e.metrics[n] ?? e.params[n]);
    assert.equal(typeof expected, 'number', `trial ${e.number}: the grammar's value`);
    assert.equal(store.unconstrainedScore(store.row(e.number)!), expected, `trial ${e.number}`);
  }
  // Skipped metrics no objective names stay out of the rows.
  assert.equal(store.metricIndex('sharpe_days_ann_rf0'), -1);
});
