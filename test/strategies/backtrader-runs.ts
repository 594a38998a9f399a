/**
 * Parity runs for the backtrader tests: a factory's grid through OptStudy (the run path, the
 * bridge, two workers), and the comparison with `cerebro.optstrategy`'s rows (backtrader-env.ts).
 */
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runStudy } from '../../server/run/run-study';
import { chooseExecutor, hostCheckOptions } from '../../server/host/executors';
import type { EndEvent, TrialEvent } from '../../protocol/run-events';
import { collector, sampleData } from '../support/run-fixtures';
import type { optstrategy } from './backtrader-env';
import { scratchStudy } from './procs';

/** A grid stage's `param` lines for these values. */
export function gridStage(grid: Record<string, unknown[]>): string {
  return Object.entries(grid)
    .map(([k, v]) => `    param ${k} in [${v.map((x) => JSON.stringify(x)).join(', ')}]`)
    .join('\n');
}

/**
 * Runs SPEC (`file.py:FACTORY`) as an OptStudy study with one grid stage (`stage`: its lines)
 * on two workers, through the run path and the bridge; its trials.
 */
export async function optstudyGrid(spec: string, stage: string, data = `data "${sampleData('orcl-1995-2014.txt')}"`): Promise<TrialEvent[]> {
  const dir = scratchStudy({});
  writeFileSync(
    path.join(dir, 'study.optstudy'),
    `strategy p backtrader "${spec}"
study "parity" {
  ${data}
  strategy p
  objective maximize final_value
  stage "grid" {
${stage}
  }
  workers 2
}`,
  );
  return runFolder(dir);
}

/** Runs DIR/study.optstudy to its end (it must finish) as the CLI does; its trials. */
export async function runFolder(dir: string): Promise<TrialEvent[]> {
  return (await runFolderToEnd(dir)).trials;
}

/** runFolder, with the run's `end` event. */
export async function runFolderToEnd(dir: string): Promise<{ end: EndEvent; trials: TrialEvent[] }> {
  const c = collector();
  const end = await runStudy(
    { file: path.join(dir, 'study.optstudy'), out: path.join(dir, 'run'), createExecutor: chooseExecutor, checkOptions: hostCheckOptions },
    c.onEvent,
    new AbortController().signal,
  );
  assert.equal(end.status, 'finished', end.error);
  return { end, trials: c.trials() };
}

/** Every optstrategy row has its trial (same parameters), complete, with every metric `===`. */
export function assertSameAsOptstrategy(expected: ReturnType<typeof optstrategy>, trials: TrialEvent[], label: string): void {
  assert.equal(trials.length, expected.length, `${label}: trials`);
  for (const row of expected) {
    const t = trials.find((x) => Object.entries(row.params).every(([k, v]) => x.params[k] === v));
    assert.ok(t, `no trial for ${JSON.stringify(row.params)}`);
    assert.equal(t.state, 'complete', t.error);
    const diffs: string[] = [];
    for (const [k, want] of Object.entries(row.metrics)) {
      const got = t.metrics[k];
      if (got !== want && !(want === null && got === undefined)) diffs.push(`${k}: optstrategy ${want}, OptStudy ${got}`);
    }
    assert.deepEqual(diffs, [], `${label} ${JSON.stringify(row.params)}`);
  }
}
