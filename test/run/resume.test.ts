/**
 * Crash safety: `optstudy run` killed with SIGKILL in the middle of a multi-stage run, then
 * `--resume`, gives exactly the trials and the best of an uninterrupted run, with no trial
 * lost or run twice in the journal.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TrialEvent } from '../../protocol/run-events';
import { runStudy } from '../../server/run/run-study';
import { collector, essence, repoRoot, sampleData, tempStudy } from '../support/run-fixtures';

const STUDY = `
study "crash" {
  data "${sampleData('orcl-1995-2014.txt')}" from 2003-01-01 to 2014-12-31
  strategy sma_cross
  objective maximize sharpe
  constraint trades >= 5
  stage "coarse" {
    param fast in 2 .. 40 step 2
    param slow in 20 .. 200 step 10
    where fast < slow
  }
  stage "fine" {
    search tpe { trials 60, init 10 }
    param fast in 2 .. 60 step 1
    param slow in 10 .. 250 step 1
    where fast + 5 < slow
  }
  stage "gp" {
    search bayes { trials 12, init 4 }
    param fast in 2 .. 60 step 1
  }
  seed 11
}
`;

/** Runs the CLI and SIGKILLs it once `killAt` trial lines were printed; resolves with the lines seen. */
function runAndKill(file: string, out: string, killAt: number): Promise<{ lines: number; killed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'run', file, '--json', '--workers', '1', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buf = '';
    let lines = 0;
    let killed = false;
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let i: number;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.includes('"type":"trial"') && ++lines === killAt && !killed) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('exit', () => resolve({ lines, killed }));
  });
}

test('kill -9 mid-run, then --resume: the same trials and best as an uninterrupted run', async () => {
  const dir = tempStudy({ 's.optstudy': STUDY });
  const file = path.join(dir, 's.optstudy');
  const u = collector();
  const full = await runStudy({ file, workers: 2, out: path.join(dir, 'full') }, u.onEvent, new AbortController().signal);
  assert.equal(full.status, 'finished');
  const total = u.trials().length;

  for (const killAt of [150, 205]) {
    const out = path.join(dir, `killed-${killAt}`);
    const k = await runAndKill(file, out, killAt);
    assert.ok(k.killed, `the run ended before ${killAt} trials (${k.lines})`);
    const before = readFileSync(path.join(out, 'journal.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"type":"trial"')).length;
    assert.ok(before >= killAt && before < total, `${before} trials journaled before the kill`);

    const r = collector();
    const resumed = await runStudy({ file, resume: out }, r.onEvent, new AbortController().signal);
    assert.equal(resumed.status, 'finished');
    assert.deepEqual(resumed.best, full.best);
    assert.deepEqual(r.trials().map(essence), u.trials().map(essence));
    const start = r.events[0]!;
    assert.ok(start.type === 'start' && start.resumed === true);
    // The journal now holds every trial exactly once.
    const journal = readFileSync(path.join(out, 'journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TrialEvent | { type: string });
    const nums = journal.filter((l): l is TrialEvent => l.type === 'trial').map((l) => l.number);
    assert.equal(nums.length, total);
    assert.equal(new Set(nums).size, total);
  }
});
