/**
 * External command strategies under protocol faults (#21 findings 7 and 8), with real
 * processes (test/fixtures/strategies/faults.py): a killed process's leftover output, NaN and
 * ±Infinity in answers, endless output without newlines, a print carrying the request's id, the
 * dedicated answer channel, and cancel / exit with a hung strategy and its grandchild. Each case
 * failed before the reader and the process groups were reworked (a hang, a wrong answer, or a
 * process left behind).
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runStudy } from '../../server/run/run-study';
import { chooseExecutor } from '../../server/host/executors';
import type { EndEvent, TrialEvent } from '../../protocol/run-events';
import { collector, repoRoot, sampleData } from '../support/run-fixtures';
import { processesIn, scratchStudy, waitFor } from './procs';

function faultStudy(values: number[], opts: { timeout?: string; workers?: number; env?: string } = {}): string {
  const dir = scratchStudy({});
  copyFileSync(path.join(repoRoot(), 'test', 'fixtures', 'strategies', 'faults.py'), path.join(dir, 'faults.py'));
  // Beside the study: `optstudy run` refuses data outside the study's folder.
  copyFileSync(sampleData('orcl-2014.txt'), path.join(dir, 'orcl-2014.txt'));
  writeFileSync(
    path.join(dir, 'study.optstudy'),
    `strategy f command "${opts.env ?? ''}python3 faults.py" {
  param fast: int = 10
}
study "s" {
  data "orcl-2014.txt"
  strategy f
  objective maximize sharpe
  stage "grid" {
    param fast in [${values.join(', ')}]
  }
  workers ${opts.workers ?? 1}
  ${opts.timeout ? `timeout ${opts.timeout}` : ''}
}`,
  );
  return dir;
}

async function run(dir: string, signal = new AbortController().signal): Promise<{ end: EndEvent; trials: TrialEvent[] }> {
  const c = collector();
  const end = await runStudy({ file: path.join(dir, 'study.optstudy'), out: path.join(dir, 'run'), createExecutor: chooseExecutor }, c.onEvent, signal);
  return { end, trials: c.trials() };
}

const byFast = (trials: TrialEvent[], fast: number): TrialEvent => trials.find((t) => t.params.fast === fast)!;

test('leftover output of a killed process does not spoil the next process’s answers', { timeout: 60_000 }, async () => {
  const dir = faultStudy([20, 5, 6, 11], { timeout: '2s' });
  try {
    const { end, trials } = await run(dir);
    assert.equal(end.status, 'finished');
    assert.equal(byFast(trials, 20).state, 'failed');
    assert.match(byFast(trials, 20).error!, /no answer within 2000 ms/);
    for (const fast of [5, 6, 11]) {
      assert.equal(byFast(trials, fast).state, 'complete', `fast=${fast}: ${byFast(trials, fast).error}`);
      assert.equal(byFast(trials, fast).score, fast / 100);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('NaN, Infinity and -Infinity in an answer are undefined metrics, not a hung trial (no timeout set)', { timeout: 60_000 }, async () => {
  const dir = faultStudy([21, 5]);
  try {
    const { end, trials } = await run(dir);
    assert.equal(end.status, 'finished');
    const t = byFast(trials, 21);
    assert.equal(t.state, 'infeasible', t.error);
    assert.match(t.error!, /undefined/);
    assert.deepEqual(t.metrics, { sharpe_days_ann_rf0: null, returns_rtot: null, sqn: null, trades_closed: 3 });
    assert.equal(byFast(trials, 5).score, 0.05);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('endless stdout without newlines is capped: the trial fails, memory stays bounded, the next trial runs', { timeout: 120_000 }, async () => {
  const dir = faultStudy([22, 5]);
  const rss0 = process.memoryUsage().rss;
  let peak = rss0;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    const { end, trials } = await run(dir);
    assert.equal(end.status, 'finished');
    assert.equal(byFast(trials, 22).state, 'failed');
    assert.match(byFast(trials, 22).error!, /more than 64 MiB without answering/);
    assert.ok((byFast(trials, 22).log ?? '').length <= 8192);
    assert.equal(byFast(trials, 5).score, 0.05);
    // Lines are dropped as they grow past the limit: far less than the 64 MiB that went by twice over.
    assert.ok(peak - rss0 < 200 * 2 ** 20, `rss grew by ${((peak - rss0) / 2 ** 20).toFixed(0)} MiB`);
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a printed line carrying the request’s "id" is the strategy’s output, not its answer', { timeout: 60_000 }, async () => {
  const dir = faultStudy([23, 5]);
  try {
    const { trials } = await run(dir);
    const t = byFast(trials, 23);
    assert.equal(t.state, 'complete', t.error);
    assert.equal(t.score, 0.23);
    assert.match(t.log ?? '', /order filled/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a process answering on fd 3 is read there only: a fake answer on its stdout is log', { timeout: 60_000 }, async () => {
  const dir = faultStudy([24, 5], { env: 'USE_FD3=1 ' });
  try {
    const { trials } = await run(dir);
    assert.equal(byFast(trials, 24).score, 0.24);
    assert.equal(byFast(trials, 5).score, 0.05);
    assert.match(byFast(trials, 24).log ?? '', /-99/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cancelling a run with a hung strategy (no timeout) ends it at once and kills the strategy’s whole group', { timeout: 60_000 }, async () => {
  const dir = faultStudy([25, 5]);
  try {
    const ac = new AbortController();
    const running = run(dir, ac.signal);
    // The strategy and the grandchild it started are both up.
    assert.ok(await waitFor(() => processesIn(dir).length >= 2, 20_000), `processes: ${processesIn(dir).join('; ')}`);
    const t0 = Date.now();
    ac.abort();
    const { end } = await running;
    assert.equal(end.status, 'cancelled');
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.ok(await waitFor(() => processesIn(dir).length === 0, 3000), `left behind: ${processesIn(dir).join('; ')}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const signals of [1, 2]) {
  test(`optstudy run: ${signals === 1 ? 'the first SIGTERM cancels (an end line) and' : 'a second SIGTERM exits and still'} leaves no strategy process behind`, { timeout: 60_000 }, async () => {
    const dir = faultStudy([25, 5]);
    try {
      const cli = spawn(process.execPath, [path.join(repoRoot(), 'dist', 'cli.js'), 'run', path.join(dir, 'study.optstudy'), '--json', '--out', path.join(dir, 'run')], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      cli.stdout.on('data', (c: Buffer) => (out += c.toString()));
      const exited = new Promise<number | null>((r) => cli.on('exit', (code) => r(code)));
      // The CLI's cwd is not the study folder, so only the strategy and its grandchild live there.
      assert.ok(await waitFor(() => processesIn(dir).length >= 2, 20_000), `processes: ${processesIn(dir).join('; ')}`);
      cli.kill('SIGTERM');
      if (signals === 2) cli.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 15_000))]);
      if (code === 'hung') cli.kill('SIGKILL');
      assert.notEqual(code, 'hung', 'optstudy run did not exit');
      if (signals === 1) assert.match(out, /"type":"end".*"status":"cancelled"/);
      assert.ok(await waitFor(() => processesIn(dir).length === 0, 3000), `left behind: ${processesIn(dir).join('; ')}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
