/**
 * Trials are scored and encoded in the pool's workers (#20): what they write must be what the
 * run's own scoring says for the same metrics — state, score, the infeasibility message with
 * its values — and `optstudy run --json` prints the journal's trial lines byte for byte.
 */
import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { readJournal } from '../../protocol/journal-reader';
import { scoreTrial } from '../../server/executor/scoring';
import { loadStudy, runStudy } from '../../server/run/run-study';
import { collector, repoRoot, sampleData, tempStudy } from '../support/run-fixtures';

const STUDY = `
study "scored in the workers" {
  data "${sampleData('orcl-1995-2014.txt')}" from 2008-01-01 to 2014-12-31
  strategy sma_cross
  objectives {
    maximize profit_factor * max(sharpe, 0)
    minimize max_drawdown_pct
  }
  constraint trades >= 12
  constraint win_rate_pct > 30
  stage "grid" {
    param fast in 2 .. 30 step 2
    param slow in 10 .. 200 step 10
    where fast < slow
  }
  seed 3
}
`;

test("a worker's state, score and reason equal the run's own scoring of the same metrics", async (t) => {
  const dir = tempStudy({ 's.optstudy': STUDY });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 's.optstudy');
  const c = collector();
  const end = await runStudy({ file, workers: 2, out: path.join(dir, 'run') }, c.onEvent, new AbortController().signal);
  assert.equal(end.status, 'finished');
  const { plan } = loadStudy(file);
  const journal = readJournal(path.join(dir, 'run'), { strict: true });
  const states = new Map<string, number>();
  for (const trial of journal.trials) {
    const s = scoreTrial(plan, trial.params, trial.metrics);
    states.set(trial.state, (states.get(trial.state) ?? 0) + 1);
    assert.equal(trial.state, s.state, `trial ${trial.number}`);
    assert.deepEqual(trial.score, s.score, `trial ${trial.number}`);
    assert.equal(trial.error, s.error, `trial ${trial.number}`);
  }
  assert.ok((states.get('complete') ?? 0) > 10 && (states.get('infeasible') ?? 0) > 10, JSON.stringify([...states]));
  // The listener's events are the journal's lines.
  assert.deepEqual(c.trials(), journal.trials);
});

test('optstudy run --json prints the journal trial lines byte for byte', (t) => {
  const dir = tempStudy({ 's.optstudy': STUDY });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'run');
  const r = spawnSync(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'run', path.join(dir, 's.optstudy'), '--json', '--workers', '2', '--out', out], { encoding: 'utf8', maxBuffer: 256 << 20 });
  assert.equal(r.status, 0, r.stderr);
  const printed = r.stdout.split('\n').filter((l) => l.startsWith('{"type":"trial"'));
  const journaled = readFileSync(path.join(out, 'journal.jsonl'), 'utf8').split('\n').filter((l) => l.startsWith('{"type":"trial"'));
  assert.ok(printed.length > 50);
  assert.deepEqual(printed, journaled);
});
