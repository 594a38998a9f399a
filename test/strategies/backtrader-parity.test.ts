/**
 * `strategy NAME backtrader "file.py:FACTORY"` against backtrader's own `cerebro.optstrategy`
 * on the same grid (#18): the user's Cerebro as written — its own sizer, feed class and
 * options (backtrader's Volume/OpenInterest layout, a date window), futures and per-share
 * commissions, slippage, shorts and reversals, bracket orders, and analyzers — must give
 * identical metrics (`===`): the standard set (computed by OptStudy from the run's record) as
 * backtrader's analyzers compute it, and every user analyzer flattened. Real backtrader, real
 * processes, two workers.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { runStudy } from '../../server/run/run-study';
import { chooseExecutor, hostCheckOptions } from '../../server/host/executors';
import type { TrialEvent } from '../../protocol/run-events';
import { collector, sampleData } from '../support/run-fixtures';
import { backtraderMissing, fixture, optstrategy } from './backtrader-env';
import { scratchStudy } from './procs';

const skip = backtraderMissing();

function domain(values: unknown[]): string {
  return `[${values.map((v) => JSON.stringify(v)).join(', ')}]`;
}

/** Runs the factory's grid as an OptStudy study; its trials. */
async function ours(factory: string, grid: Record<string, unknown[]>, workers = 2): Promise<TrialEvent[]> {
  const dir = scratchStudy({});
  const stage = Object.entries(grid)
    .map(([k, v]) => `    param ${k} in ${domain(v)}`)
    .join('\n');
  writeFileSync(
    path.join(dir, 'study.optstudy'),
    `strategy p backtrader "${fixture('parity.py')}:${factory}"
study "parity" {
  data "${sampleData('orcl-1995-2014.txt')}"
  strategy p
  objective maximize final_value
  stage "grid" {
${stage}
  }
  workers ${workers}
}`,
  );
  const c = collector();
  const end = await runStudy(
    { file: path.join(dir, 'study.optstudy'), out: path.join(dir, 'run'), createExecutor: chooseExecutor, checkOptions: hostCheckOptions },
    c.onEvent,
    new AbortController().signal,
  );
  assert.equal(end.status, 'finished', end.error);
  return c.trials();
}

async function assertParity(factory: string, grid: Record<string, unknown[]>): Promise<void> {
  const expected = optstrategy(factory, grid);
  const trials = await ours(factory, grid);
  assert.equal(trials.length, expected.length);
  for (const row of expected) {
    const t = trials.find((x) => Object.entries(row.params).every(([k, v]) => x.params[k] === v));
    assert.ok(t, `no trial for ${JSON.stringify(row.params)}`);
    assert.equal(t.state, 'complete', t.error);
    const diffs: string[] = [];
    for (const [k, want] of Object.entries(row.metrics)) {
      const got = t.metrics[k];
      if (got !== want && !(want === null && got === undefined)) diffs.push(`${k}: optstrategy ${want}, OptStudy ${got}`);
    }
    assert.deepEqual(diffs, [], `${factory} ${JSON.stringify(row.params)}`);
  }
}

test('own sizer (a custom bt.Sizer), percent commission, a GenericCSVData with its own column map', { skip, timeout: 300_000 }, async () => {
  await assertParity('own_sizer', { pfast: [5, 10, 20], pslow: [30, 60] });
});

test("backtrader's own CSV layout (Volume, OpenInterest), a date window, futures commission with margin and multiplier", { skip, timeout: 300_000 }, async () => {
  await assertParity('feed_options', { period: [5, 10], mult: [1.2, 1.5], hold: [3, 6] });
});

test('shorts and reversals (order_target_size) with per-share commission and percent slippage', { skip, timeout: 300_000 }, async () => {
  await assertParity('shorts_slippage', { period: [15, 20, 30], devfactor: [1.5, 2.0] });
});

test('bracket orders (buy_bracket: market entry, stop-loss, take-profit)', { skip, timeout: 300_000 }, async () => {
  await assertParity('brackets', { pfast: [5, 10], pslow: [30, 50], stop: [0.02, 0.05] });
});

test('5-minute bars (per-day Sharpe, per-bar Returns), futures commission, a daily TimeReturn analyzer', { skip, timeout: 300_000 }, async () => {
  await assertParity('intraday', { pfast: [5, 10], pslow: [20, 40] });
});

test('user analyzers flattened (VWR, SharpeRatio, AnnualReturn, TimeReturn, DrawDown, TradeAnalyzer, SQN) with a stock sizer', { skip, timeout: 300_000 }, async () => {
  await assertParity('analyzers', { pfast: [5, 15], pslow: [30, 50] });
});
