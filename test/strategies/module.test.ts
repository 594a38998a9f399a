/**
 * TypeScript strategy modules: compiled with esbuild, run by the same engine as the built-ins.
 */
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { asStrategyDefinition, loadPrices, runBacktest, type StrategyDefinition } from '../../server/engine';
import { compileStrategyModule, ModuleCompileError } from '../../server/strategies/compile-module';
import { runStudy, StudyError } from '../../server/run/run-study';
import { chooseExecutor } from '../../server/host/executors';
import { goldenFiles, DATA } from '../support/engine-golden';
import { collector, repoRoot } from '../support/run-fixtures';
import { scratchStudy } from './procs';
import type * as Api from '../../server/engine/strategy-api';
import type * as Decl from '../../samples/strategies/optstudy-strategy';

// The declarations shipped for users must stay the engine's API: a mismatch fails the type check.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameDefinition: Same<Api.StrategyDefinition, Decl.StrategyDefinition> = true;
const sameContext: Same<Api.StrategyContext, Decl.StrategyContext> = true;
void sameDefinition;
void sameContext;

const SAMPLE = path.join(repoRoot(), 'samples', 'strategies', 'sma-cross.ts');

async function load(file: string): Promise<StrategyDefinition> {
  const compiled = await compileStrategyModule(file);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return asStrategyDefinition(require(compiled.file), file);
}

test('a module written like sma_cross reproduces every golden sma_cross combination exactly', async () => {
  const def = await load(SAMPLE);
  const files = goldenFiles().filter((g) => g.strategy === 'sma_cross');
  assert.equal(files.length, 2);
  let compared = 0;
  for (const g of files) {
    const [from, to] = g.date_range.requested;
    const data = loadPrices(path.join(DATA, g.data_file), { from: from ?? undefined, to: to ?? undefined });
    const config = {
      cash: g.cash,
      commission: g.commission.rate,
      sizing: g.sizing_key === 'stake' ? { kind: 'fixed' as const, value: g.stake! } : { kind: 'percent' as const, value: 95 },
    };
    for (const r of g.results) {
      const res = runBacktest(data, def, r.params, config, { trades: true });
      for (const key of ['final_value', 'final_cash', 'trades_closed', 'won', 'lost', 'gross_profit', 'gross_loss', 'max_drawdown_pct', 'max_drawdown_money', 'sharpe_days_ann_rf0', 'sqn', 'rejected_orders']) {
        assert.equal(res.metrics[key], r.metrics[key], `${g.name} ${JSON.stringify(r.params)} ${key}`);
      }
      assert.equal(res.trades.length, r.trades.length);
      res.trades.forEach((t, i) => {
        assert.equal(t.pnlcomm, r.trades[i]!.pnlcomm);
        assert.equal(t.entry_date, r.trades[i]!.entry_date);
        assert.equal(t.exit_date, r.trades[i]!.exit_date);
      });
      compared++;
    }
  }
  assert.equal(compared, 72);
});

test('the shipped declarations list every method the engine gives a strategy', async () => {
  const decl = readFileSync(path.join(repoRoot(), 'samples', 'strategies', 'optstudy-strategy.d.ts'), 'utf8');
  // The context's own methods and the indicators it extends.
  const bodyOf = (name: string): string => {
    const body = decl.slice(decl.indexOf(`export interface ${name} `));
    return body.slice(0, body.indexOf('\n}'));
  };
  const methods = [bodyOf('Indicators'), bodyOf('StrategyContext')].flatMap((b) => [...b.matchAll(/^\s+(\w+)\(/gm)].map((m) => m[1]!));
  assert.ok(methods.length >= 15, methods.join());
  const seen: string[] = [];
  const probe: StrategyDefinition = {
    name: 'probe',
    params: [],
    setup(ctx) {
      for (const m of methods) if (typeof (ctx as unknown as Record<string, unknown>)[m] === 'function') seen.push(m);
      return () => {};
    },
  };
  runBacktest(loadPrices(path.join(DATA, 'orcl-2014.txt')), probe, {}, { cash: 1e5, commission: 0.001, sizing: { kind: 'percent', value: 95 } });
  assert.deepEqual(seen, methods);
});

test('a compile error names the file, line and column', async () => {
  const dir = scratchStudy({ 'bad.ts': 'export default {\n  name: "x",\n  params: [,\n  setup( {\n};\n' });
  await assert.rejects(compileStrategyModule(path.join(dir, 'bad.ts')), (e: unknown) => {
    assert.ok(e instanceof ModuleCompileError);
    assert.equal(e.file, path.join(dir, 'bad.ts'));
    assert.ok(e.line >= 3, String(e.line));
    return true;
  });
  writeFileSync(
    path.join(dir, 'study.optstudy'),
    `study "s" {\n  data "${path.join(DATA, 'orcl-2014.txt')}"\n  strategy module "bad.ts"\n  objective maximize sharpe\n}\n`,
  );
  await assert.rejects(
    runStudy({ file: path.join(dir, 'study.optstudy'), out: path.join(dir, 'run'), createExecutor: chooseExecutor }, () => {}, new AbortController().signal),
    (e: unknown) => e instanceof StudyError && /bad\.ts:\d+:\d+: .*compiling the strategy module/.test(e.message),
  );
});

test('a study with the sample breakout module runs to the end on worker threads', async () => {
  const dir = path.join(repoRoot(), 'samples');
  const c = collector();
  const out = scratchStudy({});
  const end = await runStudy({ file: path.join(dir, 'module-strategy.optstudy'), out: path.join(out, 'run'), workers: 2, seed: 3, createExecutor: chooseExecutor }, c.onEvent, new AbortController().signal);
  const trials = c.trials();
  assert.equal(trials.length, 80);
  assert.ok(trials.filter((t) => t.state === 'complete').length >= 60);
  assert.ok(end.best && typeof end.best.score === 'number');
  assert.ok(trials.every((t) => (t.params.exit as number) < (t.params.entry as number)));
});
