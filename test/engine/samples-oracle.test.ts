/**
 * The gallery's market-model samples (long/short with protective orders, 5-minute bars, a
 * rotation over three feeds) run through the built CLI (`optstudy run --json`: the language,
 * the plan, the worker pool) and their trials are backtrader's: the best trial and two
 * others of each study are re-run by real backtrader (../shared/oracle/oracle.py) from what the
 * study file says (data, range, cash, commission scheme, slippage, sizing, the trial's
 * parameters), and every metric the oracle prints equals the trial's, bit for bit (`returns_*`
 * included). Skipped with the reason without the oracle.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { analyze } from '../../grammar/index';
import { studyConfig, type BacktestConfig } from '../../server/engine/index';
import { DATA, ROOT, type OracleResult, type OracleScenario } from '../support/engine-golden';
import { same } from '../support/oracle-compare';
import { ORACLE, oracleSkipReason, python } from '../support/oracle-process';
import { tempFolder } from '../support/temp';

const CLI = path.join(ROOT, 'dist', 'cli.js');

interface TrialLine {
  type: 'trial';
  number: number;
  params: Record<string, number | string>;
  metrics: Record<string, number | null>;
  score: number | null;
}

/** The oracle's spelling of the study's broker settings. */
function oracleCosts(c: BacktestConfig): Pick<OracleScenario, 'cash' | 'commission' | 'slippage' | 'sizing'> {
  const m = c.commission;
  const s = c.slippage ?? null;
  return {
    cash: c.cash,
    commission: typeof m === 'number' ? { type: 'percent', rate: m } : m.kind === 'percent' ? { type: 'percent', rate: m.rate } : m.kind === 'per_share' ? { type: 'per_share', amount: m.amount } : { type: 'per_contract', amount: m.amount, margin: m.margin, mult: m.mult },
    slippage: s === null ? null : s.kind === 'percent' ? { type: 'percent', rate: s.rate } : { type: 'fixed', amount: s.amount },
    sizing: c.sizing.kind === 'fixed' ? { type: 'fixed', size: c.sizing.value } : { type: 'percent', percent: c.sizing.value },
  };
}

for (const sample of ['long-short-stops.optstudy', 'intraday-5min.optstudy', 'rotation.optstudy']) {
  test(`sample ${sample}: runs from the CLI, and its trials are backtrader's`, { skip: oracleSkipReason() }, async () => {
    const file = path.join(ROOT, 'samples', sample);
    const model = analyze(readFileSync(file, 'utf8')).studies[0]!;
    const out = tempFolder('optstudy-sample-');
    const r = spawnSync(process.execPath, [CLI, 'run', file, '--out', path.join(out, 'run'), '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const trials = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { type: string })
      .filter((e): e is TrialLine => e.type === 'trial');
    assert.ok(trials.length >= 40, `${trials.length} trials`);
    const ranked = trials.filter((t) => typeof t.score === 'number').sort((a, b) => b.score! - a.score!);
    const chosen = [ranked[0]!, ranked[Math.floor(ranked.length / 2)]!, ranked[ranked.length - 1]!];
    const feeds = model.datas;
    const base = { strategy: model.strategy!.name, data: feeds.map((d) => path.basename(d.path)), from: feeds[0]!.from ?? null, to: feeds[0]!.to ?? null, ...oracleCosts(studyConfig(model)) };
    const scenarios: OracleScenario[] = chosen.map((t) => ({ ...base, params: t.params }));
    const scFile = path.join(out, 'scenarios.json');
    writeFileSync(scFile, JSON.stringify(scenarios));
    const want = JSON.parse(await python([path.join(ORACLE, 'oracle.py'), scFile, '--jobs', '2', '--data-dir', DATA])) as OracleResult[];
    const problems: string[] = [];
    chosen.forEach((t, k) => {
      const w = want[k]!;
      assert.equal(w.error, undefined, JSON.stringify(w.error));
      let compared = 0;
      for (const [key, v] of Object.entries(w.metrics)) {
        // Trials carry numbers only: the per-year returns, the first date and several feeds'
        // end positions stay in the backtest's own result.
        if (key === 'yearly_returns' || key === 'first_next_date' || key === 'end_positions') continue;
        if (!same(v, t.metrics[key])) problems.push(`trial ${t.number} ${JSON.stringify(t.params)} ${key}: backtrader ${String(v)}, ours ${String(t.metrics[key])}`);
        compared++;
      }
      assert.ok(compared >= 30, `${compared} metrics compared`);
    });
    assert.deepEqual(problems, []);
    // The trades the study counts are real (not a run of no-trade trials).
    assert.ok(chosen[0]!.metrics.trades! >= 10);
  });
}
