/**
 * Open Trial through the built CLI (`optstudy trial`), as the extension does it: a trial asked
 * twice at once runs ONE backtest (the #19 re-run loop ran one per message), the answer carries
 * the per-bar equity and the buy-and-hold benchmark, its metrics equal the run's journal, and a
 * module strategy re-runs too (double-click on any trial, #19).
 */
import { after, before, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { TrialOpener } from '../../client/trial-opener';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');
const QUICK = path.join(ROOT, 'samples', 'quickstart.optstudy');
const tmp = mkdtempSync(path.join(tmpdir(), 'optstudy-opener-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A real run's journal trials (the quickstart grid). */
let journal: { number: number; params: Record<string, number>; metrics: Record<string, number | null>; state: string }[] = [];
before(() => {
  const r = spawnSync(process.execPath, [CLI, 'run', QUICK, '--out', path.join(tmp, 'run'), '--json'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  journal = readFileSync(path.join(tmp, 'run', 'journal.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"trial"')).map((l) => JSON.parse(l));
});

test('one backtest for a trial asked twice at once, and none for a third ask', { timeout: 60_000 }, async () => {
  const opener = new TrialOpener(CLI);
  const t = journal.find((x) => x.state === 'complete')!;
  const req = { runId: 'r1', n: t.number, stage: 'grid', params: t.params, runParams: t.params, studyFile: QUICK, study: 'SMA cross quickstart' };
  const [a, b] = await Promise.all([opener.open(req), opener.open({ ...req, intent: 'overlay' as const })]);
  assert.equal(opener.reruns, 1, 'the second request joined the first');
  assert.equal(a.error, undefined, a.error);
  assert.equal(b.intent, 'overlay', 'the intent is echoed per request');
  const c = await opener.open(req);
  assert.equal(opener.reruns, 1, 'answered from the cache');
  assert.deepEqual(c.metrics, a.metrics);
  // Another run with the same trial number is another trial.
  await opener.open({ ...req, runId: 'r2' });
  assert.equal(opener.reruns, 2);
});

test('the detail has per-bar equity, a buy-and-hold benchmark on the same bars, and the journal\'s metrics', { timeout: 60_000 }, async () => {
  const opener = new TrialOpener(CLI);
  const t = journal.filter((x) => x.state === 'complete').sort((x, y) => (y.metrics.sharpe ?? 0) - (x.metrics.sharpe ?? 0))[0]!;
  const d = await opener.open({ runId: 'r', n: t.number, params: t.params, runParams: t.params, studyFile: QUICK });
  assert.equal(d.runId, 'r');
  assert.equal(d.n, t.number);
  for (const k of ['final_value', 'sharpe', 'trades', 'max_drawdown_pct']) assert.equal(d.metrics?.[k], t.metrics[k], `${k} as in the journal`);
  // 2005-01-01 … 2014-12-31 of the sample: one point per bar.
  assert.equal(d.equity.length, d.metrics?.bars);
  assert.equal(d.equity[0]!.date, '2005-01-03');
  assert.equal(d.equity.at(-1)!.date, '2014-12-31');
  assert.equal(d.equity.at(-1)!.value, t.metrics.final_value, 'the last bar\'s value is the final value');
  assert.ok(d.equityFromTrades === undefined);
  assert.equal(d.benchmark?.length, d.equity.length);
  assert.equal(d.benchmark![0]!.value, 100000, 'buy and hold starts with the study\'s cash');
  assert.ok(d.trades.length === t.metrics.trades, 'every closed trade is listed');
});

test('a module strategy re-runs with its equity; a study error comes back as the detail\'s error', { timeout: 90_000 }, async () => {
  const opener = new TrialOpener(CLI);
  const mod = path.join(ROOT, 'samples', 'module-strategy.optstudy');
  const d = await opener.open({ runId: 'm', n: 0, params: {}, runParams: {}, studyFile: mod });
  assert.equal(d.error, undefined, d.error);
  assert.ok(d.equity.length > 100 && typeof d.metrics?.final_value === 'number');
  const bad = await opener.open({ runId: 'm', n: 1, params: {}, runParams: {}, studyFile: path.join(ROOT, 'samples', 'broken.optstudy') });
  assert.match(bad.error ?? '', /error/i);
  assert.equal(bad.equity.length, 0);
});
