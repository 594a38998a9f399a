/**
 * Every strategy module printed in docs/strategies.md runs as it is, and trades the way the page
 * says: the market example goes long and short, each order-type example fills orders of its
 * type, the targets example trades both feeds. The modules are compiled with esbuild as the run
 * compiles user modules.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { transformSync } from 'esbuild';
import { asStrategyDefinition, loadPrices, runBacktest, type BacktestResult, type StrategyDefinition } from '../../server/engine/index';
import { DATA, ROOT } from '../support/engine-golden';

function modules(): StrategyDefinition[] {
  const text = readFileSync(path.join(ROOT, 'docs', 'strategies.md'), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)]
    .map((m) => m[1]!)
    .filter((src) => src.includes('export default'))
    .map((src) => {
      const js = transformSync(src, { loader: 'ts', format: 'cjs' }).code;
      const mod = { exports: {} as Record<string, unknown> };
      new Function('module', 'exports', 'require', js)(mod, mod.exports, require);
      return asStrategyDefinition(mod.exports, 'docs/strategies.md');
    });
}

const orcl = loadPrices(path.join(DATA, 'orcl-1995-2014.txt'), { from: '2005-01-01', to: '2014-12-31' });
const nvda = loadPrices(path.join(DATA, 'nvda-1999-2014.txt'), { from: '2005-01-01', to: '2014-12-31' });
const CONFIG = { cash: 100000, commission: 0.001, sizing: { kind: 'percent' as const, value: 50 } };

const exectypes = (r: BacktestResult) => new Set(r.fills.map((f) => f.exectype));

/** What each example must show. */
const EXPECT: Record<string, (r: BacktestResult) => void> = {
  rsi_dip: (r) => assert.ok(r.metrics.trades! > 5),
  sma_long_short: (r) => {
    assert.ok(r.metrics.trades_long! > 10 && r.metrics.trades_short! > 10, `${r.metrics.trades_long} long, ${r.metrics.trades_short} short`);
    assert.ok(r.trades.some((t) => t.exit_signal === 'cross up') && r.trades.some((t) => t.exit_signal === 'cross down'));
  },
  dip_limit: (r) => {
    assert.ok(exectypes(r).has('Limit'));
    assert.ok(r.trades.every((t) => t.exit_signal === 'time'));
  },
  stop_breakout: (r) => {
    assert.deepEqual([...exectypes(r)], ['Stop']);
    assert.ok(r.metrics.trades! > 10);
  },
  stop_limit_breakout: (r) => assert.ok(r.fills.some((f) => f.exectype === 'StopLimit' && f.side === 'buy')),
  rsi_trail: (r) => assert.ok(r.fills.some((f) => f.exectype === 'StopTrail') && r.metrics.trades! > 3),
  close_bracket: (r) => {
    const kinds = exectypes(r);
    assert.ok(kinds.has('Close') && kinds.has('Limit') && kinds.has('Stop'), [...kinds].join());
    // A bracket never leaves the position short: the filled leg cancels the other.
    assert.ok(r.trades.every((t) => t.direction === 'long'));
  },
  pair_momentum: (r) => assert.deepEqual(new Set(r.fills.map((f) => f.data)), new Set(['orcl-1995-2014.txt', 'nvda-1999-2014.txt'])),
};

test('every module in docs/strategies.md runs and trades as the page says', () => {
  const mods = modules();
  assert.deepEqual(mods.map((m) => m.name).sort(), Object.keys(EXPECT).sort());
  for (const m of mods) {
    const feeds = m.name === 'pair_momentum' ? [orcl, nvda] : orcl;
    const r = runBacktest(feeds, m, m.name === 'sma_long_short' ? { direction: 'both' } : {}, CONFIG);
    EXPECT[m.name]!(r);
  }
});
