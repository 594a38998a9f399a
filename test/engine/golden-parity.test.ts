/**
 * Parity with real backtrader 1.9.78 on every golden result: the 220 combinations of
 * ../shared/golden (long only, percent commission) and the oracle's feature goldens (shorts,
 * reversals, protective orders, commission schemes, slippage, intraday bars, several feeds).
 * Every metric, trade, fill, rejection and equity value is compared with `===`, `returns_*`
 * included (glibc's log and expm1: golden/SEMANTICS.md §9 allows them 1e-14, not needed). The
 * legacy files also run on the general bar loop, which must give exactly what the fast loop gives.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import { IndicatorCache, loadPrices, runBacktest, type BacktestConfig } from '../../server/engine/index';
import { DATA, ORACLE_DATA, goldenFiles, oracleGoldenFiles, type GoldenFile, type OracleResult } from '../support/engine-golden';
import { configOf, diffResult, feedsOf } from '../support/oracle-compare';

const files = goldenFiles();

function legacyConfig(g: GoldenFile): BacktestConfig {
  return {
    cash: g.cash,
    commission: g.commission.rate,
    sizing: g.sizing_key === 'stake' ? { kind: 'fixed', value: g.stake ?? 10 } : { kind: 'percent', value: 95 },
  };
}

test('the golden fixtures are all there (6 legacy files, 220 combinations; 8 oracle files, 208)', () => {
  assert.equal(files.length, 6);
  assert.equal(
    files.reduce((n, f) => n + f.results.length, 0),
    220,
  );
  const oracle = oracleGoldenFiles();
  assert.equal(oracle.length, 8);
  assert.equal(
    oracle.reduce((n, f) => n + f.results.length, 0),
    208,
  );
});

for (const g of files) {
  for (const loop of ['auto', 'general'] as const) {
    test(`golden ${g.name}: ${g.results.length} combinations bit-exact (${loop === 'auto' ? 'fast' : 'general'} loop)`, () => {
      const [from, to] = g.date_range.requested;
      const data = loadPrices(path.join(DATA, g.data_file), { from: from ?? undefined, to: to ?? undefined });
      assert.equal(data.bars, g.date_range.bars);
      const config = legacyConfig(g);
      const cache = new IndicatorCache();
      const problems: string[] = [];
      for (const res of g.results) {
        const r = runBacktest(data, g.strategy, res.params, config, { cache, equity: res.equity !== undefined, loop });
        problems.push(...diffResult(res as unknown as OracleResult, r, true).map((d) => `${JSON.stringify(res.params)} ${d}`));
      }
      assert.deepEqual(problems.slice(0, 20), [], `${problems.length} mismatches`);
      // The memo must not change a bit: a cold run of each combination gives the same metrics.
      for (const res of g.results) {
        const hot = runBacktest(data, g.strategy, res.params, config, { cache, trades: false, loop });
        const cold = runBacktest(data, g.strategy, res.params, config, { trades: false, loop });
        assert.deepEqual(hot.metrics, cold.metrics, JSON.stringify(res.params));
      }
      assert.ok(cache.hits > 0, 'the grid reused memoized indicators');
    });
  }
}

for (const g of oracleGoldenFiles()) {
  test(`oracle golden ${g.name}: ${g.results.length} scenarios bit-exact`, () => {
    const cache = new IndicatorCache();
    const problems: string[] = [];
    for (const res of g.results) {
      const sc = res.scenario!;
      const r = runBacktest(feedsOf(sc), sc.strategy, sc.params, configOf(sc), { cache, equity: sc.equity === true });
      problems.push(...diffResult(res, r, false).map((d) => `${JSON.stringify(sc.params)} ${d}`));
      // Without records an optimizer's metrics are the same.
      const bare = runBacktest(feedsOf(sc), sc.strategy, sc.params, configOf(sc), { cache, trades: false });
      assert.deepEqual(bare.metrics, r.metrics, `${JSON.stringify(sc.params)}: metrics without records`);
    }
    assert.deepEqual(problems.slice(0, 20), [], `${problems.length} mismatches`);
  });
}
