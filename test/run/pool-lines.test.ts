/**
 * The pool's compact paths (#20, main-thread cost and memory): trial requests travel to the
 * workers as columns (trial-pack.ts) and, told the stage, the workers write whole journal
 * lines that the run hands on without touching them. Both must give exactly what the plain
 * paths give: the same parameters in the same key order, the same journal bytes.
 */
import { strict as assert } from 'node:assert';
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TrialRequest } from '../../server/executor/executor';
import { LocalExecutor } from '../../server/executor/local-pool';
import { blockToOutcomes, isBlock, trialHead, type OutcomeBlock } from '../../server/executor/outcome-block';
import { packTrials, unpackTrials } from '../../server/executor/trial-pack';
import { BlockBatch, stageHead } from '../../server/run/trial-batch';
import { loadStudy } from '../../server/run/run-study';
import { sampleData, tempStudy } from '../support/run-fixtures';

test('packed trial requests come back with the same values, types and key order', () => {
  const trials: TrialRequest[] = [
    { number: 7, params: { slow: 30, fast: 2.5, mode: 'long', on: true, z: -0 } },
    { number: 8, params: { slow: 40, fast: -1e-300, mode: 'short', on: false, z: 1e21 } },
  ];
  const packed = packTrials(trials);
  assert.ok(!Array.isArray(packed), 'same keys in the same order: columns');
  assert.ok(packed.columns[0] instanceof Float64Array && !(packed.columns[2] instanceof Float64Array));
  const back = unpackTrials(structuredClone(packed));
  assert.deepEqual(back, trials);
  for (let i = 0; i < trials.length; i++) {
    assert.deepEqual(Object.keys(back[i]!.params), Object.keys(trials[i]!.params));
    assert.equal(JSON.stringify(back[i]), JSON.stringify(trials[i]));
  }
  // Another key order, or another key: sent as they are (the journal keeps each trial's order).
  const mixed: TrialRequest[] = [
    { number: 1, params: { a: 1, b: 2 } },
    { number: 2, params: { b: 2, a: 1 } },
  ];
  assert.equal(packTrials(mixed), mixed);
  assert.equal(unpackTrials(packTrials(mixed)), mixed);
  const extra: TrialRequest[] = [
    { number: 1, params: { a: 1 } },
    { number: 2, params: { a: 1, b: 2 } },
  ];
  assert.equal(packTrials(extra), extra);
  assert.deepEqual(packTrials([]), []);
});

test("the workers' whole journal lines equal the run's head + the workers' bodies, byte for byte", async (t) => {
  const dir = tempStudy({
    's.optstudy': `
study "lines" {
  data "${sampleData('orcl-1995-2014.txt')}" from 2010-01-01 to 2014-12-31
  strategy sma_cross
  objective maximize sharpe
  constraint trades >= 15
  stage "grid" {
    param fast in 2 .. 20 step 1
    param slow in 10 .. 90 step 10
  }
}`,
  });
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The run's own payload: scoring spec, config, data window.
  const { plan } = loadStudy(path.join(dir, 's.optstudy'));
  assert.ok(plan.payload.scoring);
  const ex = new LocalExecutor(plan.payload, { workers: 2, retries: 0 });
  try {
    const batch: TrialRequest[] = [];
    // A failing trial too (slow ≤ 0 is refused by the strategy): its error line goes the same way.
    for (let fast = 2; fast <= 20; fast += 3) for (const slow of [0, 30, 60, 90]) batch.push({ number: 1000 + batch.length, params: { ...plan.defaults, fast, slow } });
    const collect = async (stage?: string): Promise<string[]> => {
      const blocks: OutcomeBlock[] = [];
      await ex.run(batch, new AbortController().signal, (o) => void (isBlock(o) && blocks.push(o)), stage === undefined ? undefined : { stage });
      assert.equal(blocks.every((b) => b.lines === (stage !== undefined ? true : undefined)), true);
      const lines = blocks.flatMap((b) => {
        const bb = new BlockBatch('grid "1"', stageHead('grid "1"'), b);
        return bb.bytes.toString('utf8').split('\n').filter(Boolean);
      });
      // Two runs: only the measured durations may differ.
      return lines.map((l) => l.replace(/"durationMs":[^,]+,/, '"durationMs":0,')).sort();
    };
    const lines = await collect('grid "1"');
    const bodies = await collect();
    const differ = lines.findIndex((l, i) => l !== bodies[i]);
    assert.equal(differ, -1, `first difference:\n${lines[differ]}\n${bodies[differ]}`);
    assert.equal(lines.length, batch.length);
    for (const l of lines) assert.ok(l.startsWith(trialHead('grid "1"')), l.slice(0, 60));
    const states = new Set(lines.map((l) => (JSON.parse(l) as { state: string }).state));
    assert.deepEqual([...states].sort(), ['complete', 'failed', 'infeasible']);
    // Outcomes read back from whole lines as from bodies (the JSON callers' path).
    const fromLines: OutcomeBlock[] = [];
    await ex.run(batch, new AbortController().signal, (o) => void (isBlock(o) && fromLines.push(o)), { stage: 's' });
    const outcomes = fromLines.flatMap(blockToOutcomes).sort((a, b) => a.number - b.number);
    const plain = await ex.run(batch, new AbortController().signal);
    assert.deepEqual(
      outcomes.map((o) => ({ ...o, durationMs: 0 })),
      plain.map((o) => ({ ...o, durationMs: 0 })),
    );
  } finally {
    await ex.close();
  }
});
