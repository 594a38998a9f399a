/**
 * #19-3 "parameter importance differs between the live run and the reopened run (2.5 % vs
 * 24 %)": the live run's last analysis (the real run host) and the analysis a reopened run
 * gets (`optstudy report --json`, what the extension asks for) are one estimator with one
 * answer — and the CLI's text report prints the same figures. The report's snapshot also
 * carries the verdict, robust scores and metric labels the panel shows.
 */
import { after, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { mergeAnalysis, reportAnalysis } from '../../client/report-analysis';
import { RunModel } from '../../client/run-model';
import { RunSession } from '../../client/run-session';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const HOST = path.join(ROOT, 'dist', 'run-host.js');
const STAGED = path.join(ROOT, 'samples', 'ema-atr-staged.optstudy');
const tmp = mkdtempSync(path.join(tmpdir(), 'optstudy-importance-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('live, reopened and CLI importance are the same numbers', { timeout: 300_000 }, async () => {
  const out = path.join(tmp, 'run');
  const live = new RunModel('live');
  const session = new RunSession({ hostPath: HOST, request: { type: 'run', file: STAGED, out, workers: 2, trusted: true }, cwd: path.dirname(STAGED), onEvent: (e) => live.apply(e) });
  const done = await session.done;
  assert.equal(done.end.status ?? 'finished', 'finished', done.stderr);
  const liveImp = live.analysis!.importance;
  assert.ok(liveImp.length >= 2, 'the live run streamed an analysis');

  const reopened = await reportAnalysis(CLI, out);
  assert.equal(reopened.error, undefined, reopened.error);
  const imp = reopened.analysis!.importance;
  assert.deepEqual(imp.map((i) => [i.param, i.importance]), liveImp.map((i) => [i.param, i.importance]));
  for (const s of reopened.analysis!.stages ?? []) {
    const l = live.analysis!.stages?.find((x) => x.name === s.name);
    assert.deepEqual(s.importance?.map((i) => [i.param, i.importance]), l?.importance?.map((i) => [i.param, i.importance]), `stage ${s.name}`);
  }

  // The CLI's text report prints the same shares.
  const text = spawnSync(process.execPath, [CLI, 'report', out, '--no-reruns'], { encoding: 'utf8' }).stdout;
  for (const i of imp) assert.match(text, new RegExp(`^${i.param}\\s+${Number(i.importance.toFixed(3))}\\b`, 'm'), `${i.param} in the text report`);

  // What the panel gets on top: the verdict, robust scores and labels with units.
  const a = reopened.analysis!;
  assert.ok(a.overfitting && a.overfitting.headline.length > 0);
  assert.ok(a.metricInfo?.max_drawdown_pct?.unit === 'percent');
  // The report's JSON drops slice points; the merge keeps the ones the live snapshot had.
  const merged = mergeAnalysis(live.analysis, a);
  assert.ok(merged.slices?.every((s) => Array.isArray(s.points)));
});
