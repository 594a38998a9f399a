/**
 * Pool threads started before the run knows its data (local-pool.ts PoolThreads; runStudy
 * starts them while it reads the study): a local pool of their shape adopts them and sends the
 * data with its first tasks — the trials must be exactly those of a pool given the data at its
 * start; a pool of another shape leaves them to be closed; a thread that replaces a terminated
 * one (a hung trial) gets the data too, so the rest of the run completes.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TrialEvent } from '../../protocol/run-events';
import type { TrialRequest } from '../../server/executor/executor';
import { DEFAULT_MEMORY_MB } from '../../server/executor/backtest-task';
import { findTaskFile, LocalExecutor, PoolThreads } from '../../server/executor/local-pool';
import { isBlock, type OutcomeBlock } from '../../server/executor/outcome-block';
import { BlockBatch, stageHead } from '../../server/run/trial-batch';
import { loadStudy, runStudy } from '../../server/run/run-study';
import { chooseExecutor } from '../../server/host/executors';
import { sampleData, tempStudy } from '../support/run-fixtures';

const STUDY = `
study "early" {
  data "${sampleData('orcl-1995-2014.txt')}" from 2010-01-01 to 2014-12-31
  strategy sma_cross
  objective maximize sharpe
  stage "grid" {
    param fast in 2 .. 20 step 1
    param slow in 10 .. 90 step 10
  }
}`;

/** A batch's journal lines on `ex`, sorted, durations zeroed (the only field that may differ). */
async function lines(ex: LocalExecutor, batch: TrialRequest[]): Promise<string[]> {
  const blocks: OutcomeBlock[] = [];
  await ex.run(batch, new AbortController().signal, (o) => void (isBlock(o) && blocks.push(o)), { stage: 'grid' });
  return blocks
    .flatMap((b) => new BlockBatch('grid', stageHead('grid'), b).bytes.toString('utf8').split('\n').filter(Boolean))
    .map((l) => l.replace(/"durationMs":[^,]+,/, '"durationMs":0,'))
    .sort();
}

test('a pool adopts threads started before the data, with the same trials as a pool given the data at its start', async (t) => {
  const dir = tempStudy({ 's.optstudy': STUDY });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { plan } = loadStudy(path.join(dir, 's.optstudy'));
  const batch: TrialRequest[] = [];
  for (let fast = 2; fast <= 20; fast += 2) for (const slow of [0, 30, 60, 90]) batch.push({ number: batch.length, params: { ...plan.defaults, fast, slow } });

  const plain = new LocalExecutor(plan.payload, { workers: 2, retries: 0 });
  const expected = await lines(plain, batch).finally(() => plain.close());
  assert.equal(expected.length, batch.length);
  assert.ok(expected.some((l) => l.includes('"state":"failed"')), 'slow = 0 fails: its line goes the same way');

  const threads = new PoolThreads(2);
  const early = new LocalExecutor(plan.payload, { workers: 2, retries: 0, threads });
  try {
    assert.equal(threads.claim(2, DEFAULT_MEMORY_MB, findTaskFile()), null, 'the executor took the threads');
    assert.deepEqual(await lines(early, batch), expected);
    // Again, now that every thread holds the data (tasks go without it).
    assert.deepEqual(await lines(early, batch), expected);
  } finally {
    await early.close();
    await threads.close();
  }
});

test('threads of another shape are left to close', async (t) => {
  const dir = tempStudy({ 's.optstudy': STUDY });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const { plan } = loadStudy(path.join(dir, 's.optstudy'));
  const threads = new PoolThreads(2);
  const ex = new LocalExecutor(plan.payload, { workers: 1, retries: 0, threads });
  try {
    const pool = threads.claim(2, DEFAULT_MEMORY_MB, findTaskFile());
    assert.ok(pool, 'a one-worker pool did not take two threads');
    await pool.destroy();
    const out = await ex.run([{ number: 0, params: { ...plan.defaults, fast: 5, slow: 30 } }], new AbortController().signal);
    assert.equal(out[0]!.error, undefined);
    assert.ok(out[0]!.metrics);
  } finally {
    await ex.close();
    await threads.close();
  }
});

test('a thread that replaces a terminated one gets the data: after a hung trial the run completes', async (t) => {
  const dir = tempStudy({
    'hang.js': `
module.exports = {
  name: 'hang',
  params: [{ name: 'x', type: 'int', default: 1, doc: 'x' }],
  setup(ctx, p) {
    if (p.x === 2) { for (;;) {} }
    const fast = ctx.sma(2 + p.x);
    const slow = ctx.sma(30);
    return (c) => { if (fast[c.i] > slow[c.i]) c.buy(); else if (c.position > 0) c.close(); };
  },
};`,
    's.optstudy': `
study "hang" {
  data "${sampleData('orcl-2014.txt')}"
  strategy module "hang.js"
  objective maximize total_return_pct
  stage "all" {
    param x in 1 .. 12 step 1
  }
  timeout 1s
  seed 1
}`,
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const trials: TrialEvent[] = [];
  // workers given: runStudy starts the threads before it reads the study; one thread, so the
  // trials after x = 2 run on its replacement, started by piscina without the data.
  const end = await runStudy(
    { file: path.join(dir, 's.optstudy'), workers: 1, out: path.join(dir, 'run'), createExecutor: chooseExecutor },
    (e) => void (e.type === 'trial' && trials.push(e)),
    new AbortController().signal,
  );
  assert.equal(end.status, 'finished');
  assert.equal(trials.length, 12);
  for (const e of trials) {
    if (e.params.x === 2) assert.match(e.error!, /timed out after 1000 ms/);
    else assert.equal(e.state, 'complete', `x=${e.params.x}: ${e.error}`);
  }
});
